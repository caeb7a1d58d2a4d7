/**
 * Issue 15: compression already leaves the main thread (the native codecs run on libuv's
 * pool); would encoding a batch, or its CRC-32C, pay off in a worker_threads Worker too?
 * For uncompressed batches of 16 KiB, 256 KiB (the producer's default batchBytes) and 1 MiB,
 * of records with 100-byte values and no key, this measures:
 *
 * - on the main thread: RecordBatchBuilder appends plus build() (header and CRC-32C), and
 *   CRC-32C alone over the same range (`crc32c`, native `@node-rs/crc32` when installed, and
 *   the pure-JS `crc32cJs`);
 * - handing the work to a pool of 1 Worker, `depth` batches in flight: CRC (the encoded bytes
 *   transferred there and back, the worker computes the CRC) and encode (the values posted,
 *   structured-cloned, or packed into one transferred buffer on the main thread; the worker
 *   builds the batch and transfers it back). For each: main-thread time per batch (event-loop
 *   utilisation: everything the main thread does for it, posting, receiving, the callback),
 *   process CPU per batch (both threads), and round-trip latency at depth 1 and 8.
 *
 * Run: `npx tsx bench/micro/offload.ts [--quick]`.
 *
 * Conclusion: offloading does not pay; the producer keeps encode and CRC on the main thread.
 * Node 20.20, 2 vCPUs shared with running brokers (load 5–9), three runs, µs per batch:
 *
 *   batch (records)    inline encode+build  CRC native  CRC JS   CRC hand-off: main / cpu / round trip (depth 1)
 *   16 KiB (148)             23–80            6–13      18–57      21–33 / 29–40 / 33–60
 *   256 KiB (2383)          394–793          65–172    243–683     33–92 / 111–170 / 85–132
 *   1 MiB (9520)          2,900–9,200       251–891  1,200–2,700   62–78 / 396–485 / 269–342
 *
 * - CRC: at 16 KiB the hand-off costs the main thread more than the CRC itself. At 256 KiB
 *   (the default batchBytes) and 1 MiB it saves 30–810 µs per batch, 0.01–0.09 µs per
 *   record, against the ~4 µs per record the producer's main thread spends in all
 *   (226k–270k records/s end to end): at most 0.3–2% of the main thread, for a round trip
 *   of 0.1–0.3 ms per batch (0.9–4 ms with 8 in flight), and more CPU in all (the worker's
 *   message handling comes on top of the CRC), which on 2 cores comes out of the broker's
 *   share.
 * - Encode: the values must reach the worker. Cloning them costs the main thread more than
 *   encoding them (63–100 µs vs 23–80 at 16 KiB, 607–1,700 vs 394–793 at 256 KiB); packing them into one transferred
 *   buffer (itself a copy of every value) leaves 187–276 µs of main-thread time at 256 KiB
 *   but costs 30–70% more CPU in all and 0.5–8.5 ms of latency per batch, and the producer encodes
 *   each record as send() receives it, so it would have to hold every value until the batch
 *   closes.
 * - Only the pure-JS CRC (the optional `@node-rs/crc32` absent) is slow enough for a worker to
 *   matter (~1.2 ms per MiB); installing the binding is the cheaper fix.
 */
import { cpus, loadavg } from "node:os";
import { pathToFileURL } from "node:url";
import { isMainThread, parentPort, Worker } from "node:worker_threads";
import { RecordBatchBuilder } from "../../src/protocol/records/builder.js";
import { crc32c, crc32cImplementation, crc32cJs } from "../../src/protocol/records/crc32c.js";

/** Where the CRC-32C range of a v2 batch starts: attributes, after the CRC field. */
const CRC_START = 21;
const VALUE_BYTES = 100;
const TIMESTAMP = 1_700_000_000_000;

/** Messages to the worker. */
type Job =
  | { kind: "crc"; id: number; buf: ArrayBuffer; length: number }
  | { kind: "encode-clone"; id: number; values: Uint8Array[]; capacity: number }
  | { kind: "encode-packed"; id: number; packed: ArrayBuffer; count: number; capacity: number };
/** Messages back. */
type Answer = { id: number; crc: number; buf: ArrayBuffer; length: number };

