/**
 * The fetcher against a scripted table of Fetch answers from fake brokers
 * (tools/fault/fake-broker.ts): the error codes a real broker gives only under faults
 * (leaders moving, epochs fenced, logs truncated, connections dropped). Each case names the
 * answers in order and checks what the application and the brokers saw: the offsets handed
 * out, the fetch offsets asked for, the ListOffsets and Metadata requests, the error thrown.
 */
import { afterEach, describe, expect, it } from "vitest";
import { Client } from "../../../src/client.js";
import type { Consumer } from "../../../src/consumer/consumer.js";
import { OffsetOutOfRangeError } from "../../../src/consumer/errors.js";
import type { ConsumerOptions } from "../../../src/consumer/options.js";
import { ErrorCode } from "../../../src/protocol/error-table.js";
import { ProtocolError } from "../../../src/protocol/errors.js";
import { KafkaError } from "../../../src/protocol/kafka-error.js";
import {
  createFetchResponse,
  createFetchResponsePartitionData,
  createListOffsetsResponse,
  createMetadataResponse,
  createMetadataResponseMetadataResponsePartition,
  createMetadataResponseMetadataResponseTopic,
  Fetch,
  type FetchRequest,
  type FetchResponseAbortedTransaction,
  ListOffsets,
  Metadata,
} from "../../../src/protocol/messages/index.js";
import { buildEndTxnMarkerBatch, RecordBatchBuilder } from "../../../src/protocol/records/index.js";
import { FakeBroker, type SpecialReply } from "../../../tools/fault/fake-broker.js";

const TOPIC = "t";
const TOPIC_ID = "AAAAAAAAAAAAAAAAAAAAAQ";

/** One scripted Fetch answer for partition 0. */
type Step =
  | { records: Buffer; aborted?: FetchResponseAbortedTransaction[] }
  | {
      error: number;
      /** KIP-951: the new leader in the answer (and its endpoint in nodeEndpoints). */
      hint?: { leaderId: number; leaderEpoch: number };
      /** The leader metadata names from this answer on. */
      moveTo?: { id: number; epoch: number };
    }
  | { drop: true };

/** Batches of plain records, `values` starting at `baseOffset`. */
function batch(baseOffset: bigint, values: string[], producerId = -1n, transactional = false): Buffer {
  const b = new RecordBatchBuilder({
    baseOffset,
    producerId,
    producerEpoch: producerId >= 0n ? 0 : -1,
    isTransactional: transactional,
  });
  for (const v of values) b.append({ value: v, timestamp: 1_000 });
  return Buffer.from(b.build());
}

const marker = (type: "commit" | "abort", baseOffset: bigint, producerId: bigint) =>
  Buffer.from(buildEndTxnMarkerBatch({ type, coordinatorEpoch: 0, producerId, producerEpoch: 0, baseOffset }));

/**
 * Two fake brokers (node 1 leads at first) sharing one script and one truth, `leader`, which
 * Metadata names and a step's `moveTo` changes. As real brokers do, a broker that does not
 * lead answers NOT_LEADER_OR_FOLLOWER and the leader answers a request with an older leader
 * epoch FENCED_LEADER_EPOCH; otherwise each Fetch takes the next step, and past the script's
 * end waits 20 ms and answers nothing, as a long-poll that times out.
 */
class ScriptedCluster {
  readonly brokers: FakeBroker[];
  readonly leader = { id: 1, epoch: 0 };
  /** Every Fetch: the broker asked, the offset and leader epoch asked for, the isolation level, the answer. */
  readonly fetches: {
    node: number;
    offset: bigint;
    epoch: number;
    isolationLevel: number;
    answer: "step" | "notLeader" | "fenced" | "empty";
  }[] = [];
  /** Every ListOffsets timestamp asked for (-2 earliest, -1 latest). */
  readonly listOffsets: bigint[] = [];
  /** Fetches, counted when each Metadata request arrived. */
  readonly metadataAt: number[] = [];
  log = { start: 0n, end: 100n };
  readonly #script: Step[];
  #client: Client | undefined;

