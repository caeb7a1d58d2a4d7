import { randomUUID } from "node:crypto";
import { Client } from "../../src/client.js";
import { ensureKafkaJars } from "../../tools/kafka/jars.js";
import { createTopic } from "../../tools/kafka/topics.js";
import type { ConsumerWorkerParams, ConsumerWorkerResult, NodeConsumerClient } from "./consumer-worker.js";
import { fillTopic } from "./fill.js";
import { FRANZ_GO_VERSION, franzGoBinary, runFranzGo } from "./franz-go.js";
import { compiledWorker, timed } from "./timed.js";

/** Every client the throughput run knows; "samsa-messages" is samsa's per-record `for await`. */
export type ConsumerBenchClient = NodeConsumerClient | "franz-go" | "java";

/** Every consumer client, in table order. */
export const CONSUMER_CLIENTS: readonly ConsumerBenchClient[] = [
  "samsa",
  "samsa-messages",
  "franz-go",
  "kafkajs",
  "platformatic",
  "java",
];

/** One client's throughput run. */
export interface ConsumerRow {
  client: ConsumerBenchClient;
  groupProtocol: string;
  records: number;
  /** Records over subscribe → last record (Java: its nMsg.sec, the same span). */
  recordsPerSec: number;
  mbPerSec: number;
  /** Subscribe → first record (Java: subscribe → partitions assigned, its rebalance.time.ms). */
  firstRecordMs: number;
  /** Records over first → last record (Java: its fetch.nMsg.sec, i.e. without the join time). */
  steadyRecordsPerSec: number;
  /** The whole process's. */
  cpuSeconds: number;
  /** cpuSeconds × 1e6 / records. */
  cpuSecondsPerMillion: number;
  peakRssMb: number;
  /** Why there is no measurement, when there is none. */
  skipped?: string;
}

/** One client's produce → consume latency run. */
export interface LatencyRow {
  client: ConsumerBenchClient;
  groupProtocol: string;
  records: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  cpuSeconds: number;
  peakRssMb: number;
  skipped?: string;
}

/** Everything {@link runConsumerBench} measured. */
export interface ConsumerBenchResult {
  records: number;
  /** samsa's pre-produce of the throughput topic (acks=all, linger 5 ms), for the record. */
  produceRecordsPerSec: number;
  throughput: ConsumerRow[];
  latency: LatencyRow[];
  latencyRate: number;
  latencyDurationMs: number;
}

/** Options of {@link runConsumerBench}. */
export interface ConsumerBenchOptions {
  bootstrap: string;
  records?: number;
  clients?: ConsumerBenchClient[];
  /** Records per second of the latency run; default 10,000. */
  latencyRate?: number;
  /** Length of the latency run; default 10,000 ms. */
  latencyDurationMs?: number;
  /** Per process; default 5 minutes. */
  timeLimitMs?: number;
  log?: (line: string) => void;
}

const VALUE_SIZE = 100;
const PARTITIONS = 6;

/** Runs one worker; returns its result, or why there is none. */
async function runNode(params: ConsumerWorkerParams, log: (line: string) => void) {
  const run = await timed(
    process.execPath,
    [await compiledWorker("consumer-worker.ts"), JSON.stringify(params)],
    params.timeLimitMs + 45_000,
    (s) => log(s.trimEnd()),
  );
  const line = run.stdout.trim().split("\n").pop() ?? "";
  let result: ConsumerWorkerResult | undefined;
  try {
    result = JSON.parse(line) as ConsumerWorkerResult;
  } catch {
    result = undefined;
  }
  let failure: string | undefined;
  if (!result)
    failure = run.code === null ? "killed at the time limit" : `worker exited with ${run.code} and no result`;
  else if (result.timedOut) {
    failure = `time limit ${params.timeLimitMs / 1000} s hit after ${result.records.toLocaleString("en-US")} records`;
  } else if (run.code !== 0) failure = `worker exited with ${run.code}`;
  return { result, failure, cpuSeconds: run.cpuSeconds, peakRssMb: run.peakRssMb };
}

/**
 * Kafka's ConsumerPerformance, as shipped: classic group protocol, fetch.max.bytes 50 MiB,
 * max.partition.fetch.bytes 1 MiB, and check.crcs=false (the tool's own setting).
 */
