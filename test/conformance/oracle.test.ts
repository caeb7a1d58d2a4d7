/**
 * The oracle itself: its record-batch operations round-trip through Kafka's
 * MemoryRecordsBuilder and MemoryRecords (for the record-batch conformance tests to build
 * on), int64 values survive exactly, and a failing item is reported without ending the JVM.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Oracle, type RecordsBuildItem } from "./oracle.js";

let oracle: Oracle;

beforeAll(async () => {
  oracle = await Oracle.start();
});

afterAll(async () => {
  await oracle?.close();
});

describe("records operations", () => {
  // Past 2^53, where a double would round: the reply must carry these digit for digit.
  const producerId = 2n ** 62n + 12_345n;
  const baseOffset = 2n ** 53n + 7n;
  const batch = (codec: RecordsBuildItem["codec"]): RecordsBuildItem => ({
    op: "records.build",
    codec,
    baseOffset,
    producerId,
    producerEpoch: 3,
    baseSequence: 2_147_483_000,
    isTransactional: true,
    partitionLeaderEpoch: 9,
    records: [
      { timestamp: 1_700_000_000_123n, key: Buffer.from("k1"), value: Buffer.from("v1"), headers: [] },
      { timestamp: 1_700_000_000_999n, key: null, value: null, headers: [{ key: "h€", value: null }] },
      {
        timestamp: 1_700_000_000_500n,
        key: Buffer.alloc(0),
        value: Buffer.alloc(3000, 7),
        headers: [
          { key: "a", value: Buffer.from([1, 2]) },
          { key: "", value: Buffer.alloc(0) },
        ],
      },
    ],
  });

  test.each(["none", "gzip", "snappy", "lz4", "zstd"] as const)(
    "%s: build then read gives back every field",
    async (codec) => {
      const [built] = await oracle.send([batch(codec)]);
      expect(built?.error).toBeUndefined();
      const bytes = built?.bytes as Buffer;
      // Magic v2 header fields at their fixed offsets: baseOffset, magic, attributes' codec bits.
      expect(bytes.readBigInt64BE(0)).toBe(baseOffset);
      expect(bytes[16]).toBe(2);
      expect(bytes.readInt16BE(21) & 7).toBe(["none", "gzip", "snappy", "lz4", "zstd"].indexOf(codec));
      const [read] = await oracle.send([{ op: "records.read", bytes }]);
      expect(read?.error).toBeUndefined();
      expect(read?.batches).toHaveLength(1);
      const b = read?.batches?.[0];
      expect(b).toMatchObject({
        baseOffset,
        lastOffset: baseOffset + 2n,
        partitionLeaderEpoch: 9,
        magic: 2,
        crcValid: true,
        sizeInBytes: bytes.length,
        compressionType: codec,
        timestampType: "CreateTime",
        isTransactional: true,
        isControlBatch: false,
        producerId,
        producerEpoch: 3,
        baseSequence: 2_147_483_000,
        maxTimestamp: 1_700_000_000_999n,
      });
      expect(b?.records.map((r) => r.offset)).toEqual([baseOffset, baseOffset + 1n, baseOffset + 2n]);
      expect(b?.records[0]?.key).toEqual(Buffer.from("k1"));
      expect(b?.records[1]).toMatchObject({ key: null, value: null, headers: [{ key: "h€", value: null }] });
      expect(b?.records[2]?.value).toEqual(Buffer.alloc(3000, 7));
      expect(b?.records[2]?.headers).toEqual([
        { key: "a", value: Buffer.from([1, 2]) },
        { key: "", value: Buffer.alloc(0) },
      ]);
    },
  );

  test("a commit marker makes a control batch", async () => {
    const [built] = await oracle.send([
      {
        op: "records.build",
        producerId: 5n,
        producerEpoch: 1,
        isTransactional: true,
        endTxnMarker: { commit: true, coordinatorEpoch: 4, timestamp: 10n },
      },
    ]);
    const [read] = await oracle.send([{ op: "records.read", bytes: built?.bytes as Buffer }]);
    expect(read?.batches?.[0]).toMatchObject({ isControlBatch: true, isTransactional: true, producerId: 5n });
    // Control record key: version int16 0, type int16 1 (commit).
    expect(read?.batches?.[0]?.records[0]?.key).toEqual(Buffer.from([0, 0, 0, 1]));
  });

  test("a flipped byte is reported by crcValid, not thrown", async () => {
    const [built] = await oracle.send([batch("none")]);
    const bytes = Buffer.from(built?.bytes as Buffer);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 0xff;
    const [read] = await oracle.send([{ op: "records.read", bytes }]);
    expect(read?.batches?.[0]?.crcValid).toBe(false);
    // The flip lands in the last record's header count: listing the records fails, the
    // batch header is still reported.
    expect(read?.batches?.[0]?.recordsError).toMatch(/\S/);
  });
});

describe("errors", () => {
  test("a failing item gets an error reply and the items around it still work", async () => {
    const replies = await oracle.send([
      { op: "encode", name: "NoSuchThing", version: 0, json: "{}" },
      { op: "decode", name: "ConsumerProtocolSubscription", version: 1, bytes: Buffer.from([0, 1, 0, 0, 0, 1]) },
      { op: "encode", name: "ResponseHeader", version: 1, json: '{"correlationId":-2}' },
    ]);
    expect(replies[0]?.error).toMatch(/ClassNotFoundException/);
    expect(replies[1]?.error).toMatch(/\S/);
    expect(replies[2]?.bytes).toEqual(Buffer.from([0xff, 0xff, 0xff, 0xfe, 0]));
  });

  test("decode reports Kafka's JSON and the bytes left unread", async () => {
    const [reply] = await oracle.send([
      { op: "decode", name: "ResponseHeader", version: 0, bytes: Buffer.from([0, 0, 0, 42, 9, 9]) },
    ]);
    expect(reply).toEqual({ json: { correlationId: 42 }, remaining: 2 });
  });
});