/** The worker's side: one job at a time, the buffer transferred back. */
function serveJobs(): void {
  const port = parentPort;
  if (!port) return;
  port.on("message", (job: Job) => {
    if (job.kind === "crc") {
      const bytes = new Uint8Array(job.buf, 0, job.length);
      const crc = crc32c(bytes, CRC_START, job.length);
      port.postMessage({ id: job.id, crc, buf: job.buf, length: job.length } satisfies Answer, [job.buf]);
      return;
    }
    const builder = new RecordBatchBuilder({ initialCapacity: job.capacity, baseTimestamp: TIMESTAMP });
    if (job.kind === "encode-clone") {
      for (const value of job.values) builder.append({ timestamp: TIMESTAMP, value });
    } else {
      const all = new Uint8Array(job.packed);
      for (let i = 0; i < job.count; i++) {
        builder.append({ timestamp: TIMESTAMP, value: all.subarray(i * VALUE_BYTES, (i + 1) * VALUE_BYTES) });
      }
    }
    const batch = builder.build();
    const buf = batch.buffer as ArrayBuffer;
    port.postMessage({ id: job.id, crc: batch.readUInt32BE(17), buf, length: batch.length } satisfies Answer, [buf]);
  });
}

/** One batch size's inputs: the values (each its own pooled Buffer, as a caller's would be) and the encoded batch. */
interface Case {
  label: string;
  targetBytes: number;
  values: Buffer[];
  batch: Buffer;
}

function makeCase(label: string, targetBytes: number): Case {
  const values: Buffer[] = [];
  const builder = new RecordBatchBuilder({ initialCapacity: targetBytes, baseTimestamp: TIMESTAMP });
  let state = 0x12345678;
  for (;;) {
    const value = Buffer.allocUnsafe(VALUE_BYTES);
    for (let i = 0; i < VALUE_BYTES; i++) {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      value[i] = state & 0xff;
    }
    if (!builder.tryAppend({ timestamp: TIMESTAMP, value }, targetBytes)) break;
    values.push(value);
  }
  return { label, targetBytes, values, batch: Buffer.from(builder.build()) };
}

/** Median of `xs` (sorted copy). */
function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] as number;
}

/** µs per call of `fn`: the median of `rounds` timed rounds of `n` calls, after a warm-up round. */
function timeInline(fn: () => number, n: number, rounds = 5): number {
  let sink = 0;
  const per: number[] = [];
  for (let r = 0; r <= rounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) sink ^= fn();
    if (r > 0) per.push(((performance.now() - t0) * 1000) / n);
  }
  if (sink === 0.5) console.log(sink);
  return quantile(per, 0.5);
}

/** What one offload run cost. */
interface OffloadResult {
  /** Main-thread busy time per batch (event-loop utilisation), µs. */
  mainUs: number;
  /** CPU of the whole process (main thread and worker) per batch, µs. */
  cpuUs: number;
  /** Worker busy time per batch, µs. */
  workerUs: number;
  /** Round trip from postMessage to the answer's handler, µs. */
  p50Us: number;
  p99Us: number;
  /** Batches per second through the pool. */
  perSecond: number;
}

/**
 * Sends `n` jobs made by `job(id)` through `worker`, `depth` in flight at a time; `answered`
 * gets each answer on the main thread (inside the measured time).
 */
async function offload(
  worker: Worker,
  n: number,
  depth: number,
  job: (id: number) => { message: Job; transfer: ArrayBuffer[] },
  answered: (a: Answer) => void,
): Promise<OffloadResult> {
  const sentAt = new Float64Array(n);
  const latencies: number[] = [];
  let sent = 0;
  let done = 0;
  const workerElu0 = worker.performance.eventLoopUtilization();
  const elu0 = performance.eventLoopUtilization();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const send = () => {
      const { message, transfer } = job(sent);
      sentAt[sent] = performance.now();
      sent++;
      worker.postMessage(message, transfer);
    };
    const onMessage = (a: Answer) => {
      latencies.push((performance.now() - (sentAt[a.id] as number)) * 1000);
      answered(a);
      done++;
      if (sent < n) send();
      if (done === n) {
        worker.off("message", onMessage);
        resolve();
      }
    };
    worker.on("message", onMessage);
    for (let i = 0; i < depth && sent < n; i++) send();
  });
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const elu = performance.eventLoopUtilization(elu0);
  const workerElu = worker.performance.eventLoopUtilization(workerElu0);
  return {
    mainUs: (elu.active * 1000) / n,
    cpuUs: (cpu.user + cpu.system) / n,
    workerUs: (workerElu.active * 1000) / n,
    p50Us: quantile(latencies, 0.5),
    p99Us: quantile(latencies, 0.99),
    perSecond: n / (wall / 1000),
  };
}

