/**
 * Fetches the pinned Kafka broker and its runtime dependencies from Maven Central into
 * {@link KAFKA_LIB_DIR}. A marker file records a complete fetch, so a second call makes no
 * network call and does not even start Maven.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { KAFKA_LIB_DIR, REPO_ROOT } from "./paths.js";
import { KAFKA_VERSION } from "./version.js";

const MARKER = ".complete";

/** Returns the path of the kafka-clients jar inside the fetched classpath. */
export function kafkaClientsJar(): string {
  return join(KAFKA_LIB_DIR, `kafka-clients-${KAFKA_VERSION}.jar`);
}

/**
 * Makes sure the classpath folder is complete, running Maven once if it is not.
 * Resolves with the folder's path.
 */
export async function ensureKafkaJars(log: (line: string) => void = () => {}): Promise<string> {
  const marker = join(KAFKA_LIB_DIR, MARKER);
  if (existsSync(marker)) return KAFKA_LIB_DIR;
  const started = Date.now();
  log(`fetching Apache Kafka ${KAFKA_VERSION} with Maven into ${KAFKA_LIB_DIR}`);
  // A half-filled folder from an interrupted run could hold a stale jar set: start clean.
  await rm(KAFKA_LIB_DIR, { recursive: true, force: true });
  await mkdir(KAFKA_LIB_DIR, { recursive: true });
  const args = [
    "-q",
    "-B",
    "-f",
    join(REPO_ROOT, "tools", "kafka", "pom.xml"),
    `-Dkafka.version=${KAFKA_VERSION}`,
    "dependency:copy-dependencies",
    `-DoutputDirectory=${KAFKA_LIB_DIR}`,
    "-DincludeScope=runtime",
  ];
  const output: string[] = [];
  const code = await new Promise<number | null>((resolvePromise, reject) => {
    const child = spawn("mvn", args, { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.on("data", (chunk: Buffer) => output.push(chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => output.push(chunk.toString()));
    child.on("error", reject);
    child.on("close", resolvePromise);
  });
  if (code !== 0) {
    throw new Error(`mvn exited with ${code} fetching Kafka ${KAFKA_VERSION}:\n${output.join("").slice(-4000)}`);
  }
  await writeFile(marker, `${KAFKA_VERSION}\n`);
  log(`fetched Apache Kafka ${KAFKA_VERSION} in ${Date.now() - started} ms`);
  return KAFKA_LIB_DIR;
}
