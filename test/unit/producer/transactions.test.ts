/**
 * The transactional producer's protocol against scripted answers of the fake broker
 * (tools/fault/fake-broker.ts): the transactions-v1 path (AddPartitionsToTxn before a
 * partition's first batch, AddOffsetsToTxn before TxnOffsetCommit, version caps) that the
 * TV2 integration broker never takes, the TV2 epoch hand-over of EndTxn v5, and the error
 * classification (fatal vs abortable) for answers a healthy broker rarely gives. The real
 * broker judges the rest (test/integration/producer/transactions.test.ts).
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Client } from "../../../src/client.js";
import { ProducerFencedError, TransactionAbortableError, TransactionStateError } from "../../../src/producer/errors.js";
import { isFatalTransactionError } from "../../../src/producer/transaction-manager.js";
import { InvalidArgumentError } from "../../../src/protocol/errors.js";
import {
  AddOffsetsToTxn,
  AddPartitionsToTxn,
  type AddPartitionsToTxnRequest,
  ApiVersions,
  type ApiVersionsResponse,
  createAddOffsetsToTxnResponse,
  createAddPartitionsToTxnResponse,
  createEndTxnResponse,
  createInitProducerIdResponse,
  createProduceResponse,
  createProduceResponsePartitionProduceResponse,
  createTxnOffsetCommitResponse,
  EndTxn,
  InitProducerId,
  Produce,
  type ProduceRequest,
  TxnOffsetCommit,
  type TxnOffsetCommitRequest,
} from "../../../src/protocol/index.js";
import { KafkaError, kafkaError } from "../../../src/protocol/kafka-error.js";
import { decodeRecordBatchesSync } from "../../../src/protocol/records/index.js";
import { FakeBroker } from "../../../tools/fault/fake-broker.js";

const ID = 1000n;
const CONCURRENT_TRANSACTIONS = 51;
const PRODUCER_FENCED = 90;
const INVALID_PRODUCER_EPOCH = 47;
const TRANSACTION_ABORTABLE = 120;
const TRANSACTIONAL_ID_AUTHORIZATION_FAILED = 53;

/** Every partition of an AddPartitionsToTxn (v4+ or older) answered with `errorCode`. */
function addPartitionsAnswer(request: AddPartitionsToTxnRequest, version: number, errorCode = 0) {
  const topics = (version >= 4 ? (request.transactions[0]?.topics ?? []) : request.v3AndBelowTopics).map((t) => ({
    name: t.name,
    resultsByPartition: t.partitions.map((p) => ({ partitionIndex: p, partitionErrorCode: errorCode })),
  }));
  return version >= 4
    ? createAddPartitionsToTxnResponse({
        resultsByTransaction: [
          { transactionalId: request.transactions[0]?.transactionalId ?? "", topicResults: topics },
        ],
      })
    : createAddPartitionsToTxnResponse({ resultsByTopicV3AndBelow: topics });
}

function txnOffsetCommitAnswer(request: TxnOffsetCommitRequest, errorCode = 0) {
  return createTxnOffsetCommitResponse({
    topics: request.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode })),
    })),
  });
}

function failAll(request: ProduceRequest, errorCode: number) {
  return createProduceResponse({
    responses: request.topicData.map((t) => ({
      name: t.name,
      topicId: t.topicId,
      partitionResponses: t.partitionData.map((p) =>
        createProduceResponsePartitionProduceResponse({ index: p.index, errorCode, baseOffset: -1n }),
      ),
    })),
  });
}

/** (partition, producerId, epoch, baseSequence, transactional) of every batch received. */
function batches(broker: FakeBroker): [number, bigint, number, number, boolean][] {
  return broker
    .received(Produce)
    .flatMap(({ request }) =>
      request.topicData.flatMap((t) =>
        t.partitionData.flatMap((p) =>
          decodeRecordBatchesSync(p.records as Buffer).map((b): [number, bigint, number, number, boolean] => [
            p.index,
            b.producerId,
            b.producerEpoch,
            b.baseSequence,
            b.isTransactional,
          ]),
        ),
      ),
    );
}

