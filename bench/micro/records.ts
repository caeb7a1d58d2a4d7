/**
 * Micro-benchmark of the record batch hot paths: encoding 1,000-record batches (10-byte keys,
 * 100-byte values) and decoding ~1 MiB record sets, in ns per record, with and without CRC-32C.
 * Run with `npx tsx bench/micro/records.ts`; `runRecordsBench()` serves `npm run bench`.
 */
import { pathToFileURL } from "node:url";
import {
  decodeRecordBatchesSync,
  RecordBatchBuilder,
  RecordCursor,
  type RecordInput,
} from "../../src/protocol/records/index.js";
import { makeRecordSet, makeRecords } from "./fixtures.js";

/** One measured operation. */
export interface RecordsBenchRow {
  /** What was measured. */
  name: string;
  /** Best ns per record over the timed rounds. */
  nsPerRecord: number;
}

/**
 * Best ns per record of `rounds` timed runs of about `ms` milliseconds each, after a warm-up
 * run; `fn` processes `recordsPerCall` records per call.
 */
export function measureNsPerRecord(fn: () => unknown, recordsPerCall: number, ms = 400, rounds = 5): number {
  let best = Number.POSITIVE_INFINITY;
  let sink: unknown;
  for (let r = 0; r <= rounds; r++) {
    let calls = 0;
    const t0 = process.hrtime.bigint();
    let elapsed = 0;
    while (elapsed < ms * 1e6) {
      sink = fn();
      calls++;
      elapsed = Number(process.hrtime.bigint() - t0);
    }
    // Round 0 is the warm-up: it lets the JIT settle before anything counts.
    if (r > 0) best = Math.min(best, elapsed / (calls * recordsPerCall));
  }
  if (sink === 0.5) console.log(sink); // keeps the results observable to the optimiser
  return best;
}

const BATCH_CAPACITY = 128 * 1024;

function appendAll(records: readonly RecordInput[]): RecordBatchBuilder {
  const builder = new RecordBatchBuilder({ initialCapacity: BATCH_CAPACITY });
  for (let i = 0; i < records.length; i++) builder.append(records[i] as RecordInput);
  return builder;
}

/**
 * The consumer's path: batches checked with records left encoded, then every record read
 * with one reused cursor, touching its value as an application would.
 */
function readWithCursor(buf: Buffer, cursor: RecordCursor): number {
  let bytes = 0;
  for (const batch of decodeRecordBatchesSync(buf, { lazyRecords: true })) {
    const e = batch.encoded;
    if (e === undefined) continue;
    cursor.open(e.data, e.start, e.end, batch.recordCount, e.skipBelow, batch.baseOffset);
    while (cursor.next()) bytes += cursor.value?.length ?? 0;
  }
  return bytes;
}

/** Measures encode and decode and returns the rows. */
export function runRecordsBench(): RecordsBenchRow[] {
  const records = makeRecords(1000);
  const { buf, recordCount } = makeRecordSet();
  const cursor = new RecordCursor();
  return [
    {
      name: "encode 1,000-record batch, no CRC (append only)",
      nsPerRecord: measureNsPerRecord(() => appendAll(records), 1000),
    },
    {
      name: "encode 1,000-record batch + build (CRC)",
      nsPerRecord: measureNsPerRecord(() => appendAll(records).build(), 1000),
    },
    {
      name: `decode ${(buf.length / 1024).toFixed(0)} KiB record set, no CRC check`,
      nsPerRecord: measureNsPerRecord(() => decodeRecordBatchesSync(buf, { verifyCrc: false }), recordCount),
    },
    {
      name: `decode ${(buf.length / 1024).toFixed(0)} KiB record set, CRC checked`,
      nsPerRecord: measureNsPerRecord(() => decodeRecordBatchesSync(buf), recordCount),
    },
    {
      name: `read ${(buf.length / 1024).toFixed(0)} KiB record set with a RecordCursor, CRC checked (the consumer's path)`,
      nsPerRecord: measureNsPerRecord(() => readWithCursor(buf, cursor), recordCount),
    },
  ];
}

/** Renders rows as a markdown table. */
export function formatRecordsBench(rows: readonly RecordsBenchRow[]): string {
  const lines = ["| operation | ns/record |", "|---|---:|"];
  for (const r of rows) lines.push(`| ${r.name} | ${r.nsPerRecord.toFixed(1)} |`);
  return lines.join("\n");
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(formatRecordsBench(runRecordsBench()));
}
