import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { Admin, AdminOperationError, AdminTimeoutError } from "../../../src/admin/index.js";
import { Client } from "../../../src/client.js";
import { AbortedError } from "../../../src/network/errors.js";
import { InvalidArgumentError } from "../../../src/protocol/errors.js";
import { ErrorCode, KafkaError } from "../../../src/protocol/index.js";
import { eventually, unique } from "./helpers.js";

describe("Admin topics against one broker", () => {
  const bootstrap = inject("kafkaBootstrap");
  let client: Client;
  let admin: Admin;
  let brokerId: number;
  beforeAll(async () => {
    client = new Client({ bootstrap, clientId: "admin-topics-test" });
    admin = new Admin(client);
    brokerId = (await admin.describeCluster()).brokers[0]?.nodeId as number;
  });
  afterAll(() => client.close());

  it("creates topics that describe shows with their partitions, replicas, ids and configs", async () => {
    const a = unique("admin-create");
    const b = unique("admin-assign");
    const created = await admin.createTopics([
      {
        name: a,
        numPartitions: 3,
        replicationFactor: 1,
        configs: { "retention.ms": "3600000", "cleanup.policy": "compact" },
      },
      { name: b, assignments: [[brokerId], [brokerId]] },
    ]);
    expect(created.map((t) => t.name)).toEqual([a, b]);
    expect(created[0]).toMatchObject({ numPartitions: 3, replicationFactor: 1 });
    expect(created[1]).toMatchObject({ numPartitions: 2, replicationFactor: 1 });
    expect(created[0]?.topicId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const retention = created[0]?.configs.find((c) => c.name === "retention.ms");
    expect(retention).toMatchObject({ value: "3600000", source: "dynamicTopic", readOnly: false });

    const described = await admin.describeTopics([b, a]);
    expect(described.map((t) => t.name)).toEqual([b, a]); // input order
    const da = described[1];
    expect(da?.topicId).toBe(created[0]?.topicId);
    expect(da?.isInternal).toBe(false);
    expect(da?.partitions.map((p) => p.partition)).toEqual([0, 1, 2]);
    for (const p of da?.partitions ?? []) {
      expect(p).toMatchObject({ leader: brokerId, replicas: [brokerId], isr: [brokerId], offlineReplicas: [] });
      expect(p.leaderEpoch).toBeGreaterThanOrEqual(0);
    }
    expect(described[0]?.partitions).toHaveLength(2);

    const [configs] = await admin.describeConfigs([
      { type: "topic", name: a, keys: ["cleanup.policy", "retention.ms"] },
    ]);
    expect(Object.fromEntries(configs?.configs.map((c) => [c.name, c.value]) ?? [])).toEqual({
      "cleanup.policy": "compact",
      "retention.ms": "3600000",
    });

    const listed = await admin.listTopics();
    expect(listed.find((t) => t.name === a)).toEqual({
      name: a,
      topicId: created[0]?.topicId,
      isInternal: false,
      partitionCount: 3,
    });
    expect(listed.some((t) => t.isInternal)).toBe(false);
    const names = listed.map((t) => t.name);
    expect(names).toEqual([...names].sort());
    const all = await admin.listTopics({ includeInternal: true });
    expect(all.length).toBeGreaterThanOrEqual(listed.length);
  });

  it("pages DescribeTopicPartitions through a topic larger than one page", async () => {
    const name = unique("admin-paged");
    await admin.createTopics([{ name, numPartitions: 7 }]);
    const [paged] = await admin.describeTopics([name], { partitionsPerPage: 2 });
    expect(paged?.partitions.map((p) => p.partition)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it("reports a refused item with Kafka's code and still returns the others", async () => {
    const existing = unique("admin-exists");
    const fresh = unique("admin-fresh");
    await admin.createTopics([{ name: existing, numPartitions: 1 }]);
    const err = await admin.createTopics([{ name: existing, numPartitions: 1 }, { name: fresh }]).catch((e) => e);
    expect(err).toBeInstanceOf(AdminOperationError);
    expect(err.code).toBe("SAMSA_ERR_ADMIN_OPERATION");
    expect(err.failures).toHaveLength(1);
    expect(err.failures[0]).toMatchObject({ index: 0, item: existing });
    expect(err.failures[0].error).toBeInstanceOf(KafkaError);
    expect(err.failures[0].error.errorCode).toBe(ErrorCode.TOPIC_ALREADY_EXISTS);
    expect(err.results[0]).toBeUndefined();
    expect(err.results[1]?.name).toBe(fresh);
    const [described] = await admin.describeTopics([fresh]);
    expect(described?.name).toBe(fresh);
  });

  it("validates without creating", async () => {
    const name = unique("admin-validate");
    const [validated] = await admin.createTopics([{ name, numPartitions: 4 }], { validateOnly: true });
    expect(validated).toMatchObject({ name, numPartitions: 4, replicationFactor: 1 });
    const err = await admin.describeTopics([name]).catch((e) => e);
    expect(err).toBeInstanceOf(AdminOperationError);
    expect(err.failures[0].error.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });

  it("adds partitions, and refuses to shrink", async () => {
    const name = unique("admin-grow");
    await admin.createTopics([{ name, numPartitions: 2 }]);
    expect(await admin.createPartitions([{ topic: name, count: 5 }])).toEqual([{ topic: name, count: 5 }]);
    // Brokers learn of the change from the metadata log, a moment after the controller commits it.
    await eventually(async () => {
      const [grown] = await admin.describeTopics([name]);
      expect(grown?.partitions.map((p) => p.partition)).toEqual([0, 1, 2, 3, 4]);
    });
    const err = await admin.createPartitions([{ topic: name, count: 3 }]).catch((e) => e);
    expect(err).toBeInstanceOf(AdminOperationError);
    expect(err.failures[0].error.errorCode).toBe(ErrorCode.INVALID_PARTITIONS);
  });

  it("deletes topics by name and by id", async () => {
    const byName = unique("admin-del-name");
    const byId = unique("admin-del-id");
    const created = await admin.createTopics([{ name: byName }, { name: byId }]);
    const topicId = created[1]?.topicId as string;
    const deleted = await admin.deleteTopics([byName, { topicId }]);
    expect(deleted[0]).toEqual({ name: byName, topicId: created[0]?.topicId });
    expect(deleted[1]?.topicId).toBe(topicId);
    await eventually(async () => {
      const names = (await admin.listTopics()).map((t) => t.name);
      expect(names).not.toContain(byName);
      expect(names).not.toContain(byId);
    });
    const err = await admin.deleteTopics([byName]).catch((e) => e);
    expect(err.failures[0].error.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });

  it("refuses bad input before sending anything", async () => {
    const before = client.stats().metadataRequests;
    const cases: [() => Promise<unknown>, string][] = [
      [() => admin.createTopics([{ name: "" }]), "topics[0].name"],
      [() => admin.createTopics([{ name: "a/b" }]), "topics[0].name"],
      [() => admin.createTopics([{ name: "ok", numPartitions: -1 }]), "topics[0].numPartitions"],
      [() => admin.createTopics([{ name: "ok", numPartitions: 1, assignments: [[1]] }]), "topics[0].assignments"],
      [() => admin.createTopics([{ name: "dup" }, { name: "dup" }]), "topics[1]"],
      [() => admin.createTopics([]), "topics"],
      [() => admin.describeTopics(["x"], { timeoutMs: 0 }), "timeoutMs"],
      [() => admin.deleteTopics([{ topicId: "nope" }]), "topics[0].topicId"],
    ];
    for (const [run, argument] of cases) {
      const err = (await run().catch((e: unknown) => e)) as InvalidArgumentError;
      expect(err, argument).toBeInstanceOf(InvalidArgumentError);
      expect(err.argument).toBe(argument);
    }
    expect(client.stats().metadataRequests).toBe(before);
  });

  it("stops at once on an aborted signal, and when the signal fires while retrying", async () => {
    const err = await admin.listTopics({ signal: AbortSignal.abort() }).catch((e) => e);
    expect(err).toBeInstanceOf(AbortedError);
    expect(err.code).toBe("SAMSA_ERR_ABORTED");
    // A missing topic is retried for a moment (a new topic may not have reached every broker).
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 100);
    const late = await admin.describeTopics([unique("admin-missing")], { signal: controller.signal }).catch((e) => e);
    expect(late).toBeInstanceOf(AbortedError);
    expect(Date.now() - started).toBeLessThan(900);
  });

  it("sends createTopics and deleteRecords on the broker's slow socket, describes on control", async () => {
    // A client of its own, so the sockets it opens are this test's alone.
    const fresh = new Client({ bootstrap, clientId: "admin-classes-test" });
    try {
      const own = new Admin(fresh);
      await own.describeCluster();
      const control = fresh.readyConnection(brokerId, "control");
      expect(control).toBeDefined();
      expect(fresh.readyConnection(brokerId, "slow")).toBeUndefined();

      const topic = unique("admin-slow");
      const [created, listed] = await Promise.all([
        own.createTopics([{ name: topic, numPartitions: 1 }]),
        own.listTopics(),
      ]);
      expect(created.map((t) => t.name)).toEqual([topic]);
      expect(Array.isArray(listed)).toBe(true);
      const slow = fresh.readyConnection(brokerId, "slow");
      expect(slow).toBeDefined();
      expect(slow).not.toBe(control);
      expect(fresh.readyConnection(brokerId, "control")).toBe(control);

      const deleted = await eventually(() => own.deleteRecords([{ topic, partition: 0, beforeOffset: -1n }]));
      expect(deleted).toEqual([expect.objectContaining({ topic, partition: 0, lowWatermark: 0n })]);
      expect(fresh.readyConnection(brokerId, "slow")).toBe(slow);
    } finally {
      fresh.close();
    }
  });

  it("gives up at timeoutMs when no broker answers", async () => {
    const dead = new Client({ bootstrap: "127.0.0.1:1", connectTimeoutMs: 200 });
    try {
      const started = Date.now();
      const err = await new Admin(dead).listTopics({ timeoutMs: 600 }).catch((e) => e);
      expect(err).toBeInstanceOf(AdminTimeoutError);
      expect(err.code).toBe("SAMSA_ERR_ADMIN_TIMEOUT");
      expect(err.timeoutMs).toBe(600);
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      dead.close();
    }
  });
});
