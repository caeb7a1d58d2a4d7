/**
 * The transactional producer against the real broker (transaction.version 2 by default on
 * Kafka 4.x): what read_committed and read_uncommitted readers see after commits and aborts,
 * the transaction() helper, offsets committed with a transaction, zombie fencing and the
 * coordinator's transaction timeout. Records are read back with raw Fetch requests
 * (test/helpers/transactional-read.ts).
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { Client } from "../../../src/client.js";
import { AbortedError } from "../../../src/network/errors.js";
import { ProducerFencedError, TransactionStateError } from "../../../src/producer/errors.js";
import { KafkaError } from "../../../src/protocol/kafka-error.js";
import { createTopic } from "../../helpers/topics.js";
import { committedOffsets, describeTransaction, readIsolated, sortedValues } from "../../helpers/transactional-read.js";
import { expectZombieFenced } from "../../helpers/zombie-fencing.js";

describe("Transactional producer against a real broker", () => {
  const bootstrap = inject("kafkaBootstrap");
  let client: Client;
  /** The broker's finalized transaction.version (2 by default on Kafka 4.x). */
  let transactionVersion = 0;
  beforeAll(async () => {
    client = new Client({ bootstrap });
    const connection = await client.anyConnection();
    transactionVersion = connection.versions?.features.get("transaction.version") ?? 0;
  });
  afterAll(() => client.close());

  it("commit makes records visible to read_committed, abort hides them; read_uncommitted sees both", async () => {
    const topic = `txn-visibility-${randomUUID()}`;
    await createTopic(client, topic, 3);
    const producer = client.producer({ transactionalId: `txn-visibility-${randomUUID()}`, lingerMs: 0 });
    expect(producer.transactionState).toBe("uninitialized");

    await producer.beginTransaction();
    expect(producer.transactionState).toBe("inTransaction");
    // Every form of send inside one transaction.
    const one = await producer.send({ topic, value: "c-1", partition: 0 });
    const many = await producer.send([
      { topic, value: "c-2", partition: 1 },
      { topic, value: "c-3", partition: 2 },
    ]);
    const viaCallback = await new Promise<unknown>((resolve, reject) =>
      producer.send({ topic, value: "c-4", partition: 0 }, (err, r) => (err ? reject(err) : resolve(r))),
    );
    expect(one.offset).toBe(0n);
    expect(many.map((m) => m.partition)).toEqual([1, 2]);
    expect(viaCallback).toBeDefined();
    // Not yet committed: a read_committed reader sees nothing (the LSO is held at the first record).
    expect(await readIsolated(client, topic, 1)).toEqual([]);
    await producer.commitTransaction();
    expect(producer.transactionState).toBe("ready");

    await producer.begin();
    // Unawaited: the abort drops what is unsent and waits for what is in flight.
    const pending = producer.send(Array.from({ length: 50 }, (_, i) => ({ topic, value: `a-${i}`, partition: i % 3 })));
    pending.catch(() => {});
    await producer.send({ topic, value: "a-last", partition: 1 }).catch(() => {});
    await producer.abortTransaction();

    await producer.beginTransaction();
    await producer.send({ topic, value: "c-5", partition: 2 });
    await producer.commitTransaction();
    await producer.close();

    const committed = await readIsolated(client, topic, 1);
    expect(sortedValues(committed)).toEqual(["c-1", "c-2", "c-3", "c-4", "c-5"]);
    expect(committed.every((r) => r.transactional && r.producerId >= 0n)).toBe(true);
    const all = await readIsolated(client, topic, 0);
    // read_uncommitted sees the aborted records that reached the log too (all of a-last at least).
    expect(all.filter((r) => r.value.startsWith("c-"))).toHaveLength(5);
    expect(all.some((r) => r.value === "a-last")).toBe(true);
    expect(all.every((r) => r.transactional)).toBe(true);
  });

  it("many batches per transaction, compressed, five transactions in a row (TV2: a new epoch each, sequences from 0)", async () => {
    const topic = `txn-volume-${randomUUID()}`;
    await createTopic(client, topic, 3);
    const producer = client.producer({
      transactionalId: `txn-volume-${randomUUID()}`,
      compression: "gzip",
      batchBytes: 16 * 1024,
    });
    const epochs = new Set<string>();
    for (let t = 0; t < 5; t++) {
      await producer.beginTransaction();
      const reports = await producer.send(
        Array.from({ length: 3000 }, (_, i) => ({ topic, key: `k-${i % 101}`, value: `t${t}-${i}-${"x".repeat(40)}` })),
      );
      expect(reports).toHaveLength(3000);
      if (t === 3) await producer.abortTransaction();
      else await producer.commitTransaction();
      expect(producer.transactionState).toBe("ready");
    }
    expect(producer.stats().retries).toBe(0);
    await producer.close();
    const committed = await readIsolated(client, topic, 1);
    expect(committed).toHaveLength(4 * 3000);
    expect(committed.some((r) => r.value.startsWith("t3-"))).toBe(false);
    for (const r of committed) epochs.add(String(r.producerId));
    // One producer id throughout; TV2's EndTxn gives each transaction its own epoch.
    expect(epochs.size).toBe(1);
    for (const t of [0, 1, 2, 4]) {
      const own = new Set(committed.filter((r) => r.value.startsWith(`t${t}-`)).map((r) => r.producerEpoch));
      expect(own.size).toBe(1);
    }
    if (transactionVersion >= 2) expect(new Set(committed.map((r) => r.producerEpoch)).size).toBe(4);
    expect(await readIsolated(client, topic, 0)).toHaveLength(5 * 3000);
  });

  it("a transactional producer refuses send outside a transaction, commit without begin, and a second begin", async () => {
    const topic = `txn-state-${randomUUID()}`;
    await createTopic(client, topic, 1);
    const producer = client.producer({ transactionalId: `txn-state-${randomUUID()}` });
    await expect(producer.send({ topic, value: "x" })).rejects.toMatchObject({
      code: "SAMSA_ERR_TRANSACTION_STATE",
      operation: "send",
    });
    await producer.initTransactions();
    expect(producer.transactionState).toBe("ready");
    await expect(producer.commitTransaction()).rejects.toBeInstanceOf(TransactionStateError);
    await expect(producer.abortTransaction()).rejects.toBeInstanceOf(TransactionStateError);
    await expect(producer.sendOffsets({ groupId: "g" }, [{ topic, partition: 0, offset: 1n }])).rejects.toMatchObject({
      code: "SAMSA_ERR_TRANSACTION_STATE",
      operation: "sendOffsets",
    });
    const err = await new Promise<Error | null>((resolve) => producer.send({ topic, value: "x" }, (e) => resolve(e)));
    expect(err).toBeInstanceOf(TransactionStateError);
    await producer.beginTransaction();
    await expect(producer.beginTransaction()).rejects.toMatchObject({ code: "SAMSA_ERR_TRANSACTION_STATE" });
    await producer.send({ topic, value: "ok" });
    await producer.commitTransaction();
    await producer.close();
    expect(sortedValues(await readIsolated(client, topic, 0))).toEqual(["ok"]);
  });

  it("transaction(): commits the body's sends; a throwing body or a fired signal aborts, and the error is rethrown", async () => {
    const topic = `txn-helper-${randomUUID()}`;
    await createTopic(client, topic, 2);
    const producer = client.producer({ transactionalId: `txn-helper-${randomUUID()}` });

    const result = await producer.transaction(async (tx) => {
      tx.send({ topic, value: "kept-1", partition: 0 }); // not awaited: the commit flushes it
      await tx.send([{ topic, value: "kept-2", partition: 1 }]);
      return 42;
    });
    expect(result).toBe(42);

    const boom = new Error("boom");
    await expect(
      producer.transaction(async (tx) => {
        await tx.send({ topic, value: "thrown-1", partition: 0 });
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(producer.transactionState).toBe("ready");

    const controller = new AbortController();
    let late: Promise<unknown> | undefined;
    await expect(
      producer.transaction(
        async (tx) => {
          await tx.send({ topic, value: "signalled-1", partition: 1 });
          controller.abort();
          await new Promise((r) => setTimeout(r, 50));
          late = tx.send({ topic, value: "signalled-late", partition: 1 });
        },
        { signal: controller.signal },
      ),
    ).rejects.toBeInstanceOf(AbortedError);
    await new Promise((r) => setTimeout(r, 100));
    // The handle of an ended transaction sends nothing, even once the next transaction is open.
    await expect(late).rejects.toBeInstanceOf(TransactionStateError);

    await producer.transaction((tx) => {
      tx.send({ topic, value: "kept-3", partition: 0 });
    });
    await producer.close();
    expect(sortedValues(await readIsolated(client, topic, 1))).toEqual(["kept-1", "kept-2", "kept-3"]);
    expect(sortedValues(await readIsolated(client, topic, 0))).toEqual([
      "kept-1",
      "kept-2",
      "kept-3",
      "signalled-1",
      "thrown-1",
    ]);
  });

  it("sendOffsets then commit moves the group's committed offsets; an abort leaves them", async () => {
    const input = `txn-offsets-in-${randomUUID()}`;
    const output = `txn-offsets-out-${randomUUID()}`;
    await createTopic(client, input, 2);
    await createTopic(client, output, 1);
    const groupId = `txn-offsets-group-${randomUUID()}`;
    const group = { groupId, generationIdOrMemberEpoch: -1, memberId: "", groupInstanceId: null };
    const producer = client.producer({ transactionalId: `txn-offsets-${randomUUID()}` });

    await producer.beginTransaction();
    await producer.send({ topic: output, value: "out-1" });
    await producer.sendOffsets(group, [
      { topic: input, partition: 0, offset: 10n },
      { topic: input, partition: 1, offset: 7 },
    ]);
    await producer.commitTransaction();
    let offsets = await committedOffsets(client, groupId, input);
    expect(offsets.get(`${input}-0`)).toBe(10n);
    expect(offsets.get(`${input}-1`)).toBe(7n);

    await producer
      .transaction(async (tx) => {
        await tx.sendOffsets(group, [{ topic: input, partition: 0, offset: 20n }]);
        throw new Error("processing failed");
      })
      .catch(() => {});
    offsets = await committedOffsets(client, groupId, input);
    expect(offsets.get(`${input}-0`)).toBe(10n);

    // Offsets alone, no records: still a transaction the coordinator commits.
    await producer.transaction(async (tx) => {
      await tx.sendOffsets(group, [{ topic: input, partition: 1, offset: 9n }]);
    });
    offsets = await committedOffsets(client, groupId, input);
    expect(offsets.get(`${input}-1`)).toBe(9n);
    await producer.close();
    expect(sortedValues(await readIsolated(client, output, 1))).toEqual(["out-1"]);
  });

  it("zombie fencing: a second producer with the same transactionalId fences the first, whose records stay invisible", async () => {
    await expectZombieFenced(client, "txn-zombie");
  });

  it("zombie fencing at commit: the fenced producer's commit is ProducerFencedError", async () => {
    const topic = `txn-zombie-commit-${randomUUID()}`;
    await createTopic(client, topic, 1);
    const transactionalId = `txn-zombie-commit-${randomUUID()}`;
    const zombie = client.producer({ transactionalId });
    await zombie.beginTransaction();
    await zombie.send({ topic, value: "zombie-1" });
    const successor = client.producer({ transactionalId });
    await successor.initTransactions();
    const err = await zombie.commitTransaction().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ProducerFencedError);
    expect((err as ProducerFencedError).code).toBe("SAMSA_ERR_PRODUCER_FENCED");
    await expect(zombie.abortTransaction()).rejects.toBe(err);
    await zombie.close();
    await successor.close();
    expect(sortedValues(await readIsolated(client, topic, 1))).toEqual([]);
  });

  it("a transaction left open past transactionTimeoutMs is aborted by the coordinator, and the producer's next call says so", async () => {
    const topic = `txn-timeout-${randomUUID()}`;
    await createTopic(client, topic, 1);
    const transactionalId = `txn-timeout-${randomUUID()}`;
    const producer = client.producer({ transactionalId, transactionTimeoutMs: 2_000 });
    await producer.beginTransaction();
    await producer.send({ topic, value: "expired-1" });
    // The coordinator scans for expired transactions every
    // transaction.abort.timed.out.transaction.cleanup.interval.ms (10 s by default).
    for (let i = 0; i < 300; i++) {
      const state = await describeTransaction(client, transactionalId);
      if (state?.transactionState === "CompleteAbort") break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect((await describeTransaction(client, transactionalId))?.transactionState).toBe("CompleteAbort");
    // The coordinator bumped the epoch when it aborted: the leader refuses the old one.
    // KIP-588: INVALID_PRODUCER_EPOCH from a leader is abortable, not fatal.
    const err = await producer.send({ topic, value: "expired-2" }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(KafkaError);
    expect((err as KafkaError).errorName).toBe("INVALID_PRODUCER_EPOCH");
    expect(producer.transactionState).toBe("abortableError");
    await expect(producer.commitTransaction()).rejects.toMatchObject({
      code: "SAMSA_ERR_TRANSACTION_ABORTABLE",
      cause: err,
    });
    if (transactionVersion < 2) {
      // TV1 (not run by the default harness): the coordinator's epoch bump fences the producer.
      await expect(producer.abortTransaction()).rejects.toBeInstanceOf(ProducerFencedError);
      await producer.close();
      expect(sortedValues(await readIsolated(client, topic, 1))).toEqual([]);
      return;
    }
    // TV2: the coordinator accepts the abort of the transaction it already aborted (same
    // producer, previous epoch) and hands out the next epoch; the producer goes on.
    await producer.abortTransaction();
    expect(producer.transactionState).toBe("ready");
    await producer.transaction((tx) => {
      tx.send({ topic, value: "after-timeout" });
    });
    await producer.close();
    expect(sortedValues(await readIsolated(client, topic, 1))).toEqual(["after-timeout"]);
    expect(sortedValues(await readIsolated(client, topic, 0))).toEqual(["after-timeout", "expired-1"]);
  });
});
