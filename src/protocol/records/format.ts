/**
 * The layout of a magic-v2 record batch, shared by the builder and the decoder: header field
 * offsets, attribute bits, control record types, and zigzag varlongs over plain JS numbers so
 * that timestamps never cost a BigInt per record.
 */
import { uvarintSize } from "../primitives/writer.js";

/** Bytes of a v2 batch header, from baseOffset to recordCount. */
export const RECORD_BATCH_HEADER_SIZE = 61;
/** Bytes before the batch length field's count starts: baseOffset (8) and the length (4). */
export const LOG_OVERHEAD = 12;
/** The only magic this client reads or writes. */
export const MAGIC_V2 = 2;

// Byte offsets of the header fields (Kafka's DefaultRecordBatch constants).
export const BASE_OFFSET_OFFSET = 0;
export const LENGTH_OFFSET = 8;
export const PARTITION_LEADER_EPOCH_OFFSET = 12;
export const MAGIC_OFFSET = 16;
export const CRC_OFFSET = 17;
/** The CRC covers the batch from here (attributes) to its end. */
export const ATTRIBUTES_OFFSET = 21;
export const LAST_OFFSET_DELTA_OFFSET = 23;
export const BASE_TIMESTAMP_OFFSET = 27;
export const MAX_TIMESTAMP_OFFSET = 35;
export const PRODUCER_ID_OFFSET = 43;
export const PRODUCER_EPOCH_OFFSET = 51;
export const BASE_SEQUENCE_OFFSET = 53;
export const RECORD_COUNT_OFFSET = 57;

// Bits 0–2 hold the compression codec id: COMPRESSION_CODEC_MASK in compression/index.ts.
/** Batch attribute bit 3: timestamps are the broker's log-append time. */
export const ATTR_LOG_APPEND_TIME = 0x08;
/** Batch attribute bit 4: the batch belongs to a transaction. */
export const ATTR_TRANSACTIONAL = 0x10;
/** Batch attribute bit 5: the batch holds a control record (commit/abort marker and kin). */
export const ATTR_CONTROL = 0x20;
/** Batch attribute bit 6: baseTimestamp holds the delete horizon of a compacted batch (KIP-534). */
export const ATTR_DELETE_HORIZON = 0x40;

/** How the timestamps of a batch were assigned. */
export type TimestampType = "create" | "logAppend";

/**
 * Control record types (the `type` of the control record key, Kafka's ControlRecordType).
 * Consumers see only Abort and Commit in data partitions; the others are KRaft's own.
 */
export const ControlRecordType = {
  Abort: 0,
  Commit: 1,
  LeaderChange: 3,
  SnapshotHeader: 4,
  SnapshotFooter: 5,
  KRaftVersion: 6,
  KRaftVoters: 7,
} as const;

const TWO_POW_32 = 0x1_0000_0000;

/**
 * Bytes needed by the zigzag varlong of `value`, a safe integer. Int32 values take the 32-bit
 * path; beyond it see {@link writeVarlong}.
 */
export function varlongSize(value: number): number {
  if ((value | 0) === value) return uvarintSize(((value << 1) ^ (value >> 31)) >>> 0);
  let rest = Math.floor((value < 0 ? -value - 1 : value) / 64);
  let n = 2;
  while (rest >= 0x80) {
    rest = Math.floor(rest / 0x80);
    n++;
  }
  return n;
}

/** Writes the zigzag varint of the int32 `value` at `pos`; returns the position after it. */
export function writeVarint(buf: Uint8Array, pos: number, value: number): number {
  let v = ((value << 1) ^ (value >> 31)) >>> 0;
  while (v >= 0x80) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[pos++] = v;
  return pos;
}

/**
 * Writes the zigzag varlong of `value` (a safe integer) at `pos` and returns the position after
 * it. Int32 values use 32-bit zigzag. Beyond, the zigzag value 2k+s (k = |value| or |value|-1,
 * s the sign bit) reaches 2^54, past exact doubles, so it is never formed: its first 7-bit group
 * is 2·(k mod 64)+s and the groups after it are those of ⌊k/64⌋, both exact.
 */
export function writeVarlong(buf: Uint8Array, pos: number, value: number): number {
  if ((value | 0) === value) return writeVarint(buf, pos, value);
  const negative = value < 0;
  const k = negative ? -value - 1 : value;
  // |value| ≥ 2^31 here, so ⌊k/64⌋ > 0 and the first group always continues.
  buf[pos++] = ((k % 64) * 2 + (negative ? 1 : 0)) | 0x80;
  let rest = Math.floor(k / 64);
  while (rest >= 0x80) {
    buf[pos++] = (rest % 0x80) | 0x80;
    rest = Math.floor(rest / 0x80);
  }
  buf[pos++] = rest;
  return pos;
}

/**
 * Reads an int64 stored big-endian at `pos` as a JS number: exact up to 2^53, the nearest double
 * beyond (timestamps; a BigInt per field would cost ~75 ns).
 */
export function readInt64Number(buf: Buffer, pos: number): number {
  return buf.readInt32BE(pos) * TWO_POW_32 + buf.readUInt32BE(pos + 4);
}

/** Writes the safe integer `value` as a big-endian int64 at `pos`. */
export function writeInt64Number(buf: Buffer, pos: number, value: number): void {
  const high = Math.floor(value / TWO_POW_32);
  buf.writeInt32BE(high, pos);
  buf.writeUInt32BE(value - high * TWO_POW_32, pos + 4);
}
