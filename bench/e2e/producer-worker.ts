/**
 * One producer benchmark run in its own process (so CPU time and peak RSS are its own),
 * printing one JSON line of results. Keyless records of `valueSize` bytes to `topic`, cycling
 * through 1,024 distinct values. Two modes:
 * - "throughput": `records` records as fast as the client takes them, in one of three forms:
 *   - "arrays": calls of `chunk` records with at most `window` calls outstanding (every
 *     client); latency is per call, weighted by its records;
 *   - "callback" (samsa): `send(record, callback)` per record in a plain loop that stops at
 *     `false` and goes on at `"drain"`; latency send → callback of every `sampleEvery`-th record;
 *   - "promise" (samsa): `send(record)` per record with at most `window` promises pending;
 *     latency send → settle of every `sampleEvery`-th record.
 *   Every record still gets a callback (or promise) of its own; only the clock reads are
 *   sampled. Two `performance.now()` calls cost ~120 ns here, a third of a send, and would be
 *   the benchmark's cost, not the client's; franz-go's worker samples alike.
 * - "latency" (samsa, callback form): `rate` records/s for `durationMs` after `warmupMs` at
 *   the same rate, paced on a 1 ms timer that catches up; latency per measured record.
 * A record that fails fails the run: the worker exits non-zero with the first error.
 */
import { once } from "node:events";
import { Client } from "../../src/client.js";
import type { Producer } from "../../src/producer/index.js";
import type { CompressionCodec } from "../../src/protocol/records/index.js";

/** How a throughput run calls `send`; see the module comment. */
export type SendForm = "callback" | "promise" | "arrays";

/** What the orchestrator asks of a worker. */
export interface WorkerParams {
  client: "samsa" | "kafkajs" | "platformatic";
  mode?: "throughput" | "latency";
  /** Throughput mode; default "arrays". */
  form?: SendForm;
  bootstrap: string;
  topic: string;
  records: number;
  valueSize: number;
  codec: CompressionCodec;
  /** Records per call ("arrays"). */
  chunk: number;
  /** Calls ("arrays") or promises ("promise") outstanding at most. */
  window: number;
  /** Per-record forms: time every `sampleEvery`-th record (see the module comment). */
  sampleEvery?: number;
  /** Latency mode: records per second, and for how long after a warm-up of `warmupMs`. */
  rate?: number;
  durationMs?: number;
  warmupMs?: number;
}

/** What a worker reports. */
export interface WorkerResult {
  /** Records acknowledged in the measured span. */
  records: number;
  /** First send → last acknowledgement (latency mode: first → last measured send). */
  elapsedMs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Latency mode: the rate reached over the measured sends. */
  recordsPerSec?: number;
}

type SendChunk = (values: Buffer[]) => Promise<unknown>;

interface Sender {
  send: SendChunk;
  close: () => Promise<void>;
  /** samsa's producer, for the per-record forms. */
  producer?: Producer;
}

async function makeSender(p: WorkerParams): Promise<Sender> {
  switch (p.client) {
    case "samsa": {
      const client = new Client({ bootstrap: p.bootstrap, clientId: "bench-samsa" });
      const producer = client.producer({
        compression: p.codec,
        lingerMs: 5,
        acks: "all",
        idempotent: true,
        // Tuning knobs for experiments; the published figures use the defaults.
        ...(process.env.SAMSA_BATCH_BYTES ? { batchBytes: Number(process.env.SAMSA_BATCH_BYTES) } : {}),
        ...(process.env.SAMSA_REQUEST_BYTES ? { maxRequestBytes: Number(process.env.SAMSA_REQUEST_BYTES) } : {}),
        ...(process.env.SAMSA_HIGH_WATER_MARK ? { highWaterMark: Number(process.env.SAMSA_HIGH_WATER_MARK) } : {}),
      });
      return {
        send: (values) => producer.send(values.map((value) => ({ topic: p.topic, value }))),
        close: async () => {
          await producer.close();
          client.close();
        },
        producer,
      };
    }
    case "kafkajs": {
      // Peers load only in their own runs (see consumer-worker.ts's peer imports).
      const { CompressionTypes, Kafka, logLevel } = await import("kafkajs");
      const kafka = new Kafka({
        clientId: "bench-kafkajs",
        brokers: p.bootstrap.split(","),
        logLevel: logLevel.NOTHING,
      });
      // kafkajs allows idempotence only with one request in flight.
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      const compression: Record<string, number> = { none: CompressionTypes.None, gzip: CompressionTypes.GZIP };
      return {
        send: (values) =>
          producer.send({
            topic: p.topic,
            acks: -1,
            compression: compression[p.codec],
            messages: values.map((value) => ({ value })),
          }),
        close: () => producer.disconnect(),
      };
    }
    case "platformatic": {
      const { Producer: PlatformaticProducer } = await import("@platformatic/kafka");
      const producer = new PlatformaticProducer({
        clientId: "bench-platformatic",
        bootstrapBrokers: p.bootstrap.split(","),
        // Its idempotent mode fails concurrent sends with OUT_OF_ORDER_SEQUENCE_NUMBER (seen
        // with 1.35.0): measured without idempotence, acks=all, and said so in the table.
        idempotent: false,
        acks: -1,
        ...(p.codec === "none" ? {} : { compression: p.codec as never }),
      });
      return {
        send: (values) => producer.send({ messages: values.map((value) => ({ topic: p.topic, value })) }),
        close: () => producer.close(),
      };
    }
  }
}

