import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { Admin, AdminOperationError, type ConfigEntry } from "../../../src/admin/index.js";
import { Client } from "../../../src/client.js";
import { InvalidArgumentError } from "../../../src/protocol/errors.js";
import { ErrorCode } from "../../../src/protocol/index.js";
import { eventually, unique } from "./helpers.js";

const values = (configs: readonly ConfigEntry[] | undefined) =>
  Object.fromEntries((configs ?? []).map((c) => [c.name, c.value]));

describe("Admin cluster and configs against one broker", () => {
  const bootstrap = inject("kafkaBootstrap");
  let client: Client;
  let admin: Admin;
  let brokerId: number;
  beforeAll(async () => {
    client = new Client({ bootstrap, clientId: "admin-configs-test" });
    admin = new Admin(client);
    brokerId = (await admin.describeCluster()).brokers[0]?.nodeId as number;
  });
  afterAll(() => client.close());

  it("describes the cluster: id, the one broker as controller, finalized features", async () => {
    const cluster = await admin.describeCluster({ includeAuthorizedOperations: true });
    expect(cluster.clusterId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(cluster.brokers).toEqual([
      {
        nodeId: brokerId,
        host: bootstrap.split(":")[0],
        port: Number(bootstrap.split(":")[1]),
        rack: null,
        fenced: false,
      },
    ]);
    expect(cluster.controllerId).toBe(brokerId);
    expect(cluster.features["metadata.version"]).toBeGreaterThan(0);
    expect(cluster.features["transaction.version"]).toBe(2);
    // No authorizer on this broker: every cluster operation is allowed.
    expect(cluster.authorizedOperations).toContain("describe");
    expect(cluster.authorizedOperations).toContain("alterConfigs");
    expect((await admin.describeCluster()).authorizedOperations).toBeUndefined();
  });

  it("describes features: finalized levels within the supported ranges", async () => {
    const features = await admin.describeFeatures();
    const cluster = await admin.describeCluster();
    expect(Object.fromEntries(features.finalized.map((f) => [f.name, f.level]))).toEqual(cluster.features);
    expect(features.finalizedEpoch).toBeGreaterThan(0n);
    for (const f of features.finalized) {
      const supported = features.supported.find((s) => s.name === f.name);
      expect(supported, f.name).toBeDefined();
      expect(f.level).toBeGreaterThanOrEqual(supported?.minVersion as number);
      expect(f.level).toBeLessThanOrEqual(supported?.maxVersion as number);
    }
  });

  it("validates feature updates on the controller and refuses a level nobody supports", async () => {
    // Validate-only: other test files share this broker and need transaction.version 2.
    expect(
      await admin.updateFeatures(
        [
          { feature: "transaction.version", level: 1, upgradeType: "safeDowngrade" },
          { feature: "group.version", level: 1 },
        ],
        { validateOnly: true },
      ),
    ).toEqual([
      { feature: "transaction.version", level: 1, upgradeType: "safeDowngrade" },
      { feature: "group.version", level: 1, upgradeType: "upgrade" },
    ]);
    expect((await admin.describeCluster()).features["transaction.version"]).toBe(2);
    const err = await admin
      .updateFeatures([{ feature: "group.version", level: 99 }], { validateOnly: true })
      .catch((e) => e);
    expect(err).toBeInstanceOf(AdminOperationError);
    expect(err.failures[0].error.errorCode).toBe(ErrorCode.INVALID_UPDATE_VERSION);
  });

  it("describes a broker's configs with synonyms, types and documentation, on that broker", async () => {
    const [broker] = await admin.describeConfigs(
      [{ type: "broker", name: String(brokerId), keys: ["num.partitions"] }],
      {
        includeSynonyms: true,
        includeDocumentation: true,
      },
    );
    const entry = broker?.configs[0];
    expect(entry).toMatchObject({
      name: "num.partitions",
      value: "1",
      source: "staticBroker",
      type: "int",
      sensitive: false,
    });
    expect(entry?.synonyms?.map((s) => s.source)).toEqual(["staticBroker", "default"]);
    expect(entry?.documentation).toMatch(/partitions/);
    const [loggers] = await admin.describeConfigs([{ type: "brokerLogger", name: String(brokerId) }]);
    expect(loggers?.configs.length).toBeGreaterThan(10);
    expect(loggers?.configs.every((c) => c.source === "dynamicBrokerLogger")).toBe(true);
  });

  it("applies incremental set, append, subtract and delete, which describe then shows", async () => {
    const topic = unique("admin-incr");
    await admin.createTopics([{ name: topic, numPartitions: 1 }]);
    const resource = { type: "topic" as const, name: topic };
    const keys = ["retention.ms", "cleanup.policy"];
    expect(
      await admin.incrementalAlterConfigs([
        {
          resource,
          ops: [
            { name: "retention.ms", op: "set", value: "123456" },
            { name: "cleanup.policy", op: "append", value: "compact" },
          ],
        },
      ]),
    ).toEqual([resource]);
    await eventually(async () => {
      const [described] = await admin.describeConfigs([{ ...resource, keys }]);
      expect(values(described?.configs)).toEqual({ "retention.ms": "123456", "cleanup.policy": "delete,compact" });
    });
    await admin.incrementalAlterConfigs([
      {
        resource,
        ops: [
          { name: "retention.ms", op: "delete" },
          { name: "cleanup.policy", op: "subtract", value: "delete" },
        ],
      },
    ]);
    await eventually(async () => {
      const [described] = await admin.describeConfigs([{ ...resource, keys }]);
      const byName = Object.fromEntries(described?.configs.map((c) => [c.name, c]) ?? []);
      // Back to the broker's own setting: the harness sets log.retention.ms=-1 in server.properties.
      expect(byName["retention.ms"]).toMatchObject({ value: "-1", source: "staticBroker" });
      expect(byName["cleanup.policy"]).toMatchObject({ value: "compact", source: "dynamicTopic" });
    });
  });

  it("alters group, client-metrics and per-broker configs, routed to the right broker", async () => {
    const group = unique("admin-group-config");
    const metrics = unique("admin-metrics");
    await admin.incrementalAlterConfigs([
      {
        resource: { type: "group", name: group },
        ops: [{ name: "consumer.heartbeat.interval.ms", op: "set", value: "5000" }],
      },
      {
        resource: { type: "clientMetrics", name: metrics },
        ops: [
          { name: "metrics", op: "set", value: "org.apache.kafka.producer." },
          { name: "interval.ms", op: "set", value: "60000" },
        ],
      },
      {
        resource: { type: "broker", name: String(brokerId) },
        ops: [{ name: "log.cleaner.backoff.ms", op: "set", value: "16000" }],
      },
    ]);
    try {
      await eventually(async () => {
        const [g, m, b] = await admin.describeConfigs([
          { type: "group", name: group, keys: ["consumer.heartbeat.interval.ms"] },
          { type: "clientMetrics", name: metrics },
          { type: "broker", name: String(brokerId), keys: ["log.cleaner.backoff.ms"] },
        ]);
        expect(g?.configs[0]).toMatchObject({ value: "5000", source: "group" });
        expect(values(m?.configs)).toMatchObject({ metrics: "org.apache.kafka.producer.", "interval.ms": "60000" });
        expect(b?.configs[0]).toMatchObject({ value: "16000", source: "dynamicBroker" });
      });
    } finally {
      await admin.incrementalAlterConfigs([
        {
          resource: { type: "broker", name: String(brokerId) },
          ops: [{ name: "log.cleaner.backoff.ms", op: "delete" }],
        },
      ]);
    }
  });

  it("replaces the whole dynamic set with legacy alterConfigs, and validates without applying", async () => {
    const topic = unique("admin-legacy");
    await admin.createTopics([{ name: topic, configs: { "cleanup.policy": "compact" } }]);
    const resource = { type: "topic" as const, name: topic };
    await admin.alterConfigs([{ resource, configs: { "retention.ms": "7200000" } }], { validateOnly: true });
    await admin.alterConfigs([{ resource, configs: { "retention.ms": "3600000" } }]);
    await eventually(async () => {
      const [described] = await admin.describeConfigs([{ ...resource, keys: ["retention.ms", "cleanup.policy"] }]);
      // cleanup.policy was not in the new set, so it went back to its default.
      expect(values(described?.configs)).toEqual({ "retention.ms": "3600000", "cleanup.policy": "delete" });
    });
  });

  it("fails a resource the broker refuses with Kafka's code, keeping the others", async () => {
    const topic = unique("admin-bad-config");
    await admin.createTopics([{ name: topic }]);
    const err = await admin
      .incrementalAlterConfigs([
        { resource: { type: "topic", name: topic }, ops: [{ name: "retention.ms", op: "set", value: "soon" }] },
        {
          resource: { type: "group", name: unique("g") },
          ops: [{ name: "consumer.session.timeout.ms", op: "set", value: "50000" }],
        },
      ])
      .catch((e) => e);
    expect(err).toBeInstanceOf(AdminOperationError);
    expect(err.failures.map((f: { index: number }) => f.index)).toEqual([0]);
    expect(err.failures[0].error.errorCode).toBe(ErrorCode.INVALID_CONFIG);
    expect(err.results[1]).toMatchObject({ type: "group" });
    const missing = await admin.describeConfigs([{ type: "topic", name: unique("admin-nope") }]).catch((e) => e);
    expect(missing.failures[0].error.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });

  it("refuses bad config input before sending anything", async () => {
    const cases: [() => Promise<unknown>, string][] = [
      [
        () =>
          admin.incrementalAlterConfigs([
            { resource: { type: "topic", name: "t" }, ops: [{ name: "x", op: "merge" } as never] },
          ]),
        "changes[0].ops[0].op",
      ],
      [
        () =>
          admin.incrementalAlterConfigs([
            {
              resource: { type: "topic", name: "t" },
              ops: [
                { name: "x", op: "delete" },
                { name: "x", op: "delete" },
              ],
            },
          ]),
        "changes[0].ops[1]",
      ],
      [
        () =>
          admin.incrementalAlterConfigs([
            { resource: { type: "topic", name: "t" }, ops: [{ name: "x", op: "set" } as never] },
          ]),
        "changes[0].ops[0].value",
      ],
      [() => admin.describeConfigs([{ type: "broker", name: "one" }]), "resources[0].name"],
      [() => admin.describeConfigs([{ type: "cluster" as never, name: "x" }]), "resources[0].type"],
      [
        () =>
          admin.describeConfigs([
            { type: "topic", name: "t" },
            { type: "topic", name: "t" },
          ]),
        "resources[1]",
      ],
      [() => admin.updateFeatures([{ feature: "x", level: -1 }]), "updates[0].level"],
    ];
    for (const [run, argument] of cases) {
      const err = (await run().catch((e: unknown) => e)) as InvalidArgumentError;
      expect(err, argument).toBeInstanceOf(InvalidArgumentError);
      expect(err.argument).toBe(argument);
    }
  });
});
