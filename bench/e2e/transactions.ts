/**
 * Transactional producer throughput: samsa's transactional producer against Kafka's own Java
 * ProducerPerformance with `--transactional-id` and `--transaction-duration-ms 100` (a commit
 * every 100 ms), on the same broker in the same run. 1,000,000 records of 100 bytes to a fresh
 * 6-partition topic each, acks=all, linger 5 ms. Each client runs in its own process under
 * /usr/bin/time; afterwards each topic's last stable offset is checked: every record committed.
 */
import { randomUUID } from "node:crypto";
import { Client } from "../../src/client.js";
import { ListOffsets } from "../../src/protocol/messages/index.js";
import { createTopic } from "../../tools/kafka/topics.js";
import { fillTopic } from "./fill.js";
import { PARTITIONS, runProducerPerformance, VALUE_SIZE } from "./producer.js";
import { runWorker } from "./timed.js";
import type { TransactionsWorkerParams, TransactionsWorkerResult } from "./transactions-worker.js";

/** One client's measured run. */
export interface TransactionsRow {
  client: "samsa" | "java";
  /** When each transaction commits: "100 ms" or "1,000 records". */
  commitEvery: string;
  records: number;
  recordsPerSec: number;
  mbPerSec: number;
  /** Transactions committed (samsa counts them; ProducerPerformance does not print its count). */
  transactions?: number;
  p50Ms: number;
  p99Ms: number;
  /** samsa: commitTransaction() p50 and p99 (flush of the tail + EndTxn). */
  commitP50Ms?: number;
  commitP99Ms?: number;
  cpuSeconds: number;
  peakRssMb: number;
  /** Sum of the partitions' last stable offsets afterwards (records + one marker per partition per transaction). */
  committedOffsets: bigint;
  /** Sum of the partitions' high watermarks afterwards: equal to committedOffsets when nothing was left open. */
  endOffsets: bigint;
}

/** Options of {@link runTransactionsBench}. */
export interface TransactionsBenchOptions {
  bootstrap: string;
  records?: number;
  /** Commit interval, as ProducerPerformance's --transaction-duration-ms; default 100. */
  durationMs?: number;
  /** samsa's second row commits every this many records (Java's tool commits by time only); default 1,000, 0 to skip. */
  recordsPerTransaction?: number;
  clients?: ("samsa" | "java")[];
  log?: (line: string) => void;
}

/**
 * Sums over the partitions of `topic`: last stable offsets and high watermarks. Equal when
 * every transaction ended; asked again for a while, as the coordinator writes the last
 * markers after EndTxn returned.
 */
