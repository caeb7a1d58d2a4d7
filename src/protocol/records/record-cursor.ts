/**
 * Record-level decoding of magic-v2 record bytes: a cursor that reads one record at a time
 * into its own fields, so walking a batch allocates nothing per record beyond the key and
 * value views (and headers, when a record has some). The consumer builds its messages straight
 * from the cursor; {@link decodeRecords} builds `BatchRecord` objects from it for everyone else.
 */
import { ProtocolError } from "../errors.js";

/** A record header as read: the key decoded as UTF-8, the value a view into the input. */
export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

/**
 * A record as read. Offset and timestamp are deltas from the batch's base, kept as numbers so
 * no BigInt is made per record: see `recordOffset` and `recordTimestamp`.
 */
export interface BatchRecord {
  /** Record attributes (int8; unused in v2, always 0 from Kafka's writers). */
  attributes: number;
  timestampDelta: number;
  offsetDelta: number;
  /** A view into the fetched (or decompressed) bytes; null when the length was -1. */
  key: Buffer | null;
  /** A view into the fetched (or decompressed) bytes; null (a tombstone) when the length was -1. */
  value: Buffer | null;
  /** Shared and frozen when the record has none. */
  headers: readonly RecordHeader[];
}

/** Where a batch is, for error messages. */
export interface BatchPlace {
  topic?: string | undefined;
  partition?: number | undefined;
}

/** "record batch at offset N of topic-P": the prefix of every decode error. */
export function describeBatch(baseOffset: bigint, place: BatchPlace): string {
  const where = place.topic !== undefined ? ` of ${place.topic}-${place.partition ?? "?"}` : "";
  return `record batch at offset ${baseOffset}${where}`;
}

/**
 * The fewest bytes a record takes: a length, attributes, timestamp delta, offset delta, key
 * length, value length and header count, one byte each. Counts are checked against it before use.
 */
const MIN_RECORD_SIZE = 7;
const MIN_RECORD_BODY = MIN_RECORD_SIZE - 1;

/** The most records `bytes` bytes of records can hold: the bound a broker's record count is checked against. */
export function maxRecordsIn(bytes: number): number {
  return Math.floor(bytes / MIN_RECORD_SIZE);
}
/** Shared by every record without headers. */
export const NO_HEADERS: readonly RecordHeader[] = Object.freeze([]);
const EMPTY = Buffer.alloc(0);
const NOWHERE: BatchPlace = {};

/**
 * A Buffer made straight over an ArrayBuffer range. `buf.subarray` goes through the species
 * protocol and Node's Buffer wrapper (~70 ns here); this is the construction Node's own
 * FastBuffer uses (~25 ns), and the result is a real Buffer: `Buffer.isBuffer` is true and every
 * Buffer method works, because its prototype chain runs through Buffer.prototype.
 *
 * Two measured traps, each worth ~10x: the constructor is spelled out (V8's implicit derived
 * constructor forwards a spread), and the class is anonymous, returned from a function, so
 * that esbuild's keepNames (tsx, vitest) has no name to re-define on it: a redefined `name`
 * knocks typed-array subclass construction off V8's fast path (25 ns to 260 ns).
 */
const BufferView = (() =>
  class extends Uint8Array {
    constructor(buffer: ArrayBuffer, byteOffset: number, length: number) {
      super(buffer, byteOffset, length);
    }
  })();
Object.setPrototypeOf(BufferView.prototype, Buffer.prototype);

function view(ab: ArrayBufferLike, byteOffset: number, length: number): Buffer {
  return new BufferView(ab as ArrayBuffer, byteOffset, length) as unknown as Buffer;
}

type SliceReader = Buffer & { utf8Slice(start: number, end: number): string };

// Position after the last varint read. Module state instead of a returned pair: no object per
// field, and V8 inlines the readers into the record loop.
let cursor = 0;

/** Throws the ProtocolError for malformed record bytes, with the byte position when known. */
export function fail(problem: string, at?: number): never {
  throw new ProtocolError(at === undefined ? problem : `${problem} at byte ${at}`);
}

