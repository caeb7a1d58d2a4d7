import { describe, expect, test } from "vitest";
import { ClosedError, InvalidArgumentError } from "../../../../src/protocol/errors.js";
import {
  buildEndTxnMarkerBatch,
  decodeRecordBatchesSync,
  RecordBatchBuilder,
  rewriteProducerState,
  varlongSize,
  writeVarlong,
} from "../../../../src/protocol/records/index.js";

/** Bit-at-a-time CRC-32C: independent of src/protocol/records/crc32c.ts, slow and obviously right. */
function referenceCrc32c(buf: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of buf) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** Zigzag varlong through BigInt, the obvious way. */
function referenceVarlong(value: number): number[] {
  const v = BigInt(value);
  let z = BigInt.asUintN(64, (v << 1n) ^ (v >> 63n));
  const out: number[] = [];
  while (z >= 0x80n) {
    out.push(Number(z & 0x7fn) | 0x80);
    z >>= 7n;
  }
  out.push(Number(z));
  return out;
}

describe("RecordBatchBuilder: exact bytes", () => {
  test("a two-record transactional batch, header and records byte for byte", () => {
    const builder = new RecordBatchBuilder({
      baseOffset: 5n,
      partitionLeaderEpoch: 3,
      producerId: 1000n,
      producerEpoch: 2,
      baseSequence: 7,
      isTransactional: true,
      baseTimestamp: 1000,
    });
    builder.append({ timestamp: 1000, key: "k", value: "v" });
    builder.append({ timestamp: 1003, key: null, value: Buffer.from([1, 2, 3]) });
    const batch = builder.build();

    // Record 0: length 8 (zigzag 0x10), attributes 0, timestampDelta 0, offsetDelta 0,
    // key length 1 (0x02) "k", value length 1 (0x02) "v", no headers.
    const record0 = "10" + "00" + "00" + "00" + "02" + "6b" + "02" + "76" + "00";
    // Record 1: length 9 (0x12), attributes 0, timestampDelta 3 (0x06), offsetDelta 1 (0x02),
    // key null (-1 → 0x01), value length 3 (0x06) 01 02 03, no headers.
    const record1 = "12" + "00" + "06" + "02" + "01" + "06" + "010203" + "00";
    const afterCrc =
      "0010" + // attributes: transactional
      "00000001" + // lastOffsetDelta
      "00000000000003e8" + // baseTimestamp 1000
      "00000000000003eb" + // maxTimestamp 1003
      "00000000000003e8" + // producerId 1000
      "0002" + // producerEpoch
      "00000007" + // baseSequence
      "00000002" + // recordCount
      record0 +
      record1;
    const crc = referenceCrc32c(Buffer.from(afterCrc, "hex")).toString(16).padStart(8, "0");
    const expected =
      "0000000000000005" + // baseOffset
      "00000044" + // length: 80 bytes - 12
      "00000003" + // partitionLeaderEpoch
      "02" + // magic
      crc +
      afterCrc;
    expect(batch.toString("hex")).toBe(expected);
    expect(batch.length).toBe(80);
    expect(builder.sizeInBytes).toBe(80);
  });

  test("headers: string keys in UTF-8, null and byte values", () => {
    const builder = new RecordBatchBuilder({ baseTimestamp: 0 });
    builder.append({
      timestamp: 0,
      key: null,
      value: null,
      headers: [
        { key: "é", value: null },
        { key: "b", value: new Uint8Array([9]) },
      ],
    });
    const records = builder.build().subarray(61).toString("hex");
    // body: attributes, ts 0, offset 0, key null, value null, 2 headers (0x04),
    // "é" = c3 a9 (length 2 → 0x04), value null (0x01), "b" (0x02) 62, value length 1 (0x02) 09.
    const body = "00" + "00" + "00" + "01" + "01" + "04" + "04c3a9" + "01" + "0262" + "0209";
    // 14 body bytes: length zigzag 28 = 0x1c.
    expect(records).toBe(`1c${body}`);
  });

  test("a string key or value is written as its UTF-8 bytes, short, long, ASCII or not", () => {
    for (const text of [
      "",
      "a",
      "sixteen-chars-ab",
      "seventeen-chars-a",
      "x".repeat(300),
      "ünï✓𝄞",
      "日本".repeat(50),
    ]) {
      const builder = new RecordBatchBuilder({ baseTimestamp: 0 });
      builder.append({ timestamp: 0, key: text, value: text });
      const [batch] = decodeRecordBatchesSync(builder.build());
      expect(batch?.records[0]?.key?.toString("utf8")).toBe(text);
      expect(batch?.records[0]?.value?.equals(Buffer.from(text, "utf8"))).toBe(true);
    }
  });

  test("a control batch: commit marker key and value", () => {
    const batch = buildEndTxnMarkerBatch({
      type: "commit",
      coordinatorEpoch: 0x01020304,
      producerId: 7n,
      producerEpoch: 1,
      timestamp: 50,
    });
    expect(batch.readInt16BE(21)).toBe(0x30); // transactional | control
    expect(batch.readInt32BE(53)).toBe(-1); // no sequence
    // length 16, attributes, ts, offset, key length 4 (0x08) 0000 0001, value length 6 (0x0c)
    // 0000 01020304, no headers.
    expect(batch.subarray(61).toString("hex")).toBe("20000000" + "0800000001" + "0c000001020304" + "00");
  });
});

