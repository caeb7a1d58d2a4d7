import { describe, expect, it } from "vitest";
import { FrameTooLargeError } from "../../../src/network/errors.js";
import { FrameDecoder } from "../../../src/network/frame-decoder.js";

function frame(body: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length, 0);
  return Buffer.concat([size, body]);
}

const bodies = [Buffer.from("first frame"), Buffer.alloc(0), Buffer.from([1, 2, 3]), Buffer.alloc(300, 7)];
const stream = Buffer.concat(bodies.map(frame));

function decodeChunks(chunks: Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  const decoder = new FrameDecoder(1 << 20, (f) => out.push(Buffer.from(f)));
  for (const chunk of chunks) decoder.push(chunk);
  expect(decoder.idle).toBe(true);
  return out;
}

describe("FrameDecoder", () => {
  it("yields the same frames whatever single byte boundary splits the stream", () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const frames = decodeChunks([stream.subarray(0, cut), stream.subarray(cut)]);
      expect(frames, `cut at ${cut}`).toEqual(bodies);
    }
  });

  it("yields the same frames fed one byte at a time and at every pair of cuts", () => {
    expect(decodeChunks([...stream].map((b) => Buffer.from([b])))).toEqual(bodies);
    for (let a = 0; a < stream.length; a += 7) {
      for (let b = a; b <= stream.length; b += 13) {
        expect(decodeChunks([stream.subarray(0, a), stream.subarray(a, b), stream.subarray(b)])).toEqual(bodies);
      }
    }
  });

  it("hands on a frame that lies in one chunk as a view of that chunk (no copy)", () => {
    const chunk = frame(Buffer.from("abc"));
    let seen: Buffer | undefined;
    new FrameDecoder(100, (f) => {
      seen = f;
    }).push(chunk);
    expect(seen?.buffer).toBe(chunk.buffer);
    expect(seen?.byteOffset).toBe(chunk.byteOffset + 4);
  });

  it("refuses a frame larger than the maximum before allocating it", () => {
    const decoder = new FrameDecoder(1024, () => {});
    const hostile = Buffer.from([0x7f, 0xff, 0xff, 0xff, 0]);
    expect(() => decoder.push(hostile)).toThrow(FrameTooLargeError);
    expect(() => new FrameDecoder(1024, () => {}).push(Buffer.from([0xff, 0xff, 0xff, 0xfe]))).toThrow(
      FrameTooLargeError,
    );
  });

  describe("onread mode (the socket reads into readBuffer())", () => {
    /** Plays `data` through readBuffer/onRead with reads of at most `sizes[i % sizes.length]` bytes. */
    function readThrough(data: Buffer, sizes: number[], maxBytes = 1 << 20): Buffer[] {
      const out: Buffer[] = [];
      const decoder = new FrameDecoder(maxBytes, (f) => out.push(f));
      let pos = 0;
      for (let i = 0; pos < data.length; i++) {
        const buf = decoder.readBuffer();
        const n = Math.min(buf.length, sizes[i % sizes.length] as number, data.length - pos);
        data.copy(buf, 0, pos, pos + n);
        pos += n;
        decoder.onRead(n, buf);
      }
      expect(decoder.idle).toBe(true);
      return out;
    }

    it("yields the same frames for reads of every size from 1 byte to the whole stream", () => {
      for (let size = 1; size <= stream.length; size++) {
        expect(readThrough(stream, [size]), `reads of ${size}`).toEqual(bodies);
      }
      expect(readThrough(stream, [3, 1, 17, 2, 300])).toEqual(bodies);
    });

    it("copies frames out of the reused scratch buffer, so later reads cannot change them", () => {
      const out: Buffer[] = [];
      const decoder = new FrameDecoder(1 << 20, (f) => out.push(f));
      const buf = decoder.readBuffer();
      stream.copy(buf);
      decoder.onRead(stream.length, buf);
      // The next read reuses the same memory; overwrite it as a read would.
      const next = decoder.readBuffer();
      expect(next).toBe(buf);
      next.fill(0xee);
      expect(out).toEqual(bodies);
    });

    it("reads the rest of a large frame straight into the frame's own buffer", () => {
      const body = Buffer.alloc(200_000);
      for (let i = 0; i < body.length; i++) body[i] = (i * 31) & 0xff;
      const data = Buffer.concat([frame(body), frame(Buffer.from("tail"))]);
      const decoder = new FrameDecoder(1 << 20, (f) => out.push(f));
      const out: Buffer[] = [];
      const targets = new Set<ArrayBufferLike>();
      let pos = 0;
      while (pos < data.length) {
        const buf = decoder.readBuffer();
        targets.add(buf.buffer);
        const n = Math.min(buf.length, 70_000, data.length - pos);
        data.copy(buf, 0, pos, pos + n);
        pos += n;
        decoder.onRead(n, buf);
      }
      expect(out).toEqual([body, Buffer.from("tail")]);
      // The frame is the memory the later reads landed in: no reassembly copy.
      expect(targets.has((out[0] as Buffer).buffer)).toBe(true);
      // Reads went to the scratch buffer and to the frame, nowhere else.
      expect(targets.size).toBe(2);
    });

    it("refuses a frame larger than the maximum before allocating it", () => {
      expect(() => readThrough(Buffer.from([0x7f, 0xff, 0xff, 0xff, 0]), [5], 1024)).toThrow(FrameTooLargeError);
    });
  });
});
