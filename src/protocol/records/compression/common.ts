/**
 * What the codec modules share: loading an optional native package once, turning a library's
 * decode failure into a ProtocolError, and the size below which a codec runs synchronously.
 */
import { createRequire } from "node:module";
import { CompressionCodecMissingError, ProtocolError } from "../../../errors.js";

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

/** Wraps a decoder's failure (a library error or our own framing check) as a ProtocolError. */
export function decompressFailed(codec: string, err: unknown): ProtocolError {
  if (err instanceof ProtocolError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  return new ProtocolError(`${codec} decompression failed: ${detail}`, { cause: err });
}

/**
 * Inputs up to this size are compressed on the calling thread. A trip through the libuv
 * thread pool costs ~20-40 µs and a promise, while lz4 or snappy compress 16 KiB in about the
 * same time, so small batches (the common case at low linger) are several times cheaper sync.
 */
export const SYNC_COMPRESS_MAX = 16 * 1024;

/**
 * Compressed inputs up to this size are decompressed on the calling thread. Smaller than the
 * compress limit because the output is unknown in advance: LZ4 expands at most ~255x, so 4 KiB
 * bounds the synchronous work at about a millisecond even for a pathological batch.
 */
export const SYNC_DECOMPRESS_MAX = 4 * 1024;
