/**
 * Decoder for record sets: the `records` bytes of a Fetch partition, holding any number of
 * magic-v2 batches, the last possibly cut short by the broker's size limit. The consumer's hot
 * path: keys and values are views into the input, offsets and timestamps stay plain numbers.
 */
import { CorruptRecordError, ProtocolError, SamsaError } from "../../errors.js";
import { type CompressionCodec, codecFromAttributes, decompress } from "./compression/index.js";
import { crc32c } from "./crc32c.js";
import {
  ATTR_CONTROL,
  ATTR_DELETE_HORIZON,
  ATTR_LOG_APPEND_TIME,
  ATTR_TRANSACTIONAL,
  ATTRIBUTES_OFFSET,
  BASE_SEQUENCE_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  ControlRecordType,
  CRC_OFFSET,
  LAST_OFFSET_DELTA_OFFSET,
  LENGTH_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAGIC_V2,
  MAX_TIMESTAMP_OFFSET,
  PARTITION_LEADER_EPOCH_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORD_BATCH_HEADER_SIZE,
  RECORD_COUNT_OFFSET,
  readInt64Number,
  type TimestampType,
} from "./format.js";

/** A record header as read: the key decoded as UTF-8, the value a view into the input. */
export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

/**
 * A record as read. Offset and timestamp are deltas from the batch's base, kept as numbers so
 * no BigInt is made per record: see {@link recordOffset} and {@link recordTimestamp}.
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

/** The control record of a control batch. */
export interface ControlRecord {
  /** A {@link ControlRecordType}: 0 abort, 1 commit; others are KRaft's own. */
  type: number;
  /** Version of the control record key. */
  version: number;
  /** Coordinator epoch of a commit/abort marker; -1 for other types. */
  coordinatorEpoch: number;
}

/** A decoded magic-v2 record batch: its header fields and its records. */
export interface RecordBatch {
  baseOffset: bigint;
  /** The batch's length field: its size minus the 12 bytes of baseOffset and length. */
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  /** The CRC-32C stored in the batch (unsigned). */
  crc: number;
  /** Raw attributes; the fields below split them. */
  attributes: number;
  compression: CompressionCodec;
  timestampType: TimestampType;
  isTransactional: boolean;
  /** Control batches (transaction markers) carry no user data: consumers skip them. */
  isControl: boolean;
  /** baseTimestamp holds the delete horizon of a compacted batch (KIP-534). */
  hasDeleteHorizon: boolean;
  lastOffsetDelta: number;
  /** Milliseconds; exact below 2^53. */
  baseTimestamp: number;
  /** Milliseconds; the log-append time of every record when timestampType is "logAppend". */
  maxTimestamp: number;
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
  /** The header's record count; `records` is shorter when `fromOffset` skipped some. */
  recordCount: number;
  records: BatchRecord[];
  /** The parsed control record of a control batch; null otherwise (or if it has no records). */
  control: ControlRecord | null;
}

/** Options of {@link decodeRecordBatches}. */
export interface DecodeRecordBatchesOptions {
  /** Check each batch's CRC-32C; default true. */
  verifyCrc?: boolean;
  /**
   * Leave out records below this offset, and whole batches that end before it (the broker
   * answers from the start of the batch holding the fetch offset).
   */
  fromOffset?: bigint;
  /** Named in errors. */
  topic?: string;
  /** Named in errors. */
  partition?: number;
}

/** Absolute offset of `record` in `batch`. */
export function recordOffset(batch: RecordBatch, record: BatchRecord): bigint {
  return batch.baseOffset + BigInt(record.offsetDelta);
}

/**
 * Timestamp of `record` in ms. With log-append time every record carries the batch's
 * maxTimestamp, as Java's DefaultRecordBatch reports it.
 */
export function recordTimestamp(batch: RecordBatch, record: BatchRecord): number {
  return batch.timestampType === "logAppend" ? batch.maxTimestamp : batch.baseTimestamp + record.timestampDelta;
}

/**
 * The offset after `batch`: where the next fetch starts. Holds even for a batch emptied by
 * compaction, whose records are gone but whose offsets must still be stepped over.
 */
