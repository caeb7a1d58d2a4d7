/**
 * End-to-end producer throughput against the harness's broker, one client after another on
 * the same broker in the same run: samsa, kafkajs, @platformatic/kafka and Kafka's own Java
 * ProducerPerformance. 1,000,000 records of 100 bytes to a fresh 6-partition topic each,
 * acks=all, idempotent where the client supports it, linger 5 ms; once uncompressed, once zstd.
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
import type { WorkerParams, WorkerResult } from "./producer-worker.js";
import { runWorker, timedOrThrow } from "./timed.js";

/** One client's measured run. */
export interface ProducerRow {
  client: string;
  codec: CompressionCodec;
  records: number;
  recordsPerSec: number;
  mbPerSec: number;
  p50Ms: number;
  p99Ms: number;
  cpuSeconds: number;
  peakRssMb: number;
  /** Why there is no measurement, when there is none. */
  skipped?: string;
}

/** Options of {@link runProducerBench}. */
export interface ProducerBenchOptions {
  bootstrap: string;
  records?: number;
  codecs?: CompressionCodec[];
  clients?: ("samsa" | "kafkajs" | "platformatic" | "java")[];
  log?: (line: string) => void;
}

/** Bytes of each record's value, in every producer benchmark. */
export const VALUE_SIZE = 100;
/** Partitions of each benchmark topic. */
export const PARTITIONS = 6;

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

/** Runs every client for every codec; see the module comment. */
export async function runProducerBench(options: ProducerBenchOptions): Promise<ProducerRow[]> {
  const records = options.records ?? 1_000_000;
  const codecs = options.codecs ?? ["none", "zstd"];
  const clients = options.clients ?? ["samsa", "kafkajs", "platformatic", "java"];
  const log = options.log ?? ((line: string) => console.error(line));
  const admin = new Client({ bootstrap: options.bootstrap, clientId: "bench-admin" });
  const rows: ProducerRow[] = [];
  try {
    const started = performance.now();
    const warmup = records;
    await warmBroker(admin, options.bootstrap, codecs, warmup);
    log(
      `  broker warmed (${warmup.toLocaleString("en-US")} records per codec, samsa) in ${Math.round(performance.now() - started)} ms`,
    );
    for (const codec of codecs) {
      for (const client of clients) {
        const base = {
          client,
          codec,
          records,
          recordsPerSec: 0,
          mbPerSec: 0,
          p50Ms: 0,
          p99Ms: 0,
          cpuSeconds: 0,
          peakRssMb: 0,
        };
        // Node 20 has no zstd in zlib (platformatic's codec needs it) and kafkajs ships only gzip.
        if (codec === "zstd" && (client === "kafkajs" || client === "platformatic")) {
          rows.push({ ...base, skipped: `no zstd codec for ${client} on Node ${process.versions.node}` });
          continue;
        }
        const topic = `bench-${client}-${codec}-${randomUUID().slice(0, 8)}`;
        await createTopic(admin, topic, PARTITIONS);
        log(`▶ ${client}, ${codec}: ${records.toLocaleString("en-US")} records → ${topic}`);
        if (client === "java") {
          const r = await runProducerPerformance(
            options.bootstrap,
            topic,
            records,
            { props: ["enable.idempotence=true", `compression.type=${codec}`] },
            () => {},
          );
          rows.push({ ...base, ...r, mbPerSec: (r.recordsPerSec * VALUE_SIZE) / 1e6 });
        } else {
          const { result, cpuSeconds, peakRssMb } = await runWorker<WorkerResult>(
            "producer-worker.ts",
            {
              client,
              bootstrap: options.bootstrap,
              topic,
              records,
              valueSize: VALUE_SIZE,
              codec,
              chunk: 1000,
              window: 32,
            } satisfies WorkerParams,
            log,
          );
          const recordsPerSec = (result.records / result.elapsedMs) * 1000;
          rows.push({
            ...base,
            recordsPerSec,
            mbPerSec: (recordsPerSec * VALUE_SIZE) / 1e6,
            p50Ms: result.p50Ms,
            p99Ms: result.p99Ms,
            cpuSeconds,
            peakRssMb,
          });
        }
        const row = rows[rows.length - 1] as ProducerRow;
        log(`  ${Math.round(row.recordsPerSec).toLocaleString("en-US")} records/s, p99 ${row.p99Ms.toFixed(1)} ms`);
      }
    }
  } finally {
    admin.close();
  }
  return rows;
}

/** Markdown table of the rows, with each client's ratio to samsa. */
export function formatProducerBench(rows: ProducerRow[]): string {
  const lines = [
    "| client | codec | records/s | MB/s | send→ack p50 ms | p99 ms | CPU s | peak RSS MB | samsa ÷ client |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|",
  ];
  const notes: Record<string, string> = {
    kafkajs: " (idempotent, 1 in flight: its limit)",
    platformatic: " (not idempotent¹)",
  };
  for (const r of rows) {
    if (r.skipped) {
      lines.push(`| ${r.client} | ${r.codec} | n/a | | | | | | (${r.skipped}) |`);
      continue;
    }
    const samsa = rows.find((s) => s.client === "samsa" && s.codec === r.codec);
    const ratio = samsa && r.recordsPerSec > 0 ? (samsa.recordsPerSec / r.recordsPerSec).toFixed(2) : "";
    lines.push(
      `| ${r.client}${notes[r.client] ?? ""} | ${r.codec} | ${Math.round(r.recordsPerSec).toLocaleString("en-US")} | ${r.mbPerSec.toFixed(1)} | ${r.p50Ms.toFixed(1)} | ${r.p99Ms.toFixed(1)} | ${r.cpuSeconds.toFixed(1)} | ${Math.round(r.peakRssMb)} | ${ratio} |`,
    );
  }
  lines.push(
    "",
    "Before the first client, samsa writes as many records per codec to a throwaway topic, so no client meets a cold broker.",
  );
  if (rows.some((r) => r.client === "platformatic" && !r.skipped)) {
    lines.push(
      "",
      "¹ @platformatic/kafka 1.35's idempotent mode fails concurrent sends with OUT_OF_ORDER_SEQUENCE_NUMBER.",
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
