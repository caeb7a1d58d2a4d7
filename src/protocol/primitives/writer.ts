/**
 * Writer: one growable buffer that every Kafka primitive is written into. Length prefixes
 * are reserved and back-filled; nothing is allocated per field. Generated encoders and the
 * record batch encoder both write through it.
 */
import { InvalidArgumentError } from "../errors.js";

const EMPTY = Buffer.alloc(0);
const TWO_POW_32 = 0x1_0000_0000;

/** Bytes needed by an unsigned varint of `value` (0 ≤ value < 2^32). */
export function uvarintSize(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x20_0000) return 3;
  if (value < 0x1000_0000) return 4;
  return 5;
}

/** Bytes needed by a zigzag varint of the int32 `value`. */
export function varintSize(value: number): number {
  return uvarintSize(((value << 1) ^ (value >> 31)) >>> 0);
}

/** A gathering writer references raw values of at least this many bytes instead of copying them. */
export const GATHER_MIN_BYTES = 4096;

/**
 * Growable output buffer for the Kafka wire format. A gathering writer (`gather`) does not
 * copy large raw values (record batches in a Produce request): it remembers where each one
 * goes and {@link finishParts} returns the written bytes cut around them, ready for one
 * gathered socket write. Positions (`pos`) then count only the bytes in `buf`; `length` counts
 * everything.
 */
export class Writer {
  /** The backing buffer; written bytes are `[0, pos)`, with any gathered values between them. */
  buf: Buffer;
  /** Next write position. */
  pos = 0;
  readonly #gather: boolean;
  /** Gathered values, and the position in `buf` each one sits at. */
  #gathered: Uint8Array[] | undefined;
  #gatheredAt: number[] | undefined;
  #gatheredBytes = 0;

  constructor(initialSize = 512, gather = false) {
    this.buf = initialSize > 0 ? Buffer.allocUnsafe(initialSize) : EMPTY;
    this.#gather = gather;
  }

  /** Bytes written, gathered values included. */
  get length(): number {
    return this.pos + this.#gatheredBytes;
  }

  /**
   * The written bytes in order: the whole output as one view when nothing was gathered,
   * otherwise views of `buf` between the gathered values (which are the caller's own buffers:
   * they must not change until written).
   */
  finishParts(): Uint8Array[] {
    const values = this.#gathered;
    const at = this.#gatheredAt;
    if (values === undefined || at === undefined) return [this.finish()];
    const parts: Uint8Array[] = [];
    let from = 0;
    for (let i = 0; i < values.length; i++) {
      const to = at[i] as number;
      if (to > from) parts.push(this.buf.subarray(from, to));
      parts.push(values[i] as Uint8Array);
      from = to;
    }
    if (this.pos > from) parts.push(this.buf.subarray(from, this.pos));
    return parts;
  }

  /**
   * Makes room for `n` more bytes, doubling so that appends stay amortised O(1); returns the
   * buffer to write them into (a new one when it grew, so take it from here, not before).
   */
  ensure(n: number): Buffer {
    const need = this.pos + n;
    if (need <= this.buf.length) return this.buf;
    let size = this.buf.length * 2 || 256;
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
    return next;
  }

