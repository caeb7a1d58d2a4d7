/**
 * One consumer benchmark run in its own process (so CPU time and peak RSS are its own), for
 * one client, printing one JSON line of results. Two modes:
 * - "throughput": a group consumer (fresh group, from earliest) reads `records` records and
 *   stops; times run from just before the subscribe call (kafkajs: connect) to the first and
 *   to the `records`-th record, so group join, offset lookup and the first fetch count, as in
 *   Java's ConsumerPerformance headline figure.
 * - "latency": the same client produces `rate` records/s for `durationMs` into an empty topic
 *   while its consumer reads them; each record's timestamp is its send time and its latency is
 *   the time it is seen by the consumer minus that timestamp (one clock, one process).
 * Either way the process ends itself after `timeLimitMs`, printing what it has with `timedOut`.
 */

import { readdirSync, readFileSync } from "node:fs";
import { Client } from "../../src/client.js";

// The peers load only in their own runs: importing @platformatic/kafka compiles its schemas
// (ajv) and kafkajs its modules, ~0.6 s of CPU (measured) that a samsa run would otherwise count as its own.
type KafkaJs = typeof import("kafkajs");
type Platformatic = typeof import("@platformatic/kafka");

/** The Node clients, and for samsa which read API. */
export type NodeConsumerClient = "samsa" | "samsa-messages" | "kafkajs" | "platformatic";

/** What the orchestrator asks of a worker. */
export interface ConsumerWorkerParams {
  mode: "throughput" | "latency";
  client: NodeConsumerClient;
  bootstrap: string;
  topic: string;
  groupId: string;
  /** Throughput: stop after this many records. */
  records: number;
  /** Latency: records per second produced, and for how long. */
  rate: number;
  durationMs: number;
  /** Hard limit for the whole process. */
  timeLimitMs: number;
}

/** What a worker reports. */
export interface ConsumerWorkerResult {
  records: number;
  /** Key and value bytes seen. */
  bytes: number;
  /** Subscribe (kafkajs: connect) → first record. */
  firstRecordMs: number;
  /** Subscribe (kafkajs: connect) → the last record wanted. */
  elapsedMs: number;
  groupProtocol: string;
  /** Latency mode. */
  latency?: { records: number; p50Ms: number; p99Ms: number; maxMs: number };
  timedOut?: boolean;
}

/**
 * What every adapter feeds: counts, bytes and (in latency mode) per-record latencies. One
 * call per batch (samsa `batches()`, kafkajs `eachBatch`) or per record (the others).
 */
class Tally {
  records = 0;
  bytes = 0;
  firstAt = 0;
  lastAt = 0;
  /** Latency mode: records with a timestamp from here on are measured (before: warm-up). */
  measureFrom = Number.POSITIVE_INFINITY;
  readonly latencies: number[] = [];
  readonly #target: number;
  readonly #started: number;
  #resolve: () => void = () => {};
  /** Resolves once `target` records were seen. */
  readonly done: Promise<void>;

