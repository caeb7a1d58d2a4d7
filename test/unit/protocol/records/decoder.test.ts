import { describe, expect, test } from "vitest";
import { CorruptRecordError, ProtocolError } from "../../../../src/protocol/errors.js";
import {
  type BatchRecord,
  buildEndTxnMarkerBatch,
  type CompressionCodec,
  CompressionCodecId,
  ControlRecordType,
  decodeRecordBatches,
  decodeRecordBatchesSync,
  nextOffset,
  type RecordBatch,
  RecordBatchBuilder,
  type RecordBatchBuilderOptions,
  RecordCursor,
  type RecordInput,
  recordOffset,
  recordTimestamp,
} from "../../../../src/protocol/records/index.js";

const T0 = 1_700_000_000_000;

function batchOf(records: RecordInput[], options: RecordBatchBuilderOptions = {}): Buffer {
  const builder = new RecordBatchBuilder(options);
  for (const r of records) builder.append(r);
  return Buffer.from(builder.build());
}

/** `count` records with keys k<i>, values v<i>, timestamps T0 + i. */
function simpleRecords(count: number, from = 0): RecordInput[] {
  return Array.from({ length: count }, (_, i) => ({
    timestamp: T0 + from + i,
    key: `k${from + i}`,
    value: `v${from + i}`,
  }));
}

const offsetsOf = (batches: RecordBatch[]) => batches.flatMap((b) => b.records.map((r) => recordOffset(b, r)));
const valuesOf = (batches: RecordBatch[]) => batches.flatMap((b) => b.records.map((r) => r.value?.toString() ?? null));

/** Rewrites the CRC of a batch after a test edited it, so the edit reaches the parser. */
async function withFixedCrc(batch: Buffer): Promise<Buffer> {
  const { crc32c } = await import("../../../../src/protocol/records/crc32c.js");
  batch.writeUInt32BE(crc32c(batch, 21, batch.length), 17);
  return batch;
}

describe("decodeRecordBatches: round trip", () => {
  test("header fields and records come back as written", async () => {
    const bytes = batchOf(
      [
        { timestamp: T0, key: "a", value: Buffer.from([1, 2]), headers: [{ key: "h1", value: "x" }] },
        { timestamp: T0 - 250, key: null, value: null, headers: [{ key: "ü", value: null }] },
        { timestamp: T0 + 9, key: "", value: Buffer.alloc(0) },
      ],
      {
        baseOffset: 1234n,
        partitionLeaderEpoch: 8,
        producerId: 99n,
        producerEpoch: 2,
        baseSequence: 17,
        isTransactional: true,
      },
    );
    const [batch, ...rest] = await decodeRecordBatches(bytes);
    expect(rest).toEqual([]);
    expect(batch).toMatchObject({
      baseOffset: 1234n,
      batchLength: bytes.length - 12,
      partitionLeaderEpoch: 8,
      magic: 2,
      crc: bytes.readUInt32BE(17),
      attributes: 0x10,
      compression: "none",
      timestampType: "create",
      isTransactional: true,
      isControl: false,
      hasDeleteHorizon: false,
      lastOffsetDelta: 2,
      baseTimestamp: T0,
      maxTimestamp: T0 + 9,
      producerId: 99n,
      producerEpoch: 2,
      baseSequence: 17,
      recordCount: 3,
      control: null,
    });
    const b = batch as RecordBatch;
    const [r0, r1, r2] = b.records;
    expect(r0?.key?.toString()).toBe("a");
    expect([...(r0?.value ?? [])]).toEqual([1, 2]);
    expect(r0?.headers.map((h) => [h.key, h.value?.toString()])).toEqual([["h1", "x"]]);
    // A negative timestamp delta.
    expect(r1?.timestampDelta).toBe(-250);
    expect(recordTimestamp(b, r1 as never)).toBe(T0 - 250);
    expect([r1?.key, r1?.value]).toEqual([null, null]);
    expect(r1?.headers).toEqual([{ key: "ü", value: null }]);
    // Empty is not null.
    expect(r2?.key?.length).toBe(0);
    expect(r2?.value?.length).toBe(0);
    expect(r2?.headers).toEqual([]);
    expect(b.records.map((r) => recordOffset(b, r))).toEqual([1234n, 1235n, 1236n]);
    expect(nextOffset(b)).toBe(1237n);
  });

  test("keys and values are Buffer views into the input, not copies", () => {
    const bytes = batchOf([{ timestamp: T0, key: "key", value: "value" }]);
    const [batch] = decodeRecordBatchesSync(bytes);
    const value = batch?.records[0]?.value as Buffer;
    expect(Buffer.isBuffer(value)).toBe(true);
    expect(value.buffer).toBe(bytes.buffer);
    expect(value.toString("utf8")).toBe("value");
    expect(value.equals(Buffer.from("value"))).toBe(true);
    expect(value.subarray(1, 3).toString()).toBe("al");
    bytes[value.byteOffset - bytes.byteOffset] = 0x56; // "V"
    expect(value.toString()).toBe("Value");
  });

  test("timestamp deltas at the edges of safe integers", () => {
    const stamps = [2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 31, -(2 ** 31) - 1, 0];
    const [batch] = decodeRecordBatchesSync(
      batchOf(
        stamps.map((timestamp) => ({ timestamp, value: null })),
        { baseTimestamp: 0 },
      ),
    );
    expect(batch?.records.map((r) => r.timestampDelta)).toEqual(stamps);
  });

  test("many batches in one record set", () => {
    const set = Buffer.concat([
      batchOf(simpleRecords(3), { baseOffset: 0n }),
      batchOf(simpleRecords(2, 3), { baseOffset: 3n }),
      batchOf(simpleRecords(4, 5), { baseOffset: 5n }),
    ]);
    const batches = decodeRecordBatchesSync(set);
    expect(batches.map((b) => b.baseOffset)).toEqual([0n, 3n, 5n]);
    expect(offsetsOf(batches)).toEqual([0n, 1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n]);
    expect(valuesOf(batches)).toEqual(["v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8"]);
  });

  test("an empty input gives no batches", async () => {
    expect(await decodeRecordBatches(Buffer.alloc(0))).toEqual([]);
  });

  test("log-append time: every record carries maxTimestamp", () => {
    const bytes = batchOf(simpleRecords(2), { timestampType: "logAppend", logAppendTime: T0 + 5000 });
    const [batch] = decodeRecordBatchesSync(bytes);
    expect(batch?.timestampType).toBe("logAppend");
    expect(batch?.records.map((r) => recordTimestamp(batch, r))).toEqual([T0 + 5000, T0 + 5000]);
  });
});

