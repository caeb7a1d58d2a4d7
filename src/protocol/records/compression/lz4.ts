/**
 * lz4 (Kafka codec 3): the LZ4 frame format, framed here over `lz4-napi`'s block codec so the
 * frame is what Java writes (independent 64 KiB blocks, no checksums) and any valid frame reads.
 */
import {
  CompressionCodecMissingError,
  DecompressionLimitError,
  InvalidArgumentError,
  ProtocolError,
} from "../../errors.js";
import {
  budgetOf,
  compressBlocks,
  type DecompressionBudget,
  type DecompressionLimit,
  decompressFailed,
  OptionalModule,
  SYNC_DECOMPRESS_MAX,
  walkFrames,
} from "./common.js";
import { xxhash32 } from "./xxhash32.js";

/**
 * The subset of `lz4-napi` (2.x) used here. Its block functions wrap lz4_flex's
 * `*_size_prepended`: compressed output is `[u32 LE uncompressed length][raw LZ4 block]`, and
 * `uncompress` wants the same prefix, reading it as the output capacity, not the exact size.
 */
interface Lz4Module {
  compress(data: Uint8Array): Promise<Buffer>;
  compressSync(data: Buffer): Buffer;
  uncompress(data: Uint8Array, dict?: Uint8Array | null): Promise<Buffer>;
  uncompressSync(data: Uint8Array, dict?: Uint8Array | null): Buffer;
}

const lz4 = new OptionalModule<Lz4Module>("lz4", "lz4-napi");

const FRAME_MAGIC = 0x184d2204;
/** Bits of the frame descriptor's FLG byte. */
const FLG = {
  version1: 0x40,
  blockIndependent: 0x20,
  blockChecksum: 0x10,
  contentSize: 0x08,
  contentChecksum: 0x04,
  dictId: 0x01,
} as const;
const BD_64KB = 0x40;
const BLOCK_UNCOMPRESSED = 0x80000000;
// LZ4 matches may reach 64 KiB back, so a dependent block needs that much preceding output.
const WINDOW = 64 * 1024;

/** Largest uncompressed block the encoder writes: Java's KafkaLZ4BlockOutputStream default. */
export const LZ4_BLOCK_SIZE = 64 * 1024;

/**
 * The 7-byte frame header the encoder writes: magic, FLG 0x60 (version 1, independent blocks,
 * no checksums, no content size), BD 0x40 (64 KiB blocks) and the header checksum byte.
 */
export const LZ4_FRAME_HEADER: Buffer = (() => {
  const h = Buffer.alloc(7);
  h.writeUInt32LE(FRAME_MAGIC, 0);
  h[4] = FLG.version1 | FLG.blockIndependent;
  h[5] = BD_64KB;
  h[6] = (xxhash32(h, 4, 6) >>> 8) & 0xff;
  return h;
})();

/** Compresses `data` into one LZ4 frame; `level` (1-17, Kafka's range) is accepted but unused. */
export async function compressLz4(data: Buffer, level?: number): Promise<Buffer> {
  if (level !== undefined && (!Number.isInteger(level) || level < 1 || level > 17)) {
    // lz4_flex has a single fast level; the range is checked so a config typo still fails.
    throw new InvalidArgumentError("compressionLevel", `lz4: must be an integer from 1 to 17, got ${level}`);
  }
  const { chunks, blocks: compressed } = await compressBlocks(lz4.get(), data, LZ4_BLOCK_SIZE);
  let size = LZ4_FRAME_HEADER.length + 4;
  for (let i = 0; i < chunks.length; i++) {
    const block = compressed[i]!;
    const chunk = chunks[i]!;
    if (block.length < 4 || block.readUInt32LE(0) !== chunk.length) {
      // Not the peer's fault: an lz4-napi release with another block layout.
      throw new CompressionCodecMissingError(
        "lz4",
        "lz4-napi@2",
        new ProtocolError("lz4-napi block output lacks the u32 LE length prefix"),
      );
    }
    size += 4 + Math.min(block.length - 4, chunk.length);
  }
  const out = Buffer.allocUnsafe(size);
  LZ4_FRAME_HEADER.copy(out, 0);
  let pos = LZ4_FRAME_HEADER.length;
  for (let i = 0; i < chunks.length; i++) {
    const block = compressed[i]!;
    const chunk = chunks[i]!;
    const rawLength = block.length - 4;
    // As Java does: a block that does not shrink is stored, flagged by the size's high bit.
    if (rawLength >= chunk.length) {
      out.writeUInt32LE((BLOCK_UNCOMPRESSED | chunk.length) >>> 0, pos);
      chunk.copy(out, pos + 4);
      pos += 4 + chunk.length;
    } else {
      out.writeUInt32LE(rawLength, pos);
      block.copy(out, pos + 4, 4);
      pos += 4 + rawLength;
    }
  }
  out.writeUInt32LE(0, pos); // end mark
  return out;
}