/** The API names in the order the broker received them, without the connection chatter. */
function sequence(broker: FakeBroker): string[] {
  return broker.requests
    .map((r) => r.name)
    .filter((n) => n !== "ApiVersions" && n !== "Metadata" && n !== "FindCoordinator");
}

describe("Transactional producer options", () => {
  it("a transactionalId needs idempotence and acks=all; the conflicting option is named", () => {
    const client = new Client({ bootstrap: "127.0.0.1:1" });
    try {
      expect(() => client.producer({ transactionalId: "t", idempotent: false })).toThrow(
        expect.objectContaining({ argument: "idempotent" }),
      );
      expect(() => client.producer({ transactionalId: "t", acks: 1 })).toThrow(
        expect.objectContaining({ argument: "acks" }),
      );
      expect(() => client.producer({ transactionTimeoutMs: 1000 })).toThrow(
        expect.objectContaining({ argument: "transactionTimeoutMs" }),
      );
      expect(() => client.producer({ transactionalId: "" })).toThrow(InvalidArgumentError);
      const producer = client.producer({ transactionalId: "t", acks: -1 });
      expect(producer.options.idempotent).toBe(true);
      expect(producer.options.transactionTimeoutMs).toBe(60_000);
      expect(producer.transactionState).toBe("uninitialized");
      expect(client.producer().transactionState).toBeUndefined();
    } finally {
      client.close();
    }
  });

  it("classifies errors as Java does: fenced/authorization/unsupported fatal, INVALID_PRODUCER_EPOCH fatal only from a coordinator", () => {
    expect(isFatalTransactionError(kafkaError(PRODUCER_FENCED), "Produce")).toBe(true);
    expect(isFatalTransactionError(kafkaError(TRANSACTIONAL_ID_AUTHORIZATION_FAILED), "AddPartitionsToTxn")).toBe(true);
    expect(isFatalTransactionError(kafkaError(31), "EndTxn")).toBe(true); // CLUSTER_AUTHORIZATION_FAILED
    expect(isFatalTransactionError(kafkaError(35), "TxnOffsetCommit")).toBe(true); // UNSUPPORTED_VERSION
    expect(isFatalTransactionError(kafkaError(INVALID_PRODUCER_EPOCH), "Produce")).toBe(false); // KIP-588
    expect(isFatalTransactionError(kafkaError(INVALID_PRODUCER_EPOCH), "EndTxn")).toBe(true);
    expect(isFatalTransactionError(kafkaError(INVALID_PRODUCER_EPOCH), "InitProducerId")).toBe(true);
    expect(isFatalTransactionError(kafkaError(TRANSACTION_ABORTABLE), "Produce")).toBe(false);
    expect(isFatalTransactionError(kafkaError(29), "TxnOffsetCommit")).toBe(false); // TOPIC_AUTHORIZATION_FAILED
  });
});

