/**
 * Kafka's record batch compression codecs behind one `compress`/`decompress` pair. The codec
 * id lives in the low three bits of a v2 batch's attributes; the native packages behind
 * snappy, lz4 and zstd are optional and load on first use.
 */
import { InvalidArgumentError, ProtocolError } from "../../errors.js";
import type { DecompressionLimit } from "./common.js";
import { compressGzip, decompressGzip } from "./gzip.js";
import { compressLz4, decompressLz4 } from "./lz4.js";
import { compressSnappy, decompressSnappy } from "./snappy.js";
import { compressZstd, decompressZstd } from "./zstd.js";

/** A compression codec by the name Kafka's `compression.type` uses. */
export type CompressionCodec = "none" | "gzip" | "snappy" | "lz4" | "zstd";

/** Each codec's id in the batch attributes (bits 0-2). */
export const CompressionCodecId = {
  none: 0,
  gzip: 1,
  snappy: 2,
  lz4: 3,
  zstd: 4,
} as const satisfies Record<CompressionCodec, number>;

/** Mask of the codec id within a v2 record batch's attributes. */
export const COMPRESSION_CODEC_MASK = 0x07;

const CODEC_BY_ID: readonly CompressionCodec[] = ["none", "gzip", "snappy", "lz4", "zstd"];
const CODEC_NAMES = CODEC_BY_ID.join(", ");

interface Codec {
  compress(data: Buffer, level?: number): Promise<Buffer>;
  decompress(data: Buffer, limit?: DecompressionLimit): Promise<Buffer>;
}

const NONE: Codec = { compress: (data) => Promise.resolve(data), decompress: (data) => Promise.resolve(data) };

/** Each codec by its name and by its attribute id; a Map, so no inherited key names a codec. */
const CODECS = new Map<CompressionCodec | number, Codec>();
for (const [name, codec] of [
  ["none", NONE],
  ["gzip", { compress: compressGzip, decompress: decompressGzip }],
  ["snappy", { compress: compressSnappy, decompress: decompressSnappy }],
  ["lz4", { compress: compressLz4, decompress: decompressLz4 }],
  ["zstd", { compress: compressZstd, decompress: decompressZstd }],
] as const) {
  CODECS.set(name, codec).set(CompressionCodecId[name], codec);
}

/** The codec named by a batch's attributes; ids 5-7 are a ProtocolError. */
export function codecFromAttributes(attributes: number): CompressionCodec {
  const id = attributes & COMPRESSION_CODEC_MASK;
  const codec = CODEC_BY_ID[id];
  if (codec === undefined) throw new ProtocolError(`record batch attributes name unknown compression codec ${id}`);
  return codec;
}

/**
 * Compresses a batch's records section with `codec`, given by name or attribute id (0-4).
 * `level` is the codec's own scale (gzip -1 to 9, lz4 1 to 17 and unused, zstd -131072 to 22);
 * snappy and none ignore it; none returns `data` itself. A missing optional package rejects with
 * CompressionCodecMissingError; an unknown codec or a bad level with InvalidArgumentError.
 */
export function compress(codec: CompressionCodec | number, data: Buffer, level?: number): Promise<Buffer> {
  const impl = CODECS.get(codec);
  if (impl === undefined) {
    return Promise.reject(
      new InvalidArgumentError("codec", `must be one of ${CODEC_NAMES} or its id 0-4, got ${String(codec)}`),
    );
  }
  return impl.compress(data, level);
}

/**
 * Decompresses a batch's records section, `codec` given by name or attribute id (0-4).
 * Corrupt input or an unknown codec id rejects with a ProtocolError naming the codec; a
 * missing optional package with CompressionCodecMissingError. Output past `limit` (bytes, or a
 * {@link DecompressionBudget} shared by several calls; default
 * {@link DEFAULT_MAX_DECOMPRESSED_BYTES}) rejects with DecompressionLimitError, the codec having
 * stopped before allocating more than the limit; "none" returns `data` and claims nothing.
 */
export function decompress(
  codec: CompressionCodec | number,
  data: Buffer,
  limit?: DecompressionLimit,
): Promise<Buffer> {
  const impl = CODECS.get(codec);
  // Usually an id read off the wire, so a malformed batch rather than a caller's mistake.
  if (impl === undefined) return Promise.reject(new ProtocolError(`unknown compression codec ${String(codec)}`));
  return impl.decompress(data, limit);
}

export {
  DEFAULT_MAX_DECOMPRESSED_BYTES,
  DecompressionBudget,
  type DecompressionLimit,
} from "./common.js";
export { LZ4_BLOCK_SIZE, LZ4_FRAME_HEADER } from "./lz4.js";
export { XERIAL_BLOCK_SIZE, XERIAL_HEADER } from "./snappy.js";
export { xxhash32 } from "./xxhash32.js";
