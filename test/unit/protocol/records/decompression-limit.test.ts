/**
 * Decompression bombs: batches of a few KiB to a few dozen MiB on the wire that expand to
 * 1 GiB, one per codec, built from zeros. Decoding must stop at `maxDecompressedBytes` with
 * DecompressionLimitError (topic, partition, offset, codec, limit) and the process's peak RSS
 * (the kernel's high-water mark, so no spike goes unseen) must stay far below the bomb's size.
 * Also: the limit is exact at the boundary, shared by the batches of one call, and validated.
 */
import { createRequire } from "node:module";
import { gzipSync } from "node:zlib";
import { beforeAll, describe, expect, test } from "vitest";
import { DecompressionLimitError, InvalidArgumentError } from "../../../../src/protocol/errors.js";
import { LZ4_FRAME_HEADER, XERIAL_HEADER } from "../../../../src/protocol/records/compression/index.js";
import {
  type CompressionCodec,
  CompressionCodecId,
  compress,
  crc32c,
  DEFAULT_MAX_DECOMPRESSED_BYTES,
  decodeRecordBatches,
  decompress,
  RecordBatchBuilder,
} from "../../../../src/protocol/records/index.js";

const require = createRequire(import.meta.url);
const KiB = 1024;
const MiB = 1024 * KiB;
const LIMIT = 64 * MiB;
const RSS_GROWTH_MAX = 300 * MiB;

/** A magic-v2 batch of one record whose records section is `payload`, compressed with `codec`. */
function batchAround(codec: CompressionCodec, payload: Buffer, baseOffset = 0n): Buffer {
  const out = Buffer.alloc(61 + payload.length);
  out.writeBigInt64BE(baseOffset, 0);
  out.writeInt32BE(49 + payload.length, 8);
  out.writeInt8(2, 16);
  out.writeInt16BE(CompressionCodecId[codec], 21);
  out.writeBigInt64BE(1_700_000_000_000n, 27);
  out.writeBigInt64BE(1_700_000_000_000n, 35);
  out.writeBigInt64BE(-1n, 43);
  out.writeInt16BE(-1, 51);
  out.writeInt32BE(-1, 53);
  out.writeInt32BE(1, 57);
  payload.copy(out, 61);
  out.writeUInt32BE(crc32c(out, 21, out.length), 17);
  return out;
}

function repeat(part: Buffer, times: number): Buffer {
  return Buffer.concat(new Array<Buffer>(times).fill(part));
}

/** Payloads expanding to 1 GiB (or more), each built without ever holding 1 GiB. */
async function bombs(): Promise<Record<string, { codec: CompressionCodec; payload: Buffer }>> {
  // gzip: 64 members of 16 MiB of zeros (~16 KiB each); gunzip reads every member.
  const gzip = repeat(gzipSync(Buffer.alloc(16 * MiB)), 64);
  // zstd without a content size: one frame of 8192 RLE blocks of 128 KiB, 4 bytes each.
  const rle = Buffer.alloc(4);
  rle.writeUIntLE(((128 * KiB) << 3) | (1 << 1), 0, 3);
  const last = Buffer.from(rle);
  last[0] = (last[0] as number) | 1;
  const zstdNoSize = Buffer.concat([
    Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58]), // magic, FHD (no size), window 2 MiB
    repeat(rle, 8191),
    last,
  ]);
  // zstd with a content size: 64 concatenated frames of 16 MiB of zeros.
  const zstdSized = repeat(await compress("zstd", Buffer.alloc(16 * MiB)), 64);
  // lz4: one frame of 16384 compressed 64 KiB blocks of zeros (~270 bytes each).
  const one = await compress("lz4", Buffer.alloc(64 * KiB));
  const lz4 = Buffer.concat([LZ4_FRAME_HEADER, repeat(one.subarray(7, one.length - 4), 16384), Buffer.alloc(4)]);
  // snappy, xerial framing: 64 raw blocks of 16 MiB of zeros (~770 KiB each).
  const block = (require("snappy") as { compressSync(b: Buffer): Buffer }).compressSync(Buffer.alloc(16 * MiB));
  const sized = Buffer.alloc(4);
  sized.writeInt32BE(block.length);
  const snappy = Buffer.concat([XERIAL_HEADER, repeat(Buffer.concat([sized, block]), 64)]);
  return {
    gzip: { codec: "gzip", payload: gzip },
    "zstd (no content size)": { codec: "zstd", payload: zstdNoSize },
    "zstd (content size)": { codec: "zstd", payload: zstdSized },
    lz4: { codec: "lz4", payload: lz4 },
    snappy: { codec: "snappy", payload: snappy },
  };
}

/** Peak RSS of the process so far, in bytes (getrusage's ru_maxrss). */
function peakRss(): number {
  return process.resourceUsage().maxRSS * 1024;
}

let cases: Record<string, { codec: CompressionCodec; payload: Buffer }>;
let baseline: number;

