import { describe, expect, it } from "vitest";
import { FetchBuffer, type FetchedChunk, visibleBatches } from "../../../src/consumer/fetch-buffer.js";
import { PartitionState } from "../../../src/consumer/partition.js";
import {
  buildEndTxnMarkerBatch,
  decodeRecordBatchesSync,
  RecordBatchBuilder,
} from "../../../src/protocol/records/index.js";

function batch(baseOffset: bigint, values: string[], producerId = -1n, isTransactional = false): Buffer {
  const b = new RecordBatchBuilder({
    baseOffset,
    producerId,
    producerEpoch: producerId >= 0n ? 0 : -1,
    isTransactional,
  });
  for (const v of values) b.append({ value: v, timestamp: 1 });
  return Buffer.from(b.build());
}

const marker = (type: "commit" | "abort", baseOffset: bigint, producerId: bigint) =>
  Buffer.from(buildEndTxnMarkerBatch({ type, coordinatorEpoch: 0, producerId, producerEpoch: 0, baseOffset }));

describe("visibleBatches (read_committed)", () => {
  it("drops aborted transactions' batches and every control batch; keeps committed and plain data", () => {
    const records = Buffer.concat([
      batch(0n, ["plain-0"]),
      batch(1n, ["t1-a", "t1-b"], 7n, true), // producer 7: aborted
      batch(3n, ["t2-a"], 8n, true), // producer 8: committed
      marker("abort", 4n, 7n),
      marker("commit", 5n, 8n),
      batch(6n, ["t3-a"], 7n, true), // producer 7 again, new transaction: committed
      marker("commit", 7n, 7n),
      batch(8n, ["plain-8"]),
    ]);
    const batches = decodeRecordBatchesSync(records);
    const values = (bs: typeof batches) => bs.flatMap((b) => b.records.map((r) => r.value?.toString()));
    expect(values(visibleBatches(batches, [{ producerId: 7n, firstOffset: 1n }]))).toEqual([
      "plain-0",
      "t2-a",
      "t3-a",
      "plain-8",
    ]);
    // read_uncommitted (no list): only control batches go.
    expect(values(visibleBatches(batches, null))).toEqual(["plain-0", "t1-a", "t1-b", "t2-a", "t3-a", "plain-8"]);
  });
});

describe("FetchBuffer", () => {
  const state = new PartitionState("t", 0);
  const chunk = (bytes: number, generation = 0): FetchedChunk => ({
    state,
    generation,
    records: Buffer.alloc(bytes),
    fromOffset: 0n,
    nextOffset: 1n,
    compressed: false,
    abortedTransactions: null,
    highWatermark: 1n,
    lastStableOffset: 1n,
  });

  it("counts bytes against the bound and calls onSpace when a full buffer gets room", () => {
    const buffer = new FetchBuffer(100);
    let spaced = 0;
    buffer.onSpace = () => spaced++;
    buffer.push(chunk(60));
    buffer.push(chunk(60));
    expect(buffer.available).toBe(-20);
    const first = buffer.shift() as FetchedChunk;
    buffer.release(first);
    expect(buffer.available).toBe(40);
    expect(spaced).toBe(1);
    expect(buffer.length).toBe(1);
  });

  it("drops stale chunks (older generation) and frees their bytes", () => {
    const buffer = new FetchBuffer(1000);
    buffer.push(chunk(10, 0));
    state.rewind(); // generation 0 → 1: the first chunk is stale
    buffer.push(chunk(20, 1));
    buffer.dropStale();
    expect(buffer.length).toBe(1);
    expect(buffer.bufferedBytes).toBe(20);
    expect(buffer.shift()?.generation).toBe(1);
  });
});
