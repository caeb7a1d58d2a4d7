import { describe, expect, it } from "vitest";
import { FrameTooLargeError } from "../../../src/errors.js";
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
});