async function runJava(
  bootstrap: string,
  topic: string,
  groupId: string,
  records: number,
  timeLimitMs: number,
  log: (line: string) => void,
): Promise<ConsumerRow> {
  const lib = await ensureKafkaJars(log);
  const run = await timed(
    "java",
    [
      "-Xmx1g",
      "-cp",
      `${lib}/*`,
      "org.apache.kafka.tools.ConsumerPerformance",
      "--bootstrap-server",
      bootstrap,
      "--topic",
      topic,
      "--num-records",
      String(records),
      "--group",
      groupId,
      "--timeout",
      "60000",
    ],
    timeLimitMs,
    () => {},
  );
  const base = {
    client: "java" as const,
    groupProtocol: "classic (its default)",
    records,
    cpuSeconds: run.cpuSeconds,
    cpuSecondsPerMillion: (run.cpuSeconds * 1e6) / records,
    peakRssMb: run.peakRssMb,
  };
  // start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec,
  // rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
  const lines = run.stdout.trim().split("\n");
  const headerAt = lines.findIndex((l) => l.startsWith("start.time"));
  const header = (lines[headerAt] ?? "").split(/,\s*/);
  const values = (lines[headerAt + 1] ?? "").split(/,\s*/);
  const field = (name: string) => Number(values[header.indexOf(name)]);
  const consumed = field("data.consumed.in.nMsg");
  if (run.code !== 0 || headerAt < 0 || !(consumed >= records)) {
    const why =
      run.code === null
        ? `killed at the ${timeLimitMs / 1000} s time limit`
        : run.code !== 0
          ? `exited with ${run.code}`
          : `read ${consumed} of ${records} records`;
    return {
      ...base,
      recordsPerSec: 0,
      mbPerSec: 0,
      firstRecordMs: 0,
      steadyRecordsPerSec: 0,
      skipped: `ConsumerPerformance ${why}${run.code === null ? "" : `: ${lines.slice(-3).join(" ").slice(0, 300)}`}`,
    };
  }
  return {
    ...base,
    recordsPerSec: field("nMsg.sec"),
    // The tool's MB are MiB; the table's are 10^6 bytes, as for the Node clients.
    mbPerSec: (field("MB.sec") * 1024 * 1024) / 1e6,
    firstRecordMs: field("rebalance.time.ms"),
    steadyRecordsPerSec: field("fetch.nMsg.sec"),
  };
}

/**
 * The franz-go peer (bench/franz-go): a group consumer at franz-go's defaults (KIP-848
 * protocol, 50 MiB fetches, 1 MiB per partition, CRCs checked) polling from the earliest
 * offset; its clock starts just before NewClient, which joins the group.
 */
async function runFranzGoConsumer(
  bootstrap: string,
  topic: string,
  groupId: string,
  records: number,
  timeLimitMs: number,
  log: (line: string) => void,
): Promise<ConsumerRow> {
  const base = {
    client: "franz-go" as const,
    groupProtocol: "consumer (KIP-848, its default)",
    records,
    recordsPerSec: 0,
    mbPerSec: 0,
    firstRecordMs: 0,
    steadyRecordsPerSec: 0,
    cpuSeconds: 0,
    cpuSecondsPerMillion: 0,
    peakRssMb: 0,
  };
  const binary = await franzGoBinary(log);
  if (binary.skipped !== undefined) return { ...base, skipped: binary.skipped };
  const run = await runFranzGo(
    binary.path,
    { mode: "consume", bootstrap, topic, group: groupId, records, timeLimitMs },
    log,
  );
  const r = run.result;
  if (run.failure || !r)
    return { ...base, cpuSeconds: run.cpuSeconds, peakRssMb: run.peakRssMb, skipped: run.failure ?? "no result" };
  const firstRecordMs = r.firstRecordMs ?? 0;
  return {
    ...base,
    groupProtocol: r.groupProtocol ?? base.groupProtocol,
    recordsPerSec: (records / r.elapsedMs) * 1000,
    mbPerSec: (r.bytes ?? 0) / r.elapsedMs / 1000,
    firstRecordMs,
    steadyRecordsPerSec: (records / (r.elapsedMs - firstRecordMs)) * 1000,
    cpuSeconds: run.cpuSeconds,
    cpuSecondsPerMillion: (run.cpuSeconds * 1e6) / records,
    peakRssMb: run.peakRssMb,
  };
}

