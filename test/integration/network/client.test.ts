import { randomUUID } from "node:crypto";
import * as dc from "node:diagnostics_channel";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { Client } from "../../../src/client.js";
import { ConnectionClosedError } from "../../../src/network/errors.js";
import {
  CreateTopics,
  createCreateTopicsRequest,
  createMetadataRequest,
  Metadata,
} from "../../../src/protocol/index.js";
import { type KafkaCluster, startKafka } from "../../../tools/kafka/harness.js";

async function createTopic(client: Client, name: string, partitions: number, replicationFactor: number): Promise<void> {
  const connection = await client.anyConnection();
  const response = await connection.request(
    CreateTopics,
    createCreateTopicsRequest({
      topics: [{ name, numPartitions: partitions, replicationFactor, assignments: [], configs: [] }],
      timeoutMs: 30_000,
    }),
  );
  expect(response.topics[0]?.errorCode).toBe(0);
}

describe("Client against one broker", () => {
  const bootstrap = inject("kafkaBootstrap");
  let client: Client;
  beforeAll(() => {
    client = new Client({ bootstrap, clientId: "client-test" });
  });
  afterAll(() => client.close());

  it("bootstraps, caches metadata and finds partition leaders", async () => {
    const topic = `client-${randomUUID()}`;
    await createTopic(client, topic, 3, 1);
    const metadata = await client.metadata([topic]);
    expect(metadata.brokers.size).toBe(1);
    expect(metadata.clusterId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const t = metadata.topics.get(topic);
    expect(t?.partitions.map((p) => p.partition)).toEqual([0, 1, 2]);
    expect(metadata.topicNames.get(t?.topicId as string)).toBe(topic);
    const before = client.stats().metadataRequests;
    await client.metadata([topic]);
    expect(client.stats().metadataRequests).toBe(before); // served from the cache
    const leader = await client.leader(topic, 2);
    expect(`${leader.host}:${leader.port}`).toBe(bootstrap.split(",")[0]);
  });

  it("coalesces concurrent refreshes into one Metadata request", async () => {
    const before = client.stats().metadataRequests;
    const snapshots = await Promise.all(Array.from({ length: 10 }, () => client.refreshMetadata()));
    expect(client.stats().metadataRequests - before).toBe(1);
    expect(new Set(snapshots).size).toBe(1);
  });

  it("reports an unknown topic with its error code instead of hanging", async () => {
    const topic = `missing-${randomUUID()}`;
    const metadata = await client.metadata([topic]);
    expect(metadata.topics.get(topic)?.errorCode).toBe(3); // UNKNOWN_TOPIC_OR_PARTITION
  });

  it("keeps one connection per purpose and shares it", async () => {
    const { brokers } = await client.metadata();
    const nodeId = [...brokers.keys()][0] as number;
    const produce = await client.connection(nodeId, "produce");
    expect(await client.connection(nodeId, "produce")).toBe(produce);
    const fetch = await client.connection(nodeId, "fetch");
    expect(fetch).not.toBe(produce);
    expect(await client.connection(nodeId, "control")).not.toBe(fetch);
  });

  it("the connection that bootstrapped serves the broker at its address: no second socket to it", async () => {
    const fresh = new Client({ bootstrap, clientId: "client-test-adopt" });
    let opened = 0;
    // The channel is process-wide: count this client's sockets only.
    const onOpened = (m: unknown) => {
      if ((m as { clientId?: string }).clientId === "client-test-adopt") opened++;
    };
    dc.subscribe("samsa:network:connection-opened", onOpened);
    try {
      const { brokers } = await fresh.metadata();
      const nodeId = [...brokers.keys()][0] as number;
      // The control connection to the node (a FindCoordinator's) is the one Metadata went over.
      await fresh.connection(nodeId, "control");
      await fresh.coordinator("group", `group-${randomUUID()}`);
      expect(opened).toBe(1);
      expect(fresh.stats().connections).toBe(1);
    } finally {
      dc.unsubscribe("samsa:network:connection-opened", onOpened);
      fresh.close();
    }
  });

  it("finds group and transaction coordinators, several keys at once", async () => {
    const keys = Array.from({ length: 5 }, () => `group-${randomUUID()}`);
    const nodes = await Promise.all(keys.map((k) => client.coordinator("group", k)));
    const { brokers } = await client.metadata();
    for (const node of nodes) expect(brokers.has(node.nodeId)).toBe(true);
    const txn = await client.coordinator("transaction", `txn-${randomUUID()}`);
    expect(brokers.has(txn.nodeId)).toBe(true);
  });
});

describe("Client when its broker restarts", () => {
  let kafka: KafkaCluster;
  beforeAll(async () => {
    kafka = await startKafka({ mode: "single" });
  });
  afterAll(() => kafka?.stop());

  it("fails in-flight work with a typed error, then reconnects once the broker is back", async () => {
    const client = new Client({ bootstrap: kafka.bootstrap, reconnectBackoffMs: 50, reconnectBackoffMaxMs: 200 });
    try {
      const first = await client.anyConnection();
      expect((await first.request(Metadata, createMetadataRequest({ topics: [] }))).brokers).toHaveLength(1);
      await kafka.stopNode(1);
      await expect(first.request(Metadata, createMetadataRequest({ topics: [] }))).rejects.toBeInstanceOf(
        ConnectionClosedError,
      );
      await kafka.startNode(1);
      const again = await client.anyConnection();
      expect(again).not.toBe(first);
      expect((await again.request(Metadata, createMetadataRequest({ topics: [] }))).brokers).toHaveLength(1);
    } finally {
      client.close();
    }
  });
});

describe("Client against a 3-node cluster", () => {
  let kafka: KafkaCluster;
  beforeAll(async () => {
    kafka = await startKafka({ mode: "cluster" });
  });
  afterAll(() => kafka?.stop());

  it("learns every node from one bootstrap address, and finds a new leader when one node dies", async () => {
    const first = kafka.bootstrap.split(",")[0] as string;
    const client = new Client({ bootstrap: first, retryBackoffMs: 50, requestTimeoutMs: 30_000 });
    try {
      const metadata = await client.metadata();
      expect([...metadata.brokers.keys()].sort()).toEqual([1, 2, 3]);
      const topic = `replicated-${randomUUID()}`;
      await createTopic(client, topic, 1, 3);
      const leader = await client.leader(topic, 0);
      await kafka.stopNode(leader.nodeId, "SIGKILL");
      // Leadership moves once the controller notices; keep asking until it has.
      const deadline = Date.now() + 60_000;
      let next = leader;
      while (next.nodeId === leader.nodeId && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 500));
        client.invalidateLeader();
        next = await client.leader(topic, 0);
      }
      expect(next.nodeId).not.toBe(leader.nodeId);
      expect([1, 2, 3]).toContain(next.nodeId);
    } finally {
      client.close();
    }
  });
});