describe("varlong from a number", () => {
  const values = [
    0,
    1,
    -1,
    63,
    -64,
    64,
    -65,
    8191,
    -8192,
    2 ** 31 - 1,
    -(2 ** 31),
    2 ** 31,
    -(2 ** 31) - 1,
    2 ** 32,
    -(2 ** 32),
    1_700_000_000_000,
    -1_700_000_000_000,
    2 ** 53 - 1,
    -(2 ** 53 - 1),
    2 ** 52 + 3,
    -(2 ** 52) - 3,
  ];
  test.each(values)("%d matches a BigInt zigzag", (value) => {
    const buf = Buffer.alloc(10);
    const end = writeVarlong(buf, 0, value);
    expect([...buf.subarray(0, end)]).toEqual(referenceVarlong(value));
    expect(varlongSize(value)).toBe(end);
  });

  test("timestamp deltas past 32 bits, both signs, round trip", () => {
    const base = 1_700_000_000_000;
    const stamps = [base, base - 5, base + 2 ** 33, base - 2 ** 40, base + 2 ** 45, 0];
    const builder = new RecordBatchBuilder({ baseTimestamp: base });
    for (const timestamp of stamps) builder.append({ timestamp, value: "x" });
    const [batch] = decodeRecordBatchesSync(builder.build());
    expect(batch?.records.map((r) => base + r.timestampDelta)).toEqual(stamps);
    expect(batch?.maxTimestamp).toBe(base + 2 ** 45);
  });
});