describe("compressed batches", () => {
  const codecs: CompressionCodec[] = ["gzip", "snappy", "lz4", "zstd"];

  test.each(codecs)("%s round trip, with headers and nulls", async (codec) => {
    const records: RecordInput[] = Array.from({ length: 500 }, (_, i) => ({
      timestamp: T0 + ((i * 37) % 1000) - 500,
      key: i % 10 === 0 ? null : `key-${i}`,
      value: i % 13 === 0 ? null : Buffer.alloc(100 + (i % 50), i),
      headers: i % 4 === 0 ? [{ key: "trace", value: `t${i}` }] : undefined,
    }));
    const builder = new RecordBatchBuilder({ baseOffset: 10n });
    for (const r of records) builder.append(r);
    const bytes = await builder.buildCompressed(codec);
    expect(bytes.length).toBeLessThan(builder.sizeInBytes);
    const [batch] = await decodeRecordBatches(bytes);
    expect(batch?.compression).toBe(codec);
    expect((batch?.attributes ?? 0) & 7).toBe(CompressionCodecId[codec]);
    expect(batch?.records.length).toBe(500);
    batch?.records.forEach((r, i) => {
      const input = records[i] as RecordInput;
      expect(recordOffset(batch, r)).toBe(10n + BigInt(i));
      expect(recordTimestamp(batch, r)).toBe(input.timestamp);
      expect(r.key === null ? null : r.key.toString()).toBe(input.key ?? null);
      expect(r.value === null ? null : r.value.equals(input.value as Buffer)).toBe(input.value === null ? null : true);
      expect(r.headers.map((h) => `${h.key}=${h.value}`)).toEqual(
        (input.headers ?? []).map((h) => `${h.key}=${h.value}`),
      );
    });
  });

  test("mixed compressed and plain batches, with fromOffset", async () => {
    const parts: Buffer[] = [];
    for (const [i, codec] of (["none", "gzip", "none", "zstd"] as const).entries()) {
      const builder = new RecordBatchBuilder({ baseOffset: BigInt(i * 3) });
      for (const r of simpleRecords(3, i * 3)) builder.append(r);
      parts.push(Buffer.from(await builder.buildCompressed(codec)));
    }
    const set = Buffer.concat(parts);
    expect(valuesOf(await decodeRecordBatches(set))).toEqual(Array.from({ length: 12 }, (_, i) => `v${i}`));
    const from = await decodeRecordBatches(set, { fromOffset: 4n });
    expect(offsetsOf(from)).toEqual([4n, 5n, 6n, 7n, 8n, 9n, 10n, 11n]);
    expect(from.map((b) => b.recordCount)).toEqual([3, 3, 3]);
  });

  test("the sync decoder refuses a compressed batch with a ProtocolError that says why", async () => {
    const builder = new RecordBatchBuilder();
    builder.append({ value: "v" });
    const bytes = await builder.buildCompressed("gzip");
    expect(() => decodeRecordBatchesSync(bytes)).toThrow(ProtocolError);
    expect(() => decodeRecordBatchesSync(bytes)).toThrow(/gzip-compressed.*async/);
  });

  test("a corrupt compressed payload (valid CRC) is a ProtocolError naming the batch", async () => {
    const builder = new RecordBatchBuilder({ baseOffset: 77n });
    for (const r of simpleRecords(50)) builder.append(r);
    const bytes = Buffer.from(await builder.buildCompressed("gzip"));
    bytes.fill(0xaa, 61 + 12, 61 + 40);
    await withFixedCrc(bytes);
    await expect(decodeRecordBatches(bytes, { topic: "t", partition: 2 })).rejects.toThrow(ProtocolError);
    await expect(decodeRecordBatches(bytes, { topic: "t", partition: 2 })).rejects.toThrow(/offset 77 of t-2/);
  });
});

