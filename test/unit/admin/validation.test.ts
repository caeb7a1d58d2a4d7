import { afterAll, describe, expect, it } from "vitest";
import { Admin } from "../../../src/admin/index.js";
import { Client } from "../../../src/client.js";
import { InvalidArgumentError } from "../../../src/protocol/errors.js";

// Bad input must be refused before any request: this client points nowhere, so a call that got
// as far as the network would fail with a connection error (or hang) instead.
const client = new Client({ bootstrap: "127.0.0.1:1", connectTimeoutMs: 100 });
const admin = new Admin(client);
afterAll(() => client.close());

// biome-ignore lint/suspicious/noExplicitAny: the cases pass what JavaScript callers could pass.
const loose = admin as any;

const cases: [string, () => Promise<unknown>, string][] = [
  ["empty topic name", () => admin.createTopics([{ name: "" }]), "topics[0].name"],
  ["illegal topic character", () => admin.createTopics([{ name: "a b" }]), "topics[0].name"],
  ["topic name ..", () => admin.createTopics([{ name: ".." }]), "topics[0].name"],
  ["topic name too long", () => admin.createTopics([{ name: "x".repeat(250) }]), "topics[0].name"],
  ["negative partitions", () => admin.createTopics([{ name: "t", numPartitions: -3 }]), "topics[0].numPartitions"],
  ["zero replication", () => admin.createTopics([{ name: "t", replicationFactor: 0 }]), "topics[0].replicationFactor"],
  ["fractional partitions", () => admin.createTopics([{ name: "t", numPartitions: 1.5 }]), "topics[0].numPartitions"],
  [
    "assignment with a repeated broker",
    () => admin.createTopics([{ name: "t", assignments: [[1, 1]] }]),
    "topics[0].assignments[0][1]",
  ],
  [
    "non-string config",
    () => loose.createTopics([{ name: "t", configs: { "retention.ms": 5 } }]),
    "topics[0].configs.retention.ms",
  ],
  ["duplicate topics", () => admin.createTopics([{ name: "t" }, { name: "t" }]), "topics[1]"],
  ["not an array", () => loose.createTopics({ name: "t" }), "topics"],
  ["empty batch", () => admin.deleteTopics([]), "topics"],
  ["bad topic id", () => admin.deleteTopics([{ topicId: "short" }]), "topics[0].topicId"],
  ["duplicate describe", () => admin.describeTopics(["a", "a"]), "topics[1]"],
  ["page size 0", () => admin.describeTopics(["a"], { partitionsPerPage: 0 }), "partitionsPerPage"],
  ["shrink to 0 partitions", () => admin.createPartitions([{ topic: "t", count: 0 }]), "increases[0].count"],
  [
    "unknown config op",
    () =>
      loose.incrementalAlterConfigs([
        { resource: { type: "topic", name: "t" }, ops: [{ name: "a", op: "replace", value: "1" }] },
      ]),
    "changes[0].ops[0].op",
  ],
  [
    "append without value",
    () =>
      loose.incrementalAlterConfigs([{ resource: { type: "topic", name: "t" }, ops: [{ name: "a", op: "append" }] }]),
    "changes[0].ops[0].value",
  ],
  [
    "duplicate resources",
    () =>
      admin.alterConfigs([
        { resource: { type: "group", name: "g" }, configs: {} },
        { resource: { type: "group", name: "g" }, configs: {} },
      ]),
    "replacements[1]",
  ],
  ["broker logger without id", () => admin.describeConfigs([{ type: "brokerLogger", name: "" }]), "resources[0].name"],
  ["negative partition", () => admin.listOffsets([{ topic: "t", partition: -1 }]), "queries[0].partition"],
  [
    "negative timestamp",
    () => admin.listOffsets([{ topic: "t", partition: 0, spec: { timestamp: -5 } }]),
    "queries[0].spec.timestamp",
  ],
  [
    "offset below -1",
    () => admin.deleteRecords([{ topic: "t", partition: 0, beforeOffset: -7n }]),
    "items[0].beforeOffset",
  ],
  [
    "non-integer offset",
    () => loose.alterGroupOffsets("g", [{ topic: "t", partition: 0, offset: 1.5 }]),
    "offsets[0].offset",
  ],
  [
    "duplicate offsets",
    () =>
      admin.alterGroupOffsets("g", [
        { topic: "t", partition: 0, offset: 1n },
        { topic: "t", partition: 0, offset: 2n },
      ]),
    "offsets[1]",
  ],
  ["empty group id", () => admin.listGroupLag(""), "groupId"],
  [
    "duplicate reset target",
    () =>
      admin.resetGroupOffsets(
        "g",
        [
          { topic: "t", partition: 0 },
          { topic: "t", partition: 0 },
        ],
        "earliest",
      ),
    "targets[1]",
  ],
  ["member without id", () => loose.removeGroupMembers("g", [{}]), "members[0]"],
  ["duplicate group ids", () => admin.deleteGroups(["g", "g"]), "groupIds[1]"],
  [
    "ACL principal without type",
    () =>
      admin.createAcls([
        { resourceType: "topic", resourceName: "t", principal: "bob", operation: "read", permission: "allow" },
      ]),
    "bindings[0].principal",
  ],
  [
    "ACL permission any",
    () =>
      loose.createAcls([
        { resourceType: "topic", resourceName: "t", principal: "User:bob", operation: "read", permission: "any" },
      ]),
    "bindings[0].permission",
  ],
  ["ACL filter bad pattern", () => loose.describeAcls({ patternType: "glob" }), "filter.patternType"],
  ["quota entity empty", () => admin.alterClientQuotas([{ entity: {}, set: { a: 1 } }]), "alterations[0].entity"],
  [
    "quota NaN",
    () => admin.alterClientQuotas([{ entity: { user: "u" }, set: { a: Number.NaN } }]),
    "alterations[0].set.a",
  ],
  [
    "quota key set and removed",
    () => admin.alterClientQuotas([{ entity: { user: "u" }, set: { a: 1 }, remove: ["a"] }]),
    "alterations[0].remove[0]",
  ],
  [
    "SCRAM iterations too high",
    () =>
      admin.upsertUserScramCredentials([{ user: "u", mechanism: "SCRAM-SHA-512", password: "p", iterations: 20_000 }]),
    "upsertions[0].iterations",
  ],
  [
    "SCRAM empty password",
    () => admin.upsertUserScramCredentials([{ user: "u", mechanism: "SCRAM-SHA-512", password: "" }]),
    "upsertions[0].password",
  ],
  [
    "reassignment without replicas",
    () => loose.alterPartitionReassignments([{ topic: "t", partition: 0 }]),
    "reassignments[0].replicas",
  ],
  [
    "reassignment repeating a broker",
    () => admin.alterPartitionReassignments([{ topic: "t", partition: 0, replicas: [1, 1] }]),
    "reassignments[0].replicas[1]",
  ],
  ["unknown election type", () => loose.electLeaders("random"), "type"],
  [
    "duplicate election partitions",
    () =>
      admin.electLeaders("preferred", [
        { topic: "t", partition: 0 },
        { topic: "t", partition: 0 },
      ]),
    "partitions[1]",
  ],
  ["negative duration filter", () => admin.listTransactions({ minDurationMs: -1 }), "minDurationMs"],
  ["fence timeout 0", () => admin.fenceProducers(["t"], { transactionTimeoutMs: 0 }), "transactionTimeoutMs"],
  ["token renewer without type", () => admin.createDelegationToken({ renewers: ["bob"] }), "renewers[0]"],
  ["hmac not a buffer", () => loose.expireDelegationToken("secret"), "hmac"],
  [
    "duplicate feature",
    () =>
      admin.updateFeatures([
        { feature: "f", level: 1 },
        { feature: "f", level: 2 },
      ]),
    "updates[1]",
  ],
  [
    "unknown upgrade type",
    () => loose.updateFeatures([{ feature: "f", level: 1, upgradeType: "force" }]),
    "updates[0].upgradeType",
  ],
  ["timeoutMs 0", () => admin.listTopics({ timeoutMs: 0 }), "timeoutMs"],
  ["signal not a signal", () => loose.listTopics({ signal: {} }), "signal"],
  [
    "log dir move to a relative path",
    () => admin.alterReplicaLogDirs([{ topic: "t", partition: 0, broker: 1, path: "data" }]),
    "moves[0].path",
  ],
  ["duplicate log dir brokers", () => admin.describeLogDirs({ brokers: [1, 1] }), "brokers[1]"],
];

