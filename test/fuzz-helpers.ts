/**
 * Shared tools for decoder fuzzing: a Writer that remembers where it wrote lengths and
 * counts (so mutations can aim at them, which is where hostile input does damage), and
 * `mutateFrame`, which turns a valid frame into a truncated, flipped, length-poisoned or
 * padded one. Used by the message decoder fuzz (test/conformance/fuzz.test.ts); the record
 * batch fuzz reuses it.
 */
import { Writer } from "../src/protocol/primitives/writer.js";
import { Rng } from "./conformance/random.js";

/** The seeded generator mutations draw from (re-exported so fuzz tests need one import). */
export { Rng };

/** Where a length or count sits in a frame, and how it is encoded. */
export interface LengthField {
  pos: number;
  kind: "int16" | "int32" | "uvarint";
}

/**
 * A Writer that records the position of every length prefix, array count, tag and tag
 * count it writes. Tagged fields are written first and then get their size inserted before
 * them, which moves them: positions recorded inside are shifted to match.
 */
export class LengthRecordingWriter extends Writer {
  /** Recorded positions, in write order. */
  readonly lengths: LengthField[] = [];

  override string(value: string | null): void {
    this.lengths.push({ pos: this.pos, kind: "int16" });
    super.string(value);
  }

  override bytes(value: Uint8Array | null): void {
    this.lengths.push({ pos: this.pos, kind: "int32" });
    super.bytes(value);
  }

  override arrayLength(length: number | null): void {
    this.lengths.push({ pos: this.pos, kind: "int32" });
    super.arrayLength(length);
  }

  // compactString, compactBytes and compactArrayLength all write through uvarint.
  override uvarint(value: number): void {
    this.lengths.push({ pos: this.pos, kind: "uvarint" });
    super.uvarint(value);
  }

  override insertUvarintLength(start: number): void {
    const before = this.pos;
    super.insertUvarintLength(start);
    const shift = this.pos - before;
    for (const l of this.lengths) if (l.pos >= start) l.pos += shift;
    this.lengths.push({ pos: start, kind: "uvarint" });
  }
}

/**
 * Encodes with `encode` into a {@link LengthRecordingWriter}; returns a copy of the frame
 * and the lengths inside it.
 */
export function encodeRecordingLengths(encode: (w: Writer) => void): { frame: Buffer; lengths: LengthField[] } {
  const w = new LengthRecordingWriter(256);
  encode(w);
  return { frame: Buffer.from(w.finish()), lengths: w.lengths.filter((l) => l.pos < w.pos) };
}

const INT32_POISON = [-1, -2, -0x8000_0000, 0x7fff_ffff, 0x4000_0000, 0x0100_0000, 65_536];
const INT16_POISON = [-1, -2, -0x8000, 0x7fff, 0x4000];
// Unsigned varints: 2^32-1, 2^28, a sixth byte (too long), a value past 32 bits, and
// zero (the null marker of compact lengths).
const UVARINT_POISON: readonly number[][] = [
  [0xff, 0xff, 0xff, 0xff, 0x0f],
  [0x80, 0x80, 0x80, 0x80, 0x01],
  [0x80, 0x80, 0x80, 0x80, 0x80, 0x01],
  [0xff, 0xff, 0xff, 0xff, 0x7f],
  [0x00],
];

/** The kinds of damage {@link mutateFrame} does. */
export type MutationKind = "truncate" | "flip" | "length" | "overwrite" | "append" | "insert" | "delete";

/** A damaged frame and what was done to it (for failure messages). */
export interface Mutation {
  bytes: Buffer;
  kind: MutationKind;
  /** e.g. "truncate at 17", "int32 length at 4 := -2". */
  detail: string;
}

