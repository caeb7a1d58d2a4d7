/**
 * The KIP-848 member against scripted ConsumerGroupHeartbeat answers (no broker): which
 * heartbeat errors end membership (only the fatal ones) and what the others do (report once,
 * retry with backoff, look the coordinator up again, rejoin at epoch 0); then on the wire,
 * against the fake broker: epochs and member id sent, topic ids resolved, the heartbeat
 * interval, leaving.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Client } from "../../../../src/client.js";
import { ConsumerGroupMember } from "../../../../src/consumer/group/consumer-group.js";
import type { GroupCoordinator } from "../../../../src/consumer/group/coordinator.js";
import type { MembershipHost } from "../../../../src/consumer/group/membership.js";
import { resolveConsumerOptions } from "../../../../src/consumer/options.js";
import { type BackgroundErrorContext, BackgroundErrors } from "../../../../src/network/background-errors.js";
import { ErrorCode } from "../../../../src/protocol/error-table.js";
import { KafkaError } from "../../../../src/protocol/kafka-error.js";
import {
  ConsumerGroupHeartbeat,
  type ConsumerGroupHeartbeatRequest,
  createConsumerGroupHeartbeatResponse,
  Metadata,
} from "../../../../src/protocol/messages/index.js";
import { type Kip848Script, kip848Coordinator, ScriptedGroup, until } from "./scripted-group.js";

/** A member whose heartbeats are answered, in order, by `script` (then by success). */
function scriptedMember(script: number[]) {
  const hub = new BackgroundErrors();
  const reported: { error: Error; context: BackgroundErrorContext }[] = [];
  hub.on("error", (error, context) => reported.push({ error, context }));
  const client = Object.assign(hub, {
    cachedMetadata: { topics: new Map(), topicNames: new Map() },
  }) as unknown as Client;
  const requests: ConsumerGroupHeartbeatRequest[] = [];
  const apis: unknown[] = [];
  let invalidations = 0;
  const connection = {
    request: async (_api: unknown, request: ConsumerGroupHeartbeatRequest) => {
      requests.push(request);
      await new Promise((r) => setTimeout(r, 1));
      const errorCode = script.shift() ?? ErrorCode.NONE;
      return createConsumerGroupHeartbeatResponse(
        errorCode === ErrorCode.NONE
          ? { memberEpoch: request.memberEpoch < 0 ? request.memberEpoch : 5, heartbeatIntervalMs: 10 }
          : { errorCode, errorMessage: `scripted ${errorCode}` },
      );
    },
  };
  const coordinator = {
    groupId: "g",
    owner: "consumer-test",
    requestTimeoutMs: 1_000,
    connection: async (api: unknown) => {
      apis.push(api);
      return connection;
    },
    invalidate: () => {
      invalidations++;
    },
  } as unknown as GroupCoordinator;
  const failures: Error[] = [];
  let losses = 0;
  const host: MembershipHost = {
    client,
    options: resolveConsumerOptions({ groupId: "g", groupProtocol: "consumer", retryBackoffMs: 1 }),
    coordinator,
    reconcile: async () => {},
    lose: async () => {
      losses++;
    },
    fail: (error) => failures.push(error),
    owned: () => [],
  };
  const member = new ConsumerGroupMember(host);
  members.push(member);
  return { member, reported, requests, apis, failures, invalidations: () => invalidations, losses: () => losses };
}

const members: ConsumerGroupMember[] = [];
afterEach(async () => {
  for (const m of members.splice(0)) await m.leave(async () => {});
});

/** A heartbeat that restates every field (join, rejoin, after a failure). */
function isFull(r: ConsumerGroupHeartbeatRequest | undefined): boolean {
  return r !== undefined && r.rebalanceTimeoutMs !== -1 && r.subscribedTopicNames !== null;
}

