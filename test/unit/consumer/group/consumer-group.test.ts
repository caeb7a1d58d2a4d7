/**
 * The KIP-848 member against scripted ConsumerGroupHeartbeat answers (no broker): which
 * heartbeat errors end membership (only the fatal ones) and what the others do (report once,
 * retry with backoff, look the coordinator up again, rejoin at epoch 0).
 */
import { afterEach, describe, expect, it } from "vitest";
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
} from "../../../../src/protocol/messages/index.js";

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

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}

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
