/**
 * franz-go, the Go client, as a peer in the producer and consumer benchmarks: builds
 * bench/franz-go (one Go program, franz-go pinned in its go.mod and go.sum) into .cache/bench/
 * once per bench process and runs it under /usr/bin/time like the Node workers. Without a Go
 * toolchain, or when the build fails, callers get the reason and skip franz-go's rows.
 */
import { execFile } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { CACHE_DIR, REPO_ROOT } from "../../tools/kafka/paths.js";
import { timed } from "./timed.js";

/** The module pinned in bench/franz-go/go.mod, for tables and the JSON. */
export const FRANZ_GO_VERSION = "github.com/twmb/franz-go v1.22.3";

/** The built program, or why there is none. */
export type FranzGoBinary = { path: string; skipped?: undefined } | { path?: undefined; skipped: string };

/** What the program prints as its one JSON line (see bench/franz-go/main.go). */
export interface FranzGoResult {
  mode: "produce" | "consume" | "latency";
  records: number;
  failed: number;
  elapsedMs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  bytes?: number;
  firstRecordMs?: number;
  groupProtocol?: string;
  recordsPerSec?: number;
  timedOut?: boolean;
  error?: string;
}

let built: Promise<FranzGoBinary> | undefined;

/**
 * Builds the program the first time it is asked for; later calls share the outcome. Go keeps
 * modules in ~/go/pkg/mod and compiled packages in its build cache, so builds after the first
 * on a machine take about a second.
 */
export function franzGoBinary(log: (line: string) => void): Promise<FranzGoBinary> {
  built ??= build(log);
  return built;
}

async function build(log: (line: string) => void): Promise<FranzGoBinary> {
  const run = promisify(execFile);
  const go = await run("go", ["version"]).then(
    (r) => r.stdout.trim(),
    () => undefined,
  );
  if (!go) return { skipped: "no Go toolchain: `go` is not on PATH" };
  const dir = join(CACHE_DIR, "bench");
  await mkdir(dir, { recursive: true });
  const path = join(dir, "franz-go-bench");
  log(`  building the franz-go peer (${go}; Go modules from the Go module proxy, cached in ~/go/pkg/mod)`);
  const started = performance.now();
  try {
    // go.mod and go.sum pin every module and its hash, so the default -mod=readonly is enough;
    // -buildvcs=false because the module sits inside samsa's repository, whose state is no
    // part of the binary.
    await run("go", ["build", "-buildvcs=false", "-o", path, "."], {
      cwd: join(REPO_ROOT, "bench/franz-go"),
      timeout: 300_000,
      maxBuffer: 4 * 1024 * 1024,
    });
  } catch (e) {
    const err = e as Error & { stderr?: string };
    // Go's first line names the failure ("go: …", "main.go:12: …"); the rest is advice.
    const first = (err.stderr || err.message).split("\n").find((l) => l.trim() !== "") ?? "";
    const why = first.replace(/\s+/g, " ").trim().slice(0, 200);
    log(`  franz-go build failed: ${why}`);
    return { skipped: `franz-go build failed: ${why}` };
  }
  log(`  built in ${Math.round(performance.now() - started)} ms`);
  return { path };
}

/** Flags of one run; see bench/franz-go/main.go. */
export interface FranzGoParams {
  mode: FranzGoResult["mode"];
  bootstrap: string;
  topic: string;
  records?: number;
  valueSize?: number;
  codec?: string;
  group?: string;
  rate?: number;
  durationMs?: number;
  warmupMs?: number;
  /** Produce mode: time every Nth record (default 1: every record). */
  sampleEvery?: number;
  timeLimitMs: number;
}

/**
 * Runs the program once under /usr/bin/time. A run that failed, timed out or printed no
 * result comes back with `failure` set (and whatever result it printed).
 */
export async function runFranzGo(
  binary: string,
  p: FranzGoParams,
  log: (line: string) => void,
): Promise<{ result?: FranzGoResult; failure?: string; cpuSeconds: number; peakRssMb: number }> {
  const args = ["-mode", p.mode, "-bootstrap", p.bootstrap, "-topic", p.topic];
  if (p.records !== undefined) args.push("-records", String(p.records));
  if (p.valueSize !== undefined) args.push("-value-size", String(p.valueSize));
  if (p.codec !== undefined) args.push("-codec", p.codec);
  if (p.group !== undefined) args.push("-group", p.group);
  if (p.rate !== undefined) args.push("-rate", String(p.rate));
  if (p.durationMs !== undefined) args.push("-duration-ms", String(p.durationMs));
  if (p.warmupMs !== undefined) args.push("-warmup-ms", String(p.warmupMs));
  if (p.sampleEvery !== undefined) args.push("-sample-every", String(p.sampleEvery));
  // A tuning knob for experiments, as SAMSA_BATCH_BYTES is for samsa; the tables use the default.
  if (process.env.FRANZ_GO_LINGER_MS) args.push("-linger-ms", process.env.FRANZ_GO_LINGER_MS);
  args.push("-time-limit", `${p.timeLimitMs}ms`);
  const run = await timed(binary, args, p.timeLimitMs + 45_000, (s) => log(s.trimEnd()));
  let result: FranzGoResult | undefined;
  try {
    result = JSON.parse(run.stdout.trim().split("\n").pop() ?? "") as FranzGoResult;
  } catch {
    result = undefined;
  }
  let failure: string | undefined;
  if (!result) failure = run.code === null ? "killed at the time limit" : `exited with ${run.code} and no result`;
  else if (result.timedOut)
    failure = `time limit ${p.timeLimitMs / 1000} s hit after ${result.records.toLocaleString("en-US")} records`;
  else if (result.error) failure = result.error.slice(0, 300);
  else if (run.code !== 0) failure = `exited with ${run.code}`;
  return {
    ...(result ? { result } : {}),
    ...(failure ? { failure } : {}),
    cpuSeconds: run.cpuSeconds,
    peakRssMb: run.peakRssMb,
  };
}
