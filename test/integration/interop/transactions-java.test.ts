/**
 * Interop: samsa's transactions as Kafka's own Java consumer sees them. samsa writes committed
 * and aborted transactions (and leaves one open); ConsoleConsumer from the harness's jars with
 * `--isolation-level read_committed` must print exactly the committed records, in log order,
 * and none of the aborted or open ones, while `read_uncommitted` shows that those records are
 * in the log.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { Client } from "../../../src/client.js";
import { type JavaRecord, javaConsume } from "../../helpers/java-consume.js";
import { createTopic } from "../../helpers/topics.js";

/**
 * More than the topic holds (600 records and the markers): ConsoleConsumer reads until nothing
 * new arrives for {@link IDLE_MS}, so an extra record would show, not be cut off.
 */
const MAX_RECORDS = 10_000;
/** How long ConsoleConsumer waits for a next record before it ends (its --timeout-ms). */
const IDLE_MS = 6_000;

describe("Java's consumer reads samsa's transactions", () => {
  const bootstrap = inject("kafkaBootstrap");
  let client: Client;
  beforeAll(() => {
    client = new Client({ bootstrap, clientId: "txn-java-interop" });
  });
  afterAll(() => client.close());

  it("read_committed (ConsoleConsumer) prints exactly the committed records, none aborted or open", async () => {
    const topic = `txn-java-${randomUUID()}`;
    await createTopic(client, topic, 2);
    const producer = client.producer({ transactionalId: `txn-java-${randomUUID()}`, lingerMs: 1 });
    /** `key=value` per partition, in send order. */
    const committed: string[][] = [[], []];
    const notCommitted: string[] = [];
    // Six transactions: commit, abort, commit (with compression-sized batches), abort, commit, open.
    const plan: ("commit" | "abort" | "open")[] = ["commit", "abort", "commit", "abort", "commit", "open"];
    for (const [t, outcome] of plan.entries()) {
      await producer.beginTransaction();
      const count = t === 2 ? 500 : 20;
      const records = Array.from({ length: count }, (_, i) => ({
        topic,
        partition: i % 2,
        key: `t${t}-k${i}`,
        value: `${outcome}-t${t}-${i}`,
      }));
      // Awaited: every record is in the log before the transaction ends (an abort after an
      // unawaited send could drop records unsent, which would prove nothing).
      await producer.send(records);
      for (const r of records) {
        if (outcome === "commit") committed[r.partition]?.push(`${r.key}=${r.value}`);
        else notCommitted.push(`${r.key}=${r.value}`);
      }
      if (outcome === "commit") await producer.commitTransaction();
      else if (outcome === "abort") await producer.abortTransaction();
    }
    expect(producer.transactionState).toBe("inTransaction");

    const javaRead = (isolationLevel: "read_committed" | "read_uncommitted") =>
      javaConsume(bootstrap, topic, MAX_RECORDS, { isolationLevel, untilIdle: true, idleTimeoutMs: IDLE_MS });
    const [readCommitted, readUncommitted] = await Promise.all([
      javaRead("read_committed"),
      javaRead("read_uncommitted"),
    ]);
    const show = (seen: JavaRecord[]) => seen.map((r) => `${r.key}=${r.value}`);

    // Exactly the committed records, each once, per partition in the order samsa sent them
    // (at rising offsets, with gaps where the aborted records and the markers are).
    expect(readCommitted).toHaveLength(540);
    for (const partition of [0, 1]) {
      const mine = readCommitted.filter((r) => r.partition === partition);
      expect(show(mine)).toEqual(committed[partition]);
      expect(mine.every((r, i) => i === 0 || r.offset > (mine[i - 1] as JavaRecord).offset)).toBe(true);
    }
    expect(show(readCommitted).some((s) => s.includes("=abort-") || s.includes("=open-"))).toBe(false);
    // The aborted and open records are in the log: read_uncommitted prints them.
    expect(notCommitted).toHaveLength(60);
    expect(show(readUncommitted).sort()).toEqual([...committed.flat(), ...notCommitted].sort());

    await producer.abortTransaction();
    await producer.close();
  });
});