  /** The written bytes, as a view on the backing buffer (no copy). Not after a value was gathered. */
  finish(): Buffer {
    if (this.#gathered !== undefined) throw new Error("Writer.finish: values were gathered, use finishParts()");
    return this.buf.subarray(0, this.pos);
  }

  int8(value: number): void {
    this.ensure(1);
    this.buf[this.pos++] = value & 0xff;
  }

  bool(value: boolean): void {
    this.int8(value ? 1 : 0);
  }

  // Buffer's write*BE methods return the offset just past what they wrote.
  int16(value: number): void {
    this.pos = this.ensure(2).writeInt16BE(value, this.pos);
  }

  uint16(value: number): void {
    this.pos = this.ensure(2).writeUInt16BE(value, this.pos);
  }

  int32(value: number): void {
    this.pos = this.ensure(4).writeInt32BE(value, this.pos);
  }

  uint32(value: number): void {
    this.pos = this.ensure(4).writeUInt32BE(value, this.pos);
  }

  int64(value: bigint): void {
    this.pos = this.ensure(8).writeBigInt64BE(value, this.pos);
  }

  /**
   * An int64 from a JS number that is a safe integer (timestamps, offsets below 2^53):
   * avoids a BigInt on hot paths.
   */
  int64Number(value: number): void {
    const buf = this.ensure(8);
    const high = Math.floor(value / TWO_POW_32);
    buf.writeInt32BE(high, this.pos);
    this.pos = buf.writeUInt32BE(value - high * TWO_POW_32, this.pos + 4);
  }

  float64(value: number): void {
    this.pos = this.ensure(8).writeDoubleBE(value, this.pos);
  }

  /** A uuid given in Kafka's string form (22 characters of unpadded base64url). */
  uuid(value: string): void {
    this.ensure(16);
    const written = this.buf.write(value, this.pos, 16, "base64url");
    if (written !== 16 || value.length !== 22)
      throw new InvalidArgumentError("uuid", `not a Kafka uuid: ${JSON.stringify(value)}`);
    this.pos += 16;
  }

  /** Unsigned varint (protocol lengths, tags, counts); 0 ≤ value < 2^32. */
  uvarint(value: number): void {
    const buf = this.ensure(5);
    let v = value >>> 0;
    while (v >= 0x80) {
      buf[this.pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[this.pos++] = v;
  }

  /** Zigzag varint of an int32 (record fields). */
  varint(value: number): void {
    this.uvarint(((value << 1) ^ (value >> 31)) >>> 0);
  }

  /** Zigzag varlong of an int64. */
  varlong(value: bigint): void {
    this.ensure(10);
    let v = BigInt.asUintN(64, (value << 1n) ^ (value >> 63n));
    while (v >= 0x80n) {
      this.buf[this.pos++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.pos++] = Number(v);
  }

  /** Raw bytes, no length prefix. */
  raw(value: Uint8Array): void {
    if (this.#gather && value.length >= GATHER_MIN_BYTES) {
      if (this.#gathered === undefined || this.#gatheredAt === undefined) {
        this.#gathered = [];
        this.#gatheredAt = [];
      }
      this.#gathered.push(value);
      this.#gatheredAt.push(this.pos);
      this.#gatheredBytes += value.length;
      return;
    }
    this.ensure(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
  }

  /** String with an int16 length; `null` as length -1 (callers check nullability). */
  string(value: string | null): void {
    const length = value === null ? -1 : Buffer.byteLength(value);
    this.int16(length);
    if (value !== null) this.#utf8(value, length);
  }

  /** String with an unsigned-varint length+1; `null` as 0. */
  compactString(value: string | null): void {
    const length = value === null ? -1 : Buffer.byteLength(value);
    this.uvarint(length + 1);
    if (value !== null) this.#utf8(value, length);
  }

  /** The `length` UTF-8 bytes of `value`, no prefix. */
  #utf8(value: string, length: number): void {
    this.ensure(length);
    this.pos += this.buf.write(value, this.pos, length, "utf8");
  }

  /** Bytes with an int32 length; `null` as -1. */
  bytes(value: Uint8Array | null): void {
    this.int32(value === null ? -1 : value.length);
    if (value !== null) this.raw(value);
  }

  /** Bytes with an unsigned-varint length+1; `null` as 0. */
  compactBytes(value: Uint8Array | null): void {
    this.uvarint(value === null ? 0 : value.length + 1);
    if (value !== null) this.raw(value);
  }

  /** Array length, int32 (-1 for null). */
  arrayLength(length: number | null): void {
    this.int32(length === null ? -1 : length);
  }

  /** Compact array length: unsigned varint of length+1 (0 for null). */
  compactArrayLength(length: number | null): void {
    this.uvarint(length === null ? 0 : length + 1);
  }

  /** Reserves an int32 to be filled later with {@link fillInt32}; returns its position. */
  reserveInt32(): number {
    this.ensure(4);
    const at = this.pos;
    this.pos += 4;
    return at;
  }

  /** Back-fills an int32 reserved with {@link reserveInt32}. */
  fillInt32(at: number, value: number): void {
    this.buf.writeInt32BE(value, at);
  }

  /**
   * Inserts, at `start`, the unsigned-varint length of the bytes written since `start`,
   * moving those bytes up. Used for tagged fields, whose size is only known once written;
   * they are rare and small, so the move is cheap.
   */
  insertUvarintLength(start: number): void {
    const gatheredAt = this.#gatheredAt;
    // Moving bytes past a gathered value would leave the value behind: no encoder does that
    // (tagged fields hold no record batches), and this says so if one ever does.
    if (gatheredAt !== undefined && (gatheredAt[gatheredAt.length - 1] as number) >= start) {
      throw new Error("Writer.insertUvarintLength: a value was gathered inside the tagged field");
    }
    const length = this.pos - start;
    const size = uvarintSize(length);
    this.ensure(size);
    const buf = this.buf;
    buf.copyWithin(start + size, start, this.pos);
    // The varint is written in place, not through uvarint(): that would call ensure() with
    // pos moved back to `start`, and a reallocation there copies only [0, start), losing the
    // bytes just moved up (a tagged field of under 4 bytes ending at the buffer's end).
    let at = start;
    let v = length;
    while (v >= 0x80) {
      buf[at++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[at] = v;
    this.pos += size;
  }
}
