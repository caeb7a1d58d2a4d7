/**
 * zstd (Kafka codec 4): plain zstd frames through `@mongodb-js/zstd` 1.2.x, whose functions
 * always run on the libuv thread pool. Frames without a content size, as Java's streaming
 * encoder writes them, and concatenated frames both decode.
 */
import { decompressFailed, OptionalModule } from "./common.js";

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
    throw new RangeError(`zstd compression level must be an integer from -131072 to 22, got ${level}`);
  }
  return zstd.get().compress(data, level);
}

/** Decompresses zstd frames; corrupt or truncated input rejects with a ProtocolError. */
export async function decompressZstd(data: Buffer): Promise<Buffer> {
  const lib = zstd.get();
  try {
    return await lib.decompress(data);
  } catch (err) {
    throw decompressFailed("zstd", err);
  }
}