/** Send → ack latencies in ms, one slot per timed record, and their summary. */
class Latencies {
  readonly ms: Float64Array;
  count = 0;
  constructor(n: number) {
    this.ms = new Float64Array(n);
  }
  /** p50, p99 and max over the first `count` slots (sorted in place: call once, at the end). */
  summary(): { p50Ms: number; p99Ms: number; maxMs: number } {
    const sorted = this.ms.subarray(0, this.count).sort();
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? 0;
    return { p50Ms: at(0.5), p99Ms: at(0.99), maxMs: sorted[sorted.length - 1] ?? 0 };
  }
}

/** Counts acknowledgements and failures of the per-record forms; `done` settles at `target`. */
class Acks {
  acked = 0;
  failed = 0;
  firstError: Error | undefined;
  readonly done: Promise<void>;
  #resolve: () => void = () => {};
  #reject: (e: Error) => void = () => {};
  readonly #target: number;

  constructor(target: number) {
    this.#target = target;
    this.done = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // Settled only by the last record; main() awaits it.
    this.done.catch(() => {});
  }

  /** One record settled, with `err` when it failed. */
  settle(err: Error | null): void {
    if (err) {
      this.failed++;
      this.firstError ??= err;
    } else this.acked++;
    if (this.acked + this.failed < this.#target) return;
    if (this.firstError)
      this.#reject(
        new Error(`${this.failed} of ${this.#target} records failed; the first: ${this.firstError.message}`),
      );
    else this.#resolve();
  }
}

/** "arrays": calls of `chunk` records, at most `window` outstanding; latency per call. */
async function arrays(p: WorkerParams, sender: Sender, chunkValues: (start: number) => Buffer[]) {
  const lat = new Latencies(Math.ceil(p.records / p.chunk));
  let sent = 0;
  let done = 0;
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    let outstanding = 0;
    const pump = () => {
      while (outstanding < p.window && sent < p.records) {
        const t = performance.now();
        const n = Math.min(p.chunk, p.records - sent);
        const chunk = n === p.chunk ? chunkValues(sent) : chunkValues(sent).slice(0, n);
        sent += n;
        outstanding++;
        sender.send(chunk).then(() => {
          lat.ms[lat.count++] = performance.now() - t;
          outstanding--;
          done += n;
          if (done % 250_000 < p.chunk)
            process.stderr.write(`  ${p.client}: ${done.toLocaleString("en-US")} acknowledged\n`);
          if (done >= p.records) resolve();
          else pump();
        }, reject);
      }
    };
    pump();
  });
  const elapsedMs = performance.now() - started;
  // Every call holds `chunk` records but the last: per-call percentiles weigh calls alike.
  return { records: done, elapsedMs, ...lat.summary() };
}

/**
 * "callback": one `send(record, callback)` per record in a plain loop; `false` means the
 * buffer passed its high-water mark, and the loop waits for `"drain"`.
 */
