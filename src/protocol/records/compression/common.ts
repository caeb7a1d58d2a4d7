/**
 * What the codec modules share: loading an optional native package once, turning a library's
 * decode failure into a ProtocolError, the budget that caps decompressed output, and the size
 * below which a codec runs synchronously.
 */
import { createRequire } from "node:module";
import {
  CompressionCodecMissingError,
  DecompressionLimitError,
  InvalidArgumentError,
  ProtocolError,
  type SamsaError,
} from "../../errors.js";

const requireFromHere = createRequire(import.meta.url);

/**
 * A lazily required optional package: the first `get()` loads it (or records why it could
 * not), later calls return the cached module or throw CompressionCodecMissingError again.
 */
export class OptionalModule<T> {
  readonly #codec: string;
  readonly #packageName: string;
  readonly #specifier: string;
  #module: T | undefined;
  #failure: unknown;
  #tried = false;

  /**
   * `packageName` is what the user installs; `specifier`, defaulting to it, is what is
   * required, for when the useful entry point is a file inside the package.
   */
  constructor(codec: string, packageName: string, specifier = packageName) {
    this.#codec = codec;
    this.#packageName = packageName;
    this.#specifier = specifier;
  }

  /** The loaded module; throws CompressionCodecMissingError when it is not installed. */
  get(): T {
    if (this.#module !== undefined) return this.#module;
    if (!this.#tried) {
      this.#tried = true;
      try {
        this.#module = requireFromHere(this.#specifier) as T;
        return this.#module;
      } catch (err) {
        // Cached so a consumer of a snappy topic without snappy installed does not retry a
        // failing module resolution, which walks the file system, on every batch.
        this.#failure = err;
      }
    }
    throw new CompressionCodecMissingError(this.#codec, this.#packageName, this.#failure);
  }
}

/**
 * Wraps a decoder's failure (a library error or our own framing check) as a ProtocolError; a
 * DecompressionLimitError passes through as it is.
 */
export function decompressFailed(codec: string, err: unknown): SamsaError {
  if (err instanceof ProtocolError || err instanceof DecompressionLimitError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  return new ProtocolError(`${codec} decompression failed: ${detail}`, { cause: err });
}

/**
 * Inputs up to this size are compressed on the calling thread. A trip through the libuv
 * thread pool costs ~20-40 µs and a promise, while lz4 or snappy compress 16 KiB in about the
 * same time, so small batches (the common case at low linger) are several times cheaper sync.
 */
export const SYNC_COMPRESS_MAX = 16 * 1024;

/** A block codec's two ways to compress one block: on this thread, or on the pool. */
export interface BlockCompressor {
  compress(block: Buffer): Promise<Buffer>;
  compressSync(block: Buffer): Buffer;
}

/**
 * Cuts `data` into views of `blockSize` bytes (the last may be shorter) and compresses each
 * on its own, as the lz4 and xerial frames want: on this thread up to {@link SYNC_COMPRESS_MAX},
 * else on several pool threads at once. Returns the views and their compressed blocks.
 */
export async function compressBlocks(
  lib: BlockCompressor,
  data: Buffer,
  blockSize: number,
): Promise<{ chunks: Buffer[]; blocks: Buffer[] }> {
  const chunks: Buffer[] = [];
  for (let at = 0; at < data.length; at += blockSize) {
    chunks.push(data.subarray(at, Math.min(at + blockSize, data.length)));
  }
  const blocks =
    data.length <= SYNC_COMPRESS_MAX
      ? chunks.map((c) => lib.compressSync(c))
      : await Promise.all(chunks.map((c) => lib.compress(c)));
  return { chunks, blocks };
}

/**
 * Compressed inputs up to this size are decompressed on the calling thread. Smaller than the
 * compress limit because the output is unknown in advance: LZ4 expands at most ~255x, so 4 KiB
 * bounds the synchronous work at about a millisecond even for a pathological batch.
 */
export const SYNC_DECOMPRESS_MAX = 4 * 1024;

/**
 * Default cap on the decompressed bytes of one decode call (one codec call, or one
 * `decodeRecordBatches` call over a partition's record set). Far above what genuine batches
 * reach (a producer's batch is bounded by its `batch.size`, 16 KiB by default, and a fetch by
 * its byte limits), far below what a decompression bomb would take.
 */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 256 * 1024 * 1024;

/**
 * The decompressed bytes a decode may still produce, shared by every batch of one record set
 * so that batches decompressing concurrently cannot each take the whole limit. Codecs reserve
 * output before they allocate it (an exact size read from the framing, or an upper bound given
 * back once the real size is known) and stop with DecompressionLimitError when it does not fit.
 */
export class DecompressionBudget {
  /** The cap, in bytes. */
  readonly limit: number;
  #used = 0;
  /**
   * Decodes holding an upper bound not yet trimmed to their real size. While any do, a claim
   * that does not fit waits for them instead of failing: their surplus is about to come back.
   */
  #provisional = 0;
  #waiters: (() => void)[] = [];

  /** `limit` must be a positive safe integer; it is the option `maxDecompressedBytes`. */
  constructor(limit: number) {
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new InvalidArgumentError("maxDecompressedBytes", `must be a positive integer, got ${String(limit)}`);
    }
    this.limit = limit;
  }

  /** Bytes that may still be claimed. */
  get remaining(): number {
    return this.limit - this.#used;
  }

  /** Reserves exactly `n` bytes of `codec` output; throws DecompressionLimitError when they do not fit. */
  claim(codec: string, n: number): void {
    if (n > this.limit - this.#used) throw new DecompressionLimitError(codec, this.limit);
    this.#used += n;
  }

  /** {@link claim}, after waiting for provisional claims to settle when `n` does not fit yet. */
  async reserve(codec: string, n: number): Promise<void> {
    // No await between the last check and the claim: another decode may claim in between.
    while (!this.#fits(n)) await this.#change();
    this.claim(codec, n);
  }

  /**
   * Reserves room for an output of at most `n` bytes: `n`, or all that remains when `n` does
   * not fit (so no concurrent decode can claim more meanwhile and the overshoot is bounded by
   * one bound). Fails when `n` passes what remains by more than `slack`, or nothing remains.
   * The claim is provisional until {@link settle}d with the real size.
   */
  async claimBound(codec: string, n: number, slack = Number.POSITIVE_INFINITY): Promise<number> {
    while (!this.#fits(n)) await this.#change();
    const remaining = this.limit - this.#used;
    if (n - remaining > slack || (remaining === 0 && n > 0)) throw new DecompressionLimitError(codec, this.limit);
    const claim = Math.min(n, remaining);
    this.#used += claim;
    this.#provisional++;
    return claim;
  }

  /**
   * Trims a {@link claimBound} claim to the `size` really produced (0 when the decode failed);
   * throws DecompressionLimitError when the output outgrew the claim.
   */
  settle(codec: string, claim: number, size: number): void {
    this.#provisional--;
    this.#used -= claim;
    const fits = size <= claim;
    if (fits) this.#used += size;
    for (const wake of this.#waiters.splice(0)) wake();
    if (!fits) throw new DecompressionLimitError(codec, this.limit);
  }

  /** Gives back `n` reserved bytes (a decode that failed after claiming). */
  release(n: number): void {
    this.#used = Math.max(0, this.#used - n);
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** True when `n` fits, or nothing held provisionally can come back to make it fit. */
  #fits(n: number): boolean {
    return n <= this.limit - this.#used || this.#provisional === 0;
  }

  #change(): Promise<void> {
    return new Promise<void>((resolve) => this.#waiters.push(resolve));
  }
}

/** A decompression limit: a byte count, or a budget shared with other decodes. */
export type DecompressionLimit = number | DecompressionBudget;

/** The budget a codec call draws on: the one given, a fresh one of `limit` bytes, or the default. */
export function budgetOf(limit: DecompressionLimit | undefined): DecompressionBudget {
  if (limit instanceof DecompressionBudget) return limit;
  return new DecompressionBudget(limit ?? DEFAULT_MAX_DECOMPRESSED_BYTES);
}

/** A position in compressed input whose reads are checked against its end first. */
export class FrameCursor {
  /** The next byte to read. */
  pos = 0;

  constructor(
    readonly data: Buffer,
    readonly codec: string,
  ) {}

  /** Throws a ProtocolError naming the codec. */
  fail(message: string): never {
    throw new ProtocolError(`${this.codec} decompression failed: ${message}`);
  }

  /** Throws unless `n` bytes remain from `pos`; `what` names them in the error. */
  need(n: number, what: string): void {
    if (this.pos + n > this.data.length) this.fail(`truncated ${what} at byte ${this.pos}`);
  }
}

/**
 * Walks the frames of `data` in the outline zstd and LZ4 frames share: each starts with a
 * 4-byte little-endian magic; skippable frames (magic 0x184D2A50–5F, then a 4-byte size) are
 * passed over, and every other frame must carry `magic`. `frame` reads one such frame from
 * `cursor.pos` (its magic) and leaves `pos` after it.
 */
export function walkFrames(codec: string, data: Buffer, magic: number, frame: (cursor: FrameCursor) => void): void {
  const cursor = new FrameCursor(data, codec);
  do {
    cursor.need(4, "frame magic");
    const found = data.readUInt32LE(cursor.pos);
    if ((found & 0xfffffff0) === 0x184d2a50) {
      cursor.need(8, "skippable frame");
      const skip = data.readUInt32LE(cursor.pos + 4);
      cursor.need(8 + skip, "skippable frame");
      cursor.pos += 8 + skip;
      continue;
    }
    if (found !== magic) cursor.fail(`bad frame magic 0x${found.toString(16)} at byte ${cursor.pos}`);
    frame(cursor);
  } while (cursor.pos < data.length);
}
