/**
 * What the instrumentation costs on the hot paths when nothing subscribes: the per-record
 * checks (`send` looks at the send span channel once per call; the consumer's iterator looks
 * at the process span channel once per record handed out) and the per-batch `wants` checks
 * (batch sent and acknowledged, fetch answered), spread over a batch of 1,000 records. The
 * checks are timed in loops of their own, less an empty loop. Also
 * the iterator's whole step with and without a process-span subscriber, so the cost of turning
 * spans on is visible too. Run with `npx tsx bench/micro/observability.ts [--rounds N]`;
 * `runObservabilityBench()` serves `npm run bench -- micro`.
 */
import * as diagnostics from "node:diagnostics_channel";
import { pathToFileURL } from "node:url";
import { ConsumerIterator, type ReadSource } from "../../src/consumer/iterator.js";
import { type ProcessContext, tracing } from "../../src/observability/events.js";
import { Instrumentation } from "../../src/observability/instrumentation.js";
import { DefaultLogger } from "../../src/observability/logger.js";
import { measureNsPerRecord } from "./records.js";

/** The figures, ns. */
export interface ObservabilityBench {
  /** `tracing.send.hasSubscribers`, once per send call (per record for `send(record, cb)`). */
  sendCheckNs: number;
  /** The iterator's span checks per record handed out. */
  processCheckNs: number;
  /** One `wants` check (default logger, no subscriber). */
  wantsNs: number;
  /** Produce path, per record of `send(record, cb)`: the send check plus two `wants` (sent, acknowledged) per 1,000-record batch. */
  produceNs: number;
  /** Consume path, per record handed out: the iterator's checks plus one `wants` (fetch answered) per 1,000-record batch. */
  consumeNs: number;
  /** One `for await`-style step of the consumer iterator over buffered records, nothing subscribed. */
  iteratorStepNs: number;
  /** The same step with a subscriber on the process span channel (spans on). */
  iteratorStepTracedNs: number;
}

const BATCH = 1000;

/** A source that always has a record ready: the iterator's fast path, as with buffered fetches. */
function endless(): ReadSource<{ topic: string; partition: number }> {
  const item = { topic: "t", partition: 0 };
  return { take: () => item, wait: async () => {}, ended: false, finish: () => {} };
}

/** Steps of `it` per call: `BATCH` awaited `next()`s, as `for await` makes them. */
async function steps<T>(it: ConsumerIterator<T>): Promise<void> {
  for (let i = 0; i < BATCH; i++) await it.next();
}

async function measureAsyncNsPerRecord(fn: () => Promise<void>, recordsPerCall: number, ms = 300, rounds = 5) {
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r <= rounds; r++) {
    let calls = 0;
    const t0 = process.hrtime.bigint();
    let elapsed = 0;
    while (elapsed < ms * 1e6) {
      await fn();
      calls++;
      elapsed = Number(process.hrtime.bigint() - t0);
    }
    if (r > 0) best = Math.min(best, elapsed / (calls * recordsPerCall));
  }
  return best;
}

/** Runs the measurements (a few seconds). */
export async function runObservabilityBench(): Promise<ObservabilityBench> {
  const inst = new Instrumentation("bench", new DefaultLogger(() => {}));
  // Each loop is its own function: a shared helper calling a different closure per
  // measurement makes that call site megamorphic, and the call (not the check) is timed.
  let sink = 0;
  let span: ProcessContext | undefined;
  const empty = measureNsPerRecord(() => {
    for (let i = 0; i < BATCH; i++) sink++;
    return sink;
  }, BATCH);
  const sendCheck = measureNsPerRecord(() => {
    for (let i = 0; i < BATCH; i++) {
      if (tracing.send.hasSubscribers) sink--;
      else sink++;
    }
    return sink;
  }, BATCH);
  const processCheck = measureNsPerRecord(() => {
    for (let i = 0; i < BATCH; i++) {
      if (span !== undefined) span = undefined;
      if (tracing.process.hasSubscribers) sink--;
      else sink++;
    }
    return sink;
  }, BATCH);
  const wants = measureNsPerRecord(() => {
    for (let i = 0; i < BATCH; i++) {
      if (inst.wants("producer:batch-acknowledged")) sink--;
      else sink++;
    }
    return sink;
  }, BATCH);
  const describe = (m: { topic: string; partition: number }): ProcessContext => ({
    clientId: "bench",
    groupId: null,
    topic: m.topic,
    partition: m.partition,
  });
  const plain = new ConsumerIterator(endless(), undefined, describe);
  const iteratorStep = await measureAsyncNsPerRecord(() => steps(plain), BATCH);
  const subscriber = { start() {}, end() {} };
  diagnostics.tracingChannel("samsa:consumer:process").subscribe(subscriber as never);
  let iteratorStepTraced: number;
  try {
    const traced = new ConsumerIterator(endless(), undefined, describe);
    iteratorStepTraced = await measureAsyncNsPerRecord(() => steps(traced), BATCH);
  } finally {
    diagnostics.tracingChannel("samsa:consumer:process").unsubscribe(subscriber as never);
  }
  const net = (v: number) => Math.max(0, v - empty);
  const sendCheckNs = net(sendCheck);
  const processCheckNs = net(processCheck);
  const wantsNs = net(wants);
  return {
    sendCheckNs,
    processCheckNs,
    wantsNs,
    produceNs: sendCheckNs + (2 * wantsNs) / BATCH,
    consumeNs: processCheckNs + wantsNs / BATCH,
    iteratorStepNs: iteratorStep,
    iteratorStepTracedNs: iteratorStepTraced,
  };
}

/** A markdown table of one run. */
export function formatObservabilityBench(b: ObservabilityBench): string {
  const f = (v: number) => v.toFixed(2);
  return [
    "| hot-path instrumentation, nothing subscribed | ns |",
    "|---|---:|",
    `| send: span channel check, per call | ${f(b.sendCheckNs)} |`,
    `| consumer iterator: span checks, per record | ${f(b.processCheckNs)} |`,
    `| one \`wants\` check (per batch or partition answer) | ${f(b.wantsNs)} |`,
    `| **produce path, per record** (send check + 2 \`wants\` per 1,000-record batch) | **${f(b.produceNs)}** |`,
    `| **consume path, per record** (iterator checks + 1 \`wants\` per 1,000-record batch) | **${f(b.consumeNs)}** |`,
    `| consumer iterator step, nothing subscribed | ${f(b.iteratorStepNs)} |`,
    `| consumer iterator step, process spans subscribed (no-op subscriber) | ${f(b.iteratorStepTracedNs)} |`,
  ].join("\n");
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const b = await runObservabilityBench();
  console.log(formatObservabilityBench(b));
  console.log(JSON.stringify(b));
}
