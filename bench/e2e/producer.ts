/**
 * End-to-end producer throughput against the harness's broker, one client after another on
 * the same broker in the same run: samsa in three send forms (a callback per record, a
 * promise per record, arrays of 1,000), franz-go (Go), kafkajs, @platformatic/kafka and
 * Kafka's own Java ProducerPerformance. 1,000,000 records of 100 bytes to a fresh 6-partition
 * topic each, acks=all, idempotent where the client supports it; once uncompressed, once zstd.
 * Then send → ack latency at a fixed 10,000 records/s, samsa's callback form against franz-go.
 * Each client runs in its own process, under /usr/bin/time for CPU seconds and peak RSS.
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { promisify } from "node:util";
import { Client } from "../../src/client.js";
import type { CompressionCodec } from "../../src/protocol/records/index.js";
import { ensureKafkaJars } from "../../tools/kafka/jars.js";
import { createTopic } from "../../tools/kafka/topics.js";
import { fillTopic } from "./fill.js";
import { FRANZ_GO_VERSION, franzGoBinary, runFranzGo } from "./franz-go.js";
import type { SendForm, WorkerParams, WorkerResult } from "./producer-worker.js";
import { runWorker, timedOrThrow } from "./timed.js";

/** Every client the producer suite knows. */
export type ProducerBenchClient = "samsa" | "franz-go" | "kafkajs" | "platformatic" | "java";

/** One client's (for samsa: one send form's) measured run. */
export interface ProducerRow {
  client: ProducerBenchClient;
  /** How it calls send, e.g. "callback" or "arrays of 1000, window 32". */
  form: string;
  /** samsa's worker form; absent for the others. */
  samsaForm?: SendForm;
  codec: CompressionCodec;
  records: number;
  recordsPerSec: number;
  mbPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** The whole process's (start, warm-up, close included). */
  cpuSeconds: number;
  /** cpuSeconds × 1e6 / records. */
  cpuSecondsPerMillion: number;
  peakRssMb: number;
  /** Why there is no measurement, when there is none. */
  skipped?: string;
}

/** One client's send → ack latency run at a fixed rate. */
export interface ProducerLatencyRow {
  client: "samsa" | "franz-go";
  form: string;
  codec: CompressionCodec;
  /** Measured records (after the warm-up). */
  records: number;
  /** The rate reached over the measured sends. */
  recordsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  cpuSeconds: number;
  peakRssMb: number;
  skipped?: string;
}

/** Everything {@link runProducerBench} measured. */
export interface ProducerBenchResult {
  records: number;
  throughput: ProducerRow[];
  latency: ProducerLatencyRow[];
  latencyRate: number;
  latencyDurationMs: number;
  latencyWarmupMs: number;
  franzGo: string;
}

/** Options of {@link runProducerBench}. */
export interface ProducerBenchOptions {
  bootstrap: string;
  records?: number;
  codecs?: CompressionCodec[];
  clients?: ProducerBenchClient[];
  /** samsa's send forms; default all three. */
  samsaForms?: SendForm[];
  /** Records per second of the latency run; default 10,000 (0: no latency run). */
  latencyRate?: number;
  /** Measured span of the latency run, after a warm-up of `latencyWarmupMs`; default 10 s and 2 s. */
  latencyDurationMs?: number;
  latencyWarmupMs?: number;
  log?: (line: string) => void;
}

/** Bytes of each record's value, in every producer benchmark. */
export const VALUE_SIZE = 100;
/** Partitions of each benchmark topic. */
export const PARTITIONS = 6;
/** Every producer client, in table order. */
export const PRODUCER_CLIENTS: readonly ProducerBenchClient[] = [
  "samsa",
  "franz-go",
  "kafkajs",
  "platformatic",
  "java",
];

/**
 * samsa's promise form keeps this many `send(record)` promises pending: 1,000 capped it at about
 * 140k records/s (1,000 ÷ a 7 ms ack), 10,000 gave 0.7M, 50,000 0.48M (the live promises' GC).
 */
