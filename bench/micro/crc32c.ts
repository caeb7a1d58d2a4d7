/**
 * Micro-benchmark of CRC-32C throughput: the pure-JS slice-by-16 path, the `@node-rs/crc32`
 * binding, and the size-dispatching `crc32c` the record batch codec calls.
 * Run with `npx tsx bench/micro/crc32c.ts`; `runCrc32cBench()` serves `npm run bench`.
 */
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { crc32c, crc32cJs } from "../../src/protocol/records/crc32c.js";

/** One measured buffer size; throughputs in MB/s (10^6 bytes per second). */
export interface Crc32cBenchRow {
  /** Human label of the buffer size, e.g. "64 KiB". */
  size: string;
  /** Buffer length in bytes. */
  bytes: number;
  /** Pure-JS `crc32cJs`. */
  jsMBps: number;
  /** `@node-rs/crc32` called directly; `null` when the package is not installed. */
  nativeMBps: number | null;
  /** `crc32c`, which picks JS or native by length. */
  dispatchMBps: number;
}

const SIZES: ReadonlyArray<[string, number]> = [
  ["1 KiB", 1024],
  ["64 KiB", 64 * 1024],
  ["1 MiB", 1024 * 1024],
];

function loadNative(): ((buf: Uint8Array) => number) | null {
  try {
    return (createRequire(import.meta.url)("@node-rs/crc32") as { crc32c: (buf: Uint8Array) => number }).crc32c;
  } catch {
    return null;
  }
}

/** Best MB/s of `rounds` timed runs of about `ms` milliseconds each, after a warm-up run. */
function measure(fn: (buf: Uint8Array) => number, buf: Uint8Array, ms = 250, rounds = 3): number {
  // Calibrate a batch size that takes ~1 ms so the clock is read rarely.
  let batch = 1;
  for (;;) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) fn(buf);
    if (Number(process.hrtime.bigint() - t0) > 1e6) break;
    batch *= 2;
  }
  let best = 0;
  let sink = 0;
  for (let r = 0; r <= rounds; r++) {
    let bytes = 0;
    const t0 = process.hrtime.bigint();
    let elapsed = 0;
    while (elapsed < ms * 1e6) {
      for (let i = 0; i < batch; i++) sink ^= fn(buf);
      bytes += batch * buf.length;
      elapsed = Number(process.hrtime.bigint() - t0);
    }
    // Round 0 is the warm-up: it lets the JIT settle before anything counts.
    if (r > 0) best = Math.max(best, bytes / (elapsed / 1e9) / 1e6);
  }
  if (sink === 0.5) console.log(sink); // keeps the results observable to the optimiser
  return best;
}

/** Measures every size and returns the rows (also what the markdown table shows). */
export function runCrc32cBench(): Crc32cBenchRow[] {
  const native = loadNative();
  const rows: Crc32cBenchRow[] = [];
  for (const [size, bytes] of SIZES) {
    const buf = Buffer.allocUnsafe(bytes);
    for (let i = 0; i < bytes; i++) buf[i] = (i * 2654435761) >>> 24;
    rows.push({
      size,
      bytes,
      jsMBps: measure((b) => crc32cJs(b), buf),
      nativeMBps: native ? measure(native, buf) : null,
      dispatchMBps: measure((b) => crc32c(b), buf),
    });
  }
  return rows;
}

/** Renders rows as a markdown table. */
export function formatCrc32cBench(rows: readonly Crc32cBenchRow[]): string {
  const fmt = (v: number | null) => (v === null ? "n/a" : v.toFixed(0));
  const lines = ["| size | JS MB/s | native MB/s | crc32c() MB/s |", "|---:|---:|---:|---:|"];
  for (const r of rows) lines.push(`| ${r.size} | ${fmt(r.jsMBps)} | ${fmt(r.nativeMBps)} | ${fmt(r.dispatchMBps)} |`);
  return lines.join("\n");
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(formatCrc32cBench(runCrc32cBench()));
}