/** Zigzag varint (int32) at `pos`, not reading at or past `limit`; Java's readVarint semantics. */
function readVarint(buf: Buffer, pos: number, limit: number): number {
  if (pos >= limit) fail("truncated varint", pos);
  let b = buf[pos++] as number;
  if (b < 0x80) {
    cursor = pos;
    return (b >>> 1) ^ -(b & 1);
  }
  let value = b & 0x7f;
  for (let shift = 7; ; shift += 7) {
    if (pos >= limit) fail("truncated varint", pos);
    b = buf[pos++] as number;
    if (b < 0x80) {
      value |= b << shift;
      break;
    }
    if (shift === 28) fail("varint longer than 5 bytes", pos);
    value |= (b & 0x7f) << shift;
  }
  cursor = pos;
  return (value >>> 1) ^ -(value & 1);
}

/**
 * Zigzag varlong at `pos` as a number: exact to 2^53 (every real timestamp delta), the nearest
 * double beyond. Past 28 bits the zigzag value itself may not be an exact double, so the result
 * is assembled as ⌊z/2⌋ from the groups, with the sign taken from bit 0 of the first byte.
 */
function readVarlong(buf: Buffer, pos: number, limit: number): number {
  if (pos >= limit) fail("truncated varlong", pos);
  const first = buf[pos++] as number;
  if (first < 0x80) {
    cursor = pos;
    return (first >>> 1) ^ -(first & 1);
  }
  let low = first & 0x7f;
  let shift = 7;
  for (; shift < 28; shift += 7) {
    if (pos >= limit) fail("truncated varlong", pos);
    const b = buf[pos++] as number;
    if (b < 0x80) {
      low |= b << shift;
      cursor = pos;
      return (low >>> 1) ^ -(low & 1);
    }
    low |= (b & 0x7f) << shift;
  }
  // ⌊z/2⌋ = ⌊low/2⌋ + (groups from bit 28 on) · 2^27.
  let high = 0;
  let scale = 2 ** 27;
  for (; shift <= 63; shift += 7) {
    if (pos >= limit) fail("truncated varlong", pos);
    const b = buf[pos++] as number;
    high += (b & 0x7f) * scale;
    if (b < 0x80) {
      cursor = pos;
      const half = (low >>> 1) + high;
      return first & 1 ? -half - 1 : half;
    }
    scale *= 0x80;
  }
  return fail("varlong longer than 10 bytes", pos);
}

/**
 * A length-prefixed byte field at `pos` (varint length, -1 for null) as a view; sets `cursor`
 * after it. `record`, `field` and `header` (-1: not a header) only name it in errors.
 */
function readBytes(
  buf: Buffer,
  ab: ArrayBufferLike,
  base: number,
  pos: number,
  limit: number,
  record: number,
  field: string,
  header: number,
): Buffer | null {
  const length = readVarint(buf, pos, limit);
  pos = cursor;
  if (length >= 0) {
    if (length > limit - pos) fail(`${fieldName(record, field, header)} length ${length} exceeds the record`, pos);
    cursor = pos + length;
    return view(ab, base + pos, length);
  }
  if (length !== -1) fail(`${fieldName(record, field, header)} has negative length ${length}`, pos);
  return null;
}

function fieldName(record: number, field: string, header: number): string {
  return header < 0 ? `record ${record} ${field}` : `record ${record} header ${header} ${field}`;
}

/**
 * Reads the records of one batch, one per {@link next}, into its public fields. Reusable:
 * {@link open} starts it on another batch. Malformed bytes throw a ProtocolError naming the
 * batch and the record.
 */
export class RecordCursor {
  /** Fields of the record {@link next} read last. */
  attributes = 0;
  timestampDelta = 0;
  offsetDelta = 0;
  key: Buffer | null = null;
  value: Buffer | null = null;
  headers: readonly RecordHeader[] = NO_HEADERS;
  #buf: Buffer = EMPTY;
  #ab: ArrayBufferLike = EMPTY.buffer;
  #base = 0;
  #pos = 0;
  #end = 0;
  #count = 0;
  #index = 0;
  #skipBelow = 0;
  #baseOffset = 0n;
  #place: BatchPlace = NOWHERE;

