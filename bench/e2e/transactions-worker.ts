/**
 * One transactional producer benchmark run in its own process: samsa's transactional producer
 * doing what Java's ProducerPerformance does with `--transactional-id` and
 * `--transaction-duration-ms`: begin, send until the transaction is `durationMs` old (or holds
 * `recordsPerTransaction` records), commit (which flushes), begin the next. Sends in calls of `chunk` records with at most `window`
 * calls outstanding, like producer-worker.ts; prints one JSON line of results.
 */
import { Client } from "../../src/client.js";
import type { CompressionCodec } from "../../src/protocol/records/index.js";

/** What the orchestrator asks of a worker. */
export interface TransactionsWorkerParams {
  bootstrap: string;
  topic: string;
  transactionalId: string;
  records: number;
  valueSize: number;
  codec: CompressionCodec;
  chunk: number;
  window: number;
  /** Commit when the open transaction is this old (ms); 0: by record count only. */
  durationMs: number;
  /** Commit when the open transaction holds this many records; 0: by age only. */
  recordsPerTransaction: number;
}

/** What a worker reports. */
export interface TransactionsWorkerResult {
  records: number;
  transactions: number;
  elapsedMs: number;
  /** Send call → acknowledgement per call, weighted by its records. */
  p50Ms: number;
  p99Ms: number;
  /** commitTransaction() call → resolved (flush of the tail, then EndTxn). */
  commitP50Ms: number;
  commitP99Ms: number;
}

async function main(): Promise<void> {
  const p = JSON.parse(process.argv[2] as string) as TransactionsWorkerParams;
  const client = new Client({ bootstrap: p.bootstrap, clientId: "bench-samsa-txn" });
  const producer = client.producer({
    transactionalId: p.transactionalId,
    compression: p.codec,
    lingerMs: 5,
    ...(process.env.SAMSA_BATCH_BYTES ? { batchBytes: Number(process.env.SAMSA_BATCH_BYTES) } : {}),
  });
  const values = Array.from({ length: 1024 }, (_, i) => {
    const b = Buffer.alloc(p.valueSize, i & 0xff);
    b.writeUInt32BE(i, 0);
    return b;
  });
  const chunkOf = (start: number, n: number) =>
    Array.from({ length: n }, (_, i) => ({ topic: p.topic, value: values[(start + i) & 1023] as Buffer }));

  // Warm-up outside the measurement: InitProducerId, connections, metadata, JIT.
  await producer.initTransactions();
  for (let i = 0; i < 3; i++) {
    await producer.transaction(async (tx) => {
      for (let j = 0; j < 5; j++) tx.send(chunkOf(j * p.chunk, p.chunk));
    });
  }

  const latencies: number[] = [];
  const commits: number[] = [];
  let sent = 0;
  let transactions = 0;
  const started = performance.now();
  while (sent < p.records) {
    await producer.beginTransaction();
    const opened = performance.now();
    const inFlight = new Set<Promise<unknown>>();
    const until = p.recordsPerTransaction > 0 ? Math.min(p.records, sent + p.recordsPerTransaction) : p.records;
    while (sent < until && (p.durationMs <= 0 || performance.now() - opened < p.durationMs)) {
      const n = Math.min(p.chunk, until - sent);
      const t = performance.now();
      const call = producer.send(chunkOf(sent, n)).then(() => {
        latencies.push(performance.now() - t);
        inFlight.delete(call);
      });
      inFlight.add(call);
      sent += n;
      if (inFlight.size >= p.window) await Promise.race(inFlight);
    }
    const c = performance.now();
    await producer.commitTransaction();
    commits.push(performance.now() - c);
    await Promise.all(inFlight);
    transactions++;
  }
  const elapsedMs = performance.now() - started;
  await producer.close();
  client.close();
  const at = (list: number[], q: number) => {
    const sorted = [...list].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? 0;
  };
  const result: TransactionsWorkerResult = {
    records: sent,
    transactions,
    elapsedMs,
    p50Ms: at(latencies, 0.5),
    p99Ms: at(latencies, 0.99),
    commitP50Ms: at(commits, 0.5),
    commitP99Ms: at(commits, 0.99),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

await main();
