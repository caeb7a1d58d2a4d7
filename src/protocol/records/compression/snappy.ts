/**
 * snappy (Kafka codec 2). Java writes snappy-java's "xerial" stream framing and librdkafka
 * writes one raw snappy block, so the decoder takes both; the encoder writes xerial, as Java.
 */
import { ProtocolError } from "../../errors.js";
import {
  budgetOf,
  compressBlocks,
  type DecompressionLimit,
  decompressFailed,
  OptionalModule,
  SYNC_DECOMPRESS_MAX,
} from "./common.js";

/** The subset of the `snappy` package (7.x) used here. */
interface SnappyModule {
  compress(input: Uint8Array): Promise<Buffer>;
  compressSync(input: Uint8Array): Buffer;
  uncompress(input: Uint8Array, options: { asBuffer: true }): Promise<string | Buffer>;
  uncompressSync(input: Uint8Array, options: { asBuffer: true }): string | Buffer;
}

const snappy = new OptionalModule<SnappyModule>("snappy", "snappy");

/**
 * The 16-byte xerial stream header: magic `82 'S' 'N' 'A' 'P' 'P' 'Y' 00`, then int32 BE
 * version 1 and int32 BE minimum compatible version 1, as snappy-java writes them.
 */
export const XERIAL_HEADER: Buffer = Buffer.from([
  0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1,
]);
const MAGIC_LENGTH = 8;

/** Uncompressed bytes per xerial block: snappy-java's default, which Kafka's producer uses. */
export const XERIAL_BLOCK_SIZE = 32 * 1024;

/** Compresses `data` into xerial framing: the header, then `[int32 BE length][raw block]`s. */
export async function compressSnappy(data: Buffer): Promise<Buffer> {
  const { blocks } = await compressBlocks(snappy.get(), data, XERIAL_BLOCK_SIZE);
  let size = XERIAL_HEADER.length;
  for (const b of blocks) size += 4 + b.length;
  const out = Buffer.allocUnsafe(size);
  XERIAL_HEADER.copy(out, 0);
  let pos = XERIAL_HEADER.length;
  for (const b of blocks) {
    out.writeInt32BE(b.length, pos);
    b.copy(out, pos + 4);
    pos += 4 + b.length;
  }
  return out;
}

/** True when `data` opens with the xerial magic (raw snappy data practically never does). */
export function isXerialFramed(data: Uint8Array): boolean {
  if (data.length < MAGIC_LENGTH) return false;
  for (let i = 0; i < MAGIC_LENGTH; i++) if (data[i] !== XERIAL_HEADER[i]) return false;
  return true;
}

/**
 * Decompresses xerial-framed or raw snappy, told apart by the magic. Corrupt or truncated
 * input rejects with a ProtocolError naming snappy. Every raw block opens with its exact
 * uncompressed length (a varint the library checks against what it produces), so the whole
 * output is claimed from `limit` (default 256 MiB) before anything is allocated: past it,
 * DecompressionLimitError rejects with nothing decompressed.
 */
export async function decompressSnappy(data: Buffer, limit?: DecompressionLimit): Promise<Buffer> {
  const lib = snappy.get();
  const budget = budgetOf(limit);
  try {
    const blocks = isXerialFramed(data) ? xerialBlocks(data) : [data];
    let total = 0;
    for (const b of blocks) total += uncompressedLength(b);
    await budget.reserve("snappy", total);
    const sync = data.length <= SYNC_DECOMPRESS_MAX;
    const parts = sync
      ? blocks.map((b) => lib.uncompressSync(b, { asBuffer: true }))
      : await Promise.all(blocks.map((b) => lib.uncompress(b, { asBuffer: true })));
    const buffers = parts.map((p) => (typeof p === "string" ? Buffer.from(p) : p));
    return buffers.length === 1 ? buffers[0]! : Buffer.concat(buffers);
  } catch (err) {
    throw decompressFailed("snappy", err);
  }
}

function fail(message: string): never {
  throw new ProtocolError(`snappy decompression failed: ${message}`);
}

/**
 * The uncompressed length a raw snappy block declares: its opening varint. Snappy's densest
 * element, a 3-byte copy of 64 bytes, expands 21.3x, so a length past 22x the block cannot be
 * real: a corrupt preamble, not a large output.
 */
function uncompressedLength(block: Buffer): number {
  let value = 0;
  for (let i = 0; i < 5; i++) {
    if (i >= block.length) fail(`block length preamble truncated after ${i} bytes`);
    const b = block[i] as number;
    value += (b & 0x7f) * 2 ** (7 * i);
    if (b < 0x80) {
      if (value > block.length * 22) fail(`a block of ${block.length} bytes declares ${value} bytes of output`);
      return value;
    }
  }
  return fail("block length preamble longer than 5 bytes");
}

/** Splits a xerial stream into views of its raw blocks, checking every length against the end. */
function xerialBlocks(data: Buffer): Buffer[] {
  if (data.length < XERIAL_HEADER.length) fail(`xerial header truncated at ${data.length} bytes`);
  // The versions are not checked: snappy-java itself accepts any, and every writer uses 1.
  const blocks: Buffer[] = [];
  let pos = XERIAL_HEADER.length;
  while (pos < data.length) {
    if (pos + 4 > data.length) fail(`xerial block length truncated at byte ${pos}`);
    const len = data.readInt32BE(pos);
    if (len < 0 || len > data.length - pos - 4) fail(`xerial block at byte ${pos} claims ${len} bytes`);
    blocks.push(data.subarray(pos + 4, pos + 4 + len));
    pos += 4 + len;
  }
  return blocks;
}
