import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { Admin, AdminOperationError } from "../../../src/admin/index.js";
import { Client } from "../../../src/client.js";
import { InvalidArgumentError } from "../../../src/protocol/errors.js";
import { ErrorCode, Writer } from "../../../src/protocol/index.js";
import {
  ConsumerGroupHeartbeat,
  encodeConsumerProtocolAssignment,
  encodeConsumerProtocolSubscription,
  JoinGroup,
  SyncGroup,
} from "../../../src/protocol/messages/index.js";
import { eventually, fetchCommitted, produce, unique } from "./helpers.js";

/** A consumer-protocol blob: int16 version, then the struct (what Java's ConsumerProtocol writes). */
function consumerProtocol(encode: (w: Writer) => void): Buffer {
  const w = new Writer(64);
  w.int16(0);
  encode(w);
  return w.finish();
}

describe("Admin groups and committed offsets against one broker", () => {
  const bootstrap = inject("kafkaBootstrap");
  let client: Client;
  let admin: Admin;
  let topic: string;
  const t0 = Date.now() - 60_000;
  beforeAll(async () => {
    client = new Client({ bootstrap, clientId: "admin-groups-test" });
    admin = new Admin(client);
    topic = unique("admin-groups");
    await admin.createTopics([{ name: topic, numPartitions: 2 }]);
    await produce(client, topic, 0, 10, { timestamps: Array.from({ length: 10 }, (_, i) => t0 + i * 1000) });
    await produce(client, topic, 1, 4);
  });
  afterAll(() => client.close());

  it("alters, lists, resets and deletes committed offsets; OffsetFetch agrees; lag follows", async () => {
    const group = unique("admin-offsets");
    expect(
      await admin.alterGroupOffsets(group, [
        { topic, partition: 0, offset: 3n, metadata: "checkpoint" },
        { topic, partition: 1, offset: 1n },
      ]),
    ).toHaveLength(2);
    expect(await fetchCommitted(client, group, topic, 0)).toBe(3n);
    expect(await admin.listGroupOffsets(group)).toEqual([
      { topic, partition: 0, offset: 3n, leaderEpoch: -1, metadata: "checkpoint" },
      { topic, partition: 1, offset: 1n, leaderEpoch: -1, metadata: "" }, // Kafka stores no metadata as ""
    ]);
    expect(await admin.listGroupLag(group)).toEqual([
      { topic, partition: 0, committedOffset: 3n, endOffset: 10n, lag: 7n },
      { topic, partition: 1, committedOffset: 1n, endOffset: 4n, lag: 3n },
    ]);

    const reset = await admin.resetGroupOffsets(group, [topic], "earliest");
    expect(reset.map((o) => [o.partition, o.offset])).toEqual([
      [0, 0n],
      [1, 0n],
    ]);
    expect(await fetchCommitted(client, group, topic, 1)).toBe(0n);
    await admin.resetGroupOffsets(group, [{ topic, partition: 0 }], "latest");
    expect(await fetchCommitted(client, group, topic, 0)).toBe(10n);
    // The first record at or after t0+2500 is offset 3.
    await admin.resetGroupOffsets(group, [{ topic, partition: 0 }], { timestamp: t0 + 2500 });
    expect(await fetchCommitted(client, group, topic, 0)).toBe(3n);
    // No record that recent: the end of the log.
    await admin.resetGroupOffsets(group, [{ topic, partition: 1 }], { timestamp: Date.now() + 3_600_000 });
    expect(await fetchCommitted(client, group, topic, 1)).toBe(4n);

    expect(await admin.deleteGroupOffsets(group, [{ topic, partition: 1 }])).toEqual([{ topic, partition: 1 }]);
    expect(
      await admin.listGroupOffsets(group, {
        partitions: [
          { topic, partition: 1 },
          { topic, partition: 0 },
        ],
      }),
    ).toEqual([
      { topic, partition: 1, offset: -1n, leaderEpoch: -1, metadata: "" },
      { topic, partition: 0, offset: 3n, leaderEpoch: -1, metadata: "" },
    ]);
  });

  it("lists, describes and deletes an empty group, which then is gone", async () => {
    const group = unique("admin-empty");
    await admin.alterGroupOffsets(group, [{ topic, partition: 0, offset: 1n }]);
    const listed = await admin.listGroups({ states: ["Empty"] });
    expect(listed.find((g) => g.groupId === group)).toMatchObject({
      state: "Empty",
      type: "classic",
      protocolType: "",
    });
    expect((await admin.listGroups({ types: ["consumer"] })).some((g) => g.groupId === group)).toBe(false);
    const [described] = await admin.describeGroups([group]);
    expect(described).toMatchObject({ groupId: group, type: "classic", state: "Empty", members: [] });
    expect(await admin.deleteGroups([group])).toEqual([group]);
    const err = await admin.describeGroups([group]).catch((e) => e);
    expect(err).toBeInstanceOf(AdminOperationError);
    expect(err.failures[0].error.errorCode).toBe(ErrorCode.GROUP_ID_NOT_FOUND);
    const gone = await admin.deleteGroups([group]).catch((e) => e);
    expect(gone.failures[0].error.errorCode).toBe(ErrorCode.GROUP_ID_NOT_FOUND);
  });

  it("describes a classic group with its static member and decoded assignment, then removes the member", async () => {
    const group = unique("admin-classic");
    const instance = "instance-1";
    const node = await client.coordinator("group", group);
    const connection = await client.connection(node.nodeId, "control");
    const subscription = consumerProtocol((w) =>
      encodeConsumerProtocolSubscription(
        w,
        { topics: [topic], userData: null, ownedPartitions: [], generationId: -1, rackId: null },
        0,
      ),
    );
    const joined = await connection.request(JoinGroup, {
      groupId: group,
      sessionTimeoutMs: 30_000,
      rebalanceTimeoutMs: 30_000,
      memberId: "",
      groupInstanceId: instance,
      protocolType: "consumer",
      protocols: [{ name: "range", metadata: subscription }],
      reason: null,
    });
    expect(joined.errorCode).toBe(0);
    const assignment = consumerProtocol((w) =>
      encodeConsumerProtocolAssignment(w, { assignedPartitions: [{ topic, partitions: [1, 0] }], userData: null }, 0),
    );
    const synced = await connection.request(SyncGroup, {
      groupId: group,
      generationId: joined.generationId,
      memberId: joined.memberId,
      groupInstanceId: instance,
      protocolType: "consumer",
      protocolName: "range",
      assignments: [{ memberId: joined.memberId, assignment }],
    });
    expect(synced.errorCode).toBe(0);

    const [described] = await admin.describeGroups([group]);
    expect(described).toMatchObject({ type: "classic", state: "Stable", protocolType: "consumer", protocol: "range" });
    expect(described?.coordinator).toBe(node.nodeId);
    expect(described?.members).toHaveLength(1);
    expect(described?.members[0]).toMatchObject({
      memberId: joined.memberId,
      groupInstanceId: instance,
      clientId: "admin-groups-test",
      assignment: [{ topic, partitions: [0, 1] }],
    });
    // An active group keeps its offsets and its existence to itself.
    const busy = await admin.alterGroupOffsets(group, [{ topic, partition: 0, offset: 1n }]).catch((e) => e);
    expect(busy).toBeInstanceOf(AdminOperationError);
    expect(busy.failures[0].error.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    const nonEmpty = await admin.deleteGroups([group]).catch((e) => e);
    expect(nonEmpty.failures[0].error.errorCode).toBe(ErrorCode.NON_EMPTY_GROUP);

    const unknown = await admin.removeGroupMembers(group, [{ groupInstanceId: "nobody" }]).catch((e) => e);
    expect(unknown.failures[0].error.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(await admin.removeGroupMembers(group, [{ groupInstanceId: instance }], { reason: "test" })).toEqual([
      { groupInstanceId: instance },
    ]);
    const [after] = await admin.describeGroups([group]);
    expect(after?.members).toEqual([]);
    expect(after?.state).toBe("Empty");
  });

  it("describes a KIP-848 consumer group with its member, subscription and assignment", async () => {
    const group = unique("admin-consumer");
    const memberId = randomUUID();
    const node = await client.coordinator("group", group);
    const connection = await client.connection(node.nodeId, "control");
    const heartbeat = (memberEpoch: number) =>
      connection.request(ConsumerGroupHeartbeat, {
        groupId: group,
        memberId,
        memberEpoch,
        instanceId: null,
        rackId: null,
        rebalanceTimeoutMs: memberEpoch === 0 ? 30_000 : -1,
        subscribedTopicNames: memberEpoch === 0 ? [topic] : null,
        subscribedTopicRegex: null,
        serverAssignor: null,
        topicPartitions: memberEpoch === 0 ? [] : null,
      });
    const first = await heartbeat(0);
    expect(first.errorCode).toBe(0);
    let epoch = first.memberEpoch;
    await eventually(async () => {
      const beat = await heartbeat(epoch);
      expect(beat.errorCode).toBe(0);
      epoch = beat.memberEpoch;
      const [described] = await admin.describeGroups([group]);
      expect(described?.members[0]?.assignment).toEqual([{ topic, partitions: [0, 1] }]);
    });
    const [described] = await admin.describeGroups([group]);
    expect(described).toMatchObject({
      groupId: group,
      type: "consumer",
      protocolType: "consumer",
      coordinator: node.nodeId,
    });
    expect(described?.groupEpoch).toBeGreaterThanOrEqual(1);
    expect(described?.protocol).toBe("uniform");
    expect(described?.members[0]).toMatchObject({
      memberId,
      subscribedTopics: [topic],
      memberType: "consumer",
      clientId: "admin-groups-test",
    });
    const listed = await admin.listGroups({ types: ["consumer"] });
    expect(listed.find((g) => g.groupId === group)?.type).toBe("consumer");
    // Leave: epoch -1.
    expect((await heartbeat(-1)).errorCode).toBe(0);
    await eventually(async () => {
      const [left] = await admin.describeGroups([group]);
      expect(left?.members).toEqual([]);
    });
  });

  it("refuses bad group input before sending anything", async () => {
    const cases: [() => Promise<unknown>, string][] = [
      [() => admin.describeGroups([]), "groupIds"],
      [() => admin.describeGroups(["a", "a"]), "groupIds[1]"],
      [() => admin.deleteGroups([""]), "groupIds[0]"],
      [() => admin.alterGroupOffsets("g", [{ topic, partition: 0, offset: -1n }]), "offsets[0].offset"],
      [() => admin.resetGroupOffsets("g", [topic], "newest" as never), "to"],
      [() => admin.removeGroupMembers("g", [{ memberId: "m", groupInstanceId: "i" } as never]), "members[0]"],
      [() => admin.listGroups({ types: ["modern" as never] }), "types[0]"],
      [() => admin.listGroupOffsets("", {}), "groupId"],
    ];
    for (const [run, argument] of cases) {
      const err = (await run().catch((e: unknown) => e)) as InvalidArgumentError;
      expect(err, argument).toBeInstanceOf(InvalidArgumentError);
      expect(err.argument).toBe(argument);
    }
  });
});