describe("Admin input validation", () => {
  it.each(cases)("refuses %s with InvalidArgumentError naming the argument", async (_name, run, argument) => {
    const err = (await run().catch((e: unknown) => e)) as InvalidArgumentError;
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(err.code).toBe("SAMSA_ERR_INVALID_ARGUMENT");
    expect(err.argument).toBe(argument);
  });

  it("sent nothing for any of them", () => {
    expect(client.stats().metadataRequests).toBe(0);
  });

  it("checks its own options", () => {
    expect(() => new Admin(client, { defaultTimeoutMs: 0 })).toThrow(InvalidArgumentError);
    expect(() => new Admin(client, { retryBackoffMs: -1 })).toThrow(InvalidArgumentError);
    expect(() => new Admin({} as never)).toThrow(InvalidArgumentError);
  });

  it("refuses an unknown option by name, with the nearest known one, as client and producer do", () => {
    const caught = (make: () => unknown): InvalidArgumentError => {
      try {
        make();
      } catch (err) {
        return err as InvalidArgumentError;
      }
      throw new Error("expected a throw");
    };
    const misspelt = caught(() => new Admin(client, { defaultTimeoutMS: 5_000 } as never));
    expect(misspelt).toBeInstanceOf(InvalidArgumentError);
    expect(misspelt.code).toBe("SAMSA_ERR_INVALID_ARGUMENT");
    expect(misspelt.argument).toBe("defaultTimeoutMS");
    expect(misspelt.message).toBe(
      "defaultTimeoutMS: is not a samsa admin option (did you mean defaultTimeoutMs?); known: defaultTimeoutMs, retryBackoffMs, retryBackoffMaxMs",
    );
    // Undefined values are checked too: a typo's value does not matter.
    const stranger = caught(() => new Admin(client, { requestTimeoutMs: undefined } as never));
    expect(stranger.argument).toBe("requestTimeoutMs");
    expect(stranger.message).toMatch(/^requestTimeoutMs: is not a samsa admin option; known: /);
    expect(caught(() => new Admin(client, null as never)).argument).toBe("options");
    // Known options still work.
    expect(new Admin(client, { defaultTimeoutMs: 5_000, retryBackoffMs: 10, retryBackoffMaxMs: 20 })).toBeInstanceOf(
      Admin,
    );
  });
});
