import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "../../src/client.js";
import type { Producer } from "../../src/producer/producer.js";
import { type KafkaCluster, startKafka } from "../../tools/kafka/harness.js";
import { readBack } from "../helpers/read-back.js";
import { createTopic } from "../helpers/topics.js";

const TOTAL = 200_000;
const CHUNK = 1_000;

/**
 * Sends TOTAL records in array sends of CHUNK, at most 8 outstanding, calling `at(n)` once
 * n records were acknowledged (n = multiples of CHUNK). Each value is its global index.
 */
async function produceAll(producer: Producer, topic: string, at: (acked: number) => Promise<void>): Promise<void> {
  let next = 0;
  let acked = 0;
  const outstanding = new Set<Promise<void>>();
  while (next < TOTAL || outstanding.size > 0) {
    while (next < TOTAL && outstanding.size < 8) {
      const start = next;
      next += CHUNK;
      const records = Array.from({ length: CHUNK }, (_, i) => ({
        topic,
        key: `k${(start + i) % 30}`,
        value: String(start + i),
      }));
      const p: Promise<void> = producer.send(records).then(async () => {
        outstanding.delete(p);
        acked += CHUNK;
        await at(acked);
      });
      outstanding.add(p);
    }
    await Promise.race(outstanding);
  }
}

async function expectExactlyOnceInOrder(client: Client, topic: string): Promise<void> {
  const back = await readBack(client, topic);
  const values = back.map((r) => Number(r.value?.toString()));
  expect(values.length).toBe(TOTAL);
  expect(new Set(values).size).toBe(TOTAL);
  // Per key, records keep the order in which they were sent.
  const lastByKey = new Map<string, number>();
  let outOfOrder = 0;
  for (const r of back) {
    const key = r.key?.toString() as string;
    const v = Number(r.value?.toString());
    if ((lastByKey.get(key) ?? -1) > v) outOfOrder++;
    lastByKey.set(key, v);
  }
  expect(outOfOrder).toBe(0);
}

describe("idempotent producer under broker faults (3 nodes, acks=all)", () => {
  let kafka: KafkaCluster;
  let client: Client;
  beforeAll(async () => {
    kafka = await startKafka({ mode: "cluster" });
    client = new Client({ bootstrap: kafka.bootstrap, requestTimeoutMs: 10_000, retryBackoffMs: 50 });
  });
  afterAll(async () => {
    client?.close();
    await kafka?.stop();
  });

  it("loses and duplicates nothing when a partition leader is SIGKILLed and restarted mid-stream", async () => {
    const topic = `fault-kill-${randomUUID()}`;
    await createTopic(client, topic, 3, 3);
    const producer = client.producer({ requestTimeoutMs: 10_000, deliveryTimeoutMs: 120_000 });
    let killed: number | undefined;
    await produceAll(producer, topic, async (acked) => {
      if (acked === 50_000) {
        killed = (await client.leader(topic, 0)).nodeId;
        await kafka.stopNode(killed, "SIGKILL");
      }
      if (acked === 120_000 && killed !== undefined) await kafka.startNode(killed);
    });
    await producer.close();
    expect(killed).toBeDefined();
    await expectExactlyOnceInOrder(client, topic);
  });

  it("loses and duplicates nothing when a leader is paused (SIGSTOP) past the request timeout", async () => {
    const topic = `fault-pause-${randomUUID()}`;
    await createTopic(client, topic, 3, 3);
    const producer = client.producer({ requestTimeoutMs: 3_000, deliveryTimeoutMs: 120_000 });
    let paused: number | undefined;
    await produceAll(producer, topic, async (acked) => {
      if (acked === 50_000) {
        const nodeId = (await client.leader(topic, 1)).nodeId;
        paused = kafka.nodes.find((n) => n.nodeId === nodeId)?.pid;
        if (paused === undefined) throw new Error("no pid");
        process.kill(paused, "SIGSTOP");
        // Resume after the request timeout has fired, while sends continue.
        setTimeout(() => process.kill(paused as number, "SIGCONT"), 5_000);
      }
    });
    await producer.close();
    expect(paused).toBeDefined();
    await expectExactlyOnceInOrder(client, topic);
  });
});