  private constructor(brokers: FakeBroker[], script: Step[]) {
    this.brokers = brokers;
    this.#script = [...script];
    for (const b of brokers) {
      b.on(Metadata, () => {
        this.metadataAt.push(this.fetches.length);
        return this.#metadata();
      });
      b.on(Fetch, (request) => this.#fetch(b.nodeId, request));
      b.on(ListOffsets, (request) => {
        const p = request.topics[0]?.partitions[0];
        this.listOffsets.push(p?.timestamp ?? 0n);
        return createListOffsetsResponse({
          topics: [
            {
              name: TOPIC,
              partitions: [
                {
                  partitionIndex: 0,
                  errorCode: 0,
                  timestamp: -1n,
                  offset: p?.timestamp === -2n ? this.log.start : this.log.end,
                  leaderEpoch: this.leader.epoch,
                },
              ],
            },
          ],
        });
      });
    }
  }

  static async start(script: Step[]): Promise<ScriptedCluster> {
    const brokers = [await FakeBroker.start({ nodeId: 1 }), await FakeBroker.start({ nodeId: 2 })];
    return new ScriptedCluster(brokers, script);
  }

  consumer(options: ConsumerOptions = {}): Consumer {
    this.#client ??= new Client({
      bootstrap: (this.brokers[0] as FakeBroker).bootstrap,
      retryBackoffMs: 1,
      retryBackoffMaxMs: 5,
    });
    const consumer = this.#client.consumer({ retryBackoffMs: 1, maxWaitMs: 20, ...options });
    consumer.assign([{ topic: TOPIC, partition: 0, offset: 0n }]);
    return consumer;
  }

  /** Steps not yet answered. */
  get left(): number {
    return this.#script.length;
  }

  async close(): Promise<void> {
    this.#client?.close();
    for (const b of this.brokers) await b.close();
  }

  #metadata() {
    return createMetadataResponse({
      brokers: this.brokers.map((b) => ({ ...b.node, rack: null })),
      clusterId: "scripted",
      controllerId: 1,
      topics: [
        createMetadataResponseMetadataResponseTopic({
          name: TOPIC,
          topicId: TOPIC_ID,
          partitions: [
            createMetadataResponseMetadataResponsePartition({
              partitionIndex: 0,
              leaderId: this.leader.id,
              leaderEpoch: this.leader.epoch,
              replicaNodes: [1, 2],
              isrNodes: [1, 2],
            }),
          ],
        }),
      ],
    });
  }

  async #fetch(node: number, request: FetchRequest) {
    const asked = request.topics[0]?.partitions[0];
    if (asked === undefined) return createFetchResponse({});
    const fetch = {
      node,
      offset: asked.fetchOffset,
      epoch: asked.currentLeaderEpoch,
      isolationLevel: request.isolationLevel,
      answer: "step" as (typeof this.fetches)[number]["answer"],
    };
    this.fetches.push(fetch);
    let step: Step | undefined;
    if (node !== this.leader.id) {
      fetch.answer = "notLeader";
      step = { error: ErrorCode.NOT_LEADER_OR_FOLLOWER };
    } else if (asked.currentLeaderEpoch < this.leader.epoch) {
      fetch.answer = "fenced";
      step = { error: ErrorCode.FENCED_LEADER_EPOCH };
    } else {
      step = this.#script.shift();
    }
    if (step === undefined) {
      fetch.answer = "empty";
      await new Promise((r) => setTimeout(r, 20));
    }
    if (step !== undefined && "drop" in step) return FakeBroker.close() as SpecialReply;
    const part = createFetchResponsePartitionData({
      partitionIndex: 0,
      highWatermark: this.log.end,
      lastStableOffset: this.log.end,
      logStartOffset: this.log.start,
      records: null,
      abortedTransactions: null,
    });
    const nodeEndpoints = [];
    if (step !== undefined && "error" in step) {
      if (step.moveTo) Object.assign(this.leader, step.moveTo);
      part.errorCode = step.error;
      part.highWatermark = -1n;
      part.lastStableOffset = -1n;
      if (step.hint) {
        part.currentLeader = step.hint;
        const to = this.brokers.find((b) => b.nodeId === step.hint?.leaderId) as FakeBroker;
        nodeEndpoints.push({ ...to.node, rack: null });
      }
    } else if (step !== undefined) {
      part.records = step.records;
      part.abortedTransactions = step.aborted ?? null;
    }
    return createFetchResponse({ responses: [{ topic: TOPIC, topicId: TOPIC_ID, partitions: [part] }], nodeEndpoints });
  }
}

