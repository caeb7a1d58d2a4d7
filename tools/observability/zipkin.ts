/**
 * A real Zipkin server for tests of the tracing integration: the pinned executable jar from
 * Maven Central, cached under `.cache/` with a marker file like the Kafka jars, run with
 * in-memory storage on a free port of 127.0.0.1 only.
 */
import { existsSync, statSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CACHE_DIR } from "../kafka/paths.js";
import { freePorts } from "../kafka/ports.js";
import { runCollect, spawnServer, waitHttp } from "./process.js";

/** The pinned Zipkin server release. */
export const ZIPKIN_VERSION = "3.6.1";

/** Folder holding the fetched jar and its marker. */
export const ZIPKIN_DIR = join(CACHE_DIR, `zipkin-${ZIPKIN_VERSION}`);

const MARKER = ".complete";
const JAR = join(ZIPKIN_DIR, `zipkin-server-${ZIPKIN_VERSION}-exec.jar`);
/** Pinned so that a fetch resolves the same plugin everywhere (no project pom pins it). */
const DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1";

/**
 * Heap and JIT of a JVM that shares two cores with a Kafka broker: in-memory storage of a few
 * test traces needs little heap, and C1 alone starts Zipkin faster than tiered compilation.
 */
const JVM_FLAGS = ["-Xms64m", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true"];

/**
 * Makes sure the executable jar (`io.zipkin:zipkin-server:${ZIPKIN_VERSION}:exec`, ~135 MB)
 * is in {@link ZIPKIN_DIR}, running Maven once if it is not. Resolves with the jar's path.
 */
export async function ensureZipkinJar(log: (line: string) => void = () => {}): Promise<string> {
  if (existsSync(join(ZIPKIN_DIR, MARKER))) return JAR;
  const started = Date.now();
  log(`fetching Zipkin ${ZIPKIN_VERSION} with Maven into ${ZIPKIN_DIR}`);
  // A half-written jar from an interrupted run must not be taken for a whole one: start clean.
  await rm(ZIPKIN_DIR, { recursive: true, force: true });
  await mkdir(ZIPKIN_DIR, { recursive: true });
  const { code, output } = await runCollect(
    "mvn",
    [
      "-q",
      "-B",
      // Fail on a checksum mismatch rather than warn: the jar is run as is.
      "-C",
      `${DEPENDENCY_PLUGIN}:copy`,
      `-Dartifact=io.zipkin:zipkin-server:${ZIPKIN_VERSION}:jar:exec`,
      `-DoutputDirectory=${ZIPKIN_DIR}`,
    ],
    // An empty folder as cwd: Maven would read a pom.xml found in the working directory.
    { cwd: ZIPKIN_DIR },
  ).catch((err: Error) => {
    throw new Error(`could not run mvn to fetch Zipkin ${ZIPKIN_VERSION} (is Maven installed?): ${err.message}`);
  });
  if (code !== 0 || !existsSync(JAR)) {
    throw new Error(`mvn exited with ${code} fetching Zipkin ${ZIPKIN_VERSION}:\n${output.slice(-4000)}`);
  }
  await writeFile(join(ZIPKIN_DIR, MARKER), `${ZIPKIN_VERSION}\n`);
  const mb = Math.round(statSync(JAR).size / 1e6);
  log(`fetched Zipkin ${ZIPKIN_VERSION} (${mb} MB) in ${Date.now() - started} ms`);
  return JAR;
}

/** Options of {@link startZipkin}. */
export interface StartZipkinOptions {
  /** How long to wait for `/health` to say UP; default 90 s (a JVM start beside a busy broker). */
  readyTimeoutMs?: number;
  /** Progress lines. */
  log?: (line: string) => void;
}

/** A running Zipkin server. */
export interface ZipkinServer {
  /** `http://127.0.0.1:PORT`, the UI and the API root. */
  url: string;
  port: number;
  /** Where spans are POSTed in Zipkin v2 JSON (the OpenTelemetry Zipkin exporter's `url`). */
  spansUrl: string;
  pid: number;
  logFile: string;
  /** Resolves with the exit code (or signal) once the JVM has exited, by stop() or not. */
  exited: Promise<number | string>;
  /** Stops the JVM and waits for its exit. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts Zipkin with in-memory storage on a free port, listening on 127.0.0.1 only, and
 * resolves once `GET /health` reports `"status": "UP"`.
 */
export async function startZipkin(options: StartZipkinOptions = {}): Promise<ZipkinServer> {
  const log = options.log ?? (() => {});
  const jar = await ensureZipkinJar(log);
  const [port] = (await freePorts(1)) as [number];
  const server = await spawnServer({
    name: "zipkin",
    command: "java",
    args: [
      ...JVM_FLAGS,
      "-jar",
      jar,
      // QUERY_PORT only sets the port: Armeria binds every interface unless its port entry has
      // an `ip`. Spring binds a list from one source whole, so the entry is given complete.
      "--armeria.ports[0].ip=127.0.0.1",
      `--armeria.ports[0].port=${port}`,
      "--armeria.ports[0].protocols[0]=http",
      // The ASCII-art banner would fill the log tail that a start failure reports.
      "--spring.main.banner-mode=off",
    ],
    // Not our environment: Zipkin reads dozens of variables (KAFKA_BOOTSTRAP_SERVERS,
    // RABBIT_URI, STORAGE_TYPE, ...) and Spring binds ARMERIA_* ones too; a stray one would
    // make it connect elsewhere or bind another address.
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...(process.env.JAVA_HOME ? { JAVA_HOME: process.env.JAVA_HOME } : {}),
      STORAGE_TYPE: "mem",
      QUERY_PORT: String(port),
      // Collectors and discovery we never use: less to start.
      COLLECTOR_ACTIVEMQ_ENABLED: "false",
      COLLECTOR_KAFKA_ENABLED: "false",
      COLLECTOR_RABBITMQ_ENABLED: "false",
      COLLECTOR_PULSAR_ENABLED: "false",
      DISCOVERY_EUREKA_ENABLED: "false",
    },
  });
  const url = `http://127.0.0.1:${port}`;
  log(`waiting for Zipkin on ${url}; log in ${server.logFile}`);
  const started = Date.now();
  try {
    await waitHttp(`${url}/health`, {
      server,
      name: "Zipkin",
      timeoutMs: options.readyTimeoutMs ?? 90_000,
      ready: (status, body) => status === 200 && (JSON.parse(body) as { status?: string }).status === "UP",
    });
  } catch (err) {
    await server.stop();
    throw err;
  }
  log(`Zipkin ${ZIPKIN_VERSION} ready on ${url} in ${Date.now() - started} ms`);
  return {
    url,
    port,
    spansUrl: `${url}/api/v2/spans`,
    pid: server.pid,
    logFile: server.logFile,
    exited: server.exited,
    stop: server.stop,
  };
}
