/**
 * What Zipkin and Prometheus share as test servers: a child process with its output in a log
 * file that outlives the run, a reaper (tools/kafka/reaper.mjs) that stops it if this process
 * dies, a bounded wait on an HTTP readiness check, and a stop that waits for the exit.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { mkdir, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { CACHE_DIR, REPO_ROOT } from "../kafka/paths.js";

/** Logs of Zipkin and Prometheus runs, kept after a run so failures can be read. */
export const OBSERVABILITY_LOGS_DIR = join(CACHE_DIR, "observability-logs");

/** How many past logs to keep in {@link OBSERVABILITY_LOGS_DIR}. */
const KEEP_LOGS = 20;

/** A started server process. */
export interface ServerProcess {
  pid: number;
  /** stdout and stderr of the process. */
  logFile: string;
  /** Resolves with the exit code (or signal name) once the process has exited, for any reason. */
  exited: Promise<number | string>;
  /** Stops the process (SIGTERM, SIGKILL after a grace period), waits for its exit, removes `dirs`. */
  stop(): Promise<void>;
}

/** Options of {@link spawnServer}. */
export interface SpawnServerOptions {
  /** Short name for the log file and messages: `zipkin`, `prometheus`. */
  name: string;
  command: string;
  args: string[];
  /** The whole environment of the process (not merged with ours). */
  env: NodeJS.ProcessEnv;
  /** Folders to remove once the process is gone, by stop() or by the reaper. */
  dirs?: string[];
  /** How long stop() waits after SIGTERM before SIGKILL; default 10 s. */
  graceMs?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The last `lines` lines of a file, for error messages. */
export function tail(file: string, lines = 40): string {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

async function pruneOldLogs(): Promise<void> {
  const entries = await readdir(OBSERVABILITY_LOGS_DIR).catch(() => [] as string[]);
  const old = entries.sort().slice(0, Math.max(0, entries.length - KEEP_LOGS));
  await Promise.all(old.map((name) => rm(join(OBSERVABILITY_LOGS_DIR, name), { force: true })));
}

/** Starts `command` in its own process group, logging to a file, watched by a reaper. */
export async function spawnServer(options: SpawnServerOptions): Promise<ServerProcess> {
  await mkdir(OBSERVABILITY_LOGS_DIR, { recursive: true });
  await pruneOldLogs();
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const logFile = join(OBSERVABILITY_LOGS_DIR, `${stamp}-${options.name}-${process.pid}.log`);
  const fd = openSync(logFile, "a");
  let child: ChildProcess;
  try {
    // Own process group, as the Kafka harness does: a Ctrl-C meant for the test runner or the
    // CLI must not kill the server before stop() runs, and stop() then sees a clean exit.
    child = spawn(options.command, options.args, {
      stdio: ["ignore", fd, fd],
      detached: true,
      cwd: REPO_ROOT,
      env: options.env,
    });
  } finally {
    closeSync(fd);
  }
  const exited = new Promise<number | string>((resolve) => {
    child.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown"));
    // spawn reports a missing binary as an error event, with no exit event after it.
    child.once("error", (err) => resolve(`spawn error: ${err.message}`));
  });
  if (child.pid === undefined) {
    const why = await exited;
    throw new Error(`${options.command} did not start (${why})`);
  }
  const pid = child.pid;
  const dirs = options.dirs ?? [];

  // The reaper holds the read end of a pipe whose write end only this process holds: if we die
  // (even by SIGKILL), it sees end-of-file, stops the server and removes its folders.
  const reaper = spawn(
    process.execPath,
    [join(REPO_ROOT, "tools", "kafka", "reaper.mjs"), JSON.stringify({ pids: [pid], dirs })],
    {
      stdio: ["pipe", "ignore", "ignore"],
      detached: true,
    },
  );
  reaper.unref();
  (reaper.stdin as unknown as { unref(): void } | null)?.unref();

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const graceful = await Promise.race([
          exited.then(() => true),
          sleep(options.graceMs ?? 10_000).then(() => false),
        ]);
        if (!graceful) child.kill("SIGKILL");
      }
      await exited;
      await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
      reaper.kill("SIGTERM");
    })();
    return stopping;
  };
  return { pid, logFile, exited, stop };
}

/** Options of {@link waitHttp}. */
export interface WaitHttpOptions {
  /** The process that should answer; an exit ends the wait at once. */
  server: ServerProcess;
  /** What to call it in the error. */
  name: string;
  timeoutMs: number;
  /** True when the answer means "ready". */
  ready: (status: number, body: string) => boolean;
}

/**
 * Polls `url` until `ready` accepts the answer. Throws, with the server's log tail, when the
 * process exits first or `timeoutMs` passes.
 */
export async function waitHttp(url: string, options: WaitHttpOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let exitedWith: number | string | undefined;
  void options.server.exited.then((code) => {
    exitedWith = code;
  });
  let last = "no answer yet";
  while (Date.now() < deadline) {
    if (exitedWith !== undefined) {
      throw new Error(
        `${options.name} exited (${exitedWith}) before ${url} answered; log ${options.server.logFile}:\n${tail(options.server.logFile)}`,
      );
    }
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      const body = await response.text();
      if (options.ready(response.status, body)) return;
      last = `HTTP ${response.status}: ${body.slice(0, 200)}`;
    } catch (err) {
      // fetch's own message is "fetch failed"; the reason (ECONNREFUSED, ...) is in the cause.
      const cause = (err as { cause?: { code?: string } }).cause?.code;
      last = cause === undefined ? (err as Error).message : `${(err as Error).message}: ${cause}`;
    }
    await sleep(200);
  }
  throw new Error(
    `${options.name} not ready after ${options.timeoutMs} ms (${url}: ${last}); log ${options.server.logFile}:\n${tail(options.server.logFile)}`,
  );
}

/** Runs a command to completion, collecting its output; never throws for a non-zero exit. */
export function runCollect(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const output: string[] = [];
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], ...options });
    child.stdout.on("data", (chunk: Buffer) => output.push(chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => output.push(chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output: output.join("") }));
  });
}