function poisonLength(rng: Rng, frame: Buffer, l: LengthField): Mutation {
  const out = Buffer.from(frame);
  // A length just past what remains is the most interesting lie: plausible, but one short.
  if (l.kind === "int32" && l.pos + 4 <= out.length) {
    const v = rng.chance(0.25) ? out.length - l.pos - 3 : rng.pick(INT32_POISON);
    out.writeInt32BE(v, l.pos);
    return { bytes: out, kind: "length", detail: `int32 length at ${l.pos} := ${v}` };
  }
  if (l.kind === "int16" && l.pos + 2 <= out.length) {
    const v = rng.chance(0.25) ? Math.min(0x7fff, out.length - l.pos - 1) : rng.pick(INT16_POISON);
    out.writeInt16BE(v, l.pos);
    return { bytes: out, kind: "length", detail: `int16 length at ${l.pos} := ${v}` };
  }
  // Varints vary in width: splice the poison in place of the old encoding.
  let end = l.pos;
  while (end < out.length && (out[end] as number) >= 0x80) end++;
  const poison = rng.chance(0.25) ? uvarintBytes(out.length - l.pos + 1) : rng.pick(UVARINT_POISON);
  return {
    bytes: Buffer.concat([out.subarray(0, l.pos), Buffer.from(poison), out.subarray(Math.min(end + 1, out.length))]),
    kind: "length",
    detail: `uvarint at ${l.pos} := ${Buffer.from(poison).toString("hex")}`,
  };
}

function uvarintBytes(value: number): number[] {
  const out: number[] = [];
  let v = value >>> 0;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return out;
}

/**
 * One random mutation of a valid frame. With `lengths` (from {@link encodeRecordingLengths})
 * a third of mutations overwrite a real length or count with a huge, negative or
 * just-too-large value; otherwise they truncate, flip bytes, overwrite a window with
 * extreme int16/int32 values, append, insert or delete bytes.
 */
export function mutateFrame(rng: Rng, frame: Buffer, lengths: readonly LengthField[] = []): Mutation {
  const r = rng.next();
  if (lengths.length > 0 && r < 0.35) return poisonLength(rng, frame, rng.pick(lengths));
  if (r < 0.55 || frame.length === 0) {
    const at = frame.length === 0 ? 0 : rng.int(0, frame.length - 1);
    return { bytes: frame.subarray(0, at), kind: "truncate", detail: `truncate at ${at}` };
  }
  const out = Buffer.from(frame);
  if (r < 0.7) {
    const n = rng.int(1, 4);
    const at: number[] = [];
    for (let i = 0; i < n; i++) {
      const p = rng.int(0, out.length - 1);
      out[p] = rng.chance(0.5) ? (out[p] as number) ^ (1 << rng.int(0, 7)) : rng.int(0, 255);
      at.push(p);
    }
    return { bytes: out, kind: "flip", detail: `bytes at ${at.join(",")}` };
  }
  if (r < 0.8) {
    const p = rng.int(0, out.length - 1);
    if (rng.chance(0.5) && p + 4 <= out.length) out.writeInt32BE(rng.pick(INT32_POISON), p);
    else if (p + 2 <= out.length) out.writeInt16BE(rng.pick(INT16_POISON), p);
    else out[p] = 0xff;
    return { bytes: out, kind: "overwrite", detail: `window at ${p}` };
  }
  if (r < 0.88) {
    const extra = rng.bytes(rng.int(1, 16));
    return { bytes: Buffer.concat([out, extra]), kind: "append", detail: `${extra.length} bytes` };
  }
  const p = rng.int(0, out.length);
  if (r < 0.94) {
    const extra = rng.bytes(rng.int(1, 8));
    return {
      bytes: Buffer.concat([out.subarray(0, p), extra, out.subarray(p)]),
      kind: "insert",
      detail: `${extra.length} at ${p}`,
    };
  }
  const n = rng.int(1, 8);
  return { bytes: Buffer.concat([out.subarray(0, p), out.subarray(p + n)]), kind: "delete", detail: `${n} at ${p}` };
}

/**
 * Up to `max` truncation points of a frame, always including the ends of every recorded
 * length (the cut right after a length is the classic "length says more than is there").
 */
export function truncationPoints(rng: Rng, frame: Buffer, lengths: readonly LengthField[], max: number): number[] {
  if (frame.length <= max) return Array.from({ length: frame.length }, (_, i) => i);
  const points = new Set<number>();
  for (const l of lengths) if (points.size < max / 2) points.add(l.pos + 1);
  while (points.size < max) points.add(rng.int(0, frame.length - 1));
  return [...points];
}
