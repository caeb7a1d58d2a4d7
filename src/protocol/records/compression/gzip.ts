/**
 * gzip (Kafka codec 1): a plain gzip stream, as Java's GZIPOutputStream writes it, through
 * node:zlib's thread-pool functions so a large batch never blocks the event loop.
 */
import { promisify } from "node:util";
import { constants, gunzip, gzip } from "node:zlib";
import { decompressFailed } from "./common.js";

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** Lowest accepted gzip level (zlib's Z_DEFAULT_COMPRESSION, which means level 6). */
export const GZIP_MIN_LEVEL = -1;
/** Highest gzip level. */
export const GZIP_MAX_LEVEL = 9;

// No synchronous fast path: deflate expands up to ~1000x, so even a tiny input can hide a long
// decode, and zlib's per-call stream setup makes small calls costly on either path anyway.

/** gzip-compresses `data` at `level` (-1 to 9; default -1, zlib's default, as Java's). */
export async function compressGzip(data: Buffer, level = constants.Z_DEFAULT_COMPRESSION): Promise<Buffer> {
  if (!Number.isInteger(level) || level < GZIP_MIN_LEVEL || level > GZIP_MAX_LEVEL) {
    throw new RangeError(`gzip compression level must be an integer from -1 to 9, got ${level}`);
  }
  return gzipAsync(data, { level });
}

/** Decompresses a gzip stream (all members); corrupt input rejects with a ProtocolError. */
export async function decompressGzip(data: Buffer): Promise<Buffer> {
  try {
    return await gunzipAsync(data);
  } catch (err) {
    throw decompressFailed("gzip", err);
  }
}
