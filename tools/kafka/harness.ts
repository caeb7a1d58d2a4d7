/**
 * Starts real Apache Kafka (KRaft, from the Maven jars) on 127.0.0.1 with free ports and a
 * fresh data folder, waits until it serves clients, and stops it without leaving a JVM or a
 * data folder behind, even when the calling process is killed (see reaper.mjs).
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, openSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { type ClusterPlan, type KafkaMode, LOG4J2_PROPERTIES, nodeProperties, SECURE_USERS } from "./config.js";
import { ensureKafkaJars } from "./jars.js";
import { KAFKA_LOGS_DIR, REPO_ROOT } from "./paths.js";
import { freePorts } from "./ports.js";
import { probeApiVersions, probeBrokerIds } from "./probe.js";
import { generateTls } from "./tls.js";

export type { KafkaMode } from "./config.js";
export { SECURE_USERS } from "./config.js";

const run = promisify(execFile);

/** Options of {@link startKafka}. */
export interface StartKafkaOptions {
  /** `single` (default): one broker+controller; `cluster`: three; `secure`: one with SASL and TLS. */
  mode?: KafkaMode;
  /**
   * Leave the JVMs running when this process exits (the CLI's `start`). Without it a reaper
   * process stops them and removes the data folder if this process dies.
   */
  detached?: boolean;
  /** How long to wait for the cluster to serve clients; default 120 s. */
  readyTimeoutMs?: number;
  /**
   * The `transaction.version` feature to format the storage with (StorageTool's
   * `--feature transaction.version=N`). Kafka 4.x finalizes 2 (KIP-890 part 2) by default;
   * 1 gives a broker with the older protocol (AddPartitionsToTxn, AddOffsetsToTxn, one epoch
   * across transactions), which clients must still support. Default: Kafka's own default.
   */
  transactionVersion?: 0 | 1 | 2;
  /** Progress lines. */
  log?: (line: string) => void;
}

/** One running node. */
export interface KafkaNodeInfo {
  nodeId: number;
  pid: number;
  /** PLAINTEXT port, or SASL_PLAINTEXT in secure mode. */
  port: number;
  /** SASL_SSL port (secure mode). */
  sslPort?: number;
  controllerPort: number;
  logFile: string;
}

/** What a started cluster looks like to its users; serialisable except for `stop`. */
export interface KafkaClusterInfo {
  mode: KafkaMode;
  /** `host:port` list of the client listeners (SASL_PLAINTEXT in secure mode). */
  bootstrap: string;
  /** Secure mode: `host:port` list of the SASL_SSL listeners. */
  sslBootstrap?: string;
  /** Secure mode: path of the CA certificate (PEM) that signs the broker certificate. */
  caFile?: string;
  /** Secure mode: known users (`admin` is the super-user). */
  users?: typeof SECURE_USERS;
  clusterId: string;
  nodes: KafkaNodeInfo[];
  dataDir: string;
  logDir: string;
  /** Milliseconds from the call to a cluster that answers clients (jars already cached). */
  startupMs: number;
  /** The `transaction.version` the storage was formatted with, when one was asked for. */
  transactionVersion?: number;
}

/** A started cluster. */
export interface KafkaCluster extends KafkaClusterInfo {
  /** Stops every node and removes the data folder. Safe to call twice. */
  stop(): Promise<void>;
  /** Stops one node (SIGTERM: controlled shutdown; SIGKILL: a crash), keeping its data and ports. */
  stopNode(nodeId: number, how?: "SIGTERM" | "SIGKILL"): Promise<void>;
  /** Restarts a stopped node on the same ports and data; resolves when the cluster serves it again. */
  startNode(nodeId: number): Promise<void>;
}

const JAVA_HEAP = ["-Xms256m", "-Xmx1g"]; // three nodes at once fit easily in 24 GiB
const JVM_FLAGS = ["-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-Djava.awt.headless=true", "-Xshare:auto"];

/**
 * Kafka cluster ids are 16 random bytes in unpadded base64url, like `Uuid.randomUuid()`,
 * which also never returns one starting with "-": StorageTool's argument parser would take
 * `-t -abc…` for an option (it failed a CI run once).
 */
export function randomClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString("base64url");
    if (!id.startsWith("-")) return id;
  }
}

function classpath(libDir: string): string {
  return `${libDir}/*`;
}

async function pruneOldLogs(keep: number): Promise<void> {
  const entries = await readdir(KAFKA_LOGS_DIR).catch(() => [] as string[]);
  const old = entries.sort().slice(0, Math.max(0, entries.length - keep));
  await Promise.all(old.map((name) => rm(join(KAFKA_LOGS_DIR, name), { recursive: true, force: true })));
}