describe("KIP-848 heartbeat errors", () => {
  it("UNKNOWN_SERVER_ERROR no longer ends membership: reported once for the streak (heartbeat, groupId), retried with backoff until the member joins", async () => {
    const s = scriptedMember([
      ErrorCode.UNKNOWN_SERVER_ERROR,
      ErrorCode.UNKNOWN_SERVER_ERROR,
      ErrorCode.UNKNOWN_SERVER_ERROR,
    ]);
    s.member.subscribe({ topics: ["t"] });
    await until(() => s.member.memberEpoch === 5);
    expect(s.failures).toEqual([]);
    expect(s.requests.length).toBeGreaterThanOrEqual(4);
    // Every retry restated the whole member, at epoch 0 (never joined yet).
    for (const r of s.requests.slice(0, 4)) {
      expect(isFull(r)).toBe(true);
      expect(r.memberEpoch).toBe(0);
    }
    expect(s.reported).toHaveLength(1);
    const first = s.reported[0] as { error: Error; context: BackgroundErrorContext };
    expect(first.context).toEqual({ source: "consumer", operation: "heartbeat", groupId: "g" });
    expect(first.error).toBeInstanceOf(KafkaError);
    expect((first.error as KafkaError).errorCode).toBe(ErrorCode.UNKNOWN_SERVER_ERROR);
    // Heartbeats name their API: the coordinator routes them to the member's group socket.
    expect(s.apis.every((api) => api === ConsumerGroupHeartbeat)).toBe(true);
  });

  it("a new streak after a success is reported again", async () => {
    const s = scriptedMember([ErrorCode.UNKNOWN_SERVER_ERROR, ErrorCode.NONE, ErrorCode.UNKNOWN_SERVER_ERROR]);
    s.member.subscribe({ topics: ["t"] });
    await until(() => s.requests.length >= 4);
    expect(s.failures).toEqual([]);
    expect(s.reported).toHaveLength(2);
  });

  it("NOT_COORDINATOR / COORDINATOR_NOT_AVAILABLE: the coordinator is looked up again, quietly; COORDINATOR_LOAD_IN_PROGRESS: retried quietly", async () => {
    const s = scriptedMember([
      ErrorCode.NOT_COORDINATOR,
      ErrorCode.COORDINATOR_NOT_AVAILABLE,
      ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
    ]);
    s.member.subscribe({ topics: ["t"] });
    await until(() => s.member.memberEpoch === 5);
    expect(s.invalidations()).toBe(2);
    expect(s.reported).toEqual([]);
    expect(s.failures).toEqual([]);
  });

  it("TOPIC_AUTHORIZATION_FAILED: reported, the member stays (Java keeps it, so new ACLs let it recover)", async () => {
    const s = scriptedMember([ErrorCode.TOPIC_AUTHORIZATION_FAILED]);
    s.member.subscribe({ topics: ["t"] });
    await until(() => s.member.memberEpoch === 5);
    expect(s.failures).toEqual([]);
    expect(s.reported.map((r) => (r.error as KafkaError).errorCode)).toEqual([ErrorCode.TOPIC_AUTHORIZATION_FAILED]);
  });

  it("FENCED_MEMBER_EPOCH and UNKNOWN_MEMBER_ID: partitions lost, the member rejoins at epoch 0 with a full heartbeat", async () => {
    for (const code of [ErrorCode.FENCED_MEMBER_EPOCH, ErrorCode.UNKNOWN_MEMBER_ID]) {
      const s = scriptedMember([ErrorCode.NONE, code]);
      s.member.subscribe({ topics: ["t"] });
      await until(() => s.losses() === 1 && s.requests.length >= 3);
      const [join, fenced, rejoin] = s.requests;
      expect(join?.memberEpoch).toBe(0);
      expect(fenced?.memberEpoch).toBe(5);
      expect(rejoin?.memberEpoch).toBe(0);
      expect(isFull(rejoin)).toBe(true);
      await until(() => s.member.memberEpoch === 5);
      expect(s.failures).toEqual([]);
      expect(s.reported).toEqual([]);
    }
  });

  it("the fatal codes end membership with the broker's error, and heartbeats stop", async () => {
    for (const code of [
      ErrorCode.GROUP_AUTHORIZATION_FAILED,
      ErrorCode.UNSUPPORTED_VERSION,
      ErrorCode.INVALID_REQUEST,
      ErrorCode.GROUP_MAX_SIZE_REACHED,
      ErrorCode.UNSUPPORTED_ASSIGNOR,
      ErrorCode.FENCED_INSTANCE_ID,
    ]) {
      const s = scriptedMember([ErrorCode.NONE, code]);
      s.member.subscribe({ topics: ["t"] });
      await until(() => s.failures.length === 1);
      const error = s.failures[0] as KafkaError;
      expect(error).toBeInstanceOf(KafkaError);
      expect(error.errorCode).toBe(code);
      expect(error.message).toContain(`scripted ${code}`);
      const sent = s.requests.length;
      await new Promise((r) => setTimeout(r, 100));
      expect(s.requests.length).toBe(sent);
      expect(s.reported).toEqual([]);
    }
  });
});

