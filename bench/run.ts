/**
 * `npm run bench [-- micro|network|producer|consumer|transactions ...] [--records N]`: the README's main
 * job. Starts the harness's Kafka (or uses KAFKA_BOOTSTRAP), runs the chosen suites (all by
 * default), prints markdown tables and writes every figure to a JSON file under .cache/bench/.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { loadavg } from "node:os";
import { join } from "node:path";
import { startKafka } from "../tools/kafka/harness.js";
import { CACHE_DIR } from "../tools/kafka/paths.js";
import { formatConsumerBench, runConsumerBench } from "./e2e/consumer.js";
import { formatProducerBench, haveTime, runProducerBench } from "./e2e/producer.js";
import { formatTransactionsBench, runTransactionsBench } from "./e2e/transactions.js";
import { runMicroBenchmarks } from "./micro/index.js";
import { formatNetworkBench, runNetworkBench } from "./network.js";

const SUITES = ["micro", "network", "producer", "consumer", "transactions"] as const;
type Suite = (typeof SUITES)[number];

function parseArgs(argv: string[]): { suites: Suite[]; records: number } {
  const suites: Suite[] = [];
  let records = 1_000_000;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--records") records = Number(argv[++i]);
    else if ((SUITES as readonly string[]).includes(arg)) suites.push(arg as Suite);
    else throw new Error(`unknown argument ${arg}; use ${SUITES.join("|")} and --records N`);
  }
  if (!Number.isInteger(records) || records < 1000) throw new Error("--records must be an integer ≥ 1000");
  return { suites: suites.length > 0 ? suites : [...SUITES], records };
}

const load = (avg: number[]) => avg.map((v) => v.toFixed(2)).join(" ");

async function main(): Promise<void> {
  const { suites, records } = parseArgs(process.argv.slice(2));
  const log = (line: string) => console.error(line);
  const results: Record<string, unknown> = {
    startedAt: new Date().toISOString(),
    loadAverageStart: loadavg(),
    node: process.version,
  };
  const sections: string[] = [];

  if (suites.includes("micro")) {
    log("▶ micro-benchmarks (codec, records, CRC-32C)");
    const micro = await runMicroBenchmarks();
    results.micro = micro.json;
    sections.push(`## Micro-benchmarks\n\n${micro.markdown}`);
  }

  const needsBroker = suites.some((s) => s !== "micro");
  const existing = process.env.KAFKA_BOOTSTRAP;
  const kafka = needsBroker && !existing ? await startKafka({ mode: "single", log }) : undefined;
  const bootstrap = existing ?? kafka?.bootstrap ?? "";
  try {
    if (suites.includes("network")) {
      log("▶ network round trips");
      const rows = await runNetworkBench(bootstrap);
      results.network = rows;
      sections.push(`## Round trips on one connection\n\n${formatNetworkBench(rows)}`);
    }
    if (
      (suites.includes("producer") || suites.includes("consumer") || suites.includes("transactions")) &&
      !(await haveTime(log))
    )
      throw new Error("/usr/bin/time is missing and could not be installed: apt-get install time");
    if (suites.includes("producer")) {
      log(`▶ producer: ${records.toLocaleString("en-US")} records per client`);
      const rows = await runProducerBench({ bootstrap, records, log });
      results.producer = rows;
      sections.push(
        `## Producer: ${records.toLocaleString("en-US")} × 100-byte records, 6 partitions, acks=all, linger 5 ms\n\n${formatProducerBench(rows)}`,
      );
    }
    if (suites.includes("consumer")) {
      log(`▶ consumer: ${records.toLocaleString("en-US")} records per client`);
      const consumer = await runConsumerBench({ bootstrap, records, log });
      results.consumer = consumer;
      sections.push(
        `## Consumer: ${records.toLocaleString("en-US")} × 100-byte records, 6 partitions, group consumer from earliest\n\n${formatConsumerBench(consumer)}`,
      );
    }
    if (suites.includes("transactions")) {
      log(`▶ transactions: ${records.toLocaleString("en-US")} records per client, a commit every 100 ms`);
      const rows = await runTransactionsBench({ bootstrap, records, log });
      results.transactions = rows;
      sections.push(
        `## Transactional producer: ${records.toLocaleString("en-US")} × 100-byte records, 6 partitions, acks=all, linger 5 ms, a commit every 100 ms\n\n${formatTransactionsBench(rows)}`,
      );
    }
  } finally {
    await kafka?.stop();
  }
  results.loadAverageEnd = loadavg();
  const dir = join(CACHE_DIR, "bench");
  await mkdir(dir, { recursive: true });
  const file = join(dir, `results-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  await writeFile(
    file,
    JSON.stringify(results, (_k, v) => (typeof v === "bigint" ? v.toString() : v), 2),
  );
  console.log(sections.join("\n\n"));
  console.log(
    `\nload average (1, 5, 15 min) at start ${load(results.loadAverageStart as number[])}, at end ${load(
      results.loadAverageEnd as number[],
    )}; figures written to ${file}`,
  );
}

await main();
