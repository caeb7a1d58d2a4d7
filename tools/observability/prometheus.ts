/**
 * A real Prometheus server for tests of the metrics integration: Debian's `prometheus`
 * package (installed on first use), run on a free port of 127.0.0.1 with a fresh TSDB folder,
 * scraping the given loopback targets, with a small client for its query API.
 */
import { constants, existsSync } from "node:fs";
import { access, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { freePorts, isPortFree } from "../kafka/ports.js";
import { runCollect, type ServerProcess, spawnServer, waitHttp } from "./process.js";

/** The port Debian's packaged service listens on when its postinst manages to start it. */
const PACKAGED_SERVICE_PORT = 9090;

/** One series of an instant query's result. */
export interface PromSample {
  metric: Record<string, string>;
  /** The sample value; `NaN`, `Infinity` and `-Infinity` as Prometheus reports them. */
  value: number;
  /** Evaluation time, Unix seconds. */
  timestamp: number;
}

/** One series of a range query's result. */
export interface PromSeries {
  metric: Record<string, string>;
  values: { timestamp: number; value: number }[];
}

/** Prometheus refused a query: `errorType` and `message` are Prometheus's own. */
export class PrometheusQueryError extends Error {
  readonly code = "SAMSA_ERR_PROMETHEUS_QUERY";
  constructor(
    readonly expr: string,
    readonly errorType: string,
    readonly prometheusMessage: string,
  ) {
    super(`Prometheus rejected ${JSON.stringify(expr)}: ${errorType}: ${prometheusMessage}`);
    this.name = "PrometheusQueryError";
  }
}

/** Options of {@link startPrometheus}. */
export interface StartPrometheusOptions {
  /** `host:port` of each /metrics endpoint to scrape, loopback only (`127.0.0.1:PORT`). */
  targets: string[];
  /** The global scrape (and rule evaluation) interval; default 1000, at least 100. */
  scrapeIntervalMs?: number;
  /** How long to wait for `/-/ready` and the first scrape of every target; default 60 s. */
  readyTimeoutMs?: number;
  /** Progress lines. */
  log?: (line: string) => void;
}

/** Options of {@link PrometheusServer.queryRange}. */
export interface QueryRangeOptions {
  /** Unix milliseconds. */
  start: number;
  /** Unix milliseconds; default now. */
  end?: number;
  /** Resolution in milliseconds; default 1000. */
  stepMs?: number;
}

/** A running Prometheus server. */
export interface PrometheusServer {
  /** `http://127.0.0.1:PORT`. */
  url: string;
  port: number;
  pid: number;
  logFile: string;
  /** Resolves with the exit code (or signal) once Prometheus has exited, by stop() or not. */
  exited: Promise<number | string>;
  /** The config file it runs with (inside the data folder). */
  configFile: string;
  /** Instant query at the current time (`GET /api/v1/query`); a scalar comes back as one sample with no labels. */
  query(expr: string): Promise<PromSample[]>;
  /** Range query (`GET /api/v1/query_range`). */
  queryRange(expr: string, options: QueryRangeOptions): Promise<PromSeries[]>;
  /**
   * Polls {@link query} until `predicate` accepts the samples, and resolves with them. Throws
   * with the last samples after `timeoutMs`, and at once for an expression Prometheus rejects.
   */
  waitForQuery(expr: string, predicate: (samples: PromSample[]) => boolean, timeoutMs: number): Promise<PromSample[]>;
  /** Stops Prometheus, waits for its exit and removes its data folder. Safe to call twice. */
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function onPath(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

const aptEnv = () => ({ ...process.env, DEBIAN_FRONTEND: "noninteractive" });

/** apt-get's words for "the package lists do not know this package" (never updated, or stale). */
function missingPackageList(output: string): boolean {
  return /Unable to locate package|has no installation candidate|404\s+Not Found/i.test(output);
}

/**
 * Stops a packaged Prometheus service that the install started: Debian's postinst starts it
 * on :9090 (every interface) where policy-rc.d allows, and it would then outlive us.
 */
async function stopPackagedService(log: (line: string) => void): Promise<void> {
  const systemd = existsSync("/run/systemd/system");
  log(`the install left Prometheus's service on port ${PACKAGED_SERVICE_PORT}; stopping it`);
  if (systemd) {
    await runCollect("systemctl", ["disable", "--now", "prometheus"]);
  } else if (existsSync("/etc/init.d/prometheus")) {
    await runCollect("/etc/init.d/prometheus", ["stop"]);
  }
  const deadline = Date.now() + 15_000;
  while (!(await isPortFree(PACKAGED_SERVICE_PORT))) {
    if (Date.now() > deadline) {
      throw new Error(
        `port ${PACKAGED_SERVICE_PORT} is still taken after stopping the packaged Prometheus service ` +
          `(${systemd ? "systemctl disable --now prometheus" : "/etc/init.d/prometheus stop"}); stop it by hand`,
      );
    }
    await sleep(200);
  }
}

/**
 * Returns the path of the `prometheus` binary, installing Debian's package first when none is
 * on the PATH (which needs root), and making sure the install leaves no service running.
 */
export async function ensurePrometheus(log: (line: string) => void = () => {}): Promise<string> {
  const found = await onPath("prometheus");
  if (found) return found;
  if (process.getuid?.() !== 0) {
    throw new Error(
      "prometheus is not on the PATH; install it with `sudo apt-get install --no-install-recommends prometheus`",
    );
  }
  const started = Date.now();
  // A port taken before the install is someone else's: only a newly taken one is the package's.
  const serviceFreeBefore = await isPortFree(PACKAGED_SERVICE_PORT);
  const install = () =>
    runCollect("apt-get", ["install", "-y", "--no-install-recommends", "prometheus"], { env: aptEnv() });
  log("installing Debian's prometheus package");
  let result = await install();
  if (result.code !== 0 && missingPackageList(result.output)) {
    log("apt-get does not know the package yet: apt-get update, then again");
    const update = await runCollect("apt-get", ["update"], { env: aptEnv() });
    if (update.code !== 0) throw new Error(`apt-get update exited with ${update.code}:\n${update.output.slice(-4000)}`);
    result = await install();
  }
  if (result.code !== 0) {
    throw new Error(`apt-get install prometheus exited with ${result.code}:\n${result.output.slice(-4000)}`);
  }
  if (serviceFreeBefore && !(await isPortFree(PACKAGED_SERVICE_PORT))) await stopPackagedService(log);
  const path = await onPath("prometheus");
  if (!path) throw new Error("apt-get installed prometheus, but no prometheus binary is on the PATH");
  log(`installed ${path} in ${Date.now() - started} ms`);
  return path;
}

const LOOPBACK_TARGET = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|\[::1\]):\d{1,5}$/;

function checkOptions(options: StartPrometheusOptions): number {
  if (!Array.isArray(options.targets) || options.targets.length === 0) {
    throw new Error("targets must list at least one host:port to scrape");
  }
  for (const target of options.targets) {
    if (typeof target !== "string" || !LOOPBACK_TARGET.test(target)) {
      throw new Error(
        `targets: ${JSON.stringify(target)} is not a loopback host:port (127.0.0.1:PORT, localhost:PORT or [::1]:PORT)`,
      );
    }
  }
  const interval = options.scrapeIntervalMs ?? 1000;
  if (!Number.isInteger(interval) || interval < 100 || interval > 3_600_000) {
    throw new Error(`scrapeIntervalMs must be an integer from 100 to 3600000; got ${String(options.scrapeIntervalMs)}`);
  }
  return interval;
}

/** The config: one job `samsa` over the static targets. JSON is YAML, so no quoting rules. */
function config(targets: string[], intervalMs: number): string {
  const interval = `${intervalMs}ms`;
  return `${JSON.stringify(
    {
      global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
      scrape_configs: [{ job_name: "samsa", static_configs: [{ targets }] }],
    },
    null,
    2,
  )}\n`;
}

/** Prometheus writes special values as strings: "NaN", "+Inf", "-Inf". */
function sampleValue(text: string): number {
  if (text === "+Inf") return Number.POSITIVE_INFINITY;
  if (text === "-Inf") return Number.NEGATIVE_INFINITY;
  return Number(text);
}

type ApiAnswer =
  | { status: "success"; data: { resultType: string; result: unknown } }
  | { status: "error"; errorType: string; error: string };

/**
 * Starts Prometheus on a free port of 127.0.0.1 scraping `targets`, and resolves once
 * `/-/ready` answers 200 and every target has been scraped once (it has an `up` series, 1 or
 * 0). That second wait is ~5 s whatever the interval: Prometheus's discovery manager hands
 * new targets to the scrape manager at most every 5 s, and the first hand-over waits too.
 */
export async function startPrometheus(options: StartPrometheusOptions): Promise<PrometheusServer> {
  const intervalMs = checkOptions(options);
  const log = options.log ?? (() => {});
  const binary = await ensurePrometheus(log);
  const [port] = (await freePorts(1)) as [number];
  const dataDir = await mkdtemp(join(tmpdir(), "samsa-prometheus-"));
  const configFile = join(dataDir, "prometheus.yml");
  await writeFile(configFile, config(options.targets, intervalMs));
  let server: ServerProcess;
  try {
    server = await spawnServer({
      name: "prometheus",
      command: binary,
      args: [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${join(dataDir, "tsdb")}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
      dirs: [dataDir],
    });
  } catch (err) {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  const url = `http://127.0.0.1:${port}`;
  log(`waiting for Prometheus on ${url}; log in ${server.logFile}`);
  const started = Date.now();
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;
  try {
    await waitHttp(`${url}/-/ready`, {
      server,
      name: "Prometheus",
      timeoutMs: readyTimeoutMs,
      ready: (status) => status === 200,
    });
  } catch (err) {
    await server.stop();
    throw err;
  }

  const api = async (
    path: string,
    params: Record<string, string>,
    expr: string,
  ): Promise<{ resultType: string; result: unknown }> => {
    const response = await fetch(`${url}${path}?${new URLSearchParams(params)}`, {
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    let answer: ApiAnswer;
    try {
      answer = JSON.parse(text) as ApiAnswer;
    } catch {
      throw new Error(`Prometheus answered ${path} with HTTP ${response.status} and no JSON: ${text.slice(0, 500)}`);
    }
    if (answer.status === "error") throw new PrometheusQueryError(expr, answer.errorType, answer.error);
    return answer.data;
  };

  const query = async (expr: string): Promise<PromSample[]> => {
    const data = await api("/api/v1/query", { query: expr }, expr);
    switch (data.resultType) {
      case "vector":
        return (data.result as { metric: Record<string, string>; value: [number, string] }[]).map((s) => ({
          metric: s.metric,
          timestamp: s.value[0],
          value: sampleValue(s.value[1]),
        }));
      case "scalar": {
        const [timestamp, value] = data.result as [number, string];
        return [{ metric: {}, timestamp, value: sampleValue(value) }];
      }
      default:
        throw new Error(
          `query(${JSON.stringify(expr)}) gave a ${data.resultType}, not an instant vector; use queryRange for ranges`,
        );
    }
  };

  const queryRange = async (expr: string, range: QueryRangeOptions): Promise<PromSeries[]> => {
    const stepMs = range.stepMs ?? 1000;
    if (!Number.isFinite(stepMs) || stepMs <= 0) throw new Error(`stepMs must be a positive number; got ${stepMs}`);
    const data = await api(
      "/api/v1/query_range",
      {
        query: expr,
        start: String(range.start / 1000),
        end: String((range.end ?? Date.now()) / 1000),
        step: String(stepMs / 1000),
      },
      expr,
    );
    return (data.result as { metric: Record<string, string>; values: [number, string][] }[]).map((s) => ({
      metric: s.metric,
      values: s.values.map(([timestamp, value]) => ({ timestamp, value: sampleValue(value) })),
    }));
  };

  const waitForQuery = async (
    expr: string,
    predicate: (samples: PromSample[]) => boolean,
    timeoutMs: number,
  ): Promise<PromSample[]> => {
    const deadline = Date.now() + timeoutMs;
    let last = "no answer yet";
    for (;;) {
      try {
        const samples = await query(expr);
        if (predicate(samples)) return samples;
        last = JSON.stringify(samples);
      } catch (err) {
        // A rejected expression stays rejected: waiting would only hide the message.
        if (err instanceof PrometheusQueryError) throw err;
        last = (err as Error).message;
      }
      if (Date.now() >= deadline) break;
      await sleep(Math.min(250, intervalMs));
    }
    throw new Error(
      `${JSON.stringify(expr)} did not satisfy the predicate within ${timeoutMs} ms; last samples: ${last}`,
    );
  };

  const targetCount = new Set(options.targets).size;
  try {
    await waitForQuery("up", (samples) => samples.length >= targetCount, readyTimeoutMs - (Date.now() - started));
  } catch (err) {
    await server.stop();
    throw new Error(
      `Prometheus did not scrape ${options.targets.join(", ")} within ${readyTimeoutMs} ms: ${(err as Error).message}`,
    );
  }
  log(`Prometheus ready on ${url} in ${Date.now() - started} ms, scraping ${options.targets.join(", ")}`);

  return {
    url,
    port,
    pid: server.pid,
    logFile: server.logFile,
    exited: server.exited,
    configFile,
    query,
    queryRange,
    waitForQuery,
    stop: server.stop,
  };
}
