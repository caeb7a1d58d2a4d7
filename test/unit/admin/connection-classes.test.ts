/**
 * Admin requests pick their socket by API (src/network/connection-classes.ts): the calls a
 * broker holds up to their `timeoutMs` travel on the `slow` connection, so a held CreateTopics
 * never sits in front of a describe on the `control` one (a broker answers each connection in
 * order). A fake broker holds the request, since a single real node answers these at once;
 * the property is about our socket routing, not the broker's behaviour.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Admin } from "../../../src/admin/admin.js";
import { Client } from "../../../src/client.js";
import { type ConnectionRoute, slotKey } from "../../../src/network/connection-classes.js";
import {
  CreateTopics,
  type CreateTopicsResponse,
  createCreateTopicsResponse,
  createCreateTopicsResponseCreatableTopicResult,
  createDescribeClusterResponse,
  createDescribeClusterResponseDescribeClusterBroker,
  DescribeCluster,
  Metadata,
} from "../../../src/protocol/messages/index.js";
import { FakeBroker, type FakeConnection } from "../../../tools/fault/fake-broker.js";

const TOPIC_ID = "AAAAAAAAAAAAAAAAAAAAAQ";

describe("admin connection classes", () => {
  let broker: FakeBroker;
  let client: Client;
  let admin: Admin;
  beforeEach(async () => {
    broker = await FakeBroker.start({ nodeId: 7, topics: [{ name: "t", partitions: 2 }] });
    broker.on(DescribeCluster, () =>
      createDescribeClusterResponse({
        clusterId: "fake",
        controllerId: 7,
        brokers: [createDescribeClusterResponseDescribeClusterBroker({ brokerId: 7, host: "127.0.0.1", port: 1 })],
      }),
    );
    client = new Client({ bootstrap: broker.bootstrap, requestTimeoutMs: 10_000, retryBackoffMs: 20 });
    admin = new Admin(client, { retryBackoffMs: 20, retryBackoffMaxMs: 50 });
  });
  afterEach(async () => {
    client.close();
    await broker.close();
  });

  it("a createTopics the broker holds does not delay listTopics or describeCluster", async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    broker.on(CreateTopics, async (request): Promise<CreateTopicsResponse> => {
      await held;
      return createCreateTopicsResponse({
        topics: request.topics.map((t) =>
          createCreateTopicsResponseCreatableTopicResult({
            name: t.name,
            topicId: TOPIC_ID,
            numPartitions: 1,
            replicationFactor: 1,
          }),
        ),
      });
    });
    const creating = admin.createTopics([{ name: "held" }], { timeoutMs: 20_000 });
    await expect.poll(() => broker.received(CreateTopics).length).toBe(1);

    const started = Date.now();
    const [topics, cluster] = await Promise.all([admin.listTopics(), admin.describeCluster()]);
    const elapsed = Date.now() - started;
    expect(topics.map((t) => t.name)).toContain("t");
    expect(cluster.clusterId).toBe("fake");
    expect(elapsed).toBeLessThan(1_000);

    // The held request sits alone on its socket; the quick ones went on another.
    const [create] = connectionsOf(broker, CreateTopics.apiKey);
    const quickOnes = [...connectionsOf(broker, DescribeCluster.apiKey), ...connectionsOf(broker, Metadata.apiKey)];
    expect(create).toBeDefined();
    expect(quickOnes.length).toBeGreaterThan(0);
    expect(quickOnes).not.toContain(create);

    release();
    const created = await creating;
    expect(created).toEqual([{ name: "held", topicId: TOPIC_ID, numPartitions: 1, replicationFactor: 1, configs: [] }]);
  });

  it("names the API when it picks a connection: slow for broker-held calls, control for the rest", async () => {
    const routes = new Map<string, string>();
    const record = (route: ConnectionRoute) => {
      if (typeof route !== "string" && !routes.has(route.api.name)) routes.set(route.api.name, slotKey(route));
    };
    const connection = client.connection.bind(client);
    const anyConnection = client.anyConnection.bind(client);
    client.connection = (nodeId, route, signal) => {
      record(route);
      return connection(nodeId, route, signal);
    };
    client.anyConnection = (route, signal) => {
      if (route !== undefined) record(route);
      return anyConnection(route, signal);
    };
    // The fake broker closes the connection on the APIs it has no handler for; each call
    // fails (or times out), after the route it picked was recorded.
    const quick = { timeoutMs: 300 };
    await Promise.allSettled([
      admin.createTopics([{ name: "n" }], quick),
      admin.deleteTopics(["t"], quick),
      admin.createPartitions([{ topic: "t", count: 3 }], quick),
      admin.deleteRecords([{ topic: "t", partition: 0, beforeOffset: 0n }], quick),
      admin.electLeaders("preferred", [{ topic: "t", partition: 0 }], quick),
      admin.alterPartitionReassignments([{ topic: "t", partition: 0, replicas: [7] }], quick),
      admin.alterReplicaLogDirs([{ topic: "t", partition: 0, broker: 7, path: "/tmp/x" }], quick),
      admin.describeCluster(quick),
      admin.listTopics(quick),
      admin.describeConfigs([{ type: "topic", name: "t" }], quick),
      admin.listOffsets([{ topic: "t", partition: 0, spec: "latest" }], quick),
    ]);
    expect(Object.fromEntries(routes)).toEqual({
      CreateTopics: "slow",
      DeleteTopics: "slow",
      CreatePartitions: "slow",
      DeleteRecords: "slow",
      ElectLeaders: "slow",
      AlterPartitionReassignments: "slow",
      AlterReplicaLogDirs: "slow",
      DescribeCluster: "control",
      Metadata: "control",
      DescribeConfigs: "control",
      ListOffsets: "control",
    });
    expect(broker.received(Metadata).length).toBeGreaterThan(0);
  });
});

/** The fake connections that carried an API's requests, in arrival order. */
function connectionsOf(broker: FakeBroker, apiKey: number): FakeConnection[] {
  return broker.requests.filter((r) => r.apiKey === apiKey).map((r) => r.connection);
}