describe("fromOffset", () => {
  const set = Buffer.concat([
    batchOf(simpleRecords(5), { baseOffset: 0n }),
    batchOf(simpleRecords(5, 5), { baseOffset: 5n }),
  ]);

  test("records before it are left out; batches wholly before it are dropped", () => {
    const batches = decodeRecordBatchesSync(set, { fromOffset: 7n });
    expect(batches.map((b) => b.baseOffset)).toEqual([5n]);
    expect(offsetsOf(batches)).toEqual([7n, 8n, 9n]);
    expect(batches[0]?.recordCount).toBe(5);
  });

  test("at a batch boundary and at the base offset", () => {
    expect(offsetsOf(decodeRecordBatchesSync(set, { fromOffset: 5n }))).toEqual([5n, 6n, 7n, 8n, 9n]);
    expect(offsetsOf(decodeRecordBatchesSync(set, { fromOffset: 0n }))).toHaveLength(10);
    expect(offsetsOf(decodeRecordBatchesSync(set, { fromOffset: 4n }))).toEqual([4n, 5n, 6n, 7n, 8n, 9n]);
  });

  test("past the end gives nothing", () => {
    expect(decodeRecordBatchesSync(set, { fromOffset: 10n })).toEqual([]);
  });

  test("a skipped batch's CRC is not needed", () => {
    const copy = Buffer.from(set);
    copy[30] = (copy[30] as number) ^ 0xff; // corrupt batch 0
    expect(offsetsOf(decodeRecordBatchesSync(copy, { fromOffset: 5n }))).toHaveLength(5);
    expect(() => decodeRecordBatchesSync(copy, { fromOffset: 4n })).toThrow(CorruptRecordError);
  });
});

describe("truncation", () => {
  test("a truncated last batch is dropped silently, at every cut point", () => {
    const first = batchOf(simpleRecords(3), { baseOffset: 0n });
    const second = batchOf(simpleRecords(3, 3), { baseOffset: 3n });
    const set = Buffer.concat([first, second]);
    for (let cut = first.length; cut < set.length; cut++) {
      const batches = decodeRecordBatchesSync(set.subarray(0, cut));
      expect(batches.map((b) => b.baseOffset)).toEqual([0n]);
    }
    for (let cut = 0; cut < first.length; cut++) expect(decodeRecordBatchesSync(set.subarray(0, cut))).toEqual([]);
  });
});

