/**
 * The transactional producer against a broker formatted with `transaction.version=1` (no
 * KIP-890 part 2): commits visible to read_committed, aborts not, offsets committed with a
 * transaction, zombie fencing, the coordinator's timeout. Every request is recorded (a spy on
 * Connection#request), so each test also shows that samsa took the TV1 path: AddPartitionsToTxn
 * (≤ v3) before a partition's first batch, AddOffsetsToTxn before TxnOffsetCommit (≤ v4),
 * Produce ≤ v11, EndTxn ≤ v4, and one producer epoch across transactions.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { Client } from "../../../src/client.js";
import { Connection } from "../../../src/network/connection.js";
import { ProducerFencedError } from "../../../src/producer/errors.js";
import { ApiKey } from "../../../src/protocol/index.js";
import { KafkaError } from "../../../src/protocol/kafka-error.js";
import { type KafkaCluster, startKafka } from "../../../tools/kafka/harness.js";
import { createTopic } from "../../helpers/topics.js";
import { committedOffsets, describeTransaction, readIsolated, sortedValues } from "../../helpers/transactional-read.js";
import { expectZombieFenced } from "../../helpers/zombie-fencing.js";

/** One request samsa made: its API, the version it went out with, and its transactional id. */
interface Sent {
  apiKey: number;
  version: number;
  transactionalId: string | undefined;
  /** Answered with no error code anywhere in the response (retried attempts are not). */
  ok?: boolean;
}

/** True when no `errorCode`-like field anywhere in a decoded response is non-zero. */
function errorFree(value: unknown): boolean {
  if (Array.isArray(value)) return value.every(errorFree);
  if (value === null || typeof value !== "object" || Buffer.isBuffer(value)) return true;
  return Object.entries(value).every(([k, v]) => (/ErrorCode$|^errorCode$/.test(k) ? v === 0 : errorFree(v)));
}

const sent: Sent[] = [];
const original = Connection.prototype.request;

/** The requests made for one transactional id and answered without error, by API name. */
function requestsOf(transactionalId: string): Map<string, number[]> {
  const names = new Map<number, string>(Object.entries(ApiKey).map(([name, key]) => [key as number, name]));
  const out = new Map<string, number[]>();
  for (const s of sent) {
    if (s.transactionalId !== transactionalId || !s.ok) continue;
    const name = names.get(s.apiKey) ?? String(s.apiKey);
    const list = out.get(name) ?? [];
    list.push(s.version);
    out.set(name, list);
  }
  return out;
}