const PROMISE_WINDOW = 10_000;
/**
 * The per-record forms and franz-go time every SAMPLE_EVERY-th record's send → ack: two
 * `performance.now()` calls cost ~120 ns here, a third of a send, the harness's cost and not
 * the client's. Every record still has its own callback or promise.
 */
const SAMPLE_EVERY = 16;
/** The array form (every Node client): calls of CHUNK records, at most WINDOW outstanding. */
const CHUNK = 1000;
const WINDOW = 32;

const FORMS: Record<SendForm, string> = {
  callback: "callback per record",
  promise: `promise per record, window ${PROMISE_WINDOW.toLocaleString("en-US")}`,
  arrays: `arrays of ${CHUNK.toLocaleString("en-US")}, window ${WINDOW}`,
};

/**
 * Kafka's ProducerPerformance, as shipped: `records` records of VALUE_SIZE bytes to `topic` as
 * fast as it can, acks=all, linger 5 ms, plus `args` (tool options) and `props` (producer
 * properties). Returns its throughput and latency figures, parsed from its last summary line.
 */
export async function runProducerPerformance(
  bootstrap: string,
  topic: string,
  records: number,
  extra: { args?: string[]; props?: string[] },
  log: (line: string) => void,
) {
  const lib = await ensureKafkaJars();
  const { stdout, cpuSeconds, peakRssMb } = await timedOrThrow(
    "java",
    [
      "-Xmx1g",
      "-cp",
      `${lib}/*`,
      "org.apache.kafka.tools.ProducerPerformance",
      "--topic",
      topic,
      "--num-records",
      String(records),
      "--record-size",
      String(VALUE_SIZE),
      "--throughput",
      "-1",
      ...(extra.args ?? []),
      "--producer-props",
      `bootstrap.servers=${bootstrap}`,
      "acks=all",
      "linger.ms=5",
      ...(extra.props ?? []),
    ],
    (s) => log(s.trimEnd()),
  );
  // "1000000 records sent, 412371.1 records/sec (39.33 MB/sec), 41.2 ms avg latency, 301.0 ms
  //  max latency, 35 ms 50th, 95 ms 95th, 120 ms 99th, 180 ms 99.9th."
  const last =
    stdout
      .trim()
      .split("\n")
      .filter((l) => l.includes("records sent"))
      .pop() ?? "";
  const m = /([\d.]+) records\/sec.*?([\d.]+) ms 50th.*?([\d.]+) ms 99th/.exec(last);
  if (!m) throw new Error(`could not parse ProducerPerformance output: ${stdout.slice(-2000)}`);
  return { recordsPerSec: Number(m[1]), p50Ms: Number(m[2]), p99Ms: Number(m[3]), cpuSeconds, peakRssMb };
}

/**
 * A fresh broker JVM handles its first Produce requests in cold code, which would count
 * against whichever client runs first. Before any clock starts, samsa writes `records`
 * records per codec to a throwaway topic, so every client meets a warm broker. 200,000 were
 * not enough: the first client measured after them still took twice as long as the second
 * (1.9 s vs 1.0 s for 1M records); after 1,000,000 the first run is as fast as the rest.
 */
async function warmBroker(admin: Client, bootstrap: string, codecs: readonly CompressionCodec[], records: number) {
  const topic = `bench-warmup-${randomUUID().slice(0, 8)}`;
  await createTopic(admin, topic, PARTITIONS);
  const value = Buffer.alloc(VALUE_SIZE, 0x61);
  for (const codec of codecs) await fillTopic(bootstrap, topic, records, [value], codec);
}

const perMillion = (cpuSeconds: number, records: number) => (cpuSeconds * 1e6) / records;

