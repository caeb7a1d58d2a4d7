/**
 * The micro-benchmark suite: CRC-32C throughput, samsa's record batch encode/decode, the
 * instrumentation's hot-path checks, and the
 * codec comparison with kafkajs and @platformatic/kafka (with samsa's varints), about 45 s on a
 * 2-core machine. Run with `npx tsx bench/micro/index.ts [--json <file>]`; `npm run bench`
 * calls `runMicroBenchmarks()`.
 */
import { writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { pathToFileURL } from "node:url";
import { formatCodecBench, runCodecBench } from "./codec.js";
import { formatCrc32cBench, runCrc32cBench } from "./crc32c.js";
import { formatObservabilityBench, runObservabilityBench } from "./observability.js";
import { formatRecordsBench, runRecordsBench } from "./records.js";

/** Where and when the suite ran: the figures mean little without the machine's load. */
export interface MicroBenchEnvironment {
  node: string;
  cpu: string;
  cpuCount: number;
  /** 1-, 5- and 15-minute load averages when the suite started and when it ended. */
  loadAverageStart: number[];
  loadAverageEnd: number[];
  startedAt: string;
  durationMs: number;
}

const round2 = (values: number[]) => values.map((v) => Math.round(v * 100) / 100);

/** Runs every micro-benchmark in turn; returns the markdown tables and the raw figures. */
export async function runMicroBenchmarks(): Promise<{ markdown: string; json: object }> {
  const startedAt = new Date().toISOString();
  const loadAverageStart = round2(loadavg());
  const t0 = performance.now();
  const crc32c = runCrc32cBench();
  const records = runRecordsBench();
  const codec = await runCodecBench();
  const observability = await runObservabilityBench();
  const environment: MicroBenchEnvironment = {
    node: process.version,
    cpu: cpus()[0]?.model ?? "unknown",
    cpuCount: cpus().length,
    loadAverageStart,
    loadAverageEnd: round2(loadavg()),
    startedAt,
    durationMs: Math.round(performance.now() - t0),
  };
  // No top heading: bench/run.ts puts these sections under its own "## Micro-benchmarks".
  const markdown = [
    `Node ${environment.node} on ${environment.cpuCount} × ${environment.cpu}; load average (1/5/15 min) ` +
      `${environment.loadAverageStart.join(" / ")} at the start, ${environment.loadAverageEnd.join(" / ")} at the end; ` +
      `${(environment.durationMs / 1000).toFixed(0)} s, ${startedAt}. Command: \`npx tsx bench/micro/index.ts\`.`,
    "",
    "### Codec: samsa vs kafkajs vs @platformatic/kafka",
    "",
    "Each client encodes and decodes with its own code, as its producer and consumer call it; median of the timed rounds, taken in turn after a warm-up.",
    "",
    formatCodecBench(codec),
    "",
    "### samsa record batches (ns/record, best round)",
    "",
    formatRecordsBench(records),
    "",
    "### CRC-32C (MB/s, best round)",
    "",
    formatCrc32cBench(crc32c),
    "",
    "### Instrumentation with nothing subscribed (ns, best round, less an empty loop)",
    "",
    formatObservabilityBench(observability),
    "",
  ].join("\n");
  return { markdown, json: { environment, codec, records, crc32c, observability } };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { markdown, json } = await runMicroBenchmarks();
  console.log(`## Micro-benchmarks\n\n${markdown}`);
  const at = process.argv.indexOf("--json");
  const file = at >= 0 ? process.argv[at + 1] : undefined;
  if (file) writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);
}
