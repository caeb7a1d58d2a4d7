/**
 * Runs a benchmark client as its own process under /usr/bin/time, so its CPU seconds and peak
 * RSS are its own, and kills its whole process group if it outlives `limitMs`. Shared by the
 * producer and consumer benchmarks.
 *
 * Each run starts with the page cache written back (`sync`). The broker's log writes sit in the
 * page cache as dirty pages (107 MB after one fill of 1M records), and the kernel writes them
 * out 30 s later (vm.dirty_expire_centisecs), during whichever client is then being measured:
 * after the producer suite's 1 GB, that was the first consumers. In a full set before this,
 * samsa's `batches()` (the first consumer) ran at 0.47-0.75 of franz-go's rate, against
 * 0.88-1.24 with the consumer suite alone; in the next full set, with `sync`, 0.60-0.93.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { CACHE_DIR, REPO_ROOT } from "../../tools/kafka/paths.js";

/** What a timed run produced. */
export interface TimedRun {
  /** Exit code; null when killed. */
  code: number | null;
  stdout: string;
  cpuSeconds: number;
  peakRssMb: number;
}

/** Runs `command` under /usr/bin/time with a hard time limit. */
export async function timed(
  command: string,
  args: string[],
  limitMs: number,
  onStderr: (s: string) => void,
): Promise<TimedRun> {
  await writeBack();
  const dir = await mkdtemp(join(tmpdir(), "samsa-bench-"));
  const timeFile = join(dir, "time");
  try {
    const child = spawn("/usr/bin/time", ["-f", "%U %S %M", "-o", timeFile, command, ...args], {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group, so the kill below reaches the command and not only `time`.
      detached: true,
    });
    const killGroup = () => {
      try {
        if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    };
    const killer = setTimeout(killGroup, limitMs);
    // Detached children outlive a parent that exits early; one killed by a signal leaves them
    // to their own time limits.
    process.once("exit", killGroup);
    let stdout = "";
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => onStderr(c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    clearTimeout(killer);
    process.off("exit", killGroup);
    const times = await readFile(timeFile, "utf8").catch(() => "");
    // /usr/bin/time writes "Command exited with non-zero status N" before the figures.
    const [user, system, rssKb] = (times.trim().split("\n").pop() ?? "").split(/\s+/).map(Number);
    return { code, stdout, cpuSeconds: (user ?? 0) + (system ?? 0), peakRssMb: (rssKb ?? 0) / 1024 };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Writes dirty pages back (`sync`); a machine without it only loses the settling. */
function writeBack(): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn("sync", [], { stdio: "ignore" });
    child.on("error", () => resolve());
    child.on("close", () => resolve());
  });
}

const compiled = new Map<string, Promise<string>>();

/**
 * `bench/e2e/<script>` compiled to plain JavaScript (once per bench run), so that a Node
 * client runs as an application runs it: not under tsx, whose loader costs a worker ~1 s of CPU
 * at start (in the CPU seconds column) and is preloaded into every worker thread it starts
 * (samsa's I/O thread). One file per script with samsa's sources inside it; packages stay in
 * node_modules, and the file lives under the repository (.cache/bench-build) so that the
 * native ones (CRC-32C, codecs) resolve as they do for samsa itself.
 */
export function compiledWorker(script: string): Promise<string> {
  let path = compiled.get(script);
  if (!path) {
    const outfile = join(CACHE_DIR, "bench-build", script.replace(/\.ts$/, ".mjs"));
    path = build({
      entryPoints: [join(REPO_ROOT, "bench/e2e", script)],
      outfile,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      packages: "external",
      logLevel: "warning",
    }).then(() => outfile);
    compiled.set(script, path);
  }
  return path;
}

/**
 * Runs `bench/e2e/<script>` (compiled: {@link compiledWorker}) with `params` (as JSON in its
 * one argument) under a 10-minute limit; returns the JSON result the worker printed as its
 * last line. A failed run throws.
 */
export async function runWorker<R>(
  script: string,
  params: unknown,
  log: (line: string) => void,
): Promise<{ result: R; cpuSeconds: number; peakRssMb: number }> {
  const { stdout, cpuSeconds, peakRssMb } = await timedOrThrow(
    process.execPath,
    [await compiledWorker(script), JSON.stringify(params)],
    (s) => log(s.trimEnd()),
  );
  const line = stdout.trim().split("\n").pop() as string;
  return { result: JSON.parse(line) as R, cpuSeconds, peakRssMb };
}

/** Runs `command` under /usr/bin/time with a 10-minute limit; a failed run throws. */
export async function timedOrThrow(command: string, args: string[], onStderr: (s: string) => void): Promise<TimedRun> {
  const run = await timed(command, args, 600_000, onStderr);
  if (run.code !== 0) throw new Error(`${command} exited with ${run.code}:\n${run.stdout.slice(-2000)}`);
  return run;
}
