/**
 * xxHash32, the checksum of the LZ4 frame format: its header checksum byte, and the optional
 * block and content checksums a decoder may find. Little-endian words, as the spec defines.
 */
import { InvalidArgumentError } from "../../errors.js";

const P1 = 0x9e3779b1;
const P2 = 0x85ebca77;
const P3 = 0xc2b2ae3d;
const P4 = 0x27d4eb2f;
const P5 = 0x165667b1;

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function round(acc: number, lane: number): number {
  return Math.imul(rotl((acc + Math.imul(lane, P2)) | 0, 13), P1);
}

function word(buf: Uint8Array, i: number): number {
  return buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24);
}

/**
 * xxHash32 of `buf[start, end)` with `seed`, as an unsigned 32-bit number. Reads the range in
 * place, so hashing a frame's descriptor or one block needs no copy.
 */
export function xxhash32(buf: Uint8Array, start = 0, end = buf.length, seed = 0): number {
  if (!(start >= 0 && end <= buf.length && start <= end)) {
    throw new InvalidArgumentError("range", `xxhash32 [${start}, ${end}) is outside the buffer of ${buf.length} bytes`);
  }
  let i = start;
  let h: number;
  if (end - start >= 16) {
    let v1 = (seed + P1 + P2) | 0;
    let v2 = (seed + P2) | 0;
    let v3 = seed | 0;
    let v4 = (seed - P1) | 0;
    const limit = end - 16;
    while (i <= limit) {
      v1 = round(v1, word(buf, i));
      v2 = round(v2, word(buf, i + 4));
      v3 = round(v3, word(buf, i + 8));
      v4 = round(v4, word(buf, i + 12));
      i += 16;
    }
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0;
  } else {
    h = (seed + P5) | 0;
  }
  // The total length enters modulo 2^32, as the reference implementation's u32 arithmetic does.
  h = (h + (end - start)) | 0;
  while (i + 4 <= end) {
    h = Math.imul(rotl((h + Math.imul(word(buf, i), P3)) | 0, 17), P4);
    i += 4;
  }
  while (i < end) {
    h = Math.imul(rotl((h + Math.imul(buf[i]!, P5)) | 0, 11), P1);
    i++;
  }
  h = Math.imul(h ^ (h >>> 15), P2);
  h = Math.imul(h ^ (h >>> 13), P3);
  return (h ^ (h >>> 16)) >>> 0;
}