interface Block {
  /** Offset of the block's data; its u32 size field is the 4 bytes before. */
  start: number;
  end: number;
  stored: boolean;
}

interface Frame {
  independent: boolean;
  blockMax: number;
  contentSize: number | undefined;
  contentChecksum: number | undefined;
  blocks: Block[];
}

function fail(message: string): never {
  throw new ProtocolError(`lz4 decompression failed: ${message}`);
}

/**
 * Decompresses one or more concatenated LZ4 frames (skippable frames are skipped): either
 * block mode, optional content size, and block and content checksums, which are verified.
 * Corrupt or truncated input rejects with a ProtocolError naming lz4.
 *
 * Output is claimed from `limit` (default 256 MiB) before it is allocated: a stored block
 * claims its size, a compressed one the most it can expand to (the frame's block maximum, or
 * 255 times its size when smaller), and the surplus is given back once decoded. Blocks whose
 * bounds all fit decode concurrently; otherwise one at a time, so a bomb stops with
 * DecompressionLimitError at the first block that would pass the limit.
 */
export async function decompressLz4(data: Buffer, limit?: DecompressionLimit): Promise<Buffer> {
  const lib = lz4.get();
  const budget = budgetOf(limit);
  try {
    const frames = parseFrames(data);
    for (const frame of frames) {
      if (frame.contentSize === undefined) continue;
      const most = frame.blocks.reduce((n, b) => n + capacity(frame, b), 0);
      if (frame.contentSize > most)
        fail(`frame declares ${frame.contentSize} bytes of content; its blocks hold at most ${most}`);
      // A declared size past the limit fails before any block is decoded.
      if (frame.contentSize > budget.remaining) throw new DecompressionLimitError("lz4", budget.limit);
    }
    // The library wants `[u32 LE capacity][block]`, and the 4 bytes before each block are its
    // size field, already read: one private copy lets every block be passed as a view.
    const work = Buffer.allocUnsafe(data.length);
    data.copy(work);
    const sync = data.length <= SYNC_DECOMPRESS_MAX;
    const out: Buffer[] = [];
    for (const frame of frames) {
      let parts = await decodeFrame(lib, work, frame, sync, budget);
      const length = parts.reduce((n, p) => n + p.length, 0);
      if (frame.contentSize !== undefined && frame.contentSize !== length) {
        fail(`frame declares ${frame.contentSize} bytes of content but holds ${length}`);
      }
      if (frame.contentChecksum !== undefined) {
        parts = [Buffer.concat(parts, length)];
        if (xxhash32(parts[0]!) !== frame.contentChecksum) fail("content checksum mismatch");
      }
      out.push(...parts);
    }
    return out.length === 1 ? out[0]! : Buffer.concat(out);
  } catch (err) {
    throw decompressFailed("lz4", err);
  }
}

/**
 * The most output block `b` can decode to. LZ4 expands at most ~255x (a 3-byte match plus 255
 * per extra length byte), so a small block is bounded below the frame's block maximum.
 */
function capacity(frame: Frame, b: Block): number {
  const length = b.end - b.start;
  return b.stored ? length : Math.min(frame.blockMax, length * 255 + 64);
}

