/**
 * Decoder for record sets: the `records` bytes of a Fetch partition, holding any number of
 * magic-v2 batches, the last possibly cut short by the broker's size limit. The consumer's hot
 * path: keys and values are views into the input, offsets and timestamps stay plain numbers.
 */
import { CorruptRecordError, DecompressionLimitError, ProtocolError, SamsaError } from "../errors.js";
import { BatchHeaderWalk } from "./batch-headers.js";
import {
  type CompressionCodec,
  codecFromAttributes,
  DEFAULT_MAX_DECOMPRESSED_BYTES,
  DecompressionBudget,
  decompress,
} from "./compression/index.js";
import { crc32c } from "./crc32c.js";
import {
  ATTR_CONTROL,
  ATTR_DELETE_HORIZON,
  ATTR_LOG_APPEND_TIME,
  ATTR_TRANSACTIONAL,
  ControlRecordType,
  MAGIC_V2,
  type TimestampType,
} from "./format.js";
import { type BatchRecord, decodeRecords, describeBatch, fail } from "./record-cursor.js";

export type { BatchRecord, RecordHeader } from "./record-cursor.js";

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
  /**
   * With `lazyRecords`: where the records are, for a `RecordCursor`; `records` stays empty.
   * Absent when the records were decoded (always, for control batches).
   */
  encoded?: EncodedRecords;
}

