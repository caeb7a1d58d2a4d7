/**
 * gzip (Kafka codec 1): a plain gzip stream, as Java's GZIPOutputStream writes it, through
 * node:zlib's thread-pool functions so a large batch never blocks the event loop.
 */
import { promisify } from "node:util";
import { constants, createGunzip, gzip } from "node:zlib";
import { InvalidArgumentError } from "../../errors.js";
import { budgetOf, type DecompressionLimit, decompressFailed } from "./common.js";

const gzipAsync = promisify(gzip);

// Output chunk of the inflate stream: the granularity at which the limit is checked, so a
// bomb stops at most this far past it. zlib's 16 KiB default costs more events per batch.
const INFLATE_CHUNK = 64 * 1024;

/** Lowest accepted gzip level (zlib's Z_DEFAULT_COMPRESSION, which means level 6). */
export const GZIP_MIN_LEVEL = -1;
/** Highest gzip level. */
export const GZIP_MAX_LEVEL = 9;

// No synchronous fast path: deflate expands up to ~1000x, so even a tiny input can hide a long
// decode, and zlib's per-call stream setup makes small calls costly on either path anyway.

/** gzip-compresses `data` at `level` (-1 to 9; default -1, zlib's default, as Java's). */
export async function compressGzip(data: Buffer, level = constants.Z_DEFAULT_COMPRESSION): Promise<Buffer> {
  if (!Number.isInteger(level) || level < GZIP_MIN_LEVEL || level > GZIP_MAX_LEVEL) {
    throw new InvalidArgumentError("compressionLevel", `gzip: must be an integer from -1 to 9, got ${level}`);
  }
  return gzipAsync(data, { level });
}

/**
 * Decompresses a gzip stream (all members); corrupt input rejects with a ProtocolError. The
 * stream inflates on the thread pool chunk by chunk, each chunk claimed from `limit` (default
 * 256 MiB) as it arrives: past it, inflation stops and DecompressionLimitError rejects, having
 * held at most the limit and one chunk. gzip has no trustworthy size header (ISIZE is the last
 * member's size modulo 2^32), so counting output is the only bound.
 */
export async function decompressGzip(data: Buffer, limit?: DecompressionLimit): Promise<Buffer> {
  const budget = budgetOf(limit);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    let failed = false;
    let waiting: Promise<void> | undefined;
    const inflate = createGunzip({ chunkSize: INFLATE_CHUNK });
    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      budget.release(length);
      inflate.destroy();
      reject(decompressFailed("gzip", err));
    };
    const keep = (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
    };
    inflate.on("data", (chunk: Buffer) => {
      if (failed) return;
      if (chunk.length <= budget.remaining) {
        budget.claim("gzip", chunk.length);
        keep(chunk);
        return;
      }
      // Paused while other decodes of the record set give back the surplus of their bounds;
      // if that does not make room, the claim fails and so does this decode.
      inflate.pause();
      waiting = budget.reserve("gzip", chunk.length).then(() => {
        waiting = undefined;
        keep(chunk);
        inflate.resume();
      }, fail);
    });
    inflate.on("error", fail);
    const finish = () => {
      if (!failed) resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, length));
    };
    // 'end' may come while the last chunk still waits for room: finish once it is kept.
    inflate.on("end", () => (waiting ? waiting.then(finish) : finish()));
    inflate.end(data);
  });
}