describe("corruption", () => {
  test("a CRC mismatch is a CorruptRecordError naming topic, partition and baseOffset", () => {
    const bytes = batchOf(simpleRecords(3), { baseOffset: 42n });
    bytes[bytes.length - 2] = (bytes[bytes.length - 2] as number) ^ 1;
    let caught: unknown;
    try {
      decodeRecordBatchesSync(bytes, { topic: "orders", partition: 3 });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(CorruptRecordError);
    const err = caught as CorruptRecordError;
    expect(err.code).toBe("SAMSA_ERR_CORRUPT_RECORD");
    expect([err.topic, err.partition, err.baseOffset]).toEqual(["orders", 3, 42n]);
    expect(err.message).toMatch(/offset 42 of orders-3/);
  });

  test("verifyCrc: false skips the check", () => {
    const bytes = batchOf(simpleRecords(1));
    bytes.writeUInt32BE(0, 17);
    expect(decodeRecordBatchesSync(bytes, { verifyCrc: false })).toHaveLength(1);
    expect(() => decodeRecordBatchesSync(bytes)).toThrow(CorruptRecordError);
  });

  test("magic other than 2 is a ProtocolError", () => {
    const bytes = batchOf(simpleRecords(1));
    bytes[16] = 1;
    expect(() => decodeRecordBatchesSync(bytes)).toThrow(/unsupported magic 1/);
  });

  test("a batch length below the header size is a ProtocolError", () => {
    const bytes = batchOf(simpleRecords(1));
    bytes.writeInt32BE(20, 8);
    expect(() => decodeRecordBatchesSync(bytes)).toThrow(ProtocolError);
  });

  test("a record count beyond what the bytes can hold is refused before decoding", async () => {
    const bytes = batchOf(simpleRecords(2));
    bytes.writeInt32BE(0x7fffffff, 57);
    await withFixedCrc(bytes);
    expect(() => decodeRecordBatchesSync(bytes)).toThrow(/record count 2147483647 cannot fit/);
    bytes.writeInt32BE(-3, 57);
    await withFixedCrc(bytes);
    expect(() => decodeRecordBatchesSync(bytes)).toThrow(/negative record count/);
  });

  test("bytes left after the declared records are a ProtocolError", async () => {
    const bytes = batchOf(simpleRecords(2));
    bytes.writeInt32BE(1, 57);
    await withFixedCrc(bytes);
    expect(() => decodeRecordBatchesSync(bytes)).toThrow(/bytes follow the last of 1 records/);
  });

  test("a length that overruns the record is a ProtocolError", async () => {
    const bytes = batchOf([{ timestamp: T0, key: "k", value: "v" }]);
    // Record: length, attributes, ts, offset, key length at 61 + 4.
    bytes[61 + 4] = 40; // key length 20 in a 8-byte record
    await withFixedCrc(bytes);
    expect(() => decodeRecordBatchesSync(bytes)).toThrow(/key length 20 exceeds the record/);
  });

  test("unknown compression codec ids are a ProtocolError", async () => {
    const bytes = batchOf(simpleRecords(1));
    bytes.writeInt16BE(6, 21);
    await withFixedCrc(bytes);
    await expect(decodeRecordBatches(bytes)).rejects.toThrow(/unknown compression codec 6/);
  });
});

describe("control batches", () => {
  test.each([
    ["commit", ControlRecordType.Commit],
    ["abort", ControlRecordType.Abort],
  ] as const)("a %s marker is parsed and the batch marked as control", (type, id) => {
    const bytes = buildEndTxnMarkerBatch({
      type,
      coordinatorEpoch: 12,
      producerId: 5n,
      producerEpoch: 1,
      baseOffset: 30n,
    });
    const [batch] = decodeRecordBatchesSync(bytes);
    expect(batch?.isControl).toBe(true);
    expect(batch?.isTransactional).toBe(true);
    expect(batch?.control).toEqual({ type: id, version: 0, coordinatorEpoch: 12 });
    expect(nextOffset(batch as RecordBatch)).toBe(31n);
  });

  test("a control batch with a short key is a ProtocolError", () => {
    const bytes = batchOf([{ timestamp: T0, key: "ab", value: null }], { isControl: true });
    expect(() => decodeRecordBatchesSync(bytes)).toThrow(/control record key of 2 bytes/);
  });

  test("a non-marker control type carries no coordinator epoch", () => {
    const key = Buffer.from([0, 0, 0, ControlRecordType.LeaderChange]);
    const [batch] = decodeRecordBatchesSync(batchOf([{ timestamp: T0, key, value: "x" }], { isControl: true }));
    expect(batch?.control).toEqual({ type: ControlRecordType.LeaderChange, version: 0, coordinatorEpoch: -1 });
  });
});

describe("lazyRecords: records left encoded for a RecordCursor", () => {
  const headers = [{ key: "h", value: "x" }];
  const set = Buffer.concat([
    batchOf(simpleRecords(5), { baseOffset: 0n }),
    batchOf(
      simpleRecords(5, 5).map((r, i) => (i === 2 ? { ...r, key: null, headers } : r)),
      { baseOffset: 5n },
    ),
    buildEndTxnMarkerBatch({ type: "commit", coordinatorEpoch: 1, producerId: 5n, producerEpoch: 0, baseOffset: 10n }),
  ]);

  /** Every record of `batch` as the cursor reads it. */
  function readAll(batch: RecordBatch, cursor = new RecordCursor()): BatchRecord[] {
    const e = batch.encoded;
    if (e === undefined) throw new Error("not lazy");
    cursor.open(e.data, e.start, e.end, batch.recordCount, e.skipBelow, batch.baseOffset, { topic: "t", partition: 0 });
    const out: BatchRecord[] = [];
    while (cursor.next()) {
      const { attributes, timestampDelta, offsetDelta, key, value, headers } = cursor;
      out.push({ attributes, timestampDelta, offsetDelta, key, value, headers });
    }
    return out;
  }

  test.each([0n, 3n, 7n])("the cursor reads what the eager decode returns (fromOffset %s)", (fromOffset) => {
    const eager = decodeRecordBatchesSync(set, { fromOffset });
    const lazy = decodeRecordBatchesSync(set, { fromOffset, lazyRecords: true });
    expect(lazy.map((b) => b.baseOffset)).toEqual(eager.map((b) => b.baseOffset));
    const cursor = new RecordCursor(); // one cursor reused across batches, as the consumer does
    for (const [i, b] of lazy.entries()) {
      if (b.isControl) continue;
      expect(b.records).toEqual([]);
      expect(readAll(b, cursor)).toEqual(eager[i]?.records);
    }
    expect(eager.flatMap((b) => b.records).some((r) => r.headers.length === 1 && r.key === null)).toBe(
      fromOffset <= 7n,
    );
  });

  test("control batches are decoded anyway (read_committed needs their markers)", () => {
    const control = decodeRecordBatchesSync(set, { lazyRecords: true }).find((b) => b.isControl);
    expect(control?.encoded).toBeUndefined();
    expect(control?.control).toEqual({ type: ControlRecordType.Commit, version: 0, coordinatorEpoch: 1 });
  });

  test("compressed batches are decompressed, then left encoded", async () => {
    const builder = new RecordBatchBuilder({ baseOffset: 40n });
    for (const r of simpleRecords(20)) builder.append(r);
    const bytes = Buffer.from(await builder.buildCompressed("gzip"));
    const [lazy] = await decodeRecordBatches(bytes, { lazyRecords: true, fromOffset: 45n });
    const [eager] = await decodeRecordBatches(bytes, { fromOffset: 45n });
    expect(readAll(lazy as RecordBatch)).toEqual(eager?.records);
    expect(readAll(lazy as RecordBatch).map((r) => r.offsetDelta)).toEqual(Array.from({ length: 15 }, (_, i) => i + 5));
  });

  test("a malformed record behind a valid CRC: the batch decodes, the cursor throws at that record, naming the batch", async () => {
    const bytes = batchOf(simpleRecords(3), { baseOffset: 70n });
    // The last byte is the last record's header count (0); 2 is zigzag for 1 header, which cannot fit.
    bytes[bytes.length - 1] = 2;
    await withFixedCrc(bytes);
    expect(() => decodeRecordBatchesSync(bytes)).toThrow(ProtocolError);
    const [batch] = decodeRecordBatchesSync(bytes, { lazyRecords: true });
    const e = batch?.encoded;
    if (!batch || !e) throw new Error("no batch");
    const cursor = new RecordCursor();
    cursor.open(e.data, e.start, e.end, batch.recordCount, 0, batch.baseOffset, { topic: "t", partition: 4 });
    expect(cursor.next()).toBe(true);
    expect(cursor.next()).toBe(true);
    expect(() => cursor.next()).toThrow(/^record batch at offset 70 of t-4: record 2 header count 1 is impossible/);
    expect(cursor.next()).toBe(false);
  });
});