/** Runs one client (one samsa form) once; see the module comment. */
async function runOne(
  options: ProducerBenchOptions & { records: number; log: (line: string) => void },
  admin: Client,
  client: ProducerBenchClient,
  codec: CompressionCodec,
  samsaForm: SendForm | undefined,
): Promise<ProducerRow> {
  const { records, log } = options;
  const base: ProducerRow = {
    client,
    form:
      client === "java"
        ? "ProducerPerformance"
        : client === "franz-go"
          ? "Produce + callback per record"
          : FORMS[samsaForm ?? "arrays"],
    ...(samsaForm ? { samsaForm } : {}),
    codec,
    records,
    recordsPerSec: 0,
    mbPerSec: 0,
    p50Ms: 0,
    p99Ms: 0,
    cpuSeconds: 0,
    cpuSecondsPerMillion: 0,
    peakRssMb: 0,
  };
  // Node 20 has no zstd in zlib (platformatic's codec needs it) and kafkajs ships only gzip.
  if (codec === "zstd" && (client === "kafkajs" || client === "platformatic"))
    return { ...base, skipped: `no zstd codec for ${client} on Node ${process.versions.node}` };
  let franzGo: string | undefined;
  if (client === "franz-go") {
    const binary = await franzGoBinary(log);
    if (binary.skipped !== undefined) return { ...base, skipped: binary.skipped };
    franzGo = binary.path;
  }
  const topic = `bench-${client}-${samsaForm ?? ""}${samsaForm ? "-" : ""}${codec}-${randomUUID().slice(0, 8)}`;
  await createTopic(admin, topic, PARTITIONS);
  log(
    `▶ ${client}${samsaForm ? ` (${samsaForm})` : ""}, ${codec}: ${records.toLocaleString("en-US")} records → ${topic}`,
  );
  const done = (r: { recordsPerSec: number; p50Ms: number; p99Ms: number; cpuSeconds: number; peakRssMb: number }) => ({
    ...base,
    ...r,
    mbPerSec: (r.recordsPerSec * VALUE_SIZE) / 1e6,
    cpuSecondsPerMillion: perMillion(r.cpuSeconds, records),
  });
  if (client === "java") {
    const r = await runProducerPerformance(
      options.bootstrap,
      topic,
      records,
      { props: ["enable.idempotence=true", `compression.type=${codec}`] },
      () => {},
    );
    return done(r);
  }
  if (franzGo !== undefined) {
    const run = await runFranzGo(
      franzGo,
      {
        mode: "produce",
        bootstrap: options.bootstrap,
        topic,
        records,
        valueSize: VALUE_SIZE,
        codec,
        sampleEvery: SAMPLE_EVERY,
        timeLimitMs: 600_000,
      },
      log,
    );
    // Like a failed Node worker, a failed run fails the suite: a skipped row would hide a bug.
    if (run.failure || !run.result) throw new Error(`franz-go produce: ${run.failure ?? "no result"}`);
    return done({
      recordsPerSec: (run.result.records / run.result.elapsedMs) * 1000,
      p50Ms: run.result.p50Ms,
      p99Ms: run.result.p99Ms,
      cpuSeconds: run.cpuSeconds,
      peakRssMb: run.peakRssMb,
    });
  }
  const { result, cpuSeconds, peakRssMb } = await runWorker<WorkerResult>(
    "producer-worker.ts",
    {
      client: client as WorkerParams["client"],
      mode: "throughput",
      form: samsaForm ?? "arrays",
      bootstrap: options.bootstrap,
      topic,
      records,
      valueSize: VALUE_SIZE,
      codec,
      chunk: CHUNK,
      window: samsaForm === "promise" ? PROMISE_WINDOW : WINDOW,
      sampleEvery: SAMPLE_EVERY,
    } satisfies WorkerParams,
    log,
  );
  return done({
    recordsPerSec: (result.records / result.elapsedMs) * 1000,
    p50Ms: result.p50Ms,
    p99Ms: result.p99Ms,
    cpuSeconds,
    peakRssMb,
  });
}