export function nextOffset(batch: RecordBatch): bigint {
  return batch.baseOffset + BigInt(batch.lastOffsetDelta) + 1n;
}

/**
 * Decodes every complete batch in `buf`, decompressing compressed ones. A truncated last
 * batch is dropped silently (fetch size limits cut batches); a CRC mismatch throws
 * CorruptRecordError; any malformed byte throws ProtocolError. Batches are checked before any
 * decompression starts, and decompressions run concurrently.
 */
export async function decodeRecordBatches(
  buf: Buffer,
  options: DecodeRecordBatchesOptions = {},
): Promise<RecordBatch[]> {
  const pending: PendingBatch[] = [];
  const batches = scan(buf, options, pending);
  if (pending.length === 0) return batches;
  const decompressed = await Promise.all(
    pending.map(({ batch, payload }) =>
      decompress(batch.compression, payload).catch((err: unknown) => {
        // A missing optional codec package keeps its own class: the fix is an install.
        if (err instanceof SamsaError && !(err instanceof ProtocolError)) throw err;
        const detail = err instanceof Error ? err.message : String(err);
        throw new ProtocolError(`${describe(batch.baseOffset, options)}: ${detail}`, { cause: err });
      }),
    ),
  );
  for (let i = 0; i < pending.length; i++) {
    const { batch, skipBelow } = pending[i] as PendingBatch;
    const data = decompressed[i] as Buffer;
    fillRecords(batch, data, 0, data.length, skipBelow, options);
  }
  return batches;
}

/**
 * Synchronous {@link decodeRecordBatches} for record sets without compressed batches: no
 * promise at all. A compressed batch throws a ProtocolError that says to use the async form.
 */
export function decodeRecordBatchesSync(buf: Buffer, options: DecodeRecordBatchesOptions = {}): RecordBatch[] {
  return scan(buf, options, null);
}

interface PendingBatch {
  batch: RecordBatch;
  payload: Buffer;
  skipBelow: number;
}

// Every record has at least a length, attributes, timestamp delta, offset delta, key length,
// value length and header count: one byte each. Counts are checked against this before use.
const MIN_RECORD_SIZE = 7;
const MIN_RECORD_BODY = MIN_RECORD_SIZE - 1;
// Bytes up to and including the magic: what must be present to classify a batch at all.
const HEADER_SIZE_UP_TO_MAGIC = MAGIC_OFFSET + 1;
const NO_HEADERS: readonly RecordHeader[] = Object.freeze([]);

function describe(baseOffset: bigint, options: DecodeRecordBatchesOptions): string {
  const where = options.topic !== undefined ? ` of ${options.topic}-${options.partition ?? "?"}` : "";
  return `record batch at offset ${baseOffset}${where}`;
}

