import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Admin, AdminOperationError } from "../../../src/admin/index.js";
import { Client } from "../../../src/client.js";
import { AuthenticationError } from "../../../src/network/errors.js";
import { scramMechanism } from "../../../src/network/sasl/scram.js";
import { InvalidArgumentError } from "../../../src/protocol/errors.js";
import { ErrorCode, KafkaError, RecordBatchBuilder, ZERO_UUID } from "../../../src/protocol/index.js";
import { Metadata, Produce } from "../../../src/protocol/messages/index.js";
import { type KafkaCluster, startKafka } from "../../../tools/kafka/harness.js";
import { eventually, unique } from "./helpers.js";

describe("Admin ACLs, SCRAM and tokens on the SASL broker with an authorizer", () => {
  let kafka: KafkaCluster;
  let adminClient: Client;
  let aliceClient: Client;
  let admin: Admin;
  let brokerId: number;
  beforeAll(async () => {
    kafka = await startKafka({ mode: "secure" });
    adminClient = new Client({
      bootstrap: kafka.bootstrap,
      clientId: "admin-secure-test",
      sasl: { mechanism: "PLAIN", username: "admin", password: "admin-secret" },
    });
    aliceClient = new Client({
      bootstrap: kafka.bootstrap,
      clientId: "alice",
      sasl: { mechanism: "PLAIN", username: "alice", password: "alice-secret" },
    });
    admin = new Admin(adminClient);
    brokerId = (await admin.describeCluster()).brokers[0]?.nodeId as number;
  });
  afterAll(async () => {
    adminClient?.close();
    aliceClient?.close();
    await kafka?.stop();
  });

  /** Alice's view of `topic`: the Metadata topic error code. */
  async function aliceMetadata(topic: string): Promise<number> {
    const connection = await aliceClient.anyConnection();
    const response = await connection.request(Metadata, {
      topics: [{ name: topic, topicId: ZERO_UUID }],
      allowAutoTopicCreation: false,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    });
    return response.topics[0]?.errorCode as number;
  }

  /** Alice produces one record to partition 0 of `topic`: the partition error code. */
  async function aliceProduce(topic: string): Promise<number> {
    const connection = await aliceClient.connection(brokerId, "produce");
    const batch = new RecordBatchBuilder();
    batch.append({ value: "from alice" });
    const response = await connection.request(
      Produce,
      {
        transactionalId: null,
        acks: -1,
        timeoutMs: 10_000,
        topicData: [{ name: topic, topicId: ZERO_UUID, partitionData: [{ index: 0, records: batch.build() }] }],
      },
      { version: 12 },
    );
    return response.responses[0]?.partitionResponses[0]?.errorCode as number;
  }

  it("creates an ACL that lets alice describe and write a topic, describes it, and deletes it", async () => {
    const topic = unique("acl-topic");
    await admin.createTopics([{ name: topic, numPartitions: 1 }]);
    // No ACL: the authorizer denies everything to alice (allow.everyone.if.no.acl.found=false).
    expect(await aliceMetadata(topic)).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    expect(await aliceProduce(topic)).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);

    const created = await admin.createAcls([
      {
        resourceType: "topic",
        resourceName: topic,
        principal: "User:alice",
        operation: "describe",
        permission: "allow",
      },
      { resourceType: "topic", resourceName: topic, principal: "User:alice", operation: "write", permission: "allow" },
    ]);
    expect(created[0]).toEqual({
      resourceType: "topic",
      resourceName: topic,
      patternType: "literal",
      principal: "User:alice",
      host: "*",
      operation: "describe",
      permission: "allow",
    });
    const described = await admin.describeAcls({ resourceType: "topic", resourceName: topic });
    expect(described.map((a) => a.operation).sort()).toEqual(["describe", "write"]);
    expect(described.every((a) => a.principal === "User:alice" && a.patternType === "literal" && a.host === "*")).toBe(
      true,
    );
    expect(await admin.describeAcls({ principal: "User:nobody" })).toEqual([]);

    // The authorizer learns of new ACLs from the metadata log, a moment after the controller.
    await eventually(async () => {
      expect(await aliceMetadata(topic)).toBe(0);
      expect(await aliceProduce(topic)).toBe(0);
    });
    const [asAlice] = await new Admin(aliceClient).describeTopics([topic], { includeAuthorizedOperations: true });
    expect(asAlice?.authorizedOperations?.sort()).toEqual(["describe", "write"]);

    const [deleted] = await admin.deleteAcls([{ resourceType: "topic", resourceName: topic, principal: "User:alice" }]);
    expect(deleted?.deleted.map((a) => a.operation).sort()).toEqual(["describe", "write"]);
    await eventually(async () => {
      expect(await admin.describeAcls({ resourceType: "topic", resourceName: topic })).toEqual([]);
      expect(await aliceMetadata(topic)).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    });
  });

  it("matches prefixed ACLs with a match filter", async () => {
    const prefix = unique("acl-prefix");
    await admin.createAcls([
      {
        resourceType: "group",
        resourceName: prefix,
        patternType: "prefixed",
        principal: "User:alice",
        operation: "read",
        permission: "allow",
      },
    ]);
    const matched = await admin.describeAcls({
      resourceType: "group",
      resourceName: `${prefix}-orders`,
      patternType: "match",
    });
    expect(matched).toEqual([
      {
        resourceType: "group",
        resourceName: prefix,
        patternType: "prefixed",
        principal: "User:alice",
        host: "*",
        operation: "read",
        permission: "allow",
      },
    ]);
    await admin.deleteAcls([{ resourceType: "group", resourceName: prefix, patternType: "prefixed" }]);
  });

  it("throws a request-level refusal as is: alice may not describe ACLs or alter the cluster", async () => {
    const aliceAdmin = new Admin(aliceClient);
    const err = await aliceAdmin.describeAcls().catch((e) => e);
    expect(err).toBeInstanceOf(KafkaError);
    expect(err.errorCode).toBe(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    const denied = await aliceAdmin
      .createAcls([
        { resourceType: "topic", resourceName: "x", principal: "User:alice", operation: "all", permission: "allow" },
      ])
      .catch((e) => e);
    expect(denied).toBeInstanceOf(AdminOperationError);
    expect(denied.failures[0].error.errorCode).toBe(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    const cluster = await aliceAdmin.describeCluster({ includeAuthorizedOperations: true });
    expect(cluster.authorizedOperations).toEqual([]);
    const asAdmin = await admin.describeCluster({ includeAuthorizedOperations: true });
    expect(asAdmin.authorizedOperations).toContain("alter");
  });

  it("creates a SCRAM user that can then authenticate, and only with its password", async () => {
    const user = unique("carol");
    await admin.upsertUserScramCredentials([{ user, mechanism: "SCRAM-SHA-256", password: "carol-secret" }]);
    await eventually(async () => {
      const carol = new Client({
        bootstrap: kafka.bootstrap,
        sasl: { mechanism: "SCRAM-SHA-256", username: user, password: "carol-secret" },
      });
      try {
        const cluster = await new Admin(carol).describeCluster({ timeoutMs: 5000 });
        expect(cluster.brokers).toHaveLength(1);
      } finally {
        carol.close();
      }
    });
    const wrong = new Client({
      bootstrap: kafka.bootstrap,
      sasl: { mechanism: "SCRAM-SHA-256", username: user, password: "not-it" },
    });
    try {
      const err = await new Admin(wrong).describeCluster({ timeoutMs: 5000 }).catch((e) => e);
      expect(err).toBeInstanceOf(AuthenticationError);
    } finally {
      wrong.close();
    }
  });

  it("creates, describes, renews and expires a delegation token, which authenticates over SCRAM", async () => {
    const token = await admin.createDelegationToken({ renewers: ["User:alice"] });
    expect(token.owner).toBe("User:admin");
    expect(token.hmac.length).toBeGreaterThan(0);
    expect(token.expiryTimestamp).toBeGreaterThan(Date.now());
    // The token reaches brokers through the metadata log: describe may lag the create a little.
    const mine = await eventually(async () => {
      const found = (await admin.describeDelegationTokens()).find((t) => t.tokenId === token.tokenId);
      if (!found) throw new Error("token not described yet");
      return found;
    });
    expect(mine.renewers).toEqual(["User:alice"]);
    // The token authenticates as its owner: SCRAM with the token id, the hmac and tokenauth=true.
    const brokers = await eventually(async () => {
      const asToken = new Client({
        bootstrap: kafka.bootstrap,
        sasl: {
          mechanism: scramMechanism("SCRAM-SHA-256", token.tokenId, token.hmac.toString("base64"), { tokenAuth: true }),
        },
      });
      try {
        return (await new Admin(asToken).describeCluster({ timeoutMs: 10_000 })).brokers.length;
      } finally {
        asToken.close();
      }
    });
    expect(brokers).toBe(1);
    const renewed = await admin.renewDelegationToken(token.hmac, { renewPeriodMs: 60_000 });
    expect(renewed.expiryTimestamp).toBeGreaterThan(0);
    const expired = await admin.expireDelegationToken(token.hmac);
    expect(expired.expiryTimestamp).toBeLessThanOrEqual(Date.now() + 1000);
    await eventually(async () => {
      if ((await admin.describeDelegationTokens()).some((t) => t.tokenId === token.tokenId))
        throw new Error("still there");
    });
  });

  it("refuses malformed ACLs before sending anything", async () => {
    const cases: [() => Promise<unknown>, string][] = [
      [
        () =>
          admin.createAcls([
            { resourceType: "topic", resourceName: "t", principal: "alice", operation: "read", permission: "allow" },
          ]),
        "bindings[0].principal",
      ],
      [
        () =>
          admin.createAcls([
            {
              resourceType: "any" as never,
              resourceName: "t",
              principal: "User:a",
              operation: "read",
              permission: "allow",
            },
          ]),
        "bindings[0].resourceType",
      ],
      [() => admin.describeAcls({ operation: "juggle" as never }), "filter.operation"],
      [() => admin.deleteAcls([]), "filters"],
    ];
    for (const [run, argument] of cases) {
      const err = (await run().catch((e: unknown) => e)) as InvalidArgumentError;
      expect(err, argument).toBeInstanceOf(InvalidArgumentError);
      expect(err.argument).toBe(argument);
    }
  });
});
