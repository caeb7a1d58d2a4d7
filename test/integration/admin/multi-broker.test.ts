import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Admin, AdminOperationError } from "../../../src/admin/index.js";
import { Client } from "../../../src/client.js";
import { ErrorCode } from "../../../src/protocol/index.js";
import { type KafkaCluster, startKafka } from "../../../tools/kafka/harness.js";
import { eventually, produce, unique } from "./helpers.js";

describe("Admin routing on a three-broker cluster", () => {
  let kafka: KafkaCluster;
  let client: Client;
  let admin: Admin;
  beforeAll(async () => {
    kafka = await startKafka({ mode: "cluster" });
    client = new Client({ bootstrap: kafka.bootstrap, clientId: "admin-cluster-test" });
    admin = new Admin(client);
  });
  afterAll(async () => {
    client?.close();
    await kafka?.stop();
  });

  it("describes three brokers and routes each broker's configs to that broker", async () => {
    const cluster = await admin.describeCluster();
    expect(cluster.brokers.map((b) => b.nodeId)).toEqual([1, 2, 3]);
    expect([1, 2, 3]).toContain(cluster.controllerId);
    // node.id is static and differs per broker: only the broker itself can report its own.
    const configs = await admin.describeConfigs(
      [3, 1, 2].map((id) => ({ type: "broker" as const, name: String(id), keys: ["node.id"] })),
    );
    expect(configs.map((c) => [c.resource.name, c.configs[0]?.value])).toEqual([
      ["3", "3"],
      ["1", "1"],
      ["2", "2"],
    ]);
  });

  it("fans list offsets and log dirs out to every leader and merges them in input order", async () => {
    const topic = unique("admin-spread");
    await admin.createTopics([
      {
        name: topic,
        assignments: [
          [1, 2],
          [2, 3],
          [3, 1],
        ],
      },
    ]);
    await eventually(async () => {
      const [described] = await admin.describeTopics([topic]);
      expect(described?.partitions.map((p) => [p.leader, p.replicas, [...p.isr].sort()])).toEqual([
        [1, [1, 2], [1, 2]],
        [2, [2, 3], [2, 3]],
        [3, [3, 1], [1, 3]],
      ]);
    });
    await produce(client, topic, 0, 1);
    await produce(client, topic, 1, 2);
    await produce(client, topic, 2, 3);
    const offsets = await admin.listOffsets([2, 0, 1].map((partition) => ({ topic, partition })));
    expect(offsets.map((o) => [o.partition, o.offset])).toEqual([
      [2, 3n],
      [0, 1n],
      [1, 2n],
    ]);
    const dirs = await admin.describeLogDirs();
    expect(dirs.map((d) => d.broker)).toEqual([1, 2, 3]);
    const hosted = dirs.map((d) =>
      d.logDirs
        .flatMap((l) => l.replicas)
        .filter((r) => r.topic === topic)
        .map((r) => r.partition)
        .sort(),
    );
    expect(hosted).toEqual([
      [0, 2],
      [0, 1],
      [1, 2],
    ]);
  });

  it("sends each group's requests to its own coordinator and lists groups from every broker", async () => {
    const topic = unique("admin-groups-spread");
    await admin.createTopics([{ name: topic, numPartitions: 1, replicationFactor: 3 }]);
    const groups = Array.from({ length: 8 }, () => unique("admin-spread-group"));
    for (const g of groups) await admin.alterGroupOffsets(g, [{ topic, partition: 0, offset: 0n }]);
    const described = await admin.describeGroups(groups);
    const coordinators = await Promise.all(groups.map((g) => client.coordinator("group", g)));
    expect(described.map((d) => d.coordinator)).toEqual(coordinators.map((c) => c.nodeId));
    expect(new Set(coordinators.map((c) => c.nodeId)).size).toBeGreaterThan(1);
    const listed = (await admin.listGroups()).filter((g) => groups.includes(g.groupId));
    expect(listed.map((g) => g.groupId)).toEqual([...groups].sort());
    expect(await admin.deleteGroups(groups)).toEqual(groups);
  });

  it("reorders replicas with a reassignment, then elects the new preferred leader", async () => {
    const topic = unique("admin-elect");
    await admin.createTopics([
      {
        name: topic,
        assignments: [
          [1, 2],
          [2, 3],
        ],
      },
    ]);
    await eventually(async () => {
      const [t] = await admin.describeTopics([topic]);
      expect(t?.partitions.map((p) => p.isr.length)).toEqual([2, 2]);
    });
    expect(await admin.alterPartitionReassignments([{ topic, partition: 0, replicas: [2, 1] }])).toEqual([
      { topic, partition: 0, replicas: [2, 1] },
    ]);
    await eventually(async () => {
      const [t] = await admin.describeTopics([topic]);
      expect(t?.partitions[0]).toMatchObject({ replicas: [2, 1], leader: 1 });
    });
    const elected = await admin.electLeaders("preferred", [
      { topic, partition: 0 },
      { topic, partition: 1 },
    ]);
    expect(elected).toEqual([
      { topic, partition: 0, elected: true },
      { topic, partition: 1, elected: false }, // broker 2 already leads it: ELECTION_NOT_NEEDED
    ]);
    await eventually(async () => {
      const [t] = await admin.describeTopics([topic]);
      expect(t?.partitions[0]?.leader).toBe(2);
    });
    const unclean = await admin.electLeaders("unclean", [{ topic, partition: 1 }]);
    expect(unclean).toEqual([{ topic, partition: 1, elected: false }]); // a leader in the ISR exists
    const all = await admin.electLeaders("preferred");
    expect(all.every((r) => !r.elected || r.topic !== topic)).toBe(true);
  });

  it("lists a reassignment that cannot finish while a broker is down, and cancels it", async () => {
    const topic = unique("admin-reassign");
    await admin.createTopics([{ name: topic, assignments: [[1, 2]] }]);
    await kafka.stopNode(3);
    await admin.alterPartitionReassignments([{ topic, partition: 0, replicas: [1, 2, 3] }]);
    await eventually(async () => {
      expect(await admin.listPartitionReassignments([{ topic, partition: 0 }])).toEqual([
        { topic, partition: 0, replicas: [1, 2, 3], addingReplicas: [3], removingReplicas: [] },
      ]);
    });
    expect((await admin.listPartitionReassignments()).map((r) => r.topic)).toContain(topic);
    await admin.alterPartitionReassignments([{ topic, partition: 0, replicas: null }]);
    await eventually(async () => {
      expect(await admin.listPartitionReassignments([{ topic, partition: 0 }])).toEqual([]);
      const [t] = await admin.describeTopics([topic]);
      expect(t?.partitions[0]?.replicas).toEqual([1, 2]);
    });
    const err = await admin.alterPartitionReassignments([{ topic, partition: 0, replicas: null }]).catch((e) => e);
    expect(err).toBeInstanceOf(AdminOperationError);
    expect(err.failures[0].error.errorCode).toBe(ErrorCode.NO_REASSIGNMENT_IN_PROGRESS);
    // Broker 3 is down: describeLogDirs fails its item and still answers for the others.
    const dirs = await admin.describeLogDirs({ brokers: [1, 2, 3], timeoutMs: 3000 }).catch((e) => e);
    expect(dirs).toBeInstanceOf(AdminOperationError);
    expect(dirs.failures.map((f: { item: string }) => f.item)).toEqual(["broker 3"]);
    expect(dirs.results.map((r: { broker: number } | undefined) => r?.broker)).toEqual([1, 2, undefined]);
  });
});