const TOPIC_ID = "AAAAAAAAAAAAAAAAAAAAAQ";
const OTHER_ID = "AAAAAAAAAAAAAAAAAAAAAg";

describe("KIP-848 member on the wire", () => {
  let g: ScriptedGroup;
  let script: Kip848Script;
  beforeEach(async () => {
    g = await ScriptedGroup.start([{ name: "t", partitions: 3, topicId: TOPIC_ID }]);
    script = { target: [{ topicId: TOPIC_ID, partitions: [0, 2] }], heartbeatIntervalMs: 10, epoch: 0 };
    kip848Coordinator(g.broker, script);
  });
  afterEach(async () => {
    await g.close();
  });

  const sent = () => g.broker.received(ConsumerGroupHeartbeat).map((r) => r.request);
  /** Milliseconds between heartbeats after the join and its acknowledgement (which goes at once). */
  const steadyGaps = () => {
    const at = g.broker.requests.filter((r) => r.name === ConsumerGroupHeartbeat.name).map((r) => r.at);
    return at.slice(2).map((t, i) => t - (at[i + 1] as number));
  };

  it("join: the target's topic ids are resolved through metadata, reconciled, and acknowledged by id in the next heartbeat", async () => {
    const member = g.kip848();
    const memberId = member.memberId;
    expect(member.identity()).toEqual({ memberId, generationIdOrMemberEpoch: 0, groupInstanceId: null });
    member.subscribe({ topics: ["t"] });
    // The acknowledgement: the first heartbeat after the join that restates what it owns.
    const ack = () => sent().find((r, i) => i > 0 && r.topicPartitions !== null);
    await until(() => g.of("reconciled").length === 1 && ack() !== undefined);
    expect(g.of("reconcile").map((e) => e.target)).toEqual([
      [
        { topic: "t", partition: 0 },
        { topic: "t", partition: 2 },
      ],
    ]);
    // The id was unknown to the client's cache: it listed every topic to find its name.
    expect(g.broker.received(Metadata).some((r) => r.request.topics === null)).toBe(true);
    const join = sent()[0];
    expect([join?.memberId, join?.memberEpoch, join?.subscribedTopicNames]).toEqual([memberId, 0, ["t"]]);
    expect([ack()?.memberId, ack()?.memberEpoch]).toEqual([memberId, 1]);
    expect(ack()?.topicPartitions).toEqual([{ topicId: TOPIC_ID, partitions: [0, 2] }]);
    expect(member.identity()).toEqual({ memberId, generationIdOrMemberEpoch: 1, groupInstanceId: null });
  });

  it("a topic id no metadata knows is left out; the rest of the target is taken", async () => {
    script.target = [
      { topicId: TOPIC_ID, partitions: [1] },
      { topicId: OTHER_ID, partitions: [0] },
    ];
    g.kip848().subscribe({ topics: ["t"] });
    await until(() => g.of("reconciled").length === 1);
    expect(g.of("reconcile")[0]?.target).toEqual([{ topic: "t", partition: 1 }]);
    expect(g.failures).toEqual([]);
  });

  for (const code of [ErrorCode.FENCED_MEMBER_EPOCH, ErrorCode.UNKNOWN_MEMBER_ID]) {
    it(`${code === ErrorCode.FENCED_MEMBER_EPOCH ? "FENCED_MEMBER_EPOCH" : "UNKNOWN_MEMBER_ID"}: partitions lost, rejoins at epoch 0 with the same member id and a full heartbeat, then gets a new epoch`, async () => {
      const member = g.kip848();
      member.subscribe({ topics: ["t"] });
      await until(() => g.of("reconciled").length === 1 && sent().length >= 2);
      const fencedAt = sent().length;
      g.broker.once(ConsumerGroupHeartbeat, () =>
        createConsumerGroupHeartbeatResponse({ errorCode: code, errorMessage: "scripted" }),
      );
      await until(() => g.of("reconciled").length === 2);
      const lose = g.of("lose")[0];
      expect(lose).toBeDefined();
      const rejoin = sent()[fencedAt + 1];
      // Lost before the rejoin went out.
      expect((lose?.atRequest ?? Infinity) <= g.indexOf(ConsumerGroupHeartbeat, fencedAt + 1)).toBe(true);
      expect([rejoin?.memberId, rejoin?.memberEpoch, rejoin?.rebalanceTimeoutMs]).toEqual([member.memberId, 0, 1_000]);
      expect(rejoin?.subscribedTopicNames).toEqual(["t"]);
      // Owns nothing any more: the rejoin says so.
      expect(rejoin?.topicPartitions).toEqual([]);
      expect(member.identity()).toMatchObject({ memberId: member.memberId, generationIdOrMemberEpoch: 2 });
      expect(g.reported).toEqual([]);
      expect(g.failures).toEqual([]);
    });
  }

  it("the heartbeat interval is the coordinator's, not heartbeatIntervalMs", async () => {
    script.heartbeatIntervalMs = 60;
    g.kip848({ heartbeatIntervalMs: 5 }).subscribe({ topics: ["t"] });
    // join, acknowledgement (at once), then steady heartbeats.
    await until(() => sent().length >= 5);
    for (const gap of steadyGaps().slice(0, 3)) expect(gap).toBeGreaterThanOrEqual(55);
  });

  it("an answer without an interval (0) does not make heartbeats spin: heartbeatIntervalMs applies", async () => {
    script.heartbeatIntervalMs = 0;
    g.kip848({ heartbeatIntervalMs: 40 }).subscribe({ topics: ["t"] });
    await until(() => sent().length >= 4);
    for (const gap of steadyGaps().slice(0, 2)) expect(gap).toBeGreaterThanOrEqual(35);
  });

  it("close: heartbeats stop, the consumer revokes, then epoch -1 with the member id; static members send -2 and their instance id", async () => {
    for (const groupInstanceId of [undefined, "instance-1"]) {
      const member = g.kip848(groupInstanceId === undefined ? {} : { groupInstanceId });
      member.subscribe({ topics: ["t"] });
      await until(
        () => g.of("reconciled").length >= 1 && sent().some((r) => r.memberId === member.memberId && r.memberEpoch > 0),
      );
      expect(member.identity().groupInstanceId).toBe(groupInstanceId ?? null);
      let revokedAt = -1;
      await member.leave(async () => {
        revokedAt = g.broker.requests.length;
      });
      const mine = sent().filter((r) => r.memberId === member.memberId);
      const last = mine.at(-1);
      expect([last?.memberEpoch, last?.instanceId]).toEqual(
        groupInstanceId === undefined ? [-1, null] : [-2, "instance-1"],
      );
      const leaveAt = g.broker.requests.findLastIndex((r) => r.name === ConsumerGroupHeartbeat.name);
      expect(revokedAt <= leaveAt).toBe(true);
      await new Promise((r) => setTimeout(r, 30)); // three heartbeat intervals
      expect(sent().filter((r) => r.memberId === member.memberId)).toHaveLength(mine.length);
    }
  });

  it("GROUP_MAX_SIZE_REACHED on the join: fatal, a KafkaError with the code, no more heartbeats", async () => {
    g.broker.once(ConsumerGroupHeartbeat, () =>
      createConsumerGroupHeartbeatResponse({ errorCode: ErrorCode.GROUP_MAX_SIZE_REACHED, errorMessage: "full" }),
    );
    g.kip848().subscribe({ topics: ["t"] });
    await until(() => g.failures.length === 1);
    const error = g.failures[0] as KafkaError;
    expect(error).toBeInstanceOf(KafkaError);
    expect([error.code, error.errorCode]).toEqual(["SAMSA_ERR_KAFKA", ErrorCode.GROUP_MAX_SIZE_REACHED]);
    await new Promise((r) => setTimeout(r, 30));
    expect(sent()).toHaveLength(1);
    expect(g.of("reconcile")).toEqual([]);
  });

  it("UNRELEASED_INSTANCE_ID (a static member's predecessor still holds the id): retried quietly until released, not fatal", async () => {
    for (let i = 0; i < 2; i++) {
      g.broker.once(ConsumerGroupHeartbeat, () =>
        createConsumerGroupHeartbeatResponse({ errorCode: ErrorCode.UNRELEASED_INSTANCE_ID, errorMessage: "held" }),
      );
    }
    const member = g.kip848({ groupInstanceId: "instance-1" });
    member.subscribe({ topics: ["t"] });
    await until(() => g.of("reconciled").length === 1);
    // Every attempt was a full join at epoch 0 with the instance id.
    expect(
      sent()
        .slice(0, 3)
        .map((r) => [r.memberEpoch, r.instanceId]),
    ).toEqual([
      [0, "instance-1"],
      [0, "instance-1"],
      [0, "instance-1"],
    ]);
    expect(g.failures).toEqual([]);
    expect(g.reported).toEqual([]);
    expect(member.identity()).toMatchObject({ generationIdOrMemberEpoch: 1, groupInstanceId: "instance-1" });
  });
});