/** Walks the batches of `buf`; compressed ones go to `pending`, or throw when it is null. */
function scan(buf: Buffer, options: DecodeRecordBatchesOptions, pending: PendingBatch[] | null): RecordBatch[] {
  const batches: RecordBatch[] = [];
  const verifyCrc = options.verifyCrc ?? true;
  const fromOffset = options.fromOffset;
  const length = buf.length;
  let pos = 0;
  while (length - pos >= HEADER_SIZE_UP_TO_MAGIC) {
    const batchLength = buf.readInt32BE(pos + LENGTH_OFFSET);
    const magic = buf.readInt8(pos + MAGIC_OFFSET);
    const baseOffset = buf.readBigInt64BE(pos);
    if (batchLength < RECORD_BATCH_HEADER_SIZE - LOG_OVERHEAD) {
      const problem =
        magic !== MAGIC_V2
          ? `unsupported magic ${magic} (only v2 is read)`
          : `batch length ${batchLength} is below the ${RECORD_BATCH_HEADER_SIZE - LOG_OVERHEAD}-byte minimum`;
      throw new ProtocolError(`${describe(baseOffset, options)}: ${problem}`);
    }
    const end = pos + LOG_OVERHEAD + batchLength;
    // Fetch responses cut the last batch at the size limit: it is complete in the next fetch.
    if (end > length) break;
    if (magic !== MAGIC_V2) {
      throw new ProtocolError(`${describe(baseOffset, options)}: unsupported magic ${magic} (only v2 is read)`);
    }
    const attributes = buf.readInt16BE(pos + ATTRIBUTES_OFFSET);
    const lastOffsetDelta = buf.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET);

    let skipBelow = 0;
    if (fromOffset !== undefined && fromOffset > baseOffset) {
      // Wholly before the requested offset: skipped unread (not even its CRC is needed).
      if (fromOffset > baseOffset + BigInt(lastOffsetDelta)) {
        pos = end;
        continue;
      }
      skipBelow = Number(fromOffset - baseOffset);
    }

    const crc = buf.readUInt32BE(pos + CRC_OFFSET);
    if (verifyCrc) {
      const computed = crc32c(buf, pos + ATTRIBUTES_OFFSET, end);
      if (computed !== crc) {
        throw new CorruptRecordError(
          `${describe(baseOffset, options)}: CRC-32C 0x${crc.toString(16)} stored, 0x${computed.toString(16)} computed`,
          { topic: options.topic, partition: options.partition, baseOffset },
        );
      }
    }
    let compression: CompressionCodec;
    try {
      compression = codecFromAttributes(attributes);
    } catch (err) {
      throw new ProtocolError(`${describe(baseOffset, options)}: ${(err as Error).message}`, { cause: err });
    }
    const recordCount = buf.readInt32BE(pos + RECORD_COUNT_OFFSET);
    if (recordCount < 0) {
      throw new ProtocolError(`${describe(baseOffset, options)}: negative record count ${recordCount}`);
    }
    const batch: RecordBatch = {
      baseOffset,
      batchLength,
      partitionLeaderEpoch: buf.readInt32BE(pos + PARTITION_LEADER_EPOCH_OFFSET),
      magic,
      crc,
      attributes,
      compression,
      timestampType: attributes & ATTR_LOG_APPEND_TIME ? "logAppend" : "create",
      isTransactional: (attributes & ATTR_TRANSACTIONAL) !== 0,
      isControl: (attributes & ATTR_CONTROL) !== 0,
      hasDeleteHorizon: (attributes & ATTR_DELETE_HORIZON) !== 0,
      lastOffsetDelta,
      baseTimestamp: readInt64Number(buf, pos + BASE_TIMESTAMP_OFFSET),
      maxTimestamp: readInt64Number(buf, pos + MAX_TIMESTAMP_OFFSET),
      producerId: buf.readBigInt64BE(pos + PRODUCER_ID_OFFSET),
      producerEpoch: buf.readInt16BE(pos + PRODUCER_EPOCH_OFFSET),
      baseSequence: buf.readInt32BE(pos + BASE_SEQUENCE_OFFSET),
      recordCount,
      records: [],
      control: null,
    };
    const payloadStart = pos + RECORD_BATCH_HEADER_SIZE;
    if (compression === "none") {
      fillRecords(batch, buf, payloadStart, end, skipBelow, options);
    } else if (pending !== null) {
      pending.push({ batch, payload: buf.subarray(payloadStart, end), skipBelow });
    } else {
      throw new ProtocolError(
        `${describe(baseOffset, options)}: ${compression}-compressed, which needs the async decodeRecordBatches`,
      );
    }
    batches.push(batch);
    pos = end;
  }
  return batches;
}

/** Decodes the records of `batch` from `data[start, end)` and its control record, with context on failure. */
function fillRecords(
  batch: RecordBatch,
  data: Buffer,
  start: number,
  end: number,
  skipBelow: number,
  options: DecodeRecordBatchesOptions,
): void {
  try {
    batch.records = decodeRecords(data, start, end, batch.recordCount, skipBelow);
    if (batch.isControl && batch.records.length > 0) batch.control = parseControl(batch.records[0] as BatchRecord);
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    throw new ProtocolError(`${describe(batch.baseOffset, options)}: ${err.message}`, { cause: err });
  }
}

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