function tail(file: string, lines = 40): string {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/** Whether process `pid` still runs (signal 0 checks without sending anything). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Stops processes by pid: SIGTERM (Kafka's shutdown hook), then SIGKILL after `graceMs`.
 * Works from any process, which the CLI's `stop` needs.
 */
export async function stopPids(pids: number[], graceMs = 5000): Promise<void> {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      // Already gone.
    }
  }
  const deadline = Date.now() + graceMs;
  while (pids.some(alive) && Date.now() < deadline) await sleep(100);
  for (const pid of pids) {
    try {
      if (alive(pid)) process.kill(pid, "SIGKILL");
    } catch {
      // Gone in between.
    }
  }
  while (pids.some(alive)) await sleep(50);
}

/** Starts a Kafka cluster of the given mode; see {@link StartKafkaOptions}. */
export async function startKafka(options: StartKafkaOptions = {}): Promise<KafkaCluster> {
  const mode = options.mode ?? "single";
  const transactionVersion = options.transactionVersion;
  if (transactionVersion !== undefined && ![0, 1, 2].includes(transactionVersion)) {
    throw new Error(`transactionVersion must be 0, 1 or 2; got ${String(transactionVersion)}`);
  }
  const features = transactionVersion === undefined ? [] : ["--feature", `transaction.version=${transactionVersion}`];
  const log = options.log ?? (() => {});
  const libDir = await ensureKafkaJars(log);
  const started = Date.now();
  const nodeCount = mode === "cluster" ? 3 : 1;
  const portsPerNode = mode === "secure" ? 3 : 2;
  const ports = await freePorts(nodeCount * portsPerNode);
  const dataDir = await mkdtemp(join(tmpdir(), `samsa-kafka-${mode}-`));
  const logDir = join(KAFKA_LOGS_DIR, `${new Date().toISOString().replace(/[:.]/g, "-")}-${mode}-${process.pid}`);
  await mkdir(logDir, { recursive: true });
  await pruneOldLogs(20);

  const plan: ClusterPlan = {
    mode,
    nodes: Array.from({ length: nodeCount }, (_, i) => ({
      nodeId: i + 1,
      port: ports[i * portsPerNode] as number,
      controllerPort: ports[i * portsPerNode + 1] as number,
      ...(mode === "secure" ? { sslPort: ports[i * portsPerNode + 2] as number } : {}),
      dataDir: join(dataDir, `node-${i + 1}`, "data"),
    })),
  };
  if (mode === "secure") {
    const tlsDir = join(dataDir, "tls");
    await mkdir(tlsDir, { recursive: true });
    plan.tls = await generateTls(tlsDir);
  }

  const clusterId = randomClusterId();
  const log4jFile = join(dataDir, "log4j2.properties");
  await writeFile(log4jFile, LOG4J2_PROPERTIES);
  const children = new Map<number, ChildProcess>();
  const spawnNode = (nodeId: number, logFile: string): ChildProcess => {
    const fd = openSync(logFile, "a");
    const child = spawn(
      "java",
      [
        ...JAVA_HEAP,
        ...JVM_FLAGS,
        `-Dlog4j2.configurationFile=${log4jFile}`,
        `-Dkafka.logs.dir=${logDir}`,
        "-cp",
        classpath(libDir),
        "kafka.Kafka",
        join(dataDir, `node-${nodeId}`, "server.properties"),
      ],
      // Own process group: a Ctrl-C meant for the test runner must not race our shutdown.
      { stdio: ["ignore", fd, fd], detached: true, cwd: REPO_ROOT },
    );
    closeSync(fd);
    if (child.pid === undefined) throw new Error("java did not start");
    return child;
  };
  /** Tells the reaper the current JVM pids, so a restarted node is cleaned up too. */
  const updateReaper = () => {
    reaper?.stdin?.write(`${JSON.stringify({ pids: infos.map((n) => n.pid) })}\n`);
  };
  let reaper: ChildProcess | undefined;
  const infos: KafkaNodeInfo[] = [];
  let stopped = false;

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await stopPids(infos.map((n) => n.pid));
    await rm(dataDir, { recursive: true, force: true });
    reaper?.kill("SIGTERM");
  };

  try {
    // Format every node's storage (in parallel: each is a JVM start).
    await Promise.all(
      plan.nodes.map(async (node) => {
        const nodeDir = join(dataDir, `node-${node.nodeId}`);
        await mkdir(node.dataDir, { recursive: true });
        const propsFile = join(nodeDir, "server.properties");
        await writeFile(propsFile, nodeProperties(plan, node));
        const scram =
          mode === "secure"
            ? Object.values(SECURE_USERS).flatMap((u) =>
                ["SCRAM-SHA-256", "SCRAM-SHA-512"].flatMap((m) => [
                  "--add-scram",
                  `${m}=[name=${u.username},password=${u.password}]`,
                ]),
              )
            : [];
        await run(
          "java",
          [
            "-Xmx256m",
            "-XX:TieredStopAtLevel=1",
            `-Dlog4j2.configurationFile=${log4jFile}`,
            "-cp",
            classpath(libDir),
            "kafka.tools.StorageTool",
            "format",
            "-t",
            clusterId,
            "-c",
            propsFile,
            ...scram,
            ...features,
          ],
          { cwd: REPO_ROOT },
        );
      }),
    );

    for (const node of plan.nodes) {
      const logFile = join(logDir, `node-${node.nodeId}.log`);
      const child = spawnNode(node.nodeId, logFile);
      children.set(node.nodeId, child);
      infos.push({
        nodeId: node.nodeId,
        pid: child.pid as number,
        port: node.port,
        controllerPort: node.controllerPort,
        ...(node.sslPort !== undefined ? { sslPort: node.sslPort } : {}),
        logFile,
      });
    }
    if (options.detached) {
      for (const child of children.values()) child.unref();
    } else {
      reaper = spawn(
        process.execPath,
        [
          join(REPO_ROOT, "tools", "kafka", "reaper.mjs"),
          JSON.stringify({ pids: infos.map((n) => n.pid), dirs: [dataDir] }),
        ],
        { stdio: ["pipe", "ignore", "ignore"], detached: true },
      );
      reaper.unref();
      (reaper.stdin as unknown as { unref(): void } | null)?.unref();
    }

    log(`waiting for ${mode} Kafka (${nodeCount} node${nodeCount > 1 ? "s" : ""}); logs in ${logDir}`);
    await waitReady(plan, infos, [...children.values()], options.readyTimeoutMs ?? 120_000, plan.tls?.caPem);
  } catch (err) {
    const logs = infos.map((n) => `--- ${n.logFile}\n${tail(n.logFile)}`).join("\n");
    await stop();
    throw new Error(`Kafka (${mode}) failed to start: ${(err as Error).message}\n${logs}`);
  }

  const startupMs = Date.now() - started;
  log(`Kafka ${mode} ready in ${startupMs} ms`);
  const host = "127.0.0.1";
  return {
    mode,
    bootstrap: infos.map((n) => `${host}:${n.port}`).join(","),
    ...(mode === "secure"
      ? {
          sslBootstrap: infos.map((n) => `${host}:${n.sslPort}`).join(","),
          caFile: plan.tls?.caPem as string,
          users: SECURE_USERS,
        }
      : {}),
    clusterId,
    nodes: infos,
    dataDir,
    logDir,
    startupMs,
    ...(transactionVersion !== undefined ? { transactionVersion } : {}),
    stop,
    async stopNode(nodeId, how = "SIGTERM") {
      const info = infos.find((n) => n.nodeId === nodeId);
      if (!info) throw new Error(`no node ${nodeId}`);
      if (how === "SIGKILL") process.kill(info.pid, "SIGKILL");
      await stopPids([info.pid]);
    },
    async startNode(nodeId) {
      const info = infos.find((n) => n.nodeId === nodeId);
      if (!info) throw new Error(`no node ${nodeId}`);
      if (alive(info.pid)) throw new Error(`node ${nodeId} is running`);
      const child = spawnNode(nodeId, info.logFile);
      children.set(nodeId, child);
      info.pid = child.pid as number;
      updateReaper();
      // Ready when the restarted node answers and every node sees it again.
      await waitReady(plan, infos, [child], options.readyTimeoutMs ?? 120_000, plan.tls?.caPem);
    },
  };
}