/** A batch's record bytes, undecoded: `data[start, end)`, records below `skipBelow` to be passed over. */
export interface EncodedRecords {
  /** The fetched bytes, or the decompressed payload. */
  data: Buffer;
  start: number;
  end: number;
  /** Offset delta below which records were not asked for. */
  skipBelow: number;
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
  /**
   * Check and decompress batches but leave their records undecoded (see
   * {@link RecordBatch.encoded}): the consumer reads them with a `RecordCursor`, one at a time.
   */
  lazyRecords?: boolean;
  /**
   * Most bytes the compressed batches of this call may decompress to, all together (they
   * decompress concurrently and share it); default {@link DEFAULT_MAX_DECOMPRESSED_BYTES},
   * 256 MiB. A batch that would pass it fails the call with DecompressionLimitError (naming
   * `topic`, `partition`, the batch's offset, the codec and the limit) before more than the
   * limit is held: the guard against decompression bombs from a hostile or broken broker.
   * Uncompressed batches are views of `buf` and do not count.
   */
  maxDecompressedBytes?: number;
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
 * decompression starts, and decompressions run a few at a time, together bounded by
 * `maxDecompressedBytes` (past it: DecompressionLimitError).
 */
export async function decodeRecordBatches(
  buf: Buffer,
  options: DecodeRecordBatchesOptions = {},
): Promise<RecordBatch[]> {
  // Checked before any byte is read, so a bad option fails the call that received it.
  const budget = new DecompressionBudget(options.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES);
  const pending: PendingBatch[] = [];
  const batches = scan(buf, options, pending);
  if (pending.length === 0) return batches;
  const one = ({ batch, payload }: PendingBatch): Promise<Buffer> =>
    decompress(batch.compression, payload, budget).catch((err: unknown) => {
      if (err instanceof DecompressionLimitError) {
        throw new DecompressionLimitError(
          err.codec,
          err.limit,
          { topic: options.topic, partition: options.partition, baseOffset: batch.baseOffset },
          { cause: err },
        );
      }
      // A missing optional codec package keeps its own class: the fix is an install.
      if (err instanceof SamsaError && !(err instanceof ProtocolError)) throw err;
      const detail = err instanceof Error ? err.message : String(err);
      throw new ProtocolError(`${describeBatch(batch.baseOffset, options)}: ${detail}`, { cause: err });
    });
  const decompressed: Buffer[] = new Array(pending.length);
  let next = 0;
  // A few decompressions at a time keep the thread pool busy; thousands at once (a fetch of
  // tiny batches) would each hold a stream and a chunk or block beyond what the budget counts.
  const lane = async (): Promise<void> => {
    while (next < pending.length) {
      const i = next++;
      decompressed[i] = await one(pending[i] as PendingBatch);
    }
  };
  const lanes: Promise<void>[] = [];
  for (let i = 0; i < Math.min(DECOMPRESS_CONCURRENCY, pending.length); i++) lanes.push(lane());
  try {
    await Promise.all(lanes);
  } catch (err) {
    next = pending.length; // the other lanes stop after their current batch
    throw err;
  }
  for (let i = 0; i < pending.length; i++) {
    const { batch, skipBelow } = pending[i] as PendingBatch;
    const data = decompressed[i] as Buffer;
    recordsOf(batch, data, 0, data.length, skipBelow, options);
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

/** Batches of one record set decompressing at once (the libuv pool has 4 threads by default). */
const DECOMPRESS_CONCURRENCY = 8;

interface PendingBatch {
  batch: RecordBatch;
  payload: Buffer;
  skipBelow: number;
}

/** Walks the batches of `buf`; compressed ones go to `pending`, or throw when it is null. */
function scan(buf: Buffer, options: DecodeRecordBatchesOptions, pending: PendingBatch[] | null): RecordBatch[] {
  const batches: RecordBatch[] = [];
  const verifyCrc = options.verifyCrc ?? true;
  const fromOffset = options.fromOffset;
  const walk = new BatchHeaderWalk(buf);
  // A false step is the end of the bytes or a last batch cut short (fetch size limits cut
  // batches: it is complete in the next fetch), unless the walk names a problem.
  while (walk.next()) {
    const { baseOffset, batchLength, magic, end } = walk;
    if (magic !== MAGIC_V2) {
      throw new ProtocolError(`${describeBatch(baseOffset, options)}: unsupported magic ${magic} (only v2 is read)`);
    }
    const attributes = walk.attributes;
    const lastOffsetDelta = walk.lastOffsetDelta;

    let skipBelow = 0;
    if (fromOffset !== undefined && fromOffset > baseOffset) {
      // Wholly before the requested offset: skipped unread (not even its CRC is needed).
      if (fromOffset > baseOffset + BigInt(lastOffsetDelta)) continue;
      skipBelow = Number(fromOffset - baseOffset);
    }

    const crc = walk.crc;
    if (verifyCrc) {
      const computed = crc32c(buf, walk.crcStart, end);
      if (computed !== crc) {
        throw new CorruptRecordError(
          `${describeBatch(baseOffset, options)}: CRC-32C 0x${crc.toString(16)} stored, 0x${computed.toString(16)} computed`,
          { topic: options.topic, partition: options.partition, baseOffset },
        );
      }
    }
    let compression: CompressionCodec;
    try {
      compression = codecFromAttributes(attributes);
    } catch (err) {
      throw new ProtocolError(`${describeBatch(baseOffset, options)}: ${(err as Error).message}`, { cause: err });
    }
    const recordCount = walk.recordCount;
    if (recordCount < 0) {
      throw new ProtocolError(`${describeBatch(baseOffset, options)}: negative record count ${recordCount}`);
    }
    const batch: RecordBatch = {
      baseOffset,
      batchLength,
      partitionLeaderEpoch: walk.partitionLeaderEpoch,
      magic,
      crc,
      attributes,
      compression,
      timestampType: attributes & ATTR_LOG_APPEND_TIME ? "logAppend" : "create",
      isTransactional: (attributes & ATTR_TRANSACTIONAL) !== 0,
      isControl: (attributes & ATTR_CONTROL) !== 0,
      hasDeleteHorizon: (attributes & ATTR_DELETE_HORIZON) !== 0,
      lastOffsetDelta,
      baseTimestamp: walk.baseTimestamp,
      maxTimestamp: walk.maxTimestamp,
      producerId: walk.producerId,
      producerEpoch: walk.producerEpoch,
      baseSequence: walk.baseSequence,
      recordCount,
      records: [],
      control: null,
    };
    const payloadStart = walk.payloadStart;
    if (compression === "none") {
      recordsOf(batch, buf, payloadStart, end, skipBelow, options);
    } else if (pending !== null) {
      pending.push({ batch, payload: buf.subarray(payloadStart, end), skipBelow });
    } else {
      throw new ProtocolError(
        `${describeBatch(baseOffset, options)}: ${compression}-compressed, which needs the async decodeRecordBatches`,
      );
    }
    batches.push(batch);
  }
  if (walk.problem !== undefined)
    throw new ProtocolError(`${describeBatch(walk.baseOffset, options)}: ${walk.problem}`);
  return batches;
}

/**
 * Gives `batch` its records from `data[start, end)`: decoded (and its control record parsed),
 * or with `lazyRecords` only located. Control batches are decoded anyway: read_committed
 * needs their markers.
 */
function recordsOf(
  batch: RecordBatch,
  data: Buffer,
  start: number,
  end: number,
  skipBelow: number,
  options: DecodeRecordBatchesOptions,
): void {
  if (options.lazyRecords && !batch.isControl) {
    batch.encoded = { data, start, end, skipBelow };
    return;
  }
  batch.records = decodeRecords(data, start, end, batch.recordCount, skipBelow, batch.baseOffset, options);
  if (batch.isControl && batch.records.length > 0) {
    try {
      batch.control = parseControl(batch.records[0] as BatchRecord);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      throw new ProtocolError(`${describeBatch(batch.baseOffset, options)}: ${err.message}`, { cause: err });
    }
  }
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
