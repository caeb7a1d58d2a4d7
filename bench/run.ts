/**
 * `npm run bench [-- micro|network|producer|consumer|transactions ...] [--records N]
 * [--clients a,b] [--forms f,g] [--runs N]`: the README's main job. Starts the harness's Kafka
 * (or uses KAFKA_BOOTSTRAP), runs the chosen suites (all by default) N times (default once),
 * prints markdown tables and writes every figure to a JSON file under .cache/bench/.
 * - `--clients samsa,franz-go`: the producer and consumer suites run only these clients
 *   (samsa, franz-go, kafkajs, platformatic, java; in the consumer suite samsa is both its
 *   `batches()` and `for await` rows);
 * - `--forms callback,promise,arrays`: samsa's send forms in the producer suite;
 * - `--runs N`: the chosen suites N times over, then, for each ratio of a samsa form to
 *   franz-go, its median and its spread (min–max) over the runs.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { loadavg } from "node:os";
import { join } from "node:path";
import { startKafka } from "../tools/kafka/harness.js";
import { CACHE_DIR } from "../tools/kafka/paths.js";
import { CONSUMER_CLIENTS, consumerRatios, formatConsumerBench, runConsumerBench } from "./e2e/consumer.js";
import { formatProducerBench, haveTime, PRODUCER_CLIENTS, producerRatios, runProducerBench } from "./e2e/producer.js";
import type { SendForm } from "./e2e/producer-worker.js";
import { formatRatios, summariseRatios } from "./e2e/ratios.js";
import { formatTransactionsBench, runTransactionsBench } from "./e2e/transactions.js";
import { runMicroBenchmarks } from "./micro/index.js";
import { formatNetworkBench, runNetworkBench } from "./network.js";

const SUITES = ["micro", "network", "producer", "consumer", "transactions"] as const;
type Suite = (typeof SUITES)[number];
const CLIENTS = ["samsa", "franz-go", "kafkajs", "platformatic", "java"] as const;
type BenchClient = (typeof CLIENTS)[number];
const FORMS: readonly SendForm[] = ["callback", "promise", "arrays"];

interface Args {
  suites: Suite[];
  records: number;
  clients: BenchClient[];
  forms: SendForm[];
  runs: number;
}

const USAGE = `use ${SUITES.join("|")} and --records N, --clients ${CLIENTS.join(",")}, --forms ${FORMS.join(",")}, --runs N`;

/** A comma-separated list of `allowed` names; throws naming the option and the allowed names. */
function list<T extends string>(option: string, value: string | undefined, allowed: readonly T[]): T[] {
  const names = (value ?? "").split(",").filter((n) => n !== "");
  const bad = names.filter((n) => !(allowed as readonly string[]).includes(n));
  if (names.length === 0 || bad.length > 0)
    throw new Error(`${option}: ${bad.join(",") || "(empty)"} is not among ${allowed.join(", ")}`);
  return names as T[];
}

function parseArgs(argv: string[]): Args {
  const suites: Suite[] = [];
  let records = 1_000_000;
  let clients: BenchClient[] = [...CLIENTS];
  let forms: SendForm[] = [...FORMS];
  let runs = 1;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--records") records = Number(argv[++i]);
    else if (arg === "--runs") runs = Number(argv[++i]);
    else if (arg === "--clients") clients = list("--clients", argv[++i], CLIENTS);
    else if (arg === "--forms") forms = list("--forms", argv[++i], FORMS);
    else if ((SUITES as readonly string[]).includes(arg)) suites.push(arg as Suite);
    else throw new Error(`unknown argument ${arg}; ${USAGE}`);
  }
  if (!Number.isInteger(records) || records < 1000) throw new Error("--records must be an integer ≥ 1000");
  if (!Number.isInteger(runs) || runs < 1 || runs > 20) throw new Error("--runs must be an integer from 1 to 20");
  return { suites: suites.length > 0 ? suites : [...SUITES], records, clients, forms, runs };
}

const load = (avg: number[]) => avg.map((v) => v.toFixed(2)).join(" ");