  /**
   * Starts on the `count` records in `data[start, end)` of the batch at `baseOffset`, passing
   * over records whose offset delta is below `skipBelow`.
   */
  open(
    data: Buffer,
    start: number,
    end: number,
    count: number,
    skipBelow: number,
    baseOffset: bigint,
    place: BatchPlace = NOWHERE,
  ): void {
    this.#baseOffset = baseOffset;
    this.#place = place;
    if (count > maxRecordsIn(end - start)) {
      this.#fail(
        new ProtocolError(`record count ${count} cannot fit in ${end - start} bytes of records at byte ${start}`),
      );
    }
    this.#buf = data;
    this.#ab = data.buffer;
    this.#base = data.byteOffset;
    this.#pos = start;
    this.#end = end;
    this.#count = count;
    this.#index = 0;
    this.#skipBelow = skipBelow;
  }

  /** Reads the next record into the fields; false once every record is read. */
  next(): boolean {
    try {
      return this.#read();
    } catch (err) {
      return this.#fail(err);
    }
  }

  #fail(err: unknown): never {
    this.#count = 0;
    this.#pos = this.#end;
    if (!(err instanceof ProtocolError)) throw err;
    throw new ProtocolError(`${describeBatch(this.#baseOffset, this.#place)}: ${err.message}`, { cause: err });
  }

  #read(): boolean {
    const buf = this.#buf;
    const end = this.#end;
    let p = this.#pos;
    while (this.#index < this.#count) {
      const i = this.#index++;
      const length = readVarint(buf, p, end);
      p = cursor;
      if (length < MIN_RECORD_BODY || length > end - p) {
        fail(`record ${i} length ${length} outside ${MIN_RECORD_BODY}..${end - p}`, p);
      }
      // One bound for the whole record: every field below is read against recordEnd.
      const recordEnd = p + length;
      const attributes = ((buf[p++] as number) << 24) >> 24;
      const timestampDelta = readVarlong(buf, p, recordEnd);
      const offsetDelta = readVarint(buf, cursor, recordEnd);
      p = cursor;
      if (offsetDelta < this.#skipBelow) {
        p = recordEnd;
        this.#pos = p;
        continue;
      }
      const key = readBytes(buf, this.#ab, this.#base, p, recordEnd, i, "key", -1);
      const value = readBytes(buf, this.#ab, this.#base, cursor, recordEnd, i, "value", -1);
      const headerCount = readVarint(buf, cursor, recordEnd);
      p = cursor;
      let headers = NO_HEADERS;
      if (headerCount !== 0) {
        headers = this.#headers(p, recordEnd, headerCount, i);
        p = cursor;
      }
      if (p !== recordEnd) fail(`record ${i} has ${recordEnd - p} bytes beyond its fields`, p);
      this.#pos = p;
      this.attributes = attributes;
      this.timestampDelta = timestampDelta;
      this.offsetDelta = offsetDelta;
      this.key = key;
      this.value = value;
      this.headers = headers;
      return true;
    }
    if (p !== end) fail(`${end - p} bytes follow the last of ${this.#count} records`, p);
    return false;
  }

  #headers(p: number, recordEnd: number, count: number, record: number): RecordHeader[] {
    const buf = this.#buf;
    // Each header takes at least two bytes (key length, value length).
    if (count < 0 || count > (recordEnd - p) / 2) fail(`record ${record} header count ${count} is impossible`, p);
    const headers: RecordHeader[] = [];
    for (let h = 0; h < count; h++) {
      const keyLength = readVarint(buf, p, recordEnd);
      p = cursor;
      if (keyLength < 0 || keyLength > recordEnd - p) fail(`record ${record} header ${h} key length ${keyLength}`, p);
      const key = (buf as SliceReader).utf8Slice(p, p + keyLength);
      p += keyLength;
      const value = readBytes(buf, this.#ab, this.#base, p, recordEnd, record, "value", h);
      p = cursor;
      headers.push({ key, value });
    }
    cursor = p;
    return headers;
  }
}

/** Every record of one batch as `BatchRecord` objects; see {@link RecordCursor.open}. */
export function decodeRecords(
  data: Buffer,
  start: number,
  end: number,
  count: number,
  skipBelow: number,
  baseOffset: bigint,
  place?: BatchPlace,
): BatchRecord[] {
  const c = new RecordCursor();
  c.open(data, start, end, count, skipBelow, baseOffset, place);
  const records: BatchRecord[] = [];
  while (c.next()) {
    records.push({
      attributes: c.attributes,
      timestampDelta: c.timestampDelta,
      offsetDelta: c.offsetDelta,
      key: c.key,
      value: c.value,
      headers: c.headers,
    });
  }
  return records;
}