async function callbacks(p: WorkerParams, producer: Producer, values: readonly Buffer[]) {
  const every = p.sampleEvery ?? 1;
  const lat = new Latencies(Math.ceil(p.records / every));
  const acks = new Acks(p.records);
  const started = performance.now();
  for (let i = 0; i < p.records; i++) {
    const record = { topic: p.topic, value: values[i & 1023] as Buffer };
    let more: boolean;
    if (i % every !== 0) {
      more = producer.send(record, (err) => acks.settle(err));
    } else {
      const t = performance.now();
      more = producer.send(record, (err) => {
        lat.ms[lat.count++] = performance.now() - t;
        acks.settle(err);
      });
    }
    if (more === false) await once(producer, "drain");
  }
  await acks.done;
  return { records: acks.acked, elapsedMs: performance.now() - started, ...lat.summary() };
}

/** "promise": one `send(record)` per record, at most `window` promises pending. */
async function promises(p: WorkerParams, producer: Producer, values: readonly Buffer[]) {
  const every = p.sampleEvery ?? 1;
  const lat = new Latencies(Math.ceil(p.records / every));
  const acks = new Acks(p.records);
  let outstanding = 0;
  let wake: (() => void) | undefined;
  const started = performance.now();
  for (let i = 0; i < p.records; i++) {
    if (outstanding >= p.window) {
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
    const t = i % every === 0 ? performance.now() : -1;
    outstanding++;
    producer.send({ topic: p.topic, value: values[i & 1023] as Buffer }).then(
      () => {
        if (t >= 0) lat.ms[lat.count++] = performance.now() - t;
        outstanding--;
        acks.settle(null);
        wake?.();
        wake = undefined;
      },
      (err: Error) => {
        outstanding--;
        acks.settle(err);
        wake?.();
        wake = undefined;
      },
    );
  }
  await acks.done;
  return { records: acks.acked, elapsedMs: performance.now() - started, ...lat.summary() };
}

/**
 * Latency mode: `rate` records/s, the callback form, sends paced on a 1 ms timer that sends
 * what is due by now (so a late timer catches up); `warmupMs` at the rate first, unmeasured.
 */
async function atRate(p: WorkerParams, producer: Producer, values: readonly Buffer[]) {
  const rate = p.rate ?? 10_000;
  const warm = Math.round((rate * (p.warmupMs ?? 1000)) / 1000);
  const total = Math.round((rate * (p.durationMs ?? 10_000)) / 1000);
  const lat = new Latencies(total);
  const acks = new Acks(warm + total);
  const started = performance.now();
  let measuredFrom = 0;
  let sent = 0;
  while (sent < warm + total) {
    const due = Math.min(warm + total, Math.floor(((performance.now() - started) * rate) / 1000));
    for (; sent < due; sent++) {
      const measured = sent >= warm;
      if (sent === warm) measuredFrom = performance.now();
      const t = performance.now();
      producer.send({ topic: p.topic, value: values[sent & 1023] as Buffer }, (err) => {
        if (measured) lat.ms[lat.count++] = performance.now() - t;
        acks.settle(err);
      });
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  const elapsedMs = performance.now() - measuredFrom;
  await acks.done;
  return { records: lat.count, elapsedMs, recordsPerSec: (total / elapsedMs) * 1000, ...lat.summary() };
}

async function main(): Promise<void> {
  const p = JSON.parse(process.argv[2] as string) as WorkerParams;
  const sender = await makeSender(p);
  // Distinct values (as in a real stream), made before the clock starts.
  const values = Array.from({ length: 1024 }, (_, i) => {
    const b = Buffer.alloc(p.valueSize, i & 0xff);
    b.writeUInt32BE(i, 0);
    return b;
  });
  const chunkValues = (start: number) =>
    Array.from({ length: p.chunk }, (_, i) => values[(start + i) & 1023] as Buffer);
  // Warm-up outside the measurement: connections, metadata, producer id, JIT.
  for (let i = 0; i < 5; i++) await sender.send(chunkValues(i * p.chunk));
  const form = p.mode === "latency" ? "latency" : (p.form ?? "arrays");
  const producer = sender.producer;
  if (form !== "arrays" && !producer) throw new Error(`form ${form} is samsa's only`);
  let result: WorkerResult;
  switch (form) {
    case "arrays":
      result = await arrays(p, sender, chunkValues);
      break;
    case "callback":
      result = await callbacks(p, producer as Producer, values);
      break;
    case "promise":
      result = await promises(p, producer as Producer, values);
      break;
    case "latency":
      result = await atRate(p, producer as Producer, values);
      break;
  }
  await sender.close();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

await main();
