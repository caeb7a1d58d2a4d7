/**
 * What the Prometheus collector costs the producer: records/s of `send(record, cb)` calls
 * against a real broker, with the collector on or off, one mode per process so neither run
 * inherits the other's JIT state or heap. A measurement, not a test (timing goals live in
 * benchmarks): run it by hand and compare the two lines.
 *
 *   KAFKA_BOOTSTRAP=127.0.0.1:PORT npx tsx bench/e2e/prometheus.ts off
 *   KAFKA_BOOTSTRAP=127.0.0.1:PORT npx tsx bench/e2e/prometheus.ts on
 *   npx tsx bench/e2e/prometheus.ts handlers    (no broker: ns per event)
 *
 * "on" also renders the registry every second, as a 1 s scrape would. Each line gives wall
 * time and records/s, this process's CPU time, and the batches and Produce requests the
 * records took (the collector's work is per batch and per request, not per record).
 */
import { randomUUID } from "node:crypto";
import * as diagnostics from "node:diagnostics_channel";
import { Registry } from "prom-client";
import { Client } from "../../src/client.js";
import type { RequestContext } from "../../src/observability/events.js";
import { collectMetrics } from "../../src/prometheus/index.js";
import { createTopic } from "../../tools/kafka/topics.js";

const RECORDS = Number(process.env.RECORDS ?? 200_000);
const WARMUP = 20_000;
const VALUE = Buffer.alloc(100, 0x61);

/** Sends `count` records with the callback form and resolves when every callback ran. */
function sendAll(send: (value: Buffer, done: (err: Error | null) => void) => void, count: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let left = count;
    let failed = 0;
    const done = (err: Error | null) => {
      if (err) failed++;
      if (--left === 0) failed > 0 ? reject(new Error(`${failed} sends failed`)) : resolve(count);
    };
    for (let i = 0; i < count; i++) send(VALUE, done);
  });
}

/**
 * The collector's handlers alone, no broker: nanoseconds per published event, for the events
 * that come often (a batch acknowledged, a partition's fetch answer, a request's start and end).
 */
async function handlers(): Promise<void> {
  const registry = new Registry();
  const collector = collectMetrics({ registry });
  const acknowledged = diagnostics.channel("samsa:producer:batch-acknowledged");
  const fetched = diagnostics.channel("samsa:consumer:fetch-answered");
  const request = diagnostics.tracingChannel<string, RequestContext>("samsa:network:request");
  const n = 200_000;
  const time = (name: string, publish: (i: number) => void) => {
    for (let i = 0; i < 10_000; i++) publish(i);
    const started = process.hrtime.bigint();
    for (let i = 0; i < n; i++) publish(i);
    return { event: name, nsPerEvent: Number((process.hrtime.bigint() - started) / BigInt(n)) };
  };
  const results = [
    time("producer:batch-acknowledged", (i) =>
      acknowledged.publish({
        clientId: "cost",
        topic: "t",
        partition: i % 12,
        records: 500,
        bytes: 16_000,
        uncompressedBytes: 40_000,
        compression: "lz4",
        attempt: 0,
        baseOffset: BigInt(i),
        latencyMs: 7,
      }),
    ),
    time("consumer:fetch-answered", (i) =>
      fetched.publish({
        clientId: "cost",
        groupId: "g",
        nodeId: 1,
        topic: "t",
        partition: i % 12,
        records: 500,
        bytes: 16_000,
        highWatermark: 1000n,
        lastStableOffset: 1000n,
        fetchOffset: 900n,
        lag: 100n,
        durationMs: 3,
      }),
    ),
    time("network:request start+asyncEnd", (i) => {
      const ctx: RequestContext = {
        clientId: "cost",
        address: "127.0.0.1:9092",
        apiKey: 0,
        apiName: "Produce",
        apiVersion: 11,
        correlationId: i,
        requestBytes: 1000,
      };
      request.start.publish(ctx);
      ctx.durationMs = 2;
      ctx.responseBytes = 100;
      request.asyncEnd.publish(ctx);
    }),
  ];
  collector.close();
  for (const r of results) console.log(JSON.stringify(r));
}

async function main(mode: string): Promise<void> {
  if (mode === "handlers") return handlers();
  if (mode !== "on" && mode !== "off") throw new Error("usage: measure-cost.ts on|off|handlers");
  const bootstrap = process.env.KAFKA_BOOTSTRAP;
  if (!bootstrap) throw new Error("KAFKA_BOOTSTRAP must name the broker (npm run kafka -- start prints it)");
  const client = new Client({ bootstrap, clientId: `cost-${mode}` });
  const topic = `prom-cost-${mode}-${randomUUID().slice(0, 8)}`;
  await createTopic(client, topic, 3);
  const producer = client.producer();
  const registry = new Registry();
  const collector =
    mode === "on" ? collectMetrics({ registry, clients: [{ client, producers: [producer] }] }) : undefined;
  const scrape = mode === "on" ? setInterval(() => void registry.metrics(), 1000) : undefined;
  const send = (value: Buffer, done: (err: Error | null) => void) => producer.send({ topic, value }, done);
  try {
    await sendAll(send, WARMUP);
    const before = producer.stats();
    const cpu = process.cpuUsage();
    const started = performance.now();
    await sendAll(send, RECORDS);
    const ms = performance.now() - started;
    // CPU time of this process alone: less disturbed than wall time by a busy machine.
    const used = process.cpuUsage(cpu);
    const after = producer.stats();
    const produced = collector
      ? (await registry.getMetricsAsJSON())
          .find((m) => m.name === "samsa_records_produced_total")
          ?.values.reduce((n, v) => n + v.value, 0)
      : undefined;
    console.log(
      JSON.stringify({
        mode,
        records: RECORDS,
        ms: Math.round(ms),
        recordsPerSec: Math.round(RECORDS / (ms / 1000)),
        cpuMs: Math.round((used.user + used.system) / 1000),
        batches: after.batchesAcknowledged - before.batchesAcknowledged,
        requests: after.requests - before.requests,
        ...(produced !== undefined ? { recordsProducedTotal: produced } : {}),
      }),
    );
  } finally {
    clearInterval(scrape);
    collector?.close();
    await producer.close();
    client.close();
  }
}

await main(process.argv[2] ?? "");
