/**
 * Test helper: reads a topic with Kafka's own Java console consumer (from the harness's
 * jars), so records samsa wrote are checked by the Java client, not only by samsa.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { ensureKafkaJars } from "../../tools/kafka/jars.js";

/** One record as the Java console consumer printed it. */
export interface JavaRecord {
  timestamp: number;
  partition: number;
  offset: bigint;
  headers: string;
  key: string;
  value: string;
}

/** Options of {@link javaConsume}. */
export interface JavaConsumeOptions {
  /** Default `read_uncommitted`, Java's own default. */
  isolationLevel?: "read_committed" | "read_uncommitted";
  /** Stop after this long without a record; default 30 s. */
  idleTimeoutMs?: number;
  /** Fewer than `count` records before the idle timeout is not an error: return them. */
  untilIdle?: boolean;
}

/** Consumes `count` records of `topic` from the beginning with ConsoleConsumer. */
export async function javaConsume(
  bootstrap: string,
  topic: string,
  count: number,
  options: JavaConsumeOptions = {},
): Promise<JavaRecord[]> {
  const lib = await ensureKafkaJars();
  const property = (p: string) => ["--formatter-property", p];
  const run = promisify(execFile)(
    "java",
    [
      "-Xmx256m",
      "-cp",
      `${lib}/*`,
      "org.apache.kafka.tools.consumer.ConsoleConsumer",
      "--bootstrap-server",
      bootstrap,
      "--topic",
      topic,
      "--from-beginning",
      "--max-messages",
      String(count),
      "--timeout-ms",
      String(options.idleTimeoutMs ?? 30_000),
      "--isolation-level",
      options.isolationLevel ?? "read_uncommitted",
      ...property("print.key=true"),
      ...property("print.partition=true"),
      ...property("print.offset=true"),
      ...property("print.timestamp=true"),
      ...property("print.headers=true"),
      ...property("key.separator=\t"),
    ],
    { maxBuffer: 256 * 1024 * 1024 },
  );
  // ConsoleConsumer exits non-zero when --timeout-ms passes before --max-messages records: with
  // `untilIdle` that is the expected end (the caller counts what arrived, duplicates included).
  const stdout = await run.then(
    (r) => r.stdout,
    (err: { stdout?: string; stderr?: string }) => {
      if (options.untilIdle && err.stdout !== undefined && err.stderr?.includes("TimeoutException")) return err.stdout;
      throw err;
    },
  );
  return stdout
    .split("\n")
    .filter((line) => line.startsWith("CreateTime:") || line.startsWith("LogAppendTime:"))
    .map((line) => {
      const [ts, partition, offset, headers, key, value] = line.split("\t");
      return {
        timestamp: Number((ts as string).split(":")[1]),
        partition: Number((partition as string).split(":")[1]),
        offset: BigInt((offset as string).split(":")[1] as string),
        headers: headers as string,
        key: key as string,
        value: value as string,
      };
    });
}