describe("Transactional producer against a transaction.version=1 broker (no KIP-890 part 2)", () => {
  let kafka: KafkaCluster;
  let client: Client;
  beforeAll(async () => {
    kafka = await startKafka({ mode: "single", transactionVersion: 1 });
    client = new Client({ bootstrap: kafka.bootstrap, clientId: "txn-tv1-test" });
    vi.spyOn(Connection.prototype, "request").mockImplementation(function (this: Connection, api, request, options) {
      let version = -1;
      try {
        version = options?.version ?? this.versionFor(api);
      } catch {
        // Unsupported: the original call rejects with the reason.
      }
      const r = request as { transactionalId?: string | null; v3AndBelowTransactionalId?: string };
      const entry: Sent = {
        apiKey: api.apiKey,
        version,
        transactionalId: r.transactionalId ?? r.v3AndBelowTransactionalId ?? undefined,
      };
      sent.push(entry);
      const answer = original.call(this, api, request, options);
      answer.then(
        (response) => {
          entry.ok = errorFree(response);
        },
        () => {
          entry.ok = false;
        },
      );
      return answer;
    } as typeof Connection.prototype.request);
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    client?.close();
    await kafka?.stop();
  });

  it("the broker finalizes transaction.version 1 in ApiVersions", async () => {
    expect(kafka.transactionVersion).toBe(1);
    const connection = await client.anyConnection();
    expect(connection.versions?.features.get("transaction.version")).toBe(1);
  });

  it("commit is visible to read_committed, abort is not; AddPartitionsToTxn before each partition's first batch, one epoch throughout", async () => {
    const topic = `txn-tv1-visibility-${randomUUID()}`;
    await createTopic(client, topic, 3);
    const transactionalId = `txn-tv1-visibility-${randomUUID()}`;
    const producer = client.producer({ transactionalId, lingerMs: 0 });

    await producer.beginTransaction();
    await producer.send([
      { topic, value: "c-1", partition: 0 },
      { topic, value: "c-2", partition: 1 },
    ]);
    await producer.send({ topic, value: "c-3", partition: 2 });
    // Still open: the last stable offset is held at the first record.
    expect(await readIsolated(client, topic, 1)).toEqual([]);
    await producer.commitTransaction();

    await producer.beginTransaction();
    const pending = producer.send(Array.from({ length: 30 }, (_, i) => ({ topic, value: `a-${i}`, partition: i % 3 })));
    pending.catch(() => {});
    await producer.send({ topic, value: "a-last", partition: 1 }).catch(() => {});
    await producer.abortTransaction();
    expect(producer.transactionState).toBe("ready");

    await producer.transaction(async (tx) => {
      await tx.send([
        { topic, value: "c-4", partition: 0 },
        { topic, value: "c-5", partition: 2 },
      ]);
    });
    await producer.close();

    const committed = await readIsolated(client, topic, 1);
    expect(sortedValues(committed)).toEqual(["c-1", "c-2", "c-3", "c-4", "c-5"]);
    const all = await readIsolated(client, topic, 0);
    expect(all.some((r) => r.value === "a-last")).toBe(true);
    // TV1: EndTxn does not hand out a new epoch; three transactions, one producer id and epoch.
    expect(new Set(all.map((r) => `${r.producerId}/${r.producerEpoch}`)).size).toBe(1);

    const requests = requestsOf(transactionalId);
    // At least one AddPartitionsToTxn per transaction (partitions may be added in several).
    expect((requests.get("AddPartitionsToTxn") ?? []).length).toBeGreaterThanOrEqual(3);
    expect((requests.get("AddPartitionsToTxn") ?? []).every((v) => v >= 0 && v <= 3)).toBe(true);
    expect((requests.get("Produce") ?? []).length).toBeGreaterThanOrEqual(3);
    expect((requests.get("Produce") ?? []).every((v) => v >= 3 && v <= 11)).toBe(true);
    expect(requests.get("EndTxn")).toHaveLength(3);
    expect((requests.get("EndTxn") ?? []).every((v) => v <= 4)).toBe(true);
    expect(requests.get("InitProducerId")).toHaveLength(1);
  });

  it("sendOffsets sends AddOffsetsToTxn then TxnOffsetCommit ≤ v4; commit moves the group's offsets, abort leaves them", async () => {
    const input = `txn-tv1-offsets-in-${randomUUID()}`;
    const output = `txn-tv1-offsets-out-${randomUUID()}`;
    await createTopic(client, input, 2);
    await createTopic(client, output, 1);
    const groupId = `txn-tv1-group-${randomUUID()}`;
    const transactionalId = `txn-tv1-offsets-${randomUUID()}`;
    const producer = client.producer({ transactionalId });

    await producer.transaction(async (tx) => {
      await tx.send({ topic: output, value: "out-1" });
      await tx.sendOffsets({ groupId }, [
        { topic: input, partition: 0, offset: 10n },
        { topic: input, partition: 1, offset: 7 },
      ]);
    });
    let offsets = await committedOffsets(client, groupId, input);
    expect(offsets.get(`${input}-0`)).toBe(10n);
    expect(offsets.get(`${input}-1`)).toBe(7n);

    await producer
      .transaction(async (tx) => {
        await tx.send({ topic: output, value: "out-aborted" });
        await tx.sendOffsets({ groupId }, [{ topic: input, partition: 0, offset: 20n }]);
        throw new Error("processing failed");
      })
      .catch(() => {});
    offsets = await committedOffsets(client, groupId, input);
    expect(offsets.get(`${input}-0`)).toBe(10n);

    // Offsets alone: AddOffsetsToTxn is what puts anything in this transaction.
    await producer.transaction(async (tx) => {
      await tx.sendOffsets({ groupId }, [{ topic: input, partition: 1, offset: 9n }]);
    });
    offsets = await committedOffsets(client, groupId, input);
    expect(offsets.get(`${input}-1`)).toBe(9n);
    await producer.close();
    expect(sortedValues(await readIsolated(client, output, 1))).toEqual(["out-1"]);

    const requests = requestsOf(transactionalId);
    expect(requests.get("AddOffsetsToTxn")).toHaveLength(3);
    expect(requests.get("TxnOffsetCommit")).toHaveLength(3);
    expect((requests.get("TxnOffsetCommit") ?? []).every((v) => v <= 4)).toBe(true);
    expect(requests.get("EndTxn")).toHaveLength(3);
  });

  it("zombie fencing: the successor's InitProducerId fences the first producer, whose records stay invisible", async () => {
    const { transactionalId } = await expectZombieFenced(client, "txn-tv1-zombie");
    // TV1: the zombie's and the successor's transactions each added the partition explicitly.
    expect((requestsOf(transactionalId).get("AddPartitionsToTxn") ?? []).length).toBeGreaterThanOrEqual(2);
  });

  it("zombie fencing at commit: EndTxn with the old epoch is ProducerFencedError", async () => {
    const topic = `txn-tv1-zombie-commit-${randomUUID()}`;
    await createTopic(client, topic, 1);
    const transactionalId = `txn-tv1-zombie-commit-${randomUUID()}`;
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
    await zombie.close();
    await successor.close();
    expect(sortedValues(await readIsolated(client, topic, 1))).toEqual([]);
  });

  it("a transaction the coordinator timed out leaves the producer fenced (TV1: the coordinator's epoch bump)", async () => {
    const topic = `txn-tv1-timeout-${randomUUID()}`;
    await createTopic(client, topic, 1);
    const transactionalId = `txn-tv1-timeout-${randomUUID()}`;
    const producer = client.producer({ transactionalId, transactionTimeoutMs: 2_000 });
    await producer.beginTransaction();
    await producer.send({ topic, value: "expired-1" });
    // The coordinator looks for expired transactions every 10 s by default.
    for (let i = 0; i < 300; i++) {
      const state = await describeTransaction(client, transactionalId);
      if (state?.transactionState === "CompleteAbort") break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect((await describeTransaction(client, transactionalId))?.transactionState).toBe("CompleteAbort");
    const err = await producer.send({ topic, value: "expired-2" }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(KafkaError);
    expect((err as KafkaError).errorName).toBe("INVALID_PRODUCER_EPOCH");
    expect(producer.transactionState).toBe("abortableError");
    await expect(producer.abortTransaction()).rejects.toBeInstanceOf(ProducerFencedError);
    expect(producer.transactionState).toBe("fatalError");
    await producer.close();
    expect(sortedValues(await readIsolated(client, topic, 1))).toEqual([]);
  });
});
