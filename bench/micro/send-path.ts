/**
 * Micro-benchmark of the producer's own per-record cost, as applications call it: one
 * `send(record, cb)` per record (with one shared callback, and with a new closure per record),
 * one `send(record)` promise per record, and `send(array)` of 1,000 records, in ns per record,
 * on a producer whose cluster never answers. Records are checked, partitioned (sticky, 6
 * partitions) and encoded into their batches exactly as in a real run; only the network (and
 * so the acknowledgement) is missing, which makes the figure steady enough to compare commits.
 * `npx tsx bench/micro/send-path.ts`.
 */
import { pathToFileURL } from "node:url";
import type { Cluster } from "../../src/network/cluster.js";
import type { ClusterMetadata, TopicMetadata } from "../../src/network/metadata.js";
import { Instrumentation } from "../../src/observability/instrumentation.js";
import type { Logger } from "../../src/observability/logger.js";
import { Producer } from "../../src/producer/producer.js";

/** Per-record figures of one run. */
export interface SendPathBench {
  callbackNs: number;
  /** With a new callback closure per record (the bench's and many applications' form). */
  closureNs: number;
  promiseNs: number;
  arrayNs: number;
}

const TOPIC = "bench-send-path";
const RECORDS = 200_000;
const ROUNDS = 5;

const quiet = () => {};
const SILENT: Logger = {
  trace: quiet,
  debug: quiet,
  info: quiet,
  warn: quiet,
  error: quiet,
  isLevelEnabled: () => false,
};

/** A cluster that knows one 6-partition topic and never answers a request. */
function silentCluster(): Cluster {
  const partitions = Array.from({ length: 6 }, (_, partition) => ({
    partition,
    leaderId: -1,
    leaderEpoch: 0,
    replicaNodes: [],
    isrNodes: [],
    offlineReplicas: [],
    errorCode: 0,
  }));
  const topic = { name: TOPIC, topicId: "", errorCode: 0, isInternal: false, partitions } as unknown as TopicMetadata;
  const metadata: ClusterMetadata = {
    clusterId: null,
    controllerId: -1,
    brokers: new Map(),
    topics: new Map([[TOPIC, topic]]),
    topicNames: new Map(),
    fetchedAt: Date.now(),
  };
  const never = () => new Promise<never>(() => {});
  return {
    cachedMetadata: metadata,
    // Silent: the rounds end by aborting what they buffered.
    instrumentation: new Instrumentation("bench-send-path", SILENT),
    metadata: never,
    refreshMetadata: never,
    connection: never,
  } as unknown as Cluster;
}

function newProducer(): Producer {
  // No idempotence (no producer id to wait for); memory for every record of a round.
  return new Producer(silentCluster(), {
    idempotent: false,
    lingerMs: 3_600_000,
    deliveryTimeoutMs: 7_200_000,
    bufferMemory: 512 * 1024 * 1024,
  });
}

const values = Array.from({ length: 1024 }, (_, i) => {
  const b = Buffer.alloc(100, i & 0xff);
  b.writeUInt32BE(i, 0);
  return b;
});
// The caller's record objects, made before the clock starts (they are the caller's allocation).
const records = Array.from({ length: RECORDS }, (_, i) => ({ topic: TOPIC, value: values[i & 1023] as Buffer }));
const chunks = Array.from({ length: RECORDS / 1000 }, (_, c) => records.slice(c * 1000, (c + 1) * 1000));

/** Failed reports (aborted rounds); printed, so the callback's work stays observable. */
let failures = 0;
const onDelivery = (err: Error | null) => {
  if (err) failures++;
};
/** The closure form's last failed index, printed like `failures`. */
let lastFailed = -1;
const ignore = () => {};

// Each form in its own function, so each loop's call sites stay monomorphic.
function callbackRound(producer: Producer): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < RECORDS; i++) producer.send(records[i] as (typeof records)[number], onDelivery);
  return Number(process.hrtime.bigint() - t0) / RECORDS;
}

function closureRound(producer: Producer): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < RECORDS; i++) {
    // Captures its record's index, as an application's callback captures its record's context.
    producer.send(records[i] as (typeof records)[number], (err) => {
      if (err) lastFailed = i;
    });
  }
  return Number(process.hrtime.bigint() - t0) / RECORDS;
}

function promiseRound(producer: Producer): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < RECORDS; i++) producer.send(records[i] as (typeof records)[number]).catch(ignore);
  return Number(process.hrtime.bigint() - t0) / RECORDS;
}

function arrayRound(producer: Producer): number {
  const t0 = process.hrtime.bigint();
  for (let c = 0; c < chunks.length; c++) producer.send(chunks[c] as (typeof records)[number][]).catch(ignore);
  return Number(process.hrtime.bigint() - t0) / RECORDS;
}

/** Best of ROUNDS rounds after one warm-up, each on a fresh producer (closed, aborted, afterwards). */
async function best(round: (p: Producer) => number): Promise<number> {
  let result = Number.POSITIVE_INFINITY;
  for (let r = 0; r <= ROUNDS; r++) {
    const producer = newProducer();
    const ns = round(producer);
    if (r > 0) result = Math.min(result, ns);
    await producer.close({ signal: AbortSignal.abort() });
    // Let the aborted records' answers (and their garbage) go before the next round.
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return result;
}

/** Runs the three forms; see the module comment. */
export async function runSendPathBench(): Promise<SendPathBench> {
  const callbackNs = await best(callbackRound);
  const closureNs = await best(closureRound);
  const promiseNs = await best(promiseRound);
  const arrayNs = await best(arrayRound);
  if (failures < 0 || lastFailed < -1) console.log(failures, lastFailed);
  return { callbackNs, closureNs, promiseNs, arrayNs };
}

/** Markdown table of the figures. */
export function formatSendPathBench(b: SendPathBench): string {
  const f = (ns: number) => ns.toFixed(0);
  return [
    "| producer send path (no network), per record | ns |",
    "|---|---:|",
    `| \`send(record, cb)\`, one shared callback | ${f(b.callbackNs)} |`,
    `| \`send(record, cb)\`, a new closure per record | ${f(b.closureNs)} |`,
    `| \`send(record)\` (promise) | ${f(b.promiseNs)} |`,
    `| \`send(records[1000])\` | ${f(b.arrayNs)} |`,
  ].join("\n");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  console.log(formatSendPathBench(await runSendPathBench()));
}