beforeAll(async () => {
  cases = await bombs();
  (globalThis as { gc?: () => void }).gc?.();
  // The peak so far (building the bombs included) is the floor every check is measured from.
  baseline = Math.max(peakRss(), process.memoryUsage.rss());
});

describe("decompression bombs stop at maxDecompressedBytes with bounded memory", () => {
  for (const name of ["gzip", "zstd (no content size)", "zstd (content size)", "lz4", "snappy"]) {
    test(`a ${name} batch expanding to 1 GiB fails with DecompressionLimitError`, async () => {
      const { codec, payload } = cases[name] as { codec: CompressionCodec; payload: Buffer };
      expect(payload.length).toBeLessThan(64 * MiB); // small on the wire
      const batch = batchAround(codec, payload, 42n);
      const err = await decodeRecordBatches(batch, { topic: "bombs", partition: 3, maxDecompressedBytes: LIMIT }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(DecompressionLimitError);
      const e = err as DecompressionLimitError;
      expect(e.code).toBe("SAMSA_ERR_DECOMPRESSION_LIMIT");
      expect([e.codec, e.limit, e.topic, e.partition, e.baseOffset]).toEqual([codec, LIMIT, "bombs", 3, 42n]);
      expect(e.message).toContain("bombs-3");
      // The codec function alone, given a byte count, stops the same way.
      const direct = await decompress(codec, payload, LIMIT).then(
        () => undefined,
        (x: unknown) => x,
      );
      expect(direct).toBeInstanceOf(DecompressionLimitError);
      expect(peakRss() - baseline).toBeLessThan(RSS_GROWTH_MAX);
    });
  }

  test("without maxDecompressedBytes the default limit applies", async () => {
    const { payload } = cases["zstd (no content size)"] as { payload: Buffer };
    const err = await decodeRecordBatches(batchAround("zstd", payload)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DecompressionLimitError);
    expect((err as DecompressionLimitError).limit).toBe(DEFAULT_MAX_DECOMPRESSED_BYTES);
    expect(DEFAULT_MAX_DECOMPRESSED_BYTES).toBe(256 * MiB);
  });
});

describe("maxDecompressedBytes", () => {
  async function realBatch(codec: CompressionCodec, baseOffset = 0n): Promise<{ batch: Buffer; size: number }> {
    const builder = new RecordBatchBuilder({ baseOffset });
    for (let i = 0; i < 2000; i++) builder.append({ key: null, value: Buffer.from(`value ${i} `.repeat(20)) });
    const batch = Buffer.from(await builder.buildCompressed(codec));
    const size = (await decompress(codec, batch.subarray(61))).length;
    return { batch, size };
  }

  for (const codec of ["gzip", "snappy", "lz4", "zstd"] as const) {
    test(`${codec}: a limit equal to the decompressed size decodes, one byte less fails`, async () => {
      const { batch, size } = await realBatch(codec);
      expect(size).toBeGreaterThan(200 * KiB);
      const [decoded] = await decodeRecordBatches(batch, { maxDecompressedBytes: size });
      expect(decoded?.records).toHaveLength(2000);
      expect(decoded?.records[1999]?.value?.toString()).toBe("value 1999 ".repeat(20));
      const err = await decodeRecordBatches(batch, { maxDecompressedBytes: size - 1 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DecompressionLimitError);
      expect((err as DecompressionLimitError).codec).toBe(codec);
    });

    test(`${codec}: the limit covers all the batches of one call together`, async () => {
      const a = await realBatch(codec, 0n);
      const b = await realBatch(codec, 2000n);
      const set = Buffer.concat([a.batch, b.batch]);
      expect(await decodeRecordBatches(set, { maxDecompressedBytes: a.size + b.size })).toHaveLength(2);
      const err = await decodeRecordBatches(set, { maxDecompressedBytes: a.size + b.size - 1 }).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(DecompressionLimitError);
    });
  }

  test("mixed codecs share the limit exactly: bounds held by one decode are waited out by the others", async () => {
    // zstd and lz4 claim an upper bound first (above their real size: no content size, a
    // short last block), so the gzip and snappy batches beside them must wait for the surplus.
    const parts = await Promise.all([
      realBatch("zstd", 0n),
      realBatch("lz4", 2000n),
      realBatch("gzip", 4000n),
      realBatch("snappy", 6000n),
    ]);
    const set = Buffer.concat(parts.map((p) => p.batch));
    const total = parts.reduce((n, p) => n + p.size, 0);
    const batches = await decodeRecordBatches(set, { maxDecompressedBytes: total });
    expect(batches.map((b) => [b.compression, b.records.length])).toEqual([
      ["zstd", 2000],
      ["lz4", 2000],
      ["gzip", 2000],
      ["snappy", 2000],
    ]);
    const err = await decodeRecordBatches(set, { maxDecompressedBytes: total - 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DecompressionLimitError);
  });

  test("must be a positive integer", async () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      const err = await decodeRecordBatches(Buffer.alloc(0), { maxDecompressedBytes: bad }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect((err as InvalidArgumentError).argument).toBe("maxDecompressedBytes");
    }
  });
});