/**
 * What the loop hands out (as "offset:value"), until `n` messages, an error (returned, not
 * thrown), or 5 s.
 */
async function read(consumer: Consumer, n = Number.POSITIVE_INFINITY): Promise<{ got: string[]; error?: unknown }> {
  const got: string[] = [];
  try {
    for await (const m of consumer.messages({ signal: AbortSignal.timeout(5_000) })) {
      got.push(`${m.offset}:${m.value?.toString()}`);
      if (got.length === n) break;
    }
  } catch (error) {
    return { got, error };
  }
  return { got };
}

/** The first `n` messages handed out; an error fails the test. */
async function take(consumer: Consumer, n: number): Promise<string[]> {
  const { got, error } = await read(consumer, n);
  if (error !== undefined) throw error;
  return got;
}

/** Resolves once `done()` holds (checked every 5 ms), or throws after 5 s. */
async function until(done: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error("condition not reached in 5 s");
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe("Fetcher against scripted Fetch answers", () => {
  let cluster: ScriptedCluster | undefined;
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
  });

  it.each([
    ["earliest", -2n, 10n],
    ["latest", -1n, 40n],
  ] as const)(
    "OFFSET_OUT_OF_RANGE with autoOffsetReset %s: one ListOffsets (%i), fetching goes on from %i",
    async (policy, timestamp, from) => {
      cluster = await ScriptedCluster.start([
        { error: ErrorCode.OFFSET_OUT_OF_RANGE },
        { records: batch(from, ["x", "y"]) },
      ]);
      cluster.log = { start: 10n, end: 40n };
      const consumer = cluster.consumer({ autoOffsetReset: policy });
      expect(await take(consumer, 2)).toEqual([`${from}:x`, `${from + 1n}:y`]);
      expect(cluster.listOffsets).toEqual([timestamp]);
      expect(cluster.fetches.slice(0, 2).map((f) => f.offset)).toEqual([0n, from]);
      expect(consumer.position({ topic: TOPIC, partition: 0 })).toBe(from + 2n);
      await consumer.close();
    },
  );

  it('OFFSET_OUT_OF_RANGE with autoOffsetReset "none": the loop throws OffsetOutOfRangeError at the fetch offset, no ListOffsets, the partition stops', async () => {
    cluster = await ScriptedCluster.start([{ error: ErrorCode.OFFSET_OUT_OF_RANGE }]);
    const consumer = cluster.consumer({ autoOffsetReset: "none" });
    const { got, error: err } = await read(consumer);
    expect(got).toEqual([]);
    expect(err).toBeInstanceOf(OffsetOutOfRangeError);
    expect(err).toMatchObject({ errorCode: ErrorCode.OFFSET_OUT_OF_RANGE, topic: TOPIC, partition: 0, offset: 0n });
    expect(cluster.listOffsets).toEqual([]);
    // Stopped until a seek: no Fetch for it after the failing one.
    const fetched = cluster.fetches.length;
    await new Promise((r) => setTimeout(r, 100));
    expect(cluster.fetches.length).toBe(fetched);
    await consumer.close();
  });

  it.each([
    ["NOT_LEADER_OR_FOLLOWER without a hint", "the new leader", ErrorCode.NOT_LEADER_OR_FOLLOWER, { id: 2, epoch: 1 }],
    ["FENCED_LEADER_EPOCH", "the leader at its new epoch", ErrorCode.FENCED_LEADER_EPOCH, { id: 1, epoch: 3 }],
  ] as const)("%s: metadata is refreshed, then %s is asked for the same offset", async (_name, _who, error, moveTo) => {
    cluster = await ScriptedCluster.start([{ error, moveTo }, { records: batch(0n, ["a"]) }]);
    const consumer = cluster.consumer();
    expect(await take(consumer, 1)).toEqual(["0:a"]);
    // The broker goes on refusing (NOT_LEADER_OR_FOLLOWER, FENCED_LEADER_EPOCH) until a
    // refresh names the new leader and epoch, which are asked for the same offset.
    const served = cluster.fetches.filter((f) => f.answer === "step");
    expect(served).toMatchObject([
      { node: 1, offset: 0n, epoch: 0 },
      { node: moveTo.id, offset: 0n, epoch: moveTo.epoch },
    ]);
    expect(cluster.metadataAt.filter((n) => n >= 1).length).toBeGreaterThanOrEqual(1);
    expect(consumer.stats().fetch.leaderHints).toBe(0);
    expect(consumer.stats().fetch.leaderErrors).toBeGreaterThanOrEqual(1);
    await consumer.close();
  });

  it("NOT_LEADER_OR_FOLLOWER with a KIP-951 hint: the hinted broker is asked next, with no Metadata round trip", async () => {
    cluster = await ScriptedCluster.start([
      { error: ErrorCode.NOT_LEADER_OR_FOLLOWER, hint: { leaderId: 2, leaderEpoch: 1 }, moveTo: { id: 2, epoch: 1 } },
      { records: batch(0n, ["a", "b"]) },
    ]);
    const consumer = cluster.consumer();
    expect(await take(consumer, 2)).toEqual(["0:a", "1:b"]);
    expect(cluster.fetches.slice(0, 2)).toMatchObject([
      { node: 1, offset: 0n, epoch: 0, answer: "step" },
      { node: 2, offset: 0n, epoch: 1, answer: "step" },
    ]);
    // Metadata was read before the first Fetch only: none between the hint and the retry.
    expect(cluster.metadataAt).not.toContain(1);
    expect(consumer.stats().fetch).toMatchObject({ leaderErrors: 1, leaderHints: 1 });
    await consumer.close();
  });

  it("UNKNOWN_LEADER_EPOCH: the broker is behind our epoch; retried at the same offset, no metadata refresh, not a leader error", async () => {
    cluster = await ScriptedCluster.start([{ error: ErrorCode.UNKNOWN_LEADER_EPOCH }, { records: batch(0n, ["a"]) }]);
    const consumer = cluster.consumer();
    expect(await take(consumer, 1)).toEqual(["0:a"]);
    expect(cluster.fetches.slice(0, 2).map((f) => [f.offset, f.answer])).toEqual([
      [0n, "step"],
      [0n, "step"],
    ]);
    // Long enough for a refresh to have shown up (one arrives within a few fetches when due).
    await until(() => (cluster?.fetches.length ?? 0) >= 10);
    expect(cluster.metadataAt).toEqual([0]);
    expect(consumer.stats().fetch.leaderErrors).toBe(0);
    await consumer.close();
  });

  it("a non-retriable code (TOPIC_AUTHORIZATION_FAILED): the loop throws a KafkaError with it, the partition stops", async () => {
    cluster = await ScriptedCluster.start([{ error: ErrorCode.TOPIC_AUTHORIZATION_FAILED }]);
    const consumer = cluster.consumer();
    const { got, error: err } = await read(consumer);
    expect(got).toEqual([]);
    expect(err).toBeInstanceOf(KafkaError);
    expect((err as KafkaError).errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    const fetched = cluster.fetches.length;
    await new Promise((r) => setTimeout(r, 100));
    expect(cluster.fetches.length).toBe(fetched);
    await consumer.close();
  });

  it("a connection dropped mid-Fetch: counted as a request error, the same offset asked again, nothing handed out twice", async () => {
    cluster = await ScriptedCluster.start([
      { records: batch(0n, ["a"]) },
      { drop: true },
      { records: batch(1n, ["b", "c"]) },
    ]);
    const consumer = cluster.consumer();
    expect(await take(consumer, 3)).toEqual(["0:a", "1:b", "2:c"]);
    expect(cluster.fetches.slice(0, 3).map((f) => f.offset)).toEqual([0n, 1n, 1n]);
    expect(consumer.stats().fetch.requestErrors).toBe(1);
    await consumer.close();
  });

  it("a last batch cut short by the size limit: the complete batches are handed out, the next Fetch starts at the cut batch", async () => {
    const cut = batch(3n, ["d", "e", "f"]);
    cluster = await ScriptedCluster.start([
      { records: Buffer.concat([batch(0n, ["a", "b", "c"]), cut.subarray(0, cut.length - 5)]) },
      { records: cut },
    ]);
    const consumer = cluster.consumer();
    expect(await take(consumer, 6)).toEqual(["0:a", "1:b", "2:c", "3:d", "4:e", "5:f"]);
    await until(() => cluster?.fetches.length === 3);
    expect(cluster.fetches.slice(0, 3).map((f) => f.offset)).toEqual([0n, 3n, 6n]);
    await consumer.close();
  });

  it("a first batch whose length cannot be a batch's: the loop throws a ProtocolError naming it, no endless refetch", async () => {
    const bad = batch(0n, ["a"]);
    bad.writeInt32BE(5, 8); // the length field: below a header's size
    cluster = await ScriptedCluster.start([{ records: bad }]);
    const consumer = cluster.consumer();
    const { got, error: err } = await read(consumer);
    expect(got).toEqual([]);
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as ProtocolError).message).toMatch(/at offset 0: batch length 5 is below/);
    const fetched = cluster.fetches.length;
    await new Promise((r) => setTimeout(r, 100));
    expect(cluster.fetches.length).toBe(fetched);
    await consumer.close();
  });

  /** Producer 7's transaction aborts, producer 8's commits; plain records around them. */
  const transactions = () => ({
    records: Buffer.concat([
      batch(0n, ["plain-0"]),
      batch(1n, ["p7-a", "p7-b"], 7n, true),
      batch(3n, ["p8-a"], 8n, true),
      marker("abort", 4n, 7n),
      marker("commit", 5n, 8n),
      batch(6n, ["plain-6"]),
    ]),
    aborted: [{ producerId: 7n, firstOffset: 1n }],
  });

  it("read_committed: an aborted transaction's records and every marker are left out; the next Fetch starts after the set", async () => {
    cluster = await ScriptedCluster.start([transactions()]);
    const consumer = cluster.consumer({ isolationLevel: "read_committed" });
    expect(await take(consumer, 3)).toEqual(["0:plain-0", "3:p8-a", "6:plain-6"]);
    expect(cluster.fetches[0]?.isolationLevel).toBe(1);
    await until(() => cluster?.fetches.length === 2);
    expect(cluster.fetches[1]?.offset).toBe(7n);
    await consumer.close();
  });

  it("read_uncommitted: the same answer hands out the aborted records too (markers still not)", async () => {
    cluster = await ScriptedCluster.start([transactions()]);
    const consumer = cluster.consumer({ isolationLevel: "read_uncommitted" });
    expect(await take(consumer, 5)).toEqual(["0:plain-0", "1:p7-a", "2:p7-b", "3:p8-a", "6:plain-6"]);
    expect(cluster.fetches[0]?.isolationLevel).toBe(0);
    await consumer.close();
  });
});