async function decodeFrame(
  lib: Lz4Module,
  work: Buffer,
  frame: Frame,
  sync: boolean,
  budget: DecompressionBudget,
): Promise<Buffer[]> {
  const input = (b: Block): Buffer => {
    // The capacity prefix also keeps lz4_flex from zeroing a buffer of the full block size.
    work.writeUInt32LE(capacity(frame, b), b.start - 4);
    return work.subarray(b.start - 4, b.end);
  };
  const decodeOne = (b: Block, window: Buffer | undefined): Buffer | Promise<Buffer> => {
    if (b.stored) return work.subarray(b.start, b.end);
    return sync ? lib.uncompressSync(input(b), window) : lib.uncompress(input(b), window);
  };
  if (frame.independent) {
    const bound = frame.blocks.reduce((n, b) => n + capacity(frame, b), 0);
    const claim = await budget.claimBound("lz4", bound);
    if (claim === bound) {
      let parts: Buffer[] = [];
      try {
        parts = sync
          ? frame.blocks.map((b) => decodeOne(b, undefined) as Buffer)
          : await Promise.all(frame.blocks.map((b) => decodeOne(b, undefined)));
      } finally {
        budget.settle(
          "lz4",
          claim,
          parts.reduce((n, p) => n + p.length, 0),
        );
      }
      return parts;
    }
    budget.settle("lz4", claim, 0);
  }
  // One block at a time, each claimed before it is decoded. Dependent blocks may copy from
  // the previous 64 KiB of output, passed as the dictionary.
  const parts: Buffer[] = [];
  let window: Buffer | undefined;
  for (const b of frame.blocks) {
    // A bound past what remains takes all of it, so at most one block's bound is decoded
    // beyond the limit before the real size is checked against it.
    const claim = await budget.claimBound("lz4", capacity(frame, b));
    let part: Buffer | undefined;
    try {
      part = await decodeOne(b, frame.independent ? undefined : window);
    } finally {
      budget.settle("lz4", claim, part?.length ?? 0);
    }
    parts.push(part);
    if (frame.independent) continue;
    if (part.length >= WINDOW) window = part.subarray(part.length - WINDOW);
    else {
      const joined = window === undefined ? part : Buffer.concat([window, part]);
      window = joined.length > WINDOW ? joined.subarray(joined.length - WINDOW) : joined;
    }
  }
  return parts;
}

/** Walks every frame header and block size, checking bounds and checksums before any decode. */
function parseFrames(data: Buffer): Frame[] {
  const frames: Frame[] = [];
  walkFrames("lz4", data, FRAME_MAGIC, (c) => {
    c.need(7, "frame descriptor");
    const descriptor = c.pos + 4;
    const flg = data[descriptor]!;
    const bd = data[descriptor + 1]!;
    if ((flg & 0xc0) !== FLG.version1) fail(`unsupported frame version ${flg >>> 6}`);
    if (flg & 0x02 || bd & 0x8f) fail("reserved descriptor bits set");
    const sizeCode = (bd >>> 4) & 0x07;
    if (sizeCode < 4) fail(`invalid block maximum size code ${sizeCode}`);
    if (flg & FLG.dictId) fail("frames that need a dictionary are not supported");
    c.pos = descriptor + 2;
    let contentSize: number | undefined;
    if (flg & FLG.contentSize) {
      c.need(9, "content size");
      contentSize = data.readUInt32LE(c.pos) + data.readUInt32LE(c.pos + 4) * 0x1_0000_0000;
      c.pos += 8;
    }
    if (data[c.pos] !== ((xxhash32(data, descriptor, c.pos) >>> 8) & 0xff)) fail("frame header checksum mismatch");
    c.pos++;
    const frame: Frame = {
      independent: (flg & FLG.blockIndependent) !== 0,
      blockMax: 1 << (2 * sizeCode + 8), // 4 -> 64 KiB, 5 -> 256 KiB, 6 -> 1 MiB, 7 -> 4 MiB
      contentSize,
      contentChecksum: undefined,
      blocks: [],
    };
    const checksummed = (flg & FLG.blockChecksum) !== 0;
    for (;;) {
      c.need(4, "block size");
      const field = data.readUInt32LE(c.pos);
      c.pos += 4;
      if (field === 0) break; // end mark
      const length = field & 0x7fffffff;
      if (length > frame.blockMax) fail(`block of ${length} bytes exceeds the frame's ${frame.blockMax}`);
      c.need(length + (checksummed ? 4 : 0), "block");
      if (checksummed && xxhash32(data, c.pos, c.pos + length) !== data.readUInt32LE(c.pos + length)) {
        fail(`block checksum mismatch at byte ${c.pos}`);
      }
      frame.blocks.push({ start: c.pos, end: c.pos + length, stored: (field & BLOCK_UNCOMPRESSED) !== 0 });
      c.pos += length + (checksummed ? 4 : 0);
    }
    if (flg & FLG.contentChecksum) {
      c.need(4, "content checksum");
      frame.contentChecksum = data.readUInt32LE(c.pos);
      c.pos += 4;
    }
    frames.push(frame);
  });
  return frames;
}
