/**
 * Splits a TCP byte stream into Kafka frames (int32 size, then that many bytes). Two ways in:
 *
 * - `push(chunk)` for streams that hand out fresh chunks (TLS): a frame that lies within one
 *   chunk is handed on as a view of it, with no copy; a frame that spans chunks is assembled
 *   into one buffer allocated at its exact size once the size is known and checked.
 * - `readBuffer()` / `onRead(n, buf)` for plain TCP through Node's `onread` option, where the
 *   socket reads into memory we choose. While a frame is being assembled the socket reads
 *   straight into the rest of that frame's buffer, so a large Fetch response reaches its
 *   final place with no copy and no per-read allocation. Otherwise it reads into one reused
 *   scratch buffer, from which each complete frame is copied out (they are small: everything
 *   but big responses fits in one read).
 */

import { ProtocolError } from "../protocol/errors.js";
import { FrameTooLargeError } from "./errors.js";

/** Bytes of the reused read buffer in `onread` mode. */
const SCRATCH_BYTES = 64 * 1024;

/** Reassembles frames from chunks; see the module comment. */
export class FrameDecoder {
  readonly #maxBytes: number;
  readonly #onFrame: (frame: Buffer) => void;
  /** Size prefix bytes seen so far when a chunk ended inside one. */
  readonly #sizeBytes = Buffer.alloc(4);
  #sizeFilled = 0;
  /** The frame being assembled across chunks, and how much of it is filled. */
  #frame: Buffer | null = null;
  #frameFilled = 0;
  /** `onread` mode: the reused buffer reads land in when no frame is being assembled. */
  #scratch: Buffer | null = null;

  constructor(maxBytes: number, onFrame: (frame: Buffer) => void) {
    this.#maxBytes = maxBytes;
    this.#onFrame = onFrame;
  }

  /** True when no partial frame is buffered. */
  get idle(): boolean {
    return this.#frame === null && this.#sizeFilled === 0;
  }

  /** Feeds one chunk the caller will not reuse; calls `onFrame` for every frame it completes. Throws FrameTooLargeError. */
  push(chunk: Buffer): void {
    this.#consume(chunk, chunk.length, false);
  }

  /**
   * `onread` mode: where the socket should read next. The unfilled rest of the frame being
   * assembled, or the scratch buffer.
   */
  readBuffer(): Buffer {
    if (this.#frame !== null) return this.#frame.subarray(this.#frameFilled);
    this.#scratch ??= Buffer.allocUnsafe(SCRATCH_BYTES);
    return this.#scratch;
  }

  /** `onread` mode: the socket read `n` bytes into `buf`, the buffer {@link readBuffer} returned. */
  onRead(n: number, buf: Buffer): void {
    if (buf === this.#scratch) {
      // The scratch buffer is overwritten by the next read: frames in it are copied out.
      this.#consume(buf, n, true);
      return;
    }
    const frame = this.#frame;
    // Only a socket that ignored readBuffer() gets here: a bug, reported as a protocol failure
    // so the connection closes with a typed error instead of an untyped one.
    if (frame === null) throw new ProtocolError("FrameDecoder: a read landed in no frame");
    this.#frameFilled += n;
    if (this.#frameFilled === frame.length) {
      this.#frame = null;
      this.#onFrame(frame);
    }
  }

  /** Splits `chunk[0, end)`; `copy` when frames must not be views of the chunk. */
  #consume(chunk: Buffer, end: number, copy: boolean): void {
    let pos = 0;
    while (pos < end) {
      if (this.#frame !== null) {
        const n = Math.min(this.#frame.length - this.#frameFilled, end - pos);
        chunk.copy(this.#frame, this.#frameFilled, pos, pos + n);
        this.#frameFilled += n;
        pos += n;
        if (this.#frameFilled === this.#frame.length) {
          const frame = this.#frame;
          this.#frame = null;
          this.#onFrame(frame);
        }
        continue;
      }
      let size: number;
      if (this.#sizeFilled > 0 || end - pos < 4) {
        const n = Math.min(4 - this.#sizeFilled, end - pos);
        chunk.copy(this.#sizeBytes, this.#sizeFilled, pos, pos + n);
        this.#sizeFilled += n;
        pos += n;
        if (this.#sizeFilled < 4) return;
        this.#sizeFilled = 0;
        size = this.#sizeBytes.readInt32BE(0);
      } else {
        size = chunk.readInt32BE(pos);
        pos += 4;
      }
      if (size < 0 || size > this.#maxBytes) throw new FrameTooLargeError(size, this.#maxBytes);
      if (end - pos >= size) {
        const frame = copy ? Buffer.from(chunk.subarray(pos, pos + size)) : chunk.subarray(pos, pos + size);
        pos += size;
        this.#onFrame(frame);
      } else {
        // Spans chunks: one buffer of the exact (already bounded) size, filled as chunks come.
        this.#frame = Buffer.allocUnsafe(size);
        this.#frameFilled = 0;
      }
    }
  }
}