  constructor(target: number, started: number) {
    this.#target = target;
    this.#started = started;
    this.done = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  get finished(): boolean {
    return this.records >= this.#target;
  }

  /** Records `n` more records of `bytes` bytes in all. */
  add(n: number, bytes: number): void {
    if (n === 0) return;
    // The clock is read twice per run, not per call: per-record clients call this 10^6 times.
    if (this.records === 0) this.firstAt = performance.now() - this.#started;
    this.records += n;
    this.bytes += bytes;
    if (this.records >= this.#target && this.lastAt === 0) {
      this.lastAt = performance.now() - this.#started;
      this.#resolve();
    }
  }

  /** Latency mode: one record stamped `timestamp` (ms since the epoch) seen `now`. */
  latency(timestamp: number, now: number): void {
    if (timestamp >= this.measureFrom) this.latencies.push(now - timestamp);
  }
}

interface Runner {
  groupProtocol: string;
  /** Subscribes and starts handing records to the tally; resolves once started. */
  start(tally: Tally, withLatency: boolean): Promise<void>;
  close(): Promise<void>;
  /** Rejects when reading fails. */
  failed: Promise<never>;
}

interface Sender {
  /** Sends `n` records of 100 bytes stamped `timestamp`; resolves on acknowledgement. */
  send(n: number, timestamp: number): Promise<unknown>;
  close(): Promise<void>;
}

const VALUE = Buffer.alloc(100, 0x61);

/** A promise that rejects with the first reading error, raced by main() against progress. */
function failure(): { failed: Promise<never>; fail: (e: unknown) => void } {
  let fail: (e: unknown) => void = () => {};
  const failed = new Promise<never>((_, reject) => {
    fail = reject;
  });
  // An error after the run (while closing) must not crash the process before it reports.
  failed.catch(() => {});
  return { failed, fail };
}

/**
 * CPU ms and context switches of this process's main thread and of each other thread that used
 * any CPU, busiest first (Linux /proc; Node names none of them), for the bench log: which thread
 * an odd run spent on, and whether it woke often (many small reads) or computed.
 */
function threadCpu(): { main: string; others: string[] } {
  const threads: { tid: number; ms: number; switches: number }[] = [];
  try {
    for (const tid of readdirSync("/proc/self/task")) {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // utime and stime (stat fields 14 and 15, 11 and 12 after the name), in 10 ms ticks.
      const ms = (Number(fields[11]) + Number(fields[12])) * 10;
      const status = readFileSync(`/proc/self/task/${tid}/status`, "utf8");
      const switches = Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(status)?.[1] ?? 0);
      threads.push({ tid: Number(tid), ms, switches });
    }
  } catch {
    // Not Linux: no per-thread figures.
  }
  const show = (t: { ms: number; switches: number }) => `${t.ms} ms/${t.switches} wakeups`;
  const main = threads.find((t) => t.tid === process.pid);
  const others = threads.filter((t) => t.tid !== process.pid && t.ms > 0).sort((a, b) => b.ms - a.ms);
  return { main: main ? show(main) : "", others: others.map(show) };
}

function samsaRunner(p: ConsumerWorkerParams, perMessage: boolean): Runner {
  // SAMSA_IO_THREAD=0 measures the consumer with every socket on the main thread (ioThread: false).
  const client = new Client({
    bootstrap: p.bootstrap,
    clientId: "bench-samsa",
    ...(process.env.SAMSA_IO_THREAD === "0" ? { ioThread: false } : {}),
  });
  const consumer = client.consumer({ groupId: p.groupId, autoOffsetReset: "earliest" });
  const { failed, fail } = failure();
  return {
    groupProtocol: "consumer (KIP-848)",
    failed,
    async start(tally, withLatency) {
      consumer.subscribe(p.topic);
      const loop = perMessage
        ? async () => {
            for await (const m of consumer) {
              tally.add(1, (m.value?.length ?? 0) + (m.key?.length ?? 0));
              if (withLatency) tally.latency(m.timestamp, Date.now());
              if (tally.finished) break;
            }
          }
        : async () => {
            for await (const batch of consumer.batches()) {
              let bytes = 0;
              const now = withLatency ? Date.now() : 0;
              for (const m of batch.messages) {
                bytes += (m.value?.length ?? 0) + (m.key?.length ?? 0);
                if (withLatency) tally.latency(m.timestamp, now);
              }
              tally.add(batch.messages.length, bytes);
              if (tally.finished) break;
            }
          };
      loop().catch(fail);
    },
    async close() {
      // For the bench log (stderr): what the run cost in requests, so an odd run can be told apart.
      const { fetch, rebalances } = consumer.stats();
      const { requests, requestErrors, metadataRequests, connections } = client.stats();
      process.stderr.write(
        `  samsa stats: ${JSON.stringify({ fetch, rebalances, requests, requestErrors, metadataRequests, connections, threads: threadCpu() })}\n`,
      );
      await consumer.close();
      client.close();
    },
  };
}

function samsaSender(p: ConsumerWorkerParams): Sender {
  const client = new Client({ bootstrap: p.bootstrap, clientId: "bench-samsa-producer" });
  // No linger: kafkajs and @platformatic/kafka send each call at once, and so does this.
  const producer = client.producer({ acks: "all", lingerMs: 0 });
  return {
    send: (n, timestamp) =>
      producer.send(Array.from({ length: n }, () => ({ topic: p.topic, value: VALUE, timestamp }))),
    async close() {
      await producer.close();
      client.close();
    },
  };
}