/** The fixed-rate latency run of one client (codec none). */
async function runLatency(
  options: ProducerBenchOptions & { log: (line: string) => void },
  admin: Client,
  client: "samsa" | "franz-go",
  rate: number,
  durationMs: number,
  warmupMs: number,
): Promise<ProducerLatencyRow> {
  const { log } = options;
  const codec: CompressionCodec = "none";
  const base: ProducerLatencyRow = {
    client,
    form: client === "samsa" ? FORMS.callback : "Produce + callback per record",
    codec,
    records: 0,
    recordsPerSec: 0,
    p50Ms: 0,
    p99Ms: 0,
    maxMs: 0,
    cpuSeconds: 0,
    peakRssMb: 0,
  };
  const topic = `bench-latency-${client}-${randomUUID().slice(0, 8)}`;
  if (client === "franz-go") {
    const binary = await franzGoBinary(log);
    if (binary.skipped !== undefined) return { ...base, skipped: binary.skipped };
    await createTopic(admin, topic, PARTITIONS);
    log(`▶ latency ${client}: ${rate.toLocaleString("en-US")} records/s for ${durationMs / 1000} s → ${topic}`);
    const run = await runFranzGo(
      binary.path,
      {
        mode: "latency",
        bootstrap: options.bootstrap,
        topic,
        valueSize: VALUE_SIZE,
        codec,
        rate,
        durationMs,
        warmupMs,
        timeLimitMs: durationMs + warmupMs + 120_000,
      },
      log,
    );
    if (run.failure || !run.result) throw new Error(`franz-go latency: ${run.failure ?? "no result"}`);
    const r = run.result;
    return {
      ...base,
      records: r.records,
      recordsPerSec: r.recordsPerSec ?? 0,
      p50Ms: r.p50Ms,
      p99Ms: r.p99Ms,
      maxMs: r.maxMs,
      cpuSeconds: run.cpuSeconds,
      peakRssMb: run.peakRssMb,
    };
  }
  await createTopic(admin, topic, PARTITIONS);
  log(`▶ latency ${client}: ${rate.toLocaleString("en-US")} records/s for ${durationMs / 1000} s → ${topic}`);
  const { result, cpuSeconds, peakRssMb } = await runWorker<WorkerResult>(
    "producer-worker.ts",
    {
      client: "samsa",
      mode: "latency",
      bootstrap: options.bootstrap,
      topic,
      records: 0,
      valueSize: VALUE_SIZE,
      codec,
      chunk: CHUNK,
      window: WINDOW,
      rate,
      durationMs,
      warmupMs,
    } satisfies WorkerParams,
    log,
  );
  return {
    ...base,
    records: result.records,
    recordsPerSec: result.recordsPerSec ?? 0,
    p50Ms: result.p50Ms,
    p99Ms: result.p99Ms,
    maxMs: result.maxMs,
    cpuSeconds,
    peakRssMb,
  };
}

/** Runs every client (samsa: every form) for every codec, then the latency run; see the module comment. */
export async function runProducerBench(options: ProducerBenchOptions): Promise<ProducerBenchResult> {
  const records = options.records ?? 1_000_000;
  const codecs = options.codecs ?? ["none", "zstd"];
  const clients = options.clients ?? PRODUCER_CLIENTS;
  const samsaForms = options.samsaForms ?? ["callback", "promise", "arrays"];
  const latencyRate = options.latencyRate ?? 10_000;
  const latencyDurationMs = options.latencyDurationMs ?? 10_000;
  const latencyWarmupMs = options.latencyWarmupMs ?? 2_000;
  const log = options.log ?? ((line: string) => console.error(line));
  const admin = new Client({ bootstrap: options.bootstrap, clientId: "bench-admin" });
  const throughput: ProducerRow[] = [];
  const latency: ProducerLatencyRow[] = [];
  const opts = { ...options, records, log };
  try {
    const started = performance.now();
    const warmup = records;
    await warmBroker(admin, options.bootstrap, codecs, warmup);
    log(
      `  broker warmed (${warmup.toLocaleString("en-US")} records per codec, samsa) in ${Math.round(performance.now() - started)} ms`,
    );
    for (const codec of codecs) {
      for (const client of clients) {
        for (const form of client === "samsa" ? samsaForms : [undefined]) {
          const row = await runOne(opts, admin, client, codec, form);
          throughput.push(row);
          log(
            row.skipped
              ? `  skipped: ${row.skipped}`
              : `  ${Math.round(row.recordsPerSec).toLocaleString("en-US")} records/s, p99 ${row.p99Ms.toFixed(1)} ms`,
          );
        }
      }
    }
    if (latencyRate > 0) {
      for (const client of ["samsa", "franz-go"] as const) {
        if (!clients.includes(client)) continue;
        const row = await runLatency(opts, admin, client, latencyRate, latencyDurationMs, latencyWarmupMs);
        latency.push(row);
        log(
          row.skipped
            ? `  skipped: ${row.skipped}`
            : `  p50 ${row.p50Ms.toFixed(1)} ms, p99 ${row.p99Ms.toFixed(1)} ms, max ${row.maxMs.toFixed(1)} ms`,
        );
      }
    }
  } finally {
    admin.close();
  }
  return {
    records,
    throughput,
    latency,
    latencyRate,
    latencyDurationMs,
    latencyWarmupMs,
    franzGo: FRANZ_GO_VERSION,
  };
}

