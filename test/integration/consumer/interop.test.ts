import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { Client } from "../../../src/client.js";
import { ensureKafkaJars } from "../../../tools/kafka/jars.js";
import { createTopic } from "../../helpers/topics.js";
import { take } from "./helpers.js";

const SOURCE = join(dirname(fileURLToPath(import.meta.url)), "fixtures", "JavaProducer.java");

/** Starts the Java producer; resolves once it printed `line`. */
async function javaProducer(
  bootstrap: string,
  topic: string,
  mode: "codecs" | "transactions",
  line: "OPEN" | "DONE",
): Promise<ChildProcessWithoutNullStreams> {
  const lib = await ensureKafkaJars();
  const child = spawn("java", ["-Xmx256m", "-cp", `${lib}/*`, SOURCE, bootstrap, topic, mode]);
  let out = "";
  let err = "";
  child.stderr.on("data", (d: Buffer) => {
    err += d.toString();
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.split("\n").includes(line)) resolve();
    });
    child.on("exit", (code) =>
      reject(new Error(`JavaProducer exited with ${code} before ${line}: ${err.slice(-2000)}`)),
    );
  });
  return child;
}

describe("Consumer interop with Kafka's Java producer", () => {
  const bootstrap = inject("kafkaBootstrap");
  let client: Client;
  beforeAll(() => {
    client = new Client({ bootstrap });
  });
  afterAll(() => client.close());

  it("reads what the Java producer wrote with each codec, intact", async () => {
    const topic = `c-java-codecs-${randomUUID()}`;
    await createTopic(client, topic, 1);
    await javaProducer(bootstrap, topic, "codecs", "DONE");
    const consumer = client.consumer({ autoOffsetReset: "earliest" });
    consumer.assign([{ topic, partition: 0 }]);
    const got = await take(consumer, 100);
    const codecs = ["none", "gzip", "snappy", "lz4", "zstd"];
    expect(got.map((m) => m.offset)).toEqual(Array.from({ length: 100 }, (_, i) => BigInt(i)));
    expect(got.map((m) => `${m.key?.toString()}=${m.value?.toString()}`)).toEqual(
      codecs.flatMap((c) => Array.from({ length: 20 }, (_, i) => `${c}-k${i}=${c}-${i}`)),
    );
    expect(got.map((m) => m.headers[0]?.value?.toString())).toEqual(codecs.flatMap((c) => Array(20).fill(c)));
    await consumer.close();
  });

  it("read_committed skips aborted transactions and waits for open ones; read_uncommitted sees everything", async () => {
    const topic = `c-java-txn-${randomUUID()}`;
    await createTopic(client, topic, 1);
    const producer = await javaProducer(bootstrap, topic, "transactions", "OPEN");
    try {
      const committed = client.consumer({ autoOffsetReset: "earliest" }); // read_committed is the default
      const uncommitted = client.consumer({ autoOffsetReset: "earliest", isolationLevel: "read_uncommitted" });
      for (const c of [committed, uncommitted]) c.assign([{ topic, partition: 0 }]);
      const values = (ms: { value: Buffer | null }[]) => ms.map((m) => m.value?.toString());
      const c20 = Array.from({ length: 20 }, (_, i) => `c${i}`);
      const a10 = Array.from({ length: 10 }, (_, i) => `a${i}`);
      const o5 = Array.from({ length: 5 }, (_, i) => `o${i}`);

      const seenCommitted = await take(committed, 20);
      expect(values(seenCommitted)).toEqual(c20);
      // The open transaction is past the last stable offset: nothing more for read_committed.
      expect(await take(committed, 1, 1_500)).toEqual([]);
      // Lag counts up to the last stable offset (the open transaction's first offset), past the markers.
      expect(committed.lag()[0]).toMatchObject({ position: 33n, endOffset: 33n, lag: 0n });

      const seenAll = await take(uncommitted, 35);
      expect(values(seenAll)).toEqual([...c20.slice(0, 10), ...a10, ...c20.slice(10), ...o5]);
      // Offsets skip the transaction markers (one after each transaction).
      expect(seenAll[10]?.offset).toBe(11n);
      expect(seenAll[20]?.offset).toBe(22n);

      producer.stdin.write("commit\n");
      const rest = await take(committed, 5);
      expect(values(rest)).toEqual(o5);
      expect(rest[0]?.offset).toBe(33n);
      await Promise.all([committed.close(), uncommitted.close()]);
    } finally {
      producer.stdin.end();
      producer.kill();
    }
  });
});
