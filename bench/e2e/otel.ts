/**
 * What send spans cost end to end: 100,000 `producer.send(record, cb)` calls to a real broker,
 * without the OpenTelemetry outlet, with `instrument()` but no SDK (the API's no-op tracer),
 * and with the Node SDK recording every span (always-on sampler, batch processor, an exporter
 * that only counts: the cost measured is making spans and trace headers, not shipping them),
 * once with and once without trace headers in the records. Each mode runs in its own process
 * (the OpenTelemetry globals and the JIT's state stay apart), after a 10,000-record warm-up,
 * on a fresh 6-partition topic; acks=all, idempotent, linger 5 ms, 100-byte values.
 *
 *   npx tsx bench/e2e/otel.ts [--bootstrap HOST:PORT] [--records N]
 *
 * Without `--bootstrap` it starts a single broker with the test harness and stops it after.
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { AlwaysOnSampler, BatchSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { Client } from "../../src/client.js";
import { instrument } from "../../src/otel/index.js";
import type { Producer } from "../../src/producer/index.js";
import { startKafka } from "../../tools/kafka/harness.js";
import { createTopic } from "../../tools/kafka/topics.js";

const MODES = ["off", "noop-api", "sdk", "sdk-no-headers"] as const;
type Mode = (typeof MODES)[number];

/** One mode's result, as a worker prints it. */
interface Row {
  mode: Mode;
  records: number;
  seconds: number;
  recordsPerSec: number;
  /** Spans the SDK handed its exporter: warm-up and measured sends (0 without the SDK). */
  spansExported: number;
}

const VALUE = Buffer.alloc(100, 0x61);
const WARMUP = 10_000;

/** Sends `count` records with callbacks and resolves when the last is acknowledged. */
function sendAll(producer: Producer, topic: string, count: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let left = count;
    let failed = false;
    const done = (err: Error | null) => {
      if (err && !failed) {
        failed = true;
        reject(err);
      }
      if (--left === 0 && !failed) resolve();
    };
    for (let i = 0; i < count; i++) producer.send({ topic, key: `k${i % 1000}`, value: VALUE }, done);
  });
}

async function worker(mode: Mode, bootstrap: string, records: number): Promise<Row> {
  let exported = 0;
  let provider: NodeTracerProvider | undefined;
  if (mode === "sdk" || mode === "sdk-no-headers") {
    provider = new NodeTracerProvider({
      sampler: new AlwaysOnSampler(),
      spanProcessors: [
        new BatchSpanProcessor(
          {
            export(spans: ReadableSpan[], callback) {
              exported += spans.length;
              callback({ code: 0 });
            },
            async shutdown() {},
          },
          // Room for every span of the run: a full queue drops spans, which would flatter the figure.
          { maxQueueSize: 262_144, maxExportBatchSize: 8192, scheduledDelayMillis: 200 },
        ),
      ],
    });
    provider.register();
  }
  if (mode !== "off") instrument();
  const client = new Client({ bootstrap, clientId: `bench-otel-${mode}` });
  const topic = `bench-otel-${mode}-${randomUUID()}`;
  await createTopic(client, topic, 6);
  const producer = client.producer({ lingerMs: 5, propagateTraceContext: mode !== "sdk-no-headers" });
  await sendAll(producer, topic, WARMUP);
  const started = process.hrtime.bigint();
  await sendAll(producer, topic, records);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await producer.close();
  client.close();
  await provider?.forceFlush();
  await provider?.shutdown();
  return { mode, records, seconds, recordsPerSec: Math.round(records / seconds), spansExported: exported };
}

async function main(argv: string[]): Promise<void> {
  const arg = (name: string) => {
    const at = argv.indexOf(name);
    return at >= 0 ? argv[at + 1] : undefined;
  };
  const records = Number(arg("--records") ?? 100_000);
  const workerMode = arg("--worker") as Mode | undefined;
  if (workerMode !== undefined) {
    const bootstrap = arg("--bootstrap");
    if (!bootstrap || !MODES.includes(workerMode)) throw new Error("--worker needs a mode and --bootstrap");
    console.log(JSON.stringify(await worker(workerMode, bootstrap, records)));
    return;
  }
  const given = arg("--bootstrap");
  const kafka = given ? undefined : await startKafka({ mode: "single" });
  const bootstrap = given ?? (kafka?.bootstrap as string);
  try {
    const run = promisify(execFile);
    const self = fileURLToPath(import.meta.url);
    const rows: Row[] = [];
    for (const mode of MODES) {
      const { stdout } = await run(
        process.execPath,
        ["--import", "tsx", self, "--worker", mode, "--bootstrap", bootstrap, "--records", String(records)],
        { timeout: 300_000 },
      );
      rows.push(JSON.parse(stdout.trim().split("\n").at(-1) as string) as Row);
    }
    const base = rows[0]?.recordsPerSec ?? 0;
    console.log(`${records} send(record, cb) calls per mode, one run each, broker ${bootstrap}`);
    console.log("mode             records/s   vs off   µs/record   spans exported");
    for (const r of rows) {
      const perRecordUs = (1e6 / r.recordsPerSec).toFixed(2);
      const ratio = base ? `${((r.recordsPerSec / base) * 100).toFixed(0)}%` : "-";
      console.log(
        `${r.mode.padEnd(16)} ${String(r.recordsPerSec).padStart(9)}   ${ratio.padStart(6)}   ${perRecordUs.padStart(9)}   ${r.spansExported}`,
      );
    }
  } finally {
    await kafka?.stop();
  }
}

await main(process.argv.slice(2));
