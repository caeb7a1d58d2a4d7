/**
 * zstd (Kafka codec 4): plain zstd frames through `@mongodb-js/zstd` 1.2.x, whose functions
 * always run on the libuv thread pool. Frames without a content size, as Java's streaming
 * encoder writes them, and concatenated frames both decode.
 */
import { InvalidArgumentError, ProtocolError } from "../../errors.js";
import { budgetOf, type DecompressionLimit, decompressFailed, OptionalModule, walkFrames } from "./common.js";

/** `@mongodb-js/zstd` 1.2.x's native binding: async only, level defaulting to 3. */
interface ZstdModule {
  compress(data: Buffer, level?: number | null): Promise<Buffer>;
  decompress(data: Buffer): Promise<Buffer>;
}

// The package's index.js wrapper drops the level argument (1.2.2 compresses at 3 whatever it
// is given), so this loads the binding underneath, which honours it. Both are async-only.
const zstd = new OptionalModule<ZstdModule>("zstd", "@mongodb-js/zstd", "@mongodb-js/zstd/bindings.js");

/** zstd's level when none is given; also Kafka's `compression.zstd.level` default. */
export const ZSTD_DEFAULT_LEVEL = 3;
/** Lowest zstd level Kafka accepts (zstd's fastest negative level). */
export const ZSTD_MIN_LEVEL = -131072;
/** Highest zstd level. */
export const ZSTD_MAX_LEVEL = 22;

/** zstd-compresses `data` at `level` (-131072 to 22, default 3). */
export async function compressZstd(data: Buffer, level = ZSTD_DEFAULT_LEVEL): Promise<Buffer> {
  if (!Number.isInteger(level) || level < ZSTD_MIN_LEVEL || level > ZSTD_MAX_LEVEL) {
    throw new InvalidArgumentError("compressionLevel", `zstd: must be an integer from -131072 to 22, got ${level}`);
  }
  return zstd.get().compress(data, level);
}

/**
 * Decompresses zstd frames; corrupt or truncated input rejects with a ProtocolError.
 *
 * The binding decodes a whole input in one call, with no output cap, so the size is bounded
 * before it runs: every block header states its type and size, and a block decodes to at most
 * 128 KiB (zstd's Block_Maximum_Size), its own size when raw or RLE. That bound, which is the
 * real size for the full blocks encoders write, is claimed from `limit` (default 256 MiB) and
 * the surplus given back afterwards; more than 1 MiB past the limit, DecompressionLimitError
 * rejects with nothing decompressed (within it, the real size is checked after decoding). A declared content size larger than the blocks can hold is a
 * ProtocolError (the binding would allocate it).
 */
export async function decompressZstd(data: Buffer, limit?: DecompressionLimit): Promise<Buffer> {
  const lib = zstd.get();
  const budget = budgetOf(limit);
  let claim: number | undefined;
  try {
    // A bound just past what remains (a frame without a content size whose last block is
    // short) may still fit: all that remains is claimed and the real size checked after.
    claim = await budget.claimBound("zstd", outputBound(data), ZSTD_SLACK);
    const out = await lib.decompress(data);
    const held = claim;
    claim = undefined;
    budget.settle("zstd", held, out.length);
    return out;
  } catch (err) {
    if (claim !== undefined) budget.settle("zstd", claim, 0);
    throw decompressFailed("zstd", err);
  }
}

// How far the bound may pass what remains and still be tried: the slack for short blocks of
// frames without a content size, and the most a decode may hold beyond the limit.
const ZSTD_SLACK = 1024 * 1024;
const FRAME_MAGIC = 0xfd2fb528;
const BLOCK_MAX = 128 * 1024;
const FCS_FIELD_SIZES = [0, 2, 4, 8] as const;
const DICT_ID_FIELD_SIZES = [0, 1, 2, 4] as const;

function fail(message: string): never {
  throw new ProtocolError(`zstd decompression failed: ${message}`);
}

/**
 * The most bytes the frames of `data` can decode to, from their headers and block headers
 * (RFC 8878 section 3.1), checking every size against the end of the input.
 */
export function outputBound(data: Buffer): number {
  let total = 0;
  walkFrames("zstd", data, FRAME_MAGIC, (c) => {
    c.pos += 4;
    c.need(1, "frame header");
    const descriptor = data[c.pos] as number;
    c.pos++;
    const singleSegment = (descriptor & 0x20) !== 0;
    if (descriptor & 0x08) fail("reserved frame header bit set");
    const fcsSize = singleSegment && descriptor >>> 6 === 0 ? 1 : (FCS_FIELD_SIZES[descriptor >>> 6] as number);
    const headerRest = (singleSegment ? 0 : 1) + (DICT_ID_FIELD_SIZES[descriptor & 0x03] as number) + fcsSize;
    c.need(headerRest, "frame header");
    let contentSize: number | undefined;
    const fcsAt = c.pos + headerRest - fcsSize;
    if (fcsSize === 1) contentSize = data[fcsAt] as number;
    else if (fcsSize === 2) contentSize = data.readUInt16LE(fcsAt) + 256;
    else if (fcsSize === 4) contentSize = data.readUInt32LE(fcsAt);
    else if (fcsSize === 8) contentSize = data.readUInt32LE(fcsAt) + data.readUInt32LE(fcsAt + 4) * 0x1_0000_0000;
    c.pos += headerRest;
    let frameBound = 0;
    for (;;) {
      c.need(3, "block header");
      const header = data[c.pos]! | (data[c.pos + 1]! << 8) | (data[c.pos + 2]! << 16);
      c.pos += 3;
      const type = (header >>> 1) & 0x03;
      const size = header >>> 3;
      if (type === 3) fail(`reserved block type at byte ${c.pos - 3}`);
      if (size > BLOCK_MAX) fail(`block of ${size} bytes exceeds zstd's ${BLOCK_MAX}`);
      if (type === 1) {
        // RLE: one byte, repeated `size` times.
        c.need(1, "RLE block");
        c.pos += 1;
        frameBound += size;
      } else {
        c.need(size, "block");
        c.pos += size;
        frameBound += type === 0 ? size : BLOCK_MAX;
      }
      if (header & 1) break; // Last_Block
    }
    if (descriptor & 0x04) {
      c.need(4, "content checksum");
      c.pos += 4;
    }
    if (contentSize !== undefined) {
      if (contentSize > frameBound) {
        fail(`frame declares ${contentSize} bytes of content; its blocks hold at most ${frameBound}`);
      }
      frameBound = contentSize;
    }
    total += frameBound;
  });
  return total;
}