function fail(problem: string, at?: number): never {
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

/** Decodes `count` records from `buf[start, end)`, leaving out offset deltas below `skipBelow`. */
function decodeRecords(buf: Buffer, start: number, end: number, count: number, skipBelow: number): BatchRecord[] {
  if (count > (end - start) / MIN_RECORD_SIZE) {
    fail(`record count ${count} cannot fit in ${end - start} bytes of records`, start);
  }
  const records: BatchRecord[] = [];
  const ab = buf.buffer;
  const base = buf.byteOffset;
  let p = start;
  for (let i = 0; i < count; i++) {
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
    if (offsetDelta < skipBelow) {
      p = recordEnd;
      continue;
    }
    const keyLength = readVarint(buf, p, recordEnd);
    p = cursor;
    let key: Buffer | null = null;
    if (keyLength >= 0) {
      if (keyLength > recordEnd - p) fail(`record ${i} key length ${keyLength} exceeds the record`, p);
      key = view(ab, base + p, keyLength);
      p += keyLength;
    } else if (keyLength !== -1) {
      fail(`record ${i} negative key length ${keyLength}`, p);
    }
    const valueLength = readVarint(buf, p, recordEnd);
    p = cursor;
    let value: Buffer | null = null;
    if (valueLength >= 0) {
      if (valueLength > recordEnd - p) fail(`record ${i} value length ${valueLength} exceeds the record`, p);
      value = view(ab, base + p, valueLength);
      p += valueLength;
    } else if (valueLength !== -1) {
      fail(`record ${i} negative value length ${valueLength}`, p);
    }
    const headerCount = readVarint(buf, p, recordEnd);
    p = cursor;
    let headers = NO_HEADERS;
    if (headerCount !== 0) {
      headers = decodeHeaders(buf, p, recordEnd, headerCount, i);
      p = cursor;
    }
    if (p !== recordEnd) fail(`record ${i} has ${recordEnd - p} bytes beyond its fields`, p);
    records.push({ attributes, timestampDelta, offsetDelta, key, value, headers });
  }
  if (p !== end) fail(`${end - p} bytes follow the last of ${count} records`, p);
  return records;
}

function decodeHeaders(buf: Buffer, p: number, recordEnd: number, count: number, record: number): RecordHeader[] {
  // Each header takes at least two bytes (key length, value length).
  if (count < 0 || count > (recordEnd - p) / 2) fail(`record ${record} header count ${count} is impossible`, p);
  const ab = buf.buffer;
  const base = buf.byteOffset;
  const headers: RecordHeader[] = [];
  for (let h = 0; h < count; h++) {
    const keyLength = readVarint(buf, p, recordEnd);
    p = cursor;
    if (keyLength < 0 || keyLength > recordEnd - p) fail(`record ${record} header ${h} key length ${keyLength}`, p);
    const key = (buf as SliceReader).utf8Slice(p, p + keyLength);
    p += keyLength;
    const valueLength = readVarint(buf, p, recordEnd);
    p = cursor;
    let value: Buffer | null = null;
    if (valueLength >= 0) {
      if (valueLength > recordEnd - p) fail(`record ${record} header ${h} value length ${valueLength}`, p);
      value = view(ab, base + p, valueLength);
      p += valueLength;
    } else if (valueLength !== -1) {
      fail(`record ${record} header ${h} negative value length ${valueLength}`, p);
    }
    headers.push({ key, value });
  }
  cursor = p;
  return headers;
}

/** Reads a control record: key (version, type), and for commit/abort the value (version, coordinatorEpoch). */
function parseControl(record: BatchRecord): ControlRecord {
  const key = record.key;
  if (key === null || key.length < 4) fail(`control record key of ${key?.length ?? "null"} bytes, need 4`);
  const version = key.readInt16BE(0);
  if (version < 0) fail(`control record key version ${version}`);
  const type = key.readInt16BE(2);
  let coordinatorEpoch = -1;
  if (type === ControlRecordType.Abort || type === ControlRecordType.Commit) {
    const value = record.value;
    if (value === null || value.length < 6)
      fail(`transaction marker value of ${value?.length ?? "null"} bytes, need 6`);
    const valueVersion = value.readInt16BE(0);
    if (valueVersion < 0) fail(`transaction marker version ${valueVersion}`);
    coordinatorEpoch = value.readInt32BE(2);
  }
  return { type, version, coordinatorEpoch };
}