async function ends(client: Client, topic: string): Promise<{ committedOffsets: bigint; endOffsets: bigint }> {
  // Raw ListOffsets (latest = timestamp -1) per partition leader: the bench measures the
  // producer and needs nothing of the admin layer.
  const latest = async (isolationLevel: 0 | 1) => {
    let total = 0n;
    for (let partition = 0; partition < PARTITIONS; partition++) {
      const leader = await client.leader(topic, partition);
      const connection = await client.connection(leader.nodeId, { api: ListOffsets });
      const r = await connection.request(ListOffsets, {
        replicaId: -1,
        isolationLevel,
        timeoutMs: 0,
        topics: [{ name: topic, partitions: [{ partitionIndex: partition, currentLeaderEpoch: -1, timestamp: -1n }] }],
      });
      const part = r.topics[0]?.partitions[0];
      if (part?.errorCode !== 0) throw new Error(`ListOffsets ${topic}-${partition}: ${part?.errorCode}`);
      total += part.offset;
    }
    return total;
  };
  let out = { committedOffsets: 0n, endOffsets: 0n };
  for (let attempt = 0; attempt < 50; attempt++) {
    out = { committedOffsets: await latest(1), endOffsets: await latest(0) };
    if (out.committedOffsets === out.endOffsets) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return out;
}

/** A samsa worker's result as a table row, with the topic's offsets checked. */
async function samsaRow(
  client: Client,
  topic: string,
  commitEvery: string,
  run: { result: TransactionsWorkerResult; cpuSeconds: number; peakRssMb: number },
): Promise<TransactionsRow> {
  const { result, cpuSeconds, peakRssMb } = run;
  const recordsPerSec = (result.records / result.elapsedMs) * 1000;
  return {
    client: "samsa",
    commitEvery,
    records: result.records,
    recordsPerSec,
    mbPerSec: (recordsPerSec * VALUE_SIZE) / 1e6,
    transactions: result.transactions,
    p50Ms: result.p50Ms,
    p99Ms: result.p99Ms,
    commitP50Ms: result.commitP50Ms,
    commitP99Ms: result.commitP99Ms,
    cpuSeconds,
    peakRssMb,
    ...(await ends(client, topic)),
  };
}

/** Runs samsa then Java (a commit every `durationMs`), then samsa by record count; see the module comment. */
export async function runTransactionsBench(options: TransactionsBenchOptions): Promise<TransactionsRow[]> {
  const records = options.records ?? 1_000_000;
  const durationMs = options.durationMs ?? 100;
  const clients = options.clients ?? ["samsa", "java"];
  const log = options.log ?? ((line: string) => console.error(line));
  const client = new Client({ bootstrap: options.bootstrap, clientId: "bench-admin" });
  const rows: TransactionsRow[] = [];
  const recordsPerTransaction = options.recordsPerTransaction ?? 1_000;
  const runSamsa = (
    topic: string,
    idPrefix: string,
    count: number,
    onLog: (line: string) => void,
    every: { durationMs: number; recordsPerTransaction: number } = { durationMs, recordsPerTransaction: 0 },
  ) =>
    runWorker<TransactionsWorkerResult>(
      "transactions-worker.ts",
      {
        bootstrap: options.bootstrap,
        topic,
        transactionalId: `${idPrefix}-${randomUUID().slice(0, 8)}`,
        records: count,
        valueSize: VALUE_SIZE,
        codec: "none",
        chunk: 1000,
        window: 32,
        ...every,
      } satisfies TransactionsWorkerParams,
      onLog,
    );
  try {
    // A warm broker for both (see producer.ts's warmBroker): plain produce, then transactions.
    const started = performance.now();
    const warm = `bench-txn-warmup-${randomUUID().slice(0, 8)}`;
    await createTopic(client, warm, PARTITIONS);
    await fillTopic(options.bootstrap, warm, records, [Buffer.alloc(VALUE_SIZE, 0x61)]);
    await runSamsa(warm, "bench-warmup", Math.min(records, 200_000), () => {});
    log(`  broker warmed in ${Math.round(performance.now() - started)} ms`);
    for (const name of clients) {
      const topic = `bench-txn-${name}-${randomUUID().slice(0, 8)}`;
      await createTopic(client, topic, PARTITIONS);
      log(`▶ ${name}, transactions every ${durationMs} ms: ${records.toLocaleString("en-US")} records → ${topic}`);
      let row: TransactionsRow;
      if (name === "java") {
        const r = await runProducerPerformance(
          options.bootstrap,
          topic,
          records,
          {
            args: [
              "--transactional-id",
              `bench-java-txn-${randomUUID().slice(0, 8)}`,
              "--transaction-duration-ms",
              String(durationMs),
            ],
          },
          () => {},
        );
        row = {
          client: name,
          commitEvery: `${durationMs} ms`,
          records,
          ...r,
          mbPerSec: (r.recordsPerSec * VALUE_SIZE) / 1e6,
          ...(await ends(client, topic)),
        };
      } else {
        row = await samsaRow(client, topic, `${durationMs} ms`, await runSamsa(topic, "bench-samsa-txn", records, log));
      }
      rows.push(row);
      log(`  ${Math.round(row.recordsPerSec).toLocaleString("en-US")} records/s`);
    }
    if (recordsPerTransaction > 0 && clients.includes("samsa")) {
      // By count: a commit per 1,000 records, as many transactions as a stream processor
      // committing per input batch would make. Fewer records: each transaction costs a commit.
      const count = Math.min(records, 200_000);
      const topic = `bench-txn-samsa-count-${randomUUID().slice(0, 8)}`;
      await createTopic(client, topic, PARTITIONS);
      const every = `${recordsPerTransaction.toLocaleString("en-US")} records`;
      log(`▶ samsa, a transaction every ${every}: ${count.toLocaleString("en-US")} records → ${topic}`);
      const run = await runSamsa(topic, "bench-samsa-txn-count", count, log, { durationMs: 0, recordsPerTransaction });
      const row = await samsaRow(client, topic, every, run);
      rows.push(row);
      log(`  ${Math.round(row.recordsPerSec).toLocaleString("en-US")} records/s`);
    }
  } finally {
    client.close();
  }
  return rows;
}

/** Markdown table of the rows, with samsa's ratio to each client. */
export function formatTransactionsBench(rows: TransactionsRow[]): string {
  const lines = [
    "| client | commit every | records | records/s | MB/s | transactions | send→ack p50 ms | p99 ms | commit p50 ms | commit p99 ms | CPU s | peak RSS MB | LSO = HW | samsa ÷ client |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  // The ratio compares runs at the same commit interval.
  const samsa = rows.find((r) => r.client === "samsa");
  for (const r of rows) {
    const ratio =
      samsa && r.recordsPerSec > 0 && r.commitEvery === samsa.commitEvery
        ? (samsa.recordsPerSec / r.recordsPerSec).toFixed(2)
        : "";
    const name = r.client === "java" ? "java ProducerPerformance" : "samsa";
    lines.push(
      `| ${name} | ${r.commitEvery} | ${r.records.toLocaleString("en-US")} | ${Math.round(r.recordsPerSec).toLocaleString("en-US")} | ${r.mbPerSec.toFixed(1)} | ${r.transactions ?? ""} | ${r.p50Ms.toFixed(1)} | ${r.p99Ms.toFixed(1)} | ${r.commitP50Ms?.toFixed(1) ?? ""} | ${r.commitP99Ms?.toFixed(1) ?? ""} | ${r.cpuSeconds.toFixed(1)} | ${Math.round(r.peakRssMb)} | ${r.committedOffsets === r.endOffsets ? "yes" : `no (${r.committedOffsets} < ${r.endOffsets})`} | ${ratio} |`,
    );
  }
  lines.push(
    "",
    "Both commit when the open transaction is 100 ms old (ProducerPerformance's --transaction-duration-ms; samsa: beginTransaction, send 1,000-record calls with ≤ 32 outstanding until then, commitTransaction); samsa's last row commits every 1,000 records instead (ProducerPerformance commits by time only). ProducerPerformance prints no transaction count. LSO = HW: afterwards every partition's last stable offset equals its high watermark, so every transaction ended. send→ack is per send call for samsa (1,000 records), per record for Java.",
  );
  return lines.join("\n");
}