/** Fills `topic` with `records` 100-byte keyless records (1,024 distinct values); returns records/s. */
function preProduce(bootstrap: string, topic: string, records: number): Promise<number> {
  const values = Array.from({ length: 1024 }, (_, i) => {
    const b = Buffer.alloc(VALUE_SIZE, i & 0xff);
    b.writeUInt32BE(i, 0);
    return b;
  });
  return fillTopic(bootstrap, topic, records, values);
}

/**
 * The first group request on a fresh broker creates __consumer_offsets and waits for its
 * partitions to load, which took ~0.7 s here and would count against whichever client runs
 * first. Fetching the groups' committed offsets (FindCoordinator, retried until the
 * coordinator is ready, then OffsetFetch) does that before any clock starts, without creating
 * the groups.
 */
async function warmCoordinators(admin: Client, groupIds: string[], log: (line: string) => void): Promise<void> {
  const started = performance.now();
  const a = admin.admin();
  await Promise.all(groupIds.map((g) => a.listGroupOffsets(g))).catch((e: unknown) =>
    log(`  group coordinator lookup failed (${(e as Error).message}); the first client may pay for it`),
  );
  log(`  group coordinators ready in ${Math.round(performance.now() - started)} ms`);
}

/**
 * A fresh broker JVM serves its first fetches and group heartbeats from cold code: the first
 * client measured paid ~100 ms more before its first record than the same client run second.
 * A throwaway consumer per group protocol reads `records` records before any clock starts, so
 * every client meets a warm broker.
 */
async function warmBroker(bootstrap: string, topic: string, records: number, log: (line: string) => void) {
  const started = performance.now();
  for (const groupProtocol of ["consumer", "classic"] as const) {
    const client = new Client({ bootstrap, clientId: "bench-warmup" });
    const consumer = client.consumer({
      groupId: `bench-warmup-${randomUUID().slice(0, 8)}`,
      groupProtocol,
      autoOffsetReset: "earliest",
    });
    const signal = AbortSignal.timeout(30_000);
    try {
      consumer.subscribe(topic);
      let seen = 0;
      for await (const batch of consumer.batches({ signal })) {
        seen += batch.messages.length;
        if (seen >= records) break;
      }
    } catch (e) {
      log(`  warm-up (${groupProtocol}) failed: ${(e as Error).message}`);
    } finally {
      await consumer.close().catch(() => {});
      client.close();
    }
  }
  log(`  broker warmed (fetch, both group protocols) in ${Math.round(performance.now() - started)} ms`);
}

const NODE_CLIENTS: ReadonlySet<ConsumerBenchClient> = new Set(["samsa", "samsa-messages", "kafkajs", "platformatic"]);

