import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "../../../src/client.js";
import { type KafkaCluster, startKafka } from "../../../tools/kafka/harness.js";
import { createTopic } from "../../helpers/topics.js";
import { committedOffsets, produceNumbered } from "./helpers.js";
import { handedOut, Member, ordered, until } from "./member.js";

// A 3-node cluster of its own: the consumer keeps going while a partition leader (and
// perhaps the group coordinator) shuts down and comes back.
describe("Consumer across leader changes (3-node cluster)", () => {
  let kafka: KafkaCluster;
  let client: Client;
  beforeAll(async () => {
    kafka = await startKafka({ mode: "cluster" });
    client = new Client({ bootstrap: kafka.bootstrap });
  }, 180_000);
  afterAll(async () => {
    client?.close();
    await kafka?.stop();
  });

  it("a leader shuts down mid-stream: fetching moves to the new leaders (KIP-951 hint or metadata), positions are validated (KIP-320), nothing lost, order kept", async () => {
    const topic = `c-leader-${randomUUID()}`;
    const groupId = `g-${randomUUID()}`;
    await createTopic(client, topic, 3, 3);
    await produceNumbered(client, topic, 3000, 3);
    const m = new Member(kafka.bootstrap, "m", { groupId }).start(topic, { every: 100, sleepMs: 20 });
    try {
      await until("1000 handed out", () => m.seen.length >= 1000);
      const leader = await client.leader(topic, 0);
      await kafka.stopNode(leader.nodeId, "SIGTERM");
      try {
        await produceNumbered(client, topic, 3000, 3, 3000);
        await until("6000 handed out", () => handedOut([m]).size === 6000, 90_000);
      } finally {
        await kafka.startNode(leader.nodeId);
      }
      expect(m.error).toBeUndefined();
      expect(ordered(m)).toBe(true);
      expect(m.seen).toHaveLength(6000);
      const stats = m.consumer.stats();
      // The old leader answered NOT_LEADER_OR_FOLLOWER, or its connection dropped: either way
      // the fetcher found the new leader and went on.
      expect(stats.fetch.leaderErrors + stats.fetch.requestErrors).toBeGreaterThan(0);
      // The new leader's log was checked against what had been fetched (KIP-320): no truncation.
      expect(stats.fetch.validations).toBeGreaterThan(0);
    } finally {
      await m.close();
    }
    expect(await committedOffsets(client, groupId, topic, 3)).toEqual([2000n, 2000n, 2000n]);
  });
});