describe("RecordBatchBuilder: sizes and limits", () => {
  test("sizeInBytes and recordSize predict exactly what append adds", () => {
    const builder = new RecordBatchBuilder({ initialCapacity: 64 });
    let expected = builder.sizeInBytes;
    expect(expected).toBe(61);
    for (let i = 0; i < 300; i++) {
      const record = {
        timestamp: 1_700_000_000_000 + (i % 7) * 1000 - 3000,
        key: i % 3 === 0 ? null : `key-${i}`,
        value: Buffer.alloc(i * 3, i),
        headers: i % 5 === 0 ? [{ key: "h", value: "é".repeat(i % 11) }] : undefined,
      };
      expected += builder.recordSize(record);
      expect(builder.append(record)).toBe(i);
      expect(builder.sizeInBytes).toBe(expected);
    }
    expect(builder.build().length).toBe(expected);
  });

  test("tryAppend refuses a record that would pass the limit, but never the first", () => {
    const builder = new RecordBatchBuilder({ baseTimestamp: 0 });
    const big = { timestamp: 0, value: Buffer.alloc(500) };
    expect(builder.tryAppend(big, 100)).toBe(true); // the first always fits
    expect(builder.tryAppend({ timestamp: 0, value: "a" }, 100)).toBe(false);
    expect(builder.recordCount).toBe(1);
    const size = builder.sizeInBytes;
    const small = { timestamp: 0, value: "a" };
    expect(builder.tryAppend(small, size + builder.recordSize(small))).toBe(true);
    expect(builder.recordCount).toBe(2);
  });

  test("the buffer grows from a tiny capacity without losing bytes", () => {
    const builder = new RecordBatchBuilder({ initialCapacity: 0, baseTimestamp: 0 });
    for (let i = 0; i < 100; i++) builder.append({ timestamp: i, key: `${i}`, value: Buffer.alloc(100, i) });
    const [batch] = decodeRecordBatchesSync(builder.build());
    expect(batch?.records.length).toBe(100);
    expect(batch?.records.every((r, i) => r.value?.equals(Buffer.alloc(100, i)) && r.key?.toString() === `${i}`)).toBe(
      true,
    );
  });

  test("appending after build throws; building twice gives the same bytes", () => {
    const builder = new RecordBatchBuilder();
    builder.append({ value: "v" });
    const first = Buffer.from(builder.build());
    expect(builder.isClosed).toBe(true);
    expect(() => builder.append({ value: "w" })).toThrow(/after build/);
    expect(() => builder.append({ value: "w" })).toThrow(ClosedError);
    expect(builder.build().equals(first)).toBe(true);
  });

  test("an empty builder builds an empty buffer, as Java's does", async () => {
    expect(new RecordBatchBuilder().build().length).toBe(0);
    expect((await new RecordBatchBuilder().buildCompressed("gzip")).length).toBe(0);
  });

  test("timestamps must be safe integers; the record's default is the base timestamp", () => {
    const builder = new RecordBatchBuilder({ baseTimestamp: 10 });
    expect(() => builder.append({ timestamp: 1.5, value: null })).toThrow(InvalidArgumentError);
    expect(() => builder.append({ timestamp: Number.NaN, value: null })).toThrow(/safe integer/);
    expect(() => new RecordBatchBuilder({ baseTimestamp: 2 ** 60 })).toThrow(/baseTimestamp/);
    builder.append({ value: null });
    const [batch] = decodeRecordBatchesSync(builder.build());
    expect(batch?.baseTimestamp).toBe(10);
    expect(batch?.records[0]?.timestampDelta).toBe(0);
  });

  test("without a base timestamp the first record's timestamp is the base", () => {
    const builder = new RecordBatchBuilder();
    builder.append({ timestamp: 500, value: null });
    builder.append({ timestamp: 400, value: null });
    const [batch] = decodeRecordBatchesSync(builder.build());
    expect(batch?.baseTimestamp).toBe(500);
    expect(batch?.records.map((r) => r.timestampDelta)).toEqual([0, -100]);
    expect(batch?.maxTimestamp).toBe(500);
  });

  test("a header key that is not a string is refused, naming the header", () => {
    const builder = new RecordBatchBuilder();
    const headers = [{ key: 5 as unknown as string, value: null }];
    expect(() => builder.append({ value: null, headers })).toThrow(
      expect.objectContaining({ code: "SAMSA_ERR_INVALID_ARGUMENT", argument: "headers[0].key" }),
    );
  });

  test("buildCompressed rejects an unknown codec", async () => {
    const builder = new RecordBatchBuilder();
    builder.append({ value: "v" });
    await expect(builder.buildCompressed("brotli" as "gzip")).rejects.toThrow(InvalidArgumentError);
  });
});

describe("producer state", () => {
  test("setProducerState before build lands in the header", () => {
    const builder = new RecordBatchBuilder();
    builder.append({ value: "v" });
    builder.setProducerState(77n, 4, 1000, true);
    const [batch] = decodeRecordBatchesSync(builder.build());
    expect([batch?.producerId, batch?.producerEpoch, batch?.baseSequence, batch?.isTransactional]).toEqual([
      77n,
      4,
      1000,
      true,
    ]);
  });

  test("rewriteProducerState patches a built batch and keeps its CRC valid", () => {
    const builder = new RecordBatchBuilder({ producerId: 1n, producerEpoch: 0, baseSequence: 0 });
    builder.append({ value: "v" });
    const bytes = Buffer.from(builder.build());
    rewriteProducerState(bytes, 9n, 3, 42);
    const [batch] = decodeRecordBatchesSync(bytes); // verifies the CRC
    expect([batch?.producerId, batch?.producerEpoch, batch?.baseSequence]).toEqual([9n, 3, 42]);
    expect(batch?.crc).toBe(referenceCrc32c(bytes.subarray(21)));
  });
});