function kafkajsRunner(p: ConsumerWorkerParams, { Kafka, logLevel }: KafkaJs): Runner {
  const kafka = new Kafka({ clientId: "bench-kafkajs", brokers: p.bootstrap.split(","), logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: p.groupId });
  const { failed, fail } = failure();
  consumer.on(consumer.events.CRASH, (e) => fail(e.payload.error));
  return {
    groupProtocol: "classic (its only one)",
    failed,
    async start(tally, withLatency) {
      await consumer.connect();
      await consumer.subscribe({ topics: [p.topic], fromBeginning: true });
      // eachBatch is kafkajs's fast path (eachMessage adds a promise per record).
      await consumer.run({
        eachBatch: async ({ batch }) => {
          let bytes = 0;
          const now = withLatency ? Date.now() : 0;
          for (const m of batch.messages) {
            bytes += (m.value?.length ?? 0) + (m.key?.length ?? 0);
            if (withLatency) tally.latency(Number(m.timestamp), now);
          }
          tally.add(batch.messages.length, bytes);
        },
      });
    },
    close: () => consumer.disconnect(),
  };
}

function kafkajsSender(p: ConsumerWorkerParams, { Kafka, logLevel }: KafkaJs): Sender {
  const kafka = new Kafka({
    clientId: "bench-kafkajs-producer",
    brokers: p.bootstrap.split(","),
    logLevel: logLevel.NOTHING,
  });
  const producer = kafka.producer();
  const connected = producer.connect();
  return {
    send: async (n, timestamp) => {
      await connected;
      const ts = String(timestamp);
      return producer.send({
        topic: p.topic,
        acks: -1,
        messages: Array.from({ length: n }, () => ({ value: VALUE, timestamp: ts })),
      });
    },
    close: () => producer.disconnect(),
  };
}

function platformaticRunner(p: ConsumerWorkerParams, pk: Platformatic): Runner {
  const { MessagesStreamFallbackModes, MessagesStreamModes } = pk;
  const consumer = new pk.Consumer({
    groupId: p.groupId,
    clientId: "bench-platformatic",
    bootstrapBrokers: p.bootstrap.split(","),
  });
  const { failed, fail } = failure();
  let stream: Awaited<ReturnType<typeof consumer.consume>> | undefined;
  return {
    groupProtocol: "classic (its default)",
    failed,
    async start(tally, withLatency) {
      // Committed offsets, else earliest: what a group consumer with auto.offset.reset=earliest does.
      stream = await consumer.consume({
        topics: [p.topic],
        mode: MessagesStreamModes.COMMITTED,
        fallbackMode: MessagesStreamFallbackModes.EARLIEST,
      });
      stream.on("error", fail);
      // 'data' events: its fastest read path (the async iterator adds a promise per record).
      stream.on("data", (m) => {
        tally.add(1, (m.value?.length ?? 0) + (m.key?.length ?? 0));
        if (withLatency) tally.latency(Number(m.timestamp), Date.now());
      });
    },
    async close() {
      await stream?.close();
      await consumer.close(true);
    },
  };
}

function platformaticSender(p: ConsumerWorkerParams, pk: Platformatic): Sender {
  const producer = new pk.Producer({
    clientId: "bench-platformatic-producer",
    bootstrapBrokers: p.bootstrap.split(","),
    acks: -1,
  });
  return {
    send: (n, timestamp) => {
      const ts = BigInt(timestamp);
      return producer.send({
        messages: Array.from({ length: n }, () => ({ topic: p.topic, value: VALUE, timestamp: ts })),
      });
    },
    close: () => producer.close(),
  };
}

async function makeRunner(p: ConsumerWorkerParams): Promise<Runner> {
  switch (p.client) {
    case "samsa":
      return samsaRunner(p, false);
    case "samsa-messages":
      return samsaRunner(p, true);
    case "kafkajs":
      return kafkajsRunner(p, await import("kafkajs"));
    case "platformatic":
      return platformaticRunner(p, await import("@platformatic/kafka"));
  }
}