/** One pass over the chosen suites: its markdown sections, its figures and its ratios to franz-go. */
async function runSuites(args: Args, bootstrap: string, log: (line: string) => void) {
  const { suites, records, clients } = args;
  const results: Record<string, unknown> = {};
  const sections: string[] = [];
  const ratios: Record<string, number> = {};
  const n = records.toLocaleString("en-US");
  if (suites.includes("micro")) {
    log("▶ micro-benchmarks (codec, records, CRC-32C)");
    const micro = await runMicroBenchmarks();
    results.micro = micro.json;
    sections.push(`## Micro-benchmarks\n\n${micro.markdown}`);
  }
  if (suites.includes("network")) {
    log("▶ network round trips");
    const rows = await runNetworkBench(bootstrap);
    results.network = rows;
    sections.push(`## Round trips on one connection\n\n${formatNetworkBench(rows)}`);
  }
  if (suites.includes("producer")) {
    log(`▶ producer: ${n} records per client`);
    const producer = await runProducerBench({
      bootstrap,
      records,
      clients: PRODUCER_CLIENTS.filter((c) => clients.includes(c)),
      samsaForms: args.forms,
      log,
    });
    results.producer = producer;
    Object.assign(ratios, producerRatios(producer));
    sections.push(
      `## Producer: ${n} × 100-byte records, 6 partitions, acks=all, idempotent\n\n${formatProducerBench(producer)}`,
    );
  }
  if (suites.includes("consumer")) {
    log(`▶ consumer: ${n} records per client`);
    const consumer = await runConsumerBench({
      bootstrap,
      records,
      // "samsa" stands for both of samsa's read APIs.
      clients: CONSUMER_CLIENTS.filter(
        (c) => (clients as readonly string[]).includes(c) || (c === "samsa-messages" && clients.includes("samsa")),
      ),
      log,
    });
    results.consumer = consumer;
    Object.assign(ratios, consumerRatios(consumer));
    sections.push(
      `## Consumer: ${n} × 100-byte records, 6 partitions, group consumer from earliest\n\n${formatConsumerBench(consumer)}`,
    );
  }
  if (suites.includes("transactions")) {
    log(`▶ transactions: ${n} records per client, a commit every 100 ms`);
    const rows = await runTransactionsBench({ bootstrap, records, log });
    results.transactions = rows;
    sections.push(
      `## Transactional producer: ${n} × 100-byte records, 6 partitions, acks=all, linger 5 ms, a commit every 100 ms\n\n${formatTransactionsBench(rows)}`,
    );
  }
  return { results, sections, ratios };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const log = (line: string) => console.error(line);
  const results: Record<string, unknown> = {
    startedAt: new Date().toISOString(),
    loadAverageStart: loadavg(),
    node: process.version,
    args,
  };
  const sections: string[] = [];

  const needsBroker = args.suites.some((s) => s !== "micro");
  const existing = process.env.KAFKA_BOOTSTRAP;
  const kafka = needsBroker && !existing ? await startKafka({ mode: "single", log }) : undefined;
  const bootstrap = existing ?? kafka?.bootstrap ?? "";
  const perRun: Record<string, unknown>[] = [];
  const ratios: Record<string, number>[] = [];
  try {
    if (args.suites.some((s) => s === "producer" || s === "consumer" || s === "transactions") && !(await haveTime(log)))
      throw new Error("/usr/bin/time is missing and could not be installed: apt-get install time");
    for (let run = 1; run <= args.runs; run++) {
      if (args.runs > 1) log(`▶▶ run ${run} of ${args.runs}`);
      const one = await runSuites(args, bootstrap, log);
      perRun.push(one.results);
      ratios.push(one.ratios);
      if (args.runs > 1) sections.push(`# Run ${run} of ${args.runs}`);
      sections.push(...one.sections);
    }
  } finally {
    await kafka?.stop();
  }
  if (args.runs === 1) Object.assign(results, perRun[0]);
  else {
    results.runs = perRun;
    const summary = summariseRatios(ratios);
    results.ratioSummary = summary;
    if (summary.length > 0) sections.push(formatRatios(summary, args.runs));
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