/** The median run (by main-thread time) of `rounds` runs, after a warm-up run. */
async function medianRun(rounds: number, run: () => Promise<OffloadResult>): Promise<OffloadResult> {
  await run();
  const results: OffloadResult[] = [];
  for (let r = 0; r < rounds; r++) results.push(await run());
  results.sort((a, b) => a.mainUs - b.mainUs);
  return results[Math.floor(results.length / 2)] as OffloadResult;
}

/** One row of the results. */
export interface OffloadRow {
  batch: string;
  records: number;
  bytes: number;
  /** Main thread, inline: appends + build() (CRC included), µs per batch. */
  encodeUs: number;
  /** CRC-32C alone, as build() computes it (`crc32c`: native when installed), µs. */
  crcUs: number;
  /** The pure-JS CRC-32C, µs. */
  crcJsUs: number;
  /** Main thread, packing the values into one buffer (the least an encode hand-off needs), µs. */
  packUs: number;
  crcOffload: OffloadResult;
  crcOffloadDepth1: OffloadResult;
  encodeCloneOffload: OffloadResult;
  encodePackedOffload: OffloadResult;
  encodePackedOffloadDepth1: OffloadResult;
}

/** Runs every case; `quick` makes fewer batches (a smoke run). */
export async function runOffloadBench(quick = false): Promise<OffloadRow[]> {
  // The worker runs this file too; it needs tsx's loader, which workers do not inherit.
  const boot = `import(${JSON.stringify(import.meta.resolve("tsx/esm/api"))})
    .then((tsx) => { tsx.register(); return import(${JSON.stringify(import.meta.url)}); });`;
  const worker = new Worker(boot, { eval: true });
  let failed: Error | undefined;
  worker.on("error", (err) => {
    failed = err;
    console.error(`offload worker failed: ${err.stack ?? err.message}`);
    process.exit(1);
  });
  // A ping answered proves the worker loaded (online fires before its module has).
  await new Promise<void>((resolve) => {
    worker.once("message", () => resolve());
    const ping = new ArrayBuffer(64);
    worker.postMessage({ kind: "crc", id: 0, buf: ping, length: 64 } satisfies Job, [ping]);
  });
  if (failed) throw failed;
  const rows: OffloadRow[] = [];
  try {
    for (const [label, bytes, batches] of [
      ["16 KiB", 16 * 1024, 4000],
      ["256 KiB", 256 * 1024, 400],
      ["1 MiB", 1024 * 1024, 100],
    ] as const) {
      const n = quick ? Math.max(10, batches / 10) : batches;
      const c = makeCase(label, bytes);
      const count = c.values.length;
      const length = c.batch.length;
      const capacity = length + 64;

      const encodeUs = timeInline(() => {
        const b = new RecordBatchBuilder({ initialCapacity: capacity, baseTimestamp: TIMESTAMP });
        for (const value of c.values) b.append({ timestamp: TIMESTAMP, value });
        return b.build().length;
      }, n);
      const crcUs = timeInline(() => crc32c(c.batch, CRC_START, length), n * 4);
      const crcJsUs = timeInline(() => crc32cJs(c.batch, CRC_START, length), n);
      const pack = () => {
        const packed = new Uint8Array(count * VALUE_BYTES);
        for (let i = 0; i < count; i++) packed.set(c.values[i] as Buffer, i * VALUE_BYTES);
        return packed;
      };
      const packUs = timeInline(() => pack().length, n);

      // CRC: buffers go to the worker and come back (ownership moves, nothing is copied).
      // Enough of them for every batch in flight; each answer returns one to the free list.
      const free: ArrayBuffer[] = [];
      for (let i = 0; i < 8; i++) {
        const ab = new ArrayBuffer(length);
        new Uint8Array(ab).set(c.batch);
        free.push(ab);
      }
      const crcRun = (depth: number) =>
        offload(
          worker,
          n,
          depth,
          (id) => {
            const buf = free.pop() as ArrayBuffer;
            return { message: { kind: "crc", id, buf, length }, transfer: [buf] };
          },
          (a) => {
            free.push(a.buf);
          },
        );
      const expected = c.batch.readUInt32BE(17);
      const checked = (a: Answer) => {
        if (a.crc !== expected) throw new Error(`worker CRC ${a.crc} != ${expected}`);
      };
      const crcOffload = await medianRun(3, () => crcRun(8));
      const crcOffloadDepth1 = await medianRun(3, () => crcRun(1));
      const encodeCloneOffload = await medianRun(3, () =>
        offload(
          worker,
          n,
          8,
          (id) => ({ message: { kind: "encode-clone", id, values: c.values, capacity }, transfer: [] }),
          checked,
        ),
      );
      const packedRun = (depth: number) =>
        offload(
          worker,
          n,
          depth,
          (id) => {
            const packed = pack().buffer as ArrayBuffer;
            return { message: { kind: "encode-packed", id, packed, count, capacity }, transfer: [packed] };
          },
          checked,
        );
      const encodePackedOffload = await medianRun(3, () => packedRun(8));
      const encodePackedOffloadDepth1 = await medianRun(3, () => packedRun(1));
      rows.push({
        batch: label,
        records: count,
        bytes: length,
        encodeUs,
        crcUs,
        crcJsUs,
        packUs,
        crcOffload,
        crcOffloadDepth1,
        encodeCloneOffload,
        encodePackedOffload,
        encodePackedOffloadDepth1,
      });
    }
  } finally {
    await worker.terminate();
  }
  return rows;
}