/** Runs the throughput and latency benchmarks; see the module comment. */
export async function runConsumerBench(options: ConsumerBenchOptions): Promise<ConsumerBenchResult> {
  const records = options.records ?? 1_000_000;
  const clients = options.clients ?? CONSUMER_CLIENTS;
  const latencyRate = options.latencyRate ?? 10_000;
  const latencyDurationMs = options.latencyDurationMs ?? 10_000;
  const timeLimitMs = options.timeLimitMs ?? 5 * 60_000;
  const log = options.log ?? ((line: string) => console.error(line));
  const admin = new Client({ bootstrap: options.bootstrap, clientId: "bench-admin" });
  const throughput: ConsumerRow[] = [];
  const latency: LatencyRow[] = [];
  let produceRecordsPerSec = 0;
  try {
    const topic = `bench-consume-${randomUUID().slice(0, 8)}`;
    await createTopic(admin, topic, PARTITIONS);
    log(`▶ pre-producing ${records.toLocaleString("en-US")} records → ${topic} (samsa, acks=all)`);
    produceRecordsPerSec = await preProduce(options.bootstrap, topic, records);
    log(`  ${Math.round(produceRecordsPerSec).toLocaleString("en-US")} records/s`);

    const groupIds = new Map(clients.map((c) => [c, `bench-${c}-${randomUUID().slice(0, 8)}`]));
    await warmCoordinators(admin, [...groupIds.values()], log);
    await warmBroker(options.bootstrap, topic, Math.min(records, 50_000), log);

    for (const client of clients) {
      const groupId = groupIds.get(client) as string;
      log(`▶ consume ${client}: ${records.toLocaleString("en-US")} records ← ${topic}`);
      if (client === "java") {
        throughput.push(await runJava(options.bootstrap, topic, groupId, records, timeLimitMs, log));
      } else if (client === "franz-go") {
        throughput.push(await runFranzGoConsumer(options.bootstrap, topic, groupId, records, timeLimitMs, log));
      } else {
        const run = await runNode(
          {
            mode: "throughput",
            client,
            bootstrap: options.bootstrap,
            topic,
            groupId,
            records,
            rate: 0,
            durationMs: 0,
            timeLimitMs,
          },
          log,
        );
        const r = run.result;
        const elapsedMs = r?.elapsedMs ?? 0;
        const firstRecordMs = r?.firstRecordMs ?? 0;
        throughput.push({
          client,
          groupProtocol: r?.groupProtocol ?? "",
          records,
          recordsPerSec: run.failure ? 0 : (records / elapsedMs) * 1000,
          mbPerSec: run.failure ? 0 : (r?.bytes ?? 0) / elapsedMs / 1000,
          firstRecordMs,
          steadyRecordsPerSec: run.failure ? 0 : (records / (elapsedMs - firstRecordMs)) * 1000,
          cpuSeconds: run.cpuSeconds,
          cpuSecondsPerMillion: (run.cpuSeconds * 1e6) / records,
          peakRssMb: run.peakRssMb,
          ...(run.failure ? { skipped: run.failure } : {}),
        });
      }
      const row = throughput[throughput.length - 1] as ConsumerRow;
      log(
        row.skipped
          ? `  skipped: ${row.skipped}`
          : `  ${Math.round(row.recordsPerSec).toLocaleString("en-US")} records/s, first record after ${Math.round(row.firstRecordMs)} ms`,
      );
    }

    for (const client of clients) {
      if (client === "samsa-messages") continue; // same producer and fetcher as "samsa"
      // The franz-go peer has no produce → consume mode; its send → ack latency is in the producer suite.
      if (client === "franz-go") continue;
      const base = { client, groupProtocol: "", records: 0, p50Ms: 0, p99Ms: 0, maxMs: 0, cpuSeconds: 0, peakRssMb: 0 };
      if (!NODE_CLIENTS.has(client)) {
        latency.push({
          ...base,
          skipped:
            "Kafka ships EndToEndLatency, which keeps one record in flight (send, wait until consumed), not a fixed rate",
        });
        continue;
      }
      const topic = `bench-latency-${client}-${randomUUID().slice(0, 8)}`;
      await createTopic(admin, topic, PARTITIONS);
      log(`▶ latency ${client}: ${latencyRate.toLocaleString("en-US")} records/s for ${latencyDurationMs / 1000} s`);
      const run = await runNode(
        {
          mode: "latency",
          client: client as NodeConsumerClient,
          bootstrap: options.bootstrap,
          topic,
          groupId: `bench-latency-${client}-${randomUUID().slice(0, 8)}`,
          records: 0,
          rate: latencyRate,
          durationMs: latencyDurationMs,
          timeLimitMs: Math.min(timeLimitMs, latencyDurationMs + 120_000),
        },
        log,
      );
      const l = run.result?.latency;
      latency.push({
        ...base,
        groupProtocol: run.result?.groupProtocol ?? "",
        records: l?.records ?? 0,
        p50Ms: l?.p50Ms ?? 0,
        p99Ms: l?.p99Ms ?? 0,
        maxMs: l?.maxMs ?? 0,
        cpuSeconds: run.cpuSeconds,
        peakRssMb: run.peakRssMb,
        ...(run.failure ? { skipped: run.failure } : {}),
      });
      const row = latency[latency.length - 1] as LatencyRow;
      log(row.skipped ? `  skipped: ${row.skipped}` : `  p50 ${row.p50Ms} ms, p99 ${row.p99Ms} ms`);
    }
  } finally {
    admin.close();
  }
  return { records, produceRecordsPerSec, throughput, latency, latencyRate, latencyDurationMs };
}

const LABELS: Record<ConsumerBenchClient, string> = {
  samsa: "samsa `batches()`",
  "samsa-messages": "samsa `for await` (per record)",
  "franz-go": "franz-go `PollFetches`",
  kafkajs: "kafkajs `eachBatch`",
  platformatic: "@platformatic/kafka stream `data` events",
  java: "Java ConsumerPerformance",
};

const int = (n: number) => Math.round(n).toLocaleString("en-US");

