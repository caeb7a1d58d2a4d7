/**
 * `--runs N`: each ratio of a samsa form to franz-go (keyed by what it compares) gathered over
 * the runs, summarised as its median and its spread, min–max.
 */

/** One ratio over the runs. */
export interface RatioSummary {
  ratio: string;
  median: number;
  min: number;
  max: number;
  /** Runs that measured it (a skipped row leaves it out of a run). */
  runs: number;
}

/** Each ratio's median and min–max over the runs that measured it. */
export function summariseRatios(runs: Record<string, number>[]): RatioSummary[] {
  const keys = [...new Set(runs.flatMap((r) => Object.keys(r)))];
  return keys.map((ratio) => {
    const values = runs
      .map((r) => r[ratio])
      .filter((v): v is number => v !== undefined && Number.isFinite(v))
      .sort((a, b) => a - b);
    const mid = Math.floor(values.length / 2);
    const median =
      values.length % 2 === 1 ? (values[mid] as number) : ((values[mid - 1] as number) + (values[mid] as number)) / 2;
    return { ratio, median, min: values[0] as number, max: values[values.length - 1] as number, runs: values.length };
  });
}

/** The summary as a markdown section. */
export function formatRatios(summary: RatioSummary[], runs: number): string {
  const lines = [
    `## samsa ÷ franz-go over ${runs} runs`,
    "",
    "| ratio | median | min–max | runs |",
    "|---|---:|---:|---:|",
    ...summary.map(
      (s) => `| ${s.ratio} | ${s.median.toFixed(2)} | ${s.min.toFixed(2)}–${s.max.toFixed(2)} | ${s.runs} |`,
    ),
    "",
    "Throughput ratios above 1 favour samsa; latency ratios below 1 do.",
  ];
  return lines.join("\n");
}
