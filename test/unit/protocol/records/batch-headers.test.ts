/**
 * The one batch header walk (records/batch-headers.ts): what the fetch buffer learns from
 * headers alone, and where the walk stops, against batches built by our builder and cut or
 * damaged by hand.
 */
import { describe, expect, it } from "vitest";
import { ProtocolError } from "../../../../src/protocol/errors.js";
import {
  BatchHeaderWalk,
  decodeRecordBatchesSync,
  nextOffset,
  RecordBatchBuilder,
  scanBatchHeaders,
} from "../../../../src/protocol/records/index.js";

function batch(baseOffset: bigint, values: string[], fields: { producerId?: bigint; epoch?: number } = {}): Buffer {
  const b = new RecordBatchBuilder({
    baseOffset,
    producerId: fields.producerId ?? -1n,
    producerEpoch: fields.producerId !== undefined ? 3 : -1,
    baseSequence: fields.producerId !== undefined ? 11 : -1,
    partitionLeaderEpoch: fields.epoch ?? -1,
  });
  for (const [i, v] of values.entries()) b.append({ value: v, timestamp: 1_000 + i });
  return Buffer.from(b.build());
}

describe("BatchHeaderWalk", () => {
  it("reads every fixed header field of each complete batch, as the decoder does", () => {
    const a = batch(10n, ["a", "b"], { producerId: 42n, epoch: 5 });
    const b = batch(12n, ["c", "d", "e"], { epoch: 6 });
    const set = Buffer.concat([a, b]);
    const walk = new BatchHeaderWalk(set);
    const seen = [];
    while (walk.next()) {
      seen.push({
        pos: walk.pos,
        end: walk.end,
        baseOffset: walk.baseOffset,
        batchLength: walk.batchLength,
        magic: walk.magic,
        epoch: walk.partitionLeaderEpoch,
        lastOffsetDelta: walk.lastOffsetDelta,
        nextOffset: walk.nextOffset,
        producerId: walk.producerId,
        producerEpoch: walk.producerEpoch,
        baseSequence: walk.baseSequence,
        recordCount: walk.recordCount,
        baseTimestamp: walk.baseTimestamp,
        maxTimestamp: walk.maxTimestamp,
        compressed: walk.compressed,
      });
    }
    expect(walk.problem).toBeUndefined();
    expect(seen).toEqual([
      {
        pos: 0,
        end: a.length,
        baseOffset: 10n,
        batchLength: a.length - 12,
        magic: 2,
        epoch: 5,
        lastOffsetDelta: 1,
        nextOffset: 12n,
        producerId: 42n,
        producerEpoch: 3,
        baseSequence: 11,
        recordCount: 2,
        baseTimestamp: 1_000,
        maxTimestamp: 1_001,
        compressed: false,
      },
      {
        pos: a.length,
        end: set.length,
        baseOffset: 12n,
        batchLength: b.length - 12,
        magic: 2,
        epoch: 6,
        lastOffsetDelta: 2,
        nextOffset: 15n,
        producerId: -1n,
        producerEpoch: -1,
        baseSequence: -1,
        recordCount: 3,
        baseTimestamp: 1_000,
        maxTimestamp: 1_002,
        compressed: false,
      },
    ]);
    // The decoder walks the same headers: the same batches, the same next offsets.
    const decoded = decodeRecordBatchesSync(set);
    expect(decoded.map((d) => [d.baseOffset, nextOffset(d), d.partitionLeaderEpoch])).toEqual([
      [10n, 12n, 5],
      [12n, 15n, 6],
    ]);
  });

  it("stops without a problem at a last batch cut short, and at fewer bytes than a header's start", () => {
    const a = batch(0n, ["a", "b"]);
    const b = batch(2n, ["c"]);
    const walk = new BatchHeaderWalk(Buffer.concat([a, b.subarray(0, b.length - 1)]));
    expect(walk.next()).toBe(true);
    expect(walk.next()).toBe(false);
    expect(walk.problem).toBeUndefined();
    expect(new BatchHeaderWalk(a.subarray(0, 16)).next()).toBe(false);
    expect(new BatchHeaderWalk(Buffer.alloc(0)).next()).toBe(false);
  });

  it.each([
    [48, 2, "batch length 48 is below the 49-byte minimum"],
    [-1, 2, "batch length -1 is below the 49-byte minimum"],
    [20, 1, "unsupported magic 1 (only v2 is read)"],
  ])("a length of %i (magic %i) cannot be a batch: the walk stops there and names it", (length, magic, problem) => {
    const a = batch(0n, ["a"]);
    const bad = batch(7n, ["b"]);
    bad.writeInt32BE(length, 8);
    bad.writeInt8(magic, 16);
    const set = Buffer.concat([a, bad]);
    const walk = new BatchHeaderWalk(set);
    expect(walk.next()).toBe(true);
    expect(walk.next()).toBe(false);
    expect(walk.problem).toBe(problem);
    expect(walk.baseOffset).toBe(7n);
    // The decoder throws the same problem, naming the batch.
    expect(() => decodeRecordBatchesSync(set)).toThrow(ProtocolError);
    expect(() => decodeRecordBatchesSync(set)).toThrow(`record batch at offset 7: ${problem}`);
  });

  it("does not judge the magic of a complete batch (the decoder does)", () => {
    const a = batch(0n, ["a"]);
    a.writeInt8(1, 16);
    const walk = new BatchHeaderWalk(a);
    expect(walk.next()).toBe(true);
    expect(walk.magic).toBe(1);
    expect(() => decodeRecordBatchesSync(a)).toThrow("unsupported magic 1");
  });
});

describe("scanBatchHeaders", () => {
  it("finds the offset after the last complete batch and ignores a truncated tail", () => {
    const a = batch(0n, ["a", "b"]);
    const b = batch(2n, ["c", "d", "e"]);
    b.writeInt32BE(7, 12); // partition leader epoch (not covered by the CRC)
    expect(scanBatchHeaders(Buffer.concat([a, b]))).toEqual({
      nextOffset: 5n,
      compressed: false,
      lastEpoch: 7,
      records: 5,
    });
    expect(scanBatchHeaders(Buffer.concat([a, b.subarray(0, b.length - 3)]))).toEqual({
      nextOffset: 2n,
      compressed: false,
      lastEpoch: -1,
      records: 2,
    });
    expect(scanBatchHeaders(b.subarray(0, 30))).toEqual({
      nextOffset: undefined,
      compressed: false,
      lastEpoch: -1,
      records: 0,
    });
  });

  it("flags compression from the attributes", () => {
    const a = batch(0n, ["a"]);
    a.writeInt16BE(a.readInt16BE(21) | 1, 21); // gzip bit (the scan reads headers only)
    expect(scanBatchHeaders(a).compressed).toBe(true);
    expect(scanBatchHeaders(batch(0n, ["a"])).compressed).toBe(false);
  });
});