/** A row's label: samsa's forms are rows of their own. */
function label(r: { client: ProducerBenchClient }): string {
  const notes: Partial<Record<ProducerBenchClient, string>> = {
    kafkajs: "kafkajs (idempotent, 1 in flight: its limit)",
    platformatic: "@platformatic/kafka (not idempotent¹)",
    java: "Java",
  };
  return notes[r.client] ?? r.client;
}

const ratio = (a: number, b: number | undefined) => (b && b > 0 && a > 0 ? (a / b).toFixed(2) : "");

/**
 * Each samsa form's records/s over franz-go's, per codec, keyed "samsa (form) ÷ franz-go, codec";
 * what `--runs` summarises.
 */
export function producerRatios(result: ProducerBenchResult): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of result.throughput) {
    if (r.client !== "samsa" || r.skipped) continue;
    const franz = result.throughput.find((f) => f.client === "franz-go" && f.codec === r.codec && !f.skipped);
    if (franz && franz.recordsPerSec > 0)
      out[`producer records/s: samsa (${r.samsaForm}) ÷ franz-go, ${r.codec}`] = r.recordsPerSec / franz.recordsPerSec;
  }
  const samsa = result.latency.find((r) => r.client === "samsa" && !r.skipped);
  const franz = result.latency.find((r) => r.client === "franz-go" && !r.skipped);
  if (samsa && franz && franz.p50Ms > 0 && franz.p99Ms > 0) {
    out["send→ack p50 at a fixed rate: samsa (callback) ÷ franz-go"] = samsa.p50Ms / franz.p50Ms;
    out["send→ack p99 at a fixed rate: samsa (callback) ÷ franz-go"] = samsa.p99Ms / franz.p99Ms;
  }
  return out;
}