/** samsa `batches()` and `for await` records/s over franz-go's; what `--runs` summarises. */
export function consumerRatios(result: ConsumerBenchResult): Record<string, number> {
  const out: Record<string, number> = {};
  const franz = result.throughput.find((r) => r.client === "franz-go" && !r.skipped);
  if (!franz || franz.recordsPerSec <= 0) return out;
  for (const r of result.throughput) {
    if ((r.client !== "samsa" && r.client !== "samsa-messages") || r.skipped) continue;
    const form = r.client === "samsa" ? "batches()" : "for await";
    out[`consumer records/s: samsa ${form} ÷ franz-go`] = r.recordsPerSec / franz.recordsPerSec;
    out[`consumer records/s after the first: samsa ${form} ÷ franz-go`] =
      r.steadyRecordsPerSec / franz.steadyRecordsPerSec;
  }
  return out;
}

/** Markdown tables (throughput with each client's ratio to franz-go, then latency). */
export function formatConsumerBench(result: ConsumerBenchResult): string {
  const franz = result.throughput.find((r) => r.client === "franz-go" && !r.skipped);
  const ratio = (a: number, b: number | undefined) => (b && b > 0 && a > 0 ? (a / b).toFixed(2) : "");
  const lines = [
    "| client | group protocol | records/s | MB/s | subscribe → first record ms | records/s after the first | CPU s per 1M records | peak RSS MB | records/s ÷ franz-go | after the first ÷ franz-go |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const r of result.throughput) {
    if (r.skipped) {
      lines.push(`| ${LABELS[r.client]} | ${r.groupProtocol} | n/a | | | | | | | (${r.skipped}) |`);
      continue;
    }
    const self = r.client === "franz-go";
    lines.push(
      `| ${LABELS[r.client]} | ${r.groupProtocol} | ${int(r.recordsPerSec)} | ${r.mbPerSec.toFixed(1)} | ${int(r.firstRecordMs)} | ${int(r.steadyRecordsPerSec)} | ${r.cpuSecondsPerMillion.toFixed(2)} | ${Math.round(r.peakRssMb)} | ${self ? "1" : ratio(r.recordsPerSec, franz?.recordsPerSec)} | ${self ? "1" : ratio(r.steadyRecordsPerSec, franz?.steadyRecordsPerSec)} |`,
    );
  }
  lines.push(
    "",
    "records/s and MB/s span subscribe (kafkajs: connect; @platformatic/kafka: consume(); franz-go: NewClient, which " +
      "joins the group) → the last record, so group join, offset lookup and the first fetch count; Java's figures are " +
      "ConsumerPerformance's own (nMsg.sec over the same span; its first column is subscribe → partitions assigned, and " +
      "the next is fetch.nMsg.sec). CPU s are the whole process's (/usr/bin/time), scaled to 1,000,000 records from " +
      `${int(result.records)}; peak RSS is the process's maximum, not scaled. Every client at its default fetch sizes. ` +
      "Before the first client, a throwaway consumer per group protocol reads 50,000 records, so no client meets a cold broker.",
    "",
    "CRCs: samsa checks the CRC-32C of every record batch it decodes. franz-go checks it too by default (" +
      `${FRANZ_GO_VERSION}, pkg/kgo/source.go: each fetched v2 batch's CRC-32C is computed and compared unless the ` +
      "client was built with DisableFetchCRCValidation(), which the peer does not set). ConsumerPerformance turns " +
      "Java's checks off (check.crcs=false).",
    "",
    `### Produce → consume latency at ${int(result.latencyRate)} records/s for ${result.latencyDurationMs / 1000} s`,
    "",
    "| client | group protocol | records | p50 ms | p99 ms | max ms | CPU s | peak RSS MB |",
    "|---|---|---:|---:|---:|---:|---:|---:|",
  );
  for (const r of result.latency) {
    const label = r.client === "samsa" ? "samsa" : LABELS[r.client];
    if (r.skipped) {
      lines.push(`| ${label} | ${r.groupProtocol} | n/a | | | | | (${r.skipped}) |`);
      continue;
    }
    lines.push(
      `| ${label} | ${r.groupProtocol} | ${int(r.records)} | ${r.p50Ms.toFixed(0)} | ${r.p99Ms.toFixed(0)} | ${r.maxMs.toFixed(0)} | ${r.cpuSeconds.toFixed(1)} | ${Math.round(r.peakRssMb)} |`,
    );
  }
  lines.push(
    "",
    "Each client's own producer (acks=all, no linger) and consumer in one process, after a warm-up; a record's " +
      "timestamp is its send time, its latency the time its consumer sees it minus that (Date.now(), ms resolution).",
  );
  return lines.join("\n");
}
