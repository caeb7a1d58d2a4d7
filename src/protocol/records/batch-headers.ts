/**
 * The one walk over the batch headers of a record set (a Fetch partition's `records`): where
 * each complete magic-v2 batch starts and ends and what its fixed header says, read in place
 * from the layout in format.ts. The decoder builds its batches on it and the consumer's fetch
 * buffer learns the next fetch offset from it without decoding, so both agree on where a
 * record set's complete batches end.
 */
import { COMPRESSION_CODEC_MASK } from "./compression/index.js";
import {
  ATTRIBUTES_OFFSET,
  BASE_SEQUENCE_OFFSET,
  BASE_TIMESTAMP_OFFSET,
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
} from "./format.js";

/** Bytes up to and including the magic: what must be present to classify a batch at all. */
const HEADER_SIZE_UP_TO_MAGIC = MAGIC_OFFSET + 1;
/** Smallest legal length field: a header and no records. */
const MIN_BATCH_LENGTH = RECORD_BATCH_HEADER_SIZE - LOG_OVERHEAD;

/**
 * A cursor over the batches of a record set, one object for the whole walk (no allocation
 * per batch). {@link next} moves to the next complete batch; after it returned true the
 * header fields of that batch are readable (bounds are checked once there: the batch lies
 * inside the buffer and is at least a header long). The walk stops at the end of the bytes,
 * at a last batch cut short (fetch size limits cut batches; it comes whole in the next
 * fetch), or at a length that cannot be a batch's, which {@link problem} then names.
 * The magic is not judged: a caller that reads records checks {@link magic} itself.
 */
export class BatchHeaderWalk {
  readonly #buf: Buffer;
  #at: number;
  /** Start of the current batch in the buffer (its baseOffset field). */
  pos = 0;
  /** End of the current batch in the buffer (exclusive). */
  end = 0;
  /** The current batch's baseOffset (also set when {@link problem} is, for its message). */
  baseOffset = 0n;
  /** The length field: the batch's size minus the 12 bytes of baseOffset and length. */
  batchLength = 0;
  magic = 0;
  /**
   * Why the walk stopped short of the bytes' end at a header that cannot be a batch (a
   * length below a header's, for instance from an older magic); undefined when the bytes
   * simply ended, or the last batch was cut short.
   */
  problem: string | undefined;

  constructor(buf: Buffer, start = 0) {
    this.#buf = buf;
    this.#at = start;
  }

  /** Moves to the next complete batch; false when there is none (see the class comment). */
  next(): boolean {
    const buf = this.#buf;
    const pos = this.#at;
    if (buf.length - pos < HEADER_SIZE_UP_TO_MAGIC) return false;
    const batchLength = buf.readInt32BE(pos + LENGTH_OFFSET);
    const magic = buf.readInt8(pos + MAGIC_OFFSET);
    this.baseOffset = buf.readBigInt64BE(pos);
    this.batchLength = batchLength;
    this.magic = magic;
    if (batchLength < MIN_BATCH_LENGTH) {
      // Checked before the end, so a negative length never moves the walk backwards.
      this.problem =
        magic !== MAGIC_V2
          ? `unsupported magic ${magic} (only v2 is read)`
          : `batch length ${batchLength} is below the ${MIN_BATCH_LENGTH}-byte minimum`;
      return false;
    }
    const end = pos + LOG_OVERHEAD + batchLength;
    if (end > buf.length) return false;
    this.pos = pos;
    this.end = end;
    this.#at = end;
    return true;
  }

  get partitionLeaderEpoch(): number {
    return this.#buf.readInt32BE(this.pos + PARTITION_LEADER_EPOCH_OFFSET);
  }

  /** The stored CRC-32C (unsigned); it covers {@link crcStart} to {@link end}. */
  get crc(): number {
    return this.#buf.readUInt32BE(this.pos + CRC_OFFSET);
  }

  /** Where the bytes the CRC covers start: the attributes. */
  get crcStart(): number {
    return this.pos + ATTRIBUTES_OFFSET;
  }

  get attributes(): number {
    return this.#buf.readInt16BE(this.pos + ATTRIBUTES_OFFSET);
  }

  /** A codec bit is set: reading the records needs a decompressor. */
  get compressed(): boolean {
    return (this.attributes & COMPRESSION_CODEC_MASK) !== 0;
  }

  get lastOffsetDelta(): number {
    return this.#buf.readInt32BE(this.pos + LAST_OFFSET_DELTA_OFFSET);
  }

  /** The offset after the batch, where a fetch continues (also past a batch compaction emptied). */
  get nextOffset(): bigint {
    return this.baseOffset + BigInt(this.lastOffsetDelta) + 1n;
  }

  /** Milliseconds, exact below 2^53. */
  get baseTimestamp(): number {
    return readInt64Number(this.#buf, this.pos + BASE_TIMESTAMP_OFFSET);
  }

  /** Milliseconds, exact below 2^53. */
  get maxTimestamp(): number {
    return readInt64Number(this.#buf, this.pos + MAX_TIMESTAMP_OFFSET);
  }

  get producerId(): bigint {
    return this.#buf.readBigInt64BE(this.pos + PRODUCER_ID_OFFSET);
  }

  get producerEpoch(): number {
    return this.#buf.readInt16BE(this.pos + PRODUCER_EPOCH_OFFSET);
  }

  get baseSequence(): number {
    return this.#buf.readInt32BE(this.pos + BASE_SEQUENCE_OFFSET);
  }

  /** The header's record count (not checked: negative counts are the reader's to refuse). */
  get recordCount(): number {
    return this.#buf.readInt32BE(this.pos + RECORD_COUNT_OFFSET);
  }

  /** Where the records (or the compressed payload) start. */
  get payloadStart(): number {
    return this.pos + RECORD_BATCH_HEADER_SIZE;
  }
}

/** What {@link scanBatchHeaders} learns from the batch headers alone. */
export interface RecordSetScan {
  /** Offset after the last complete batch; undefined when no batch is complete. */
  nextOffset: bigint | undefined;
  /** Some complete batch is compressed. */
  compressed: boolean;
  /** Partition leader epoch of the last complete batch (-1 if none). */
  lastEpoch: number;
  /** Why the scan stopped at a header that cannot be a batch; undefined when the bytes ended. */
  problem: string | undefined;
  /** Records in the complete batches, as their headers count them (control records included). */
  records: number;
}

/**
 * Walks a record set's headers without reading records: where the next fetch starts,
 * whether decoding will need decompression, and the leader epoch of the last complete batch.
 * A header that cannot be a batch ends the scan there; the decoder reports it when it reads
 * the same bytes.
 */
export function scanBatchHeaders(buf: Buffer): RecordSetScan {
  const walk = new BatchHeaderWalk(buf);
  let nextOffset: bigint | undefined;
  let compressed = false;
  let lastEpoch = -1;
  let records = 0;
  while (walk.next()) {
    if (walk.compressed) compressed = true;
    nextOffset = walk.nextOffset;
    lastEpoch = walk.partitionLeaderEpoch;
    records += walk.recordCount;
  }
  return { nextOffset, compressed, lastEpoch, problem: walk.problem, records };
}