async function waitReady(
  plan: ClusterPlan,
  infos: KafkaNodeInfo[],
  children: ChildProcess[],
  timeoutMs: number,
  ca: string | undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const expectedIds = plan.nodes.map((n) => n.nodeId);
  const caPem = ca === undefined ? undefined : readFileSync(ca, "utf8");
  let lastError: unknown;
  while (Date.now() < deadline) {
    const dead = children.find((c) => c.exitCode !== null || c.signalCode !== null);
    if (dead) throw new Error(`a broker JVM exited (code ${dead.exitCode ?? dead.signalCode})`);
    try {
      for (const node of infos) {
        await probeApiVersions({ host: "127.0.0.1", port: node.port }, 2000);
        if (node.sslPort !== undefined)
          await probeApiVersions({ host: "127.0.0.1", port: node.sslPort, ca: caPem }, 2000);
        // Metadata needs an authenticated session in secure mode; ApiVersions is allowed
        // before SASL, and the single secure node has no peers to wait for.
        if (plan.mode !== "secure") {
          const ids = await probeBrokerIds({ host: "127.0.0.1", port: node.port }, 2000);
          if (ids.join(",") !== expectedIds.join(",")) throw new Error(`node ${node.nodeId} sees brokers [${ids}]`);
        }
      }
      return;
    } catch (err) {
      lastError = err;
      await sleep(250);
    }
  }
  throw new Error(`not ready after ${timeoutMs} ms: ${(lastError as Error)?.message}`);
}
