/**
 * Splits a TCP byte stream into Kafka frames (int32 size, then that many bytes). A frame that
 * lies within one chunk is handed on as a view of that chunk, with no copy; only a frame
 * that spans chunks is assembled, into one buffer allocated at its exact size once the size
 * is known and checked against the maximum.
 */
import { FrameTooLargeError } from "../errors.js";

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

  constructor(maxBytes: number, onFrame: (frame: Buffer) => void) {
    this.#maxBytes = maxBytes;
    this.#onFrame = onFrame;
  }

  /** True when no partial frame is buffered. */
  get idle(): boolean {
    return this.#frame === null && this.#sizeFilled === 0;
  }

  /** Feeds one chunk; calls `onFrame` for every frame it completes. Throws FrameTooLargeError. */
  push(chunk: Buffer): void {
    let pos = 0;
    const end = chunk.length;
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
        const frame = chunk.subarray(pos, pos + size);
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