const us = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));

/** The results as markdown tables. */
export function formatOffloadBench(rows: readonly OffloadRow[]): string {
  const out = [
    `CRC-32C implementation: ${crc32cImplementation}. µs per batch; main = main-thread busy time, cpu = both threads.`,
    "",
    "| batch | records | inline encode + build (CRC incl.) | CRC alone (native) | CRC alone (JS) | pack values (copy) |",
    "|---|---|---|---|---|---|",
    ...rows.map(
      (r) => `| ${r.batch} | ${r.records} | ${us(r.encodeUs)} | ${us(r.crcUs)} | ${us(r.crcJsUs)} | ${us(r.packUs)} |`,
    ),
    "",
    "| batch | hand-off to 1 worker | main | cpu | worker | round trip p50 / p99 (depth 8) | depth 1 p50 / p99 | batches/s (depth 8) |",
    "|---|---|---|---|---|---|---|---|",
  ];
  for (const r of rows) {
    const line = (what: string, d8: OffloadResult, d1: OffloadResult | undefined) =>
      `| ${r.batch} | ${what} | ${us(d8.mainUs)} | ${us(d8.cpuUs)} | ${us(d8.workerUs)} | ${us(d8.p50Us)} / ${us(d8.p99Us)} | ` +
      `${d1 ? `${us(d1.p50Us)} / ${us(d1.p99Us)}` : "–"} | ${d8.perSecond.toFixed(0)} |`;
    out.push(line("CRC (bytes transferred both ways)", r.crcOffload, r.crcOffloadDepth1));
    out.push(line("encode (values cloned)", r.encodeCloneOffload, undefined));
    out.push(line("encode (values packed + transferred)", r.encodePackedOffload, r.encodePackedOffloadDepth1));
  }
  return out.join("\n");
}

if (!isMainThread) {
  serveJobs();
} else if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const load = () =>
    loadavg()
      .map((l) => l.toFixed(2))
      .join(" / ");
  const before = load();
  const rows = await runOffloadBench(process.argv.includes("--quick"));
  console.log(
    `Node ${process.version} on ${cpus().length} × ${cpus()[0]?.model ?? "?"}; load (1/5/15 min) ${before} at the start, ${load()} at the end.\n`,
  );
  console.log(formatOffloadBench(rows));
}