describe("Transactional producer against scripted broker answers", () => {
  let broker: FakeBroker;
  let client: Client;
  beforeEach(async () => {
    broker = await FakeBroker.start({ nodeId: 1, topics: [{ name: "t", partitions: 2 }] });
    client = new Client({ bootstrap: broker.bootstrap, retryBackoffMs: 10, retryBackoffMaxMs: 20 });
    broker.on(AddPartitionsToTxn, (request, version) => addPartitionsAnswer(request, version));
    broker.on(AddOffsetsToTxn, () => createAddOffsetsToTxnResponse({}));
    broker.on(TxnOffsetCommit, (request) => txnOffsetCommitAnswer(request));
  });
  afterEach(async () => {
    client.close();
    await broker.close();
  });

  /** Makes the broker finalize transaction.version 2 (KIP-890). */
  function enableTransactionsV2(): void {
    broker.on(ApiVersions, (_req, _version, _header, context) => ({
      ...(context.fallback() as ApiVersionsResponse),
      finalizedFeatures: [{ name: "transaction.version", maxVersionLevel: 2, minVersionLevel: 2 }],
    }));
  }

  it("TV1: AddPartitionsToTxn goes out before a partition's first batch of each transaction, once; Produce ≤ v11, EndTxn ≤ v4", async () => {
    broker.on(EndTxn, () => createEndTxnResponse({}));
    const producer = client.producer({ transactionalId: "tx-1", lingerMs: 0 });
    await producer.beginTransaction();
    await producer.send([
      { topic: "t", value: "a", partition: 0 },
      { topic: "t", value: "b", partition: 1 },
    ]);
    await producer.send({ topic: "t", value: "c", partition: 0 });
    await producer.commitTransaction();
    await producer.beginTransaction();
    await producer.send({ topic: "t", value: "d", partition: 1 });
    await producer.commitTransaction();
    await producer.close();

    // Per transaction, each partition is added once, before the first Produce that carries it.
    const added = new Set<string>();
    let transaction = 0;
    for (const r of broker.requests) {
      if (r.name === "EndTxn") {
        transaction++;
        added.clear();
      } else if (r.name === "AddPartitionsToTxn") {
        for (const t of (r.request as AddPartitionsToTxnRequest).v3AndBelowTopics) {
          for (const p of t.partitions) {
            expect(added.has(`${t.name}-${p}`), `added twice in transaction ${transaction}`).toBe(false);
            added.add(`${t.name}-${p}`);
          }
        }
      } else if (r.name === "Produce") {
        for (const t of (r.request as ProduceRequest).topicData) {
          for (const p of t.partitionData) expect(added.has(`${t.name}-${p.index}`)).toBe(true);
        }
      }
    }
    expect(sequence(broker).filter((n) => n === "EndTxn")).toHaveLength(2);
    const init = broker.received(InitProducerId)[0];
    expect(init?.request.transactionalId).toBe("tx-1");
    expect(init?.request.transactionTimeoutMs).toBe(60_000);
    const adds = broker
      .received(AddPartitionsToTxn)
      .flatMap(({ request, version }) =>
        request.v3AndBelowTopics.flatMap((t) => t.partitions.map((p) => `v${version} ${t.name}-${p}`)),
      );
    expect(adds.sort()).toEqual(["v3 t-0", "v3 t-1", "v3 t-1"]);
    for (const r of broker.received(Produce)) {
      expect(r.version).toBeLessThanOrEqual(11);
      expect(r.request.transactionalId).toBe("tx-1");
    }
    expect(broker.received(EndTxn).map((r) => [r.version <= 4, r.request.committed])).toEqual([
      [true, true],
      [true, true],
    ]);
    // One epoch across TV1 transactions: sequences go on.
    expect(batches(broker).sort((a, b) => a[0] - b[0] || a[3] - b[3])).toEqual([
      [0, ID, 0, 0, true],
      [0, ID, 0, 1, true],
      [1, ID, 0, 0, true],
      [1, ID, 0, 1, true],
    ]);
  });

  it("TV1: sendOffsets sends AddOffsetsToTxn, then TxnOffsetCommit (≤ v4) with the group member's identity", async () => {
    broker.on(EndTxn, () => createEndTxnResponse({}));
    const producer = client.producer({ transactionalId: "tx-2" });
    await producer.beginTransaction();
    await producer.sendOffsets({ groupId: "g", generationIdOrMemberEpoch: 7, memberId: "m-1", groupInstanceId: null }, [
      { topic: "in", partition: 3, offset: 42n },
    ]);
    await producer.commitTransaction();
    await producer.close();
    expect(sequence(broker)).toEqual(["InitProducerId", "AddOffsetsToTxn", "TxnOffsetCommit", "EndTxn"]);
    expect(broker.received(AddOffsetsToTxn)[0]?.request.groupId).toBe("g");
    const commit = broker.received(TxnOffsetCommit)[0];
    expect(commit?.version).toBeLessThanOrEqual(4);
    expect(commit?.request).toMatchObject({
      transactionalId: "tx-2",
      groupId: "g",
      producerId: ID,
      generationId: 7,
      memberId: "m-1",
      topics: [{ name: "in", partitions: [{ partitionIndex: 3, committedOffset: 42n }] }],
    });
  });

  it("TV2: no AddPartitionsToTxn / AddOffsetsToTxn; EndTxn v5's new epoch is used, with sequences from 0", async () => {
    enableTransactionsV2();
    let epoch = 0;
    broker.on(EndTxn, () => createEndTxnResponse({ producerId: ID, producerEpoch: ++epoch }));
    const producer = client.producer({ transactionalId: "tx-3", lingerMs: 0 });
    await producer.beginTransaction();
    await producer.send({ topic: "t", value: "a", partition: 0 });
    await producer.sendOffsets({ groupId: "g" }, [{ topic: "in", partition: 0, offset: 1 }]);
    await producer.commitTransaction();
    await producer.beginTransaction();
    await producer.send({ topic: "t", value: "b", partition: 0 });
    await producer.abortTransaction();
    await producer.close();
    expect(sequence(broker)).toEqual(["InitProducerId", "Produce", "TxnOffsetCommit", "EndTxn", "Produce", "EndTxn"]);
    expect(broker.received(Produce).every((r) => r.version >= 12)).toBe(true);
    expect(broker.received(TxnOffsetCommit)[0]?.version).toBe(5);
    expect(broker.received(EndTxn).map((r) => [r.version, r.request.producerEpoch, r.request.committed])).toEqual([
      [5, 0, true],
      [5, 1, false],
    ]);
    expect(batches(broker)).toEqual([
      [0, ID, 0, 0, true],
      [0, ID, 1, 0, true],
    ]);
  });

  it("InitProducerId: CONCURRENT_TRANSACTIONS is retried; TRANSACTIONAL_ID_AUTHORIZATION_FAILED is fatal for every later call", async () => {
    broker.once(InitProducerId, () => createInitProducerIdResponse({ errorCode: CONCURRENT_TRANSACTIONS }));
    const ok = client.producer({ transactionalId: "tx-4" });
    await ok.initTransactions();
    expect(broker.received(InitProducerId)).toHaveLength(2);
    expect(ok.transactionState).toBe("ready");

    broker.once(InitProducerId, () =>
      createInitProducerIdResponse({ errorCode: TRANSACTIONAL_ID_AUTHORIZATION_FAILED }),
    );
    const denied = client.producer({ transactionalId: "tx-5" });
    const err = await denied.beginTransaction().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(KafkaError);
    expect((err as KafkaError).errorName).toBe("TRANSACTIONAL_ID_AUTHORIZATION_FAILED");
    expect(denied.transactionState).toBe("fatalError");
    await expect(denied.beginTransaction()).rejects.toBe(err);
    await expect(denied.send({ topic: "t", value: "x" })).rejects.toBe(err);
  });

  it("EndTxn PRODUCER_FENCED / INVALID_PRODUCER_EPOCH: ProducerFencedError, and every later call fails with it", async () => {
    for (const code of [PRODUCER_FENCED, INVALID_PRODUCER_EPOCH]) {
      broker.once(EndTxn, () => createEndTxnResponse({ errorCode: code }));
      const producer = client.producer({ transactionalId: `tx-fenced-${code}` });
      await producer.beginTransaction();
      await producer.send({ topic: "t", value: "a" });
      const err = await producer.commitTransaction().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ProducerFencedError);
      expect((err as ProducerFencedError).cause).toMatchObject({ errorCode: code });
      expect(producer.transactionState).toBe("fatalError");
      await expect(producer.beginTransaction()).rejects.toBe(err);
      await expect(producer.abortTransaction()).rejects.toBe(err);
      await expect(producer.send({ topic: "t", value: "b" })).rejects.toBe(err);
      await expect(producer.sendOffsets({ groupId: "g" }, [{ topic: "t", partition: 0, offset: 1 }])).rejects.toBe(err);
      await producer.close();
    }
  });

  it("TRANSACTION_ABORTABLE on a send: the commit is refused, the abort (with the epoch bump below TV2) lets the producer go on", async () => {
    broker.on(EndTxn, () => createEndTxnResponse({}));
    const producer = client.producer({ transactionalId: "tx-6", lingerMs: 0 });
    await producer.beginTransaction();
    broker.once(Produce, (request) => failAll(request, TRANSACTION_ABORTABLE));
    const sendErr = await producer.send({ topic: "t", value: "a" }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((sendErr as KafkaError).errorName).toBe("TRANSACTION_ABORTABLE");
    expect(producer.transactionState).toBe("abortableError");
    // Further sends in the failed transaction fail at the call.
    await expect(producer.send({ topic: "t", value: "b" })).rejects.toBeInstanceOf(TransactionAbortableError);
    const commitErr = await producer.commitTransaction().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(commitErr).toBeInstanceOf(TransactionAbortableError);
    expect((commitErr as TransactionAbortableError).cause).toBe(sendErr);
    await producer.abortTransaction();
    expect(producer.transactionState).toBe("ready");
    await producer.beginTransaction();
    await producer.send({ topic: "t", value: "c" });
    await producer.commitTransaction();
    await producer.close();
    expect(broker.received(EndTxn).map((r) => r.request.committed)).toEqual([false, true]);
    // The failed batch had sequence 0 under epoch 0: the abort bumped the epoch (KIP-360).
    const inits = broker.received(InitProducerId).map((r) => [r.request.producerId, r.request.producerEpoch]);
    expect(inits).toEqual([
      [-1n, -1],
      [ID, 0],
    ]);
    expect(batches(broker).at(-1)?.slice(1, 4)).toEqual([ID + 1n, 0, 0]);
  });

  it("a TxnOffsetCommit refused for the group member (ILLEGAL_GENERATION) fails the transaction, not the producer", async () => {
    enableTransactionsV2();
    broker.on(EndTxn, () => createEndTxnResponse({ producerId: ID, producerEpoch: 1 }));
    broker.once(TxnOffsetCommit, (request) => txnOffsetCommitAnswer(request, 22));
    const producer = client.producer({ transactionalId: "tx-7" });
    await producer.beginTransaction();
    await expect(
      producer.sendOffsets({ groupId: "g", generationIdOrMemberEpoch: 3, memberId: "m" }, [
        { topic: "in", partition: 0, offset: 5n },
      ]),
    ).rejects.toMatchObject({ errorName: "ILLEGAL_GENERATION" });
    expect(producer.transactionState).toBe("abortableError");
    await producer.abortTransaction();
    await producer.transaction(async (tx) => {
      await tx.sendOffsets({ groupId: "g" }, [{ topic: "in", partition: 0, offset: 5n }]);
    });
    await producer.close();
    expect(broker.received(EndTxn).map((r) => r.request.committed)).toEqual([false, true]);
  });

  it("sendOffsets checks its arguments, naming the field", async () => {
    const producer = client.producer({ transactionalId: "tx-8" });
    await producer.beginTransaction();
    await expect(
      producer.sendOffsets({ groupId: "" }, [{ topic: "t", partition: 0, offset: 1 }]),
    ).rejects.toMatchObject({
      argument: "groupMetadata.groupId",
    });
    await expect(producer.sendOffsets({ groupId: "g" }, [])).rejects.toMatchObject({ argument: "offsets" });
    await expect(
      producer.sendOffsets({ groupId: "g" }, [{ topic: "t", partition: -1, offset: 1 }]),
    ).rejects.toMatchObject({
      argument: "offsets[0].partition",
    });
    await expect(
      producer.sendOffsets({ groupId: "g" }, [{ topic: "t", partition: 0, offset: -2n }]),
    ).rejects.toMatchObject({
      argument: "offsets[0].offset",
    });
    expect(producer.transactionState).toBe("inTransaction");
    await producer.abortTransaction();
    // Nothing reached a broker: the abort needs no EndTxn.
    expect(broker.received(EndTxn)).toHaveLength(0);
    await producer.close();
  });

  it("TV1: a partition's batches wait for the AddPartitionsToTxn answer; CONCURRENT_TRANSACTIONS there is retried", async () => {
    broker.on(EndTxn, () => createEndTxnResponse({}));
    let answeredAt = 0;
    // once() stacks: the handler registered last answers first.
    broker.once(AddPartitionsToTxn, async (request, version) => {
      await new Promise((r) => setTimeout(r, 200));
      answeredAt = Date.now();
      return addPartitionsAnswer(request, version);
    });
    broker.once(AddPartitionsToTxn, (request, version) =>
      addPartitionsAnswer(request, version, CONCURRENT_TRANSACTIONS),
    );
    const producer = client.producer({ transactionalId: "tx-wait", lingerMs: 0 });
    await producer.beginTransaction();
    await producer.send({ topic: "t", value: "a", partition: 0 });
    await producer.commitTransaction();
    await producer.close();
    expect(broker.received(AddPartitionsToTxn)).toHaveLength(2);
    const produced = broker.requests.filter((r) => r.name === "Produce");
    expect(produced).toHaveLength(1);
    expect(produced[0]?.at).toBeGreaterThanOrEqual(answeredAt);
  });

  it("EndTxn NOT_COORDINATOR: the coordinator is looked up again and the commit retried", async () => {
    broker.on(EndTxn, () => createEndTxnResponse({}));
    broker.once(EndTxn, () => createEndTxnResponse({ errorCode: 16 })); // NOT_COORDINATOR
    const producer = client.producer({ transactionalId: "tx-moved" });
    await producer.beginTransaction();
    await producer.send({ topic: "t", value: "a" });
    const lookupsBefore = broker.requests.filter((r) => r.name === "FindCoordinator").length;
    await producer.commitTransaction();
    await producer.close();
    expect(broker.received(EndTxn)).toHaveLength(2);
    expect(broker.requests.filter((r) => r.name === "FindCoordinator").length).toBeGreaterThan(lookupsBefore);
    expect(producer.transactionState).toBe("ready");
  });

  it("PRODUCER_FENCED on a send is fatal at once: the commit and every later call fail with ProducerFencedError", async () => {
    const producer = client.producer({ transactionalId: "tx-fenced-send", lingerMs: 0 });
    await producer.beginTransaction();
    broker.once(Produce, (request) => failAll(request, PRODUCER_FENCED));
    await expect(producer.send({ topic: "t", value: "a" })).rejects.toMatchObject({ errorName: "PRODUCER_FENCED" });
    expect(producer.transactionState).toBe("fatalError");
    const err = await producer.commitTransaction().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ProducerFencedError);
    await expect(producer.send({ topic: "t", value: "b" })).rejects.toBe(err);
    await producer.close();
    expect(broker.received(EndTxn)).toHaveLength(0);
  });

  it("close() aborts a transaction still open (EndTxn committed=false), as Java's producer does", async () => {
    broker.on(EndTxn, () => createEndTxnResponse({}));
    const producer = client.producer({ transactionalId: "tx-close" });
    await producer.beginTransaction();
    await producer.send({ topic: "t", value: "a" });
    await producer.close();
    expect(broker.received(EndTxn).map((r) => r.request.committed)).toEqual([false]);
    await expect(producer.beginTransaction()).rejects.toMatchObject({ code: "SAMSA_ERR_CLOSED" });
  });

  it("a record refused at the call inside a transaction fails the transaction too (no silent gap in a commit)", async () => {
    broker.on(EndTxn, () => createEndTxnResponse({}));
    const producer = client.producer({ transactionalId: "tx-bad-record" });
    await producer.beginTransaction();
    await producer.send({ topic: "t", value: "good" });
    await expect(producer.send({ topic: "t", value: 42 as unknown as string })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(producer.commitTransaction()).rejects.toBeInstanceOf(TransactionAbortableError);
    await producer.abortTransaction();
    await producer.close();
    expect(broker.received(EndTxn).map((r) => r.request.committed)).toEqual([false]);
  });

  it("a non-transactional producer refuses the transactional calls with TransactionStateError", async () => {
    const producer = client.producer();
    await expect(producer.beginTransaction()).rejects.toBeInstanceOf(TransactionStateError);
    await expect(producer.commitTransaction()).rejects.toMatchObject({ code: "SAMSA_ERR_TRANSACTION_STATE" });
    await producer.close();
  });
});