async function makeSender(p: ConsumerWorkerParams): Promise<Sender> {
  switch (p.client) {
    case "samsa":
    case "samsa-messages":
      return samsaSender(p);
    case "kafkajs":
      return kafkajsSender(p, await import("kafkajs"));
    case "platformatic":
      return platformaticSender(p, await import("@platformatic/kafka"));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? 0;
}

/**
 * Produces `rate` records/s for `durationMs`, one send call per 5 ms tick with the records
 * due by then, not waiting for acknowledgements (so a slow ack never lowers the rate).
 * Resolves with the number sent once all are acknowledged.
 */
async function produceAtRate(sender: Sender, rate: number, durationMs: number): Promise<number> {
  const total = Math.round((rate * durationMs) / 1000);
  const acks: Promise<unknown>[] = [];
  const started = Date.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((Date.now() - started) * rate) / 1000));
    if (due > sent) {
      acks.push(sender.send(due - sent, Date.now()));
      sent = due;
    }
    await sleep(5);
  }
  await Promise.all(acks);
  return sent;
}

/**
 * BENCH_CPU_PROFILE=<dir>: a CPU profile of the main thread from before the client is made to
 * after its last record, one file per run (`--cpu-prof` itself is refused in NODE_OPTIONS).
 */
async function startProfile(): Promise<(() => Promise<void>) | undefined> {
  const dir = process.env.BENCH_CPU_PROFILE;
  if (!dir) return undefined;
  const { Session } = await import("node:inspector/promises");
  const { writeFile } = await import("node:fs/promises");
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.start");
  return async () => {
    const { profile } = await session.post("Profiler.stop");
    await writeFile(`${dir}/${Date.now()}-${process.pid}.cpuprofile`, JSON.stringify(profile));
  };
}

async function main(): Promise<void> {
  const p = JSON.parse(process.argv[2] as string) as ConsumerWorkerParams;
  const stopProfile = await startProfile();
  const runner = await makeRunner(p);
  const started = performance.now();
  const target = p.mode === "throughput" ? p.records : Number.POSITIVE_INFINITY;
  const tally = new Tally(target, started);
  const result = (): ConsumerWorkerResult => {
    const sorted = [...tally.latencies].sort((a, b) => a - b);
    return {
      records: tally.records,
      bytes: tally.bytes,
      firstRecordMs: tally.firstAt,
      elapsedMs: tally.lastAt || performance.now() - started,
      groupProtocol: runner.groupProtocol,
      ...(p.mode === "latency"
        ? {
            latency: {
              records: sorted.length,
              p50Ms: percentile(sorted, 0.5),
              p99Ms: percentile(sorted, 0.99),
              maxMs: sorted[sorted.length - 1] ?? 0,
            },
          }
        : {}),
    };
  };
  // The bench must always end: report what there is and leave, whatever the client is doing.
  setTimeout(() => {
    process.stdout.write(`${JSON.stringify({ ...result(), timedOut: true })}\n`);
    process.exit(3);
  }, p.timeLimitMs).unref();

  const progress = setInterval(() => {
    process.stderr.write(`  ${p.client}: ${tally.records.toLocaleString("en-US")} records\n`);
  }, 5000);
  progress.unref();

  await runner.start(tally, p.mode === "latency");
  if (p.mode === "throughput") {
    await Promise.race([tally.done, runner.failed]);
  } else {
    const sender = await makeSender(p);
    // Warm-up outside the measurement: connections, group join, first fetch. One record every
    // 100 ms until the consumer has seen one.
    while (tally.records === 0) {
      await Promise.race([sender.send(1, Date.now()), runner.failed]);
      await Promise.race([sleep(100), runner.failed]);
    }
    await sleep(500);
    tally.measureFrom = Date.now();
    const sent = await Promise.race([produceAtRate(sender, p.rate, p.durationMs), runner.failed]);
    while (tally.latencies.length < sent) await Promise.race([sleep(10), runner.failed]);
    await sender.close();
  }
  clearInterval(progress);
  const out = result();
  await stopProfile?.();
  // Closing (commit, leave group) is outside the figures; cap it so a stuck close cannot hang the run.
  await Promise.race([runner.close(), sleep(30_000)]);
  process.stdout.write(`${JSON.stringify(out)}\n`);
  // kafkajs and @platformatic/kafka may leave timers behind.
  process.exit(0);
}

await main();