/** Markdown tables: throughput with each row's ratio to franz-go, then the fixed-rate latency. */
export function formatProducerBench(result: ProducerBenchResult): string {
  const { throughput: rows } = result;
  const int = (n: number) => Math.round(n).toLocaleString("en-US");
  const lines = [
    "| client | form | codec | records/s | MB/s | send→ack p50 ms | p99 ms | CPU s per 1M records | peak RSS MB | records/s ÷ franz-go |",
    "|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const r of rows) {
    if (r.skipped) {
      lines.push(`| ${label(r)} | ${r.form} | ${r.codec} | n/a | | | | | | (${r.skipped}) |`);
      continue;
    }
    const franz = rows.find((f) => f.client === "franz-go" && f.codec === r.codec && !f.skipped);
    lines.push(
      `| ${label(r)} | ${r.form} | ${r.codec} | ${int(r.recordsPerSec)} | ${r.mbPerSec.toFixed(1)} | ${r.p50Ms.toFixed(1)} | ${r.p99Ms.toFixed(1)} | ${r.cpuSecondsPerMillion.toFixed(2)} | ${Math.round(r.peakRssMb)} | ${r.client === "franz-go" ? "1" : ratio(r.recordsPerSec, franz?.recordsPerSec)} |`,
    );
  }
  lines.push(
    "",
    "records/s span the first send → the last acknowledgement; latency is send call → callback or promise of " +
      `every ${SAMPLE_EVERY}th record for the per-record forms and franz-go (every record still has its own callback or promise; ` +
      "only the clock reads are sampled, as two cost a third of a send in Node), per call for the arrays. CPU s are the whole process's " +
      `(/usr/bin/time: start, a warm-up of 5,000 records and close included), scaled to 1,000,000 records from ${int(result.records)}; ` +
      "peak RSS is the process's maximum, not scaled. Before the first client, samsa writes as many records per codec " +
      "to a throwaway topic, so no client meets a cold broker.",
    "",
    `samsa: linger 5 ms (its default), acks=all, idempotent. ${result.franzGo}: its defaults (linger 10 ms, 1 MB ` +
      "batches, 50,000 buffered records, idempotent, sticky uniform-bytes partitioner) but acks=all, set explicitly, and the " +
      "codec (its default is snappy; zstd at klauspost/compress's default level, ≈ zstd 3); Produce blocks at its " +
      "buffer limit, its backpressure. Java: ProducerPerformance, linger 5 ms, idempotent.",
  );
  if (rows.some((r) => r.client === "platformatic" && !r.skipped)) {
    lines.push(
      "",
      "¹ @platformatic/kafka 1.35's idempotent mode fails concurrent sends with OUT_OF_ORDER_SEQUENCE_NUMBER.",
    );
  }
  if (result.latency.length > 0) {
    const franz = result.latency.find((r) => r.client === "franz-go" && !r.skipped);
    lines.push(
      "",
      `### Send → ack latency at ${int(result.latencyRate)} records/s for ${result.latencyDurationMs / 1000} s (codec none)`,
      "",
      "| client | form | records | records/s reached | p50 ms | p99 ms | max ms | CPU s | peak RSS MB | p50 ÷ franz-go | p99 ÷ franz-go |",
      "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    );
    for (const r of result.latency) {
      if (r.skipped) {
        lines.push(`| ${r.client} | ${r.form} | n/a | | | | | | | | (${r.skipped}) |`);
        continue;
      }
      const self = r.client === "franz-go";
      lines.push(
        `| ${r.client} | ${r.form} | ${int(r.records)} | ${int(r.recordsPerSec)} | ${r.p50Ms.toFixed(1)} | ${r.p99Ms.toFixed(1)} | ${r.maxMs.toFixed(1)} | ${r.cpuSeconds.toFixed(1)} | ${Math.round(r.peakRssMb)} | ${self ? "1" : ratio(r.p50Ms, franz?.p50Ms)} | ${self ? "1" : ratio(r.p99Ms, franz?.p99Ms)} |`,
      );
    }
    lines.push(
      "",
      `Each client sends what is due every millisecond (a late tick catches up), ${result.latencyWarmupMs / 1000} s at the ` +
        "rate unmeasured first; latency is per record, send call → its callback, with each client's linger as above " +
        "(samsa 5 ms, franz-go 10 ms), so the p50 is mostly linger. CPU s and peak RSS are the whole process's, not scaled.",
    );
  }
  return lines.join("\n");
}

/**
 * Makes sure /usr/bin/time (Debian's `time` package) is there, installing it with apt-get
 * when running as root on a machine that lacks it. Returns whether it is usable.
 */
export async function haveTime(log: (line: string) => void = () => {}): Promise<boolean> {
  const run = promisify(execFile);
  const works = () =>
    run("/usr/bin/time", ["-f", "%U", "true"]).then(
      () => true,
      () => false,
    );
  if (await works()) return true;
  if (process.getuid?.() !== 0) return false;
  log("installing Debian's time package for CPU and RSS figures");
  await run("apt-get", ["update", "-qq"]).catch(() => undefined);
  await run("apt-get", ["install", "-y", "-qq", "time"], {
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  }).catch(() => undefined);
  return works();
}
