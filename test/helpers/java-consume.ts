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

/** Consumes `count` records of `topic` from the beginning with ConsoleConsumer. */
export async function javaConsume(bootstrap: string, topic: string, count: number): Promise<JavaRecord[]> {
  const lib = await ensureKafkaJars();
  const property = (p: string) => ["--formatter-property", p];
  const { stdout } = await promisify(execFile)(
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
      "30000",
      ...property("print.key=true"),
      ...property("print.partition=true"),
      ...property("print.offset=true"),
      ...property("print.timestamp=true"),
      ...property("print.headers=true"),
      ...property("key.separator=\t"),
    ],
    { maxBuffer: 64 * 1024 * 1024 },
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
