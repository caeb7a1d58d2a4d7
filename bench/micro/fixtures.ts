/**
 * Inputs shared by the record micro-benchmarks, ours and the peer comparisons: deterministic
 * records of the benchmark's shape (10-byte keys, 100-byte values) and record sets built from them.
 */
import { RecordBatchBuilder, type RecordInput } from "../../src/protocol/records/index.js";

/** Shape of the benchmark records. */
export interface RecordFixtureOptions {
  /** Default 10. */
  keySize?: number;
  /** Default 100. */
  valueSize?: number;
  /** Default 0: the same bytes every run. */
  seed?: number;
  /** Timestamp of the first record (ms); each next record is 1 ms later. Default 1_700_000_000_000. */
  baseTimestamp?: number;
}

/** Fills `buf` with bytes from a 32-bit xorshift stream; returns the next state. */
function fill(buf: Buffer, state: number): number {
  for (let i = 0; i < buf.length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    buf[i] = state & 0xff;
  }
  return state;
}

/** `count` records with distinct Buffer keys and values, no headers. */
export function makeRecords(count: number, options: RecordFixtureOptions = {}): RecordInput[] {
  const keySize = options.keySize ?? 10;
  const valueSize = options.valueSize ?? 100;
  const baseTimestamp = options.baseTimestamp ?? 1_700_000_000_000;
  let state = (options.seed ?? 0) * 0x9e3779b1 + 0x12345678 || 1;
  const records: RecordInput[] = [];
  for (let i = 0; i < count; i++) {
    const key = Buffer.allocUnsafe(keySize);
    const value = Buffer.allocUnsafe(valueSize);
    state = fill(key, state);
    state = fill(value, state);
    records.push({ timestamp: baseTimestamp + i, key, value });
  }
  return records;
}

/** Encodes `records` into one uncompressed batch (header and CRC included). */
export function buildBatch(records: readonly RecordInput[], baseOffset = 0n): Buffer {
  const builder = new RecordBatchBuilder({ baseOffset, initialCapacity: 64 * 1024 });
  for (const record of records) builder.append(record);
  return builder.build();
}

/**
 * A record set of about `totalBytes` (default 1 MiB), as a Fetch response carries it:
 * consecutive batches of `recordsPerBatch` records (default 1,000) with consecutive offsets.
 */
export function makeRecordSet(
  totalBytes = 1024 * 1024,
  recordsPerBatch = 1000,
  options: RecordFixtureOptions = {},
): {
  buf: Buffer;
  recordCount: number;
} {
  const records = makeRecords(recordsPerBatch, options);
  const parts: Buffer[] = [];
  let size = 0;
  let offset = 0n;
  while (size < totalBytes) {
    // Copied: `buildBatch` returns a view of a builder's buffer, larger than the batch.
    const batch = Buffer.from(buildBatch(records, offset));
    parts.push(batch);
    size += batch.length;
    offset += BigInt(recordsPerBatch);
  }
  return { buf: Buffer.concat(parts), recordCount: parts.length * recordsPerBatch };
}
