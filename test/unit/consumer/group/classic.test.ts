/**
 * The classic member (JoinGroup/SyncGroup/Heartbeat/LeaveGroup) against scripted coordinator
 * answers from the fake broker: what it sends (member id, generation), what it asks of the
 * consumer (reconcile, lose, fail) and in which order, and what a hostile answer does.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ErrorCode } from "../../../../src/protocol/error-table.js";
import { ProtocolError } from "../../../../src/protocol/errors.js";
import { KafkaError } from "../../../../src/protocol/kafka-error.js";
import {
  createHeartbeatResponse,
  createJoinGroupResponse,
  createSyncGroupResponse,
  FindCoordinator,
  Heartbeat,
  JoinGroup,
  type JoinGroupRequest,
  LeaveGroup,
  SyncGroup,
} from "../../../../src/protocol/messages/index.js";
import {
  assignmentBytes,
  classicCoordinator,
  decodeAssignment,
  decodeSubscription,
  GROUP,
  ScriptedGroup,
  until,
} from "./scripted-group.js";

const t0 = { topic: "t", partition: 0 };
const t1 = { topic: "t", partition: 1 };

/** A JoinGroup answer naming `leader` (not the joiner) as leader: the joiner follows. */
function followerJoin(request: JoinGroupRequest, generationId: number) {
  return createJoinGroupResponse({
    generationId,
    protocolType: "consumer",
    protocolName: request.protocols[0]?.name ?? "",
    leader: "leader-member",
    memberId: request.memberId,
    members: [],
  });
}

let g: ScriptedGroup;
beforeEach(async () => {
  g = await ScriptedGroup.start();
  classicCoordinator(g.broker);
});
afterEach(async () => {
  await g.close();
});

/** Joins a fresh member, answers one heartbeat with `code`, waits for the next assignment. */
async function heartbeatAnswered(code: number) {
  const member = g.classic();
  member.subscribe({ topics: ["t"] });
  await until(() => heartbeats().length >= 1);
  g.broker.once(Heartbeat, () => createHeartbeatResponse({ errorCode: code }));
  await until(() => g.of("reconciled").length === 2);
  return member;
}

/** The (memberId, generationId) pairs of the heartbeats received so far. */
function heartbeats(): [string, number][] {
  return g.broker.received(Heartbeat).map((r) => [r.request.memberId, r.request.generationId]);
}

describe("classic member: join, sync, heartbeat", () => {
  it("follower: joins, takes the assignment SyncGroup hands it, heartbeats with its member id and generation", async () => {
    const member = g.classic({ assignors: ["range"] });
    expect(member.identity()).toEqual({ memberId: "", generationIdOrMemberEpoch: -1, groupInstanceId: null });
    g.broker.on(JoinGroup, (request) =>
      request.memberId === ""
        ? createJoinGroupResponse({ memberId: "m-1", errorCode: ErrorCode.MEMBER_ID_REQUIRED })
        : followerJoin(request, 7),
    );
    g.broker.on(SyncGroup, () => createSyncGroupResponse({ assignment: assignmentBytes([t1]) }));
    member.subscribe({ topics: ["t"] });
    await until(() => heartbeats().length >= 2);

    const joins = g.broker.received(JoinGroup).map((r) => r.request);
    expect(joins.map((j) => j.memberId)).toEqual(["", "m-1"]);
    expect(joins[1]?.protocols.map((p) => p.name)).toEqual(["range"]);
    expect(decodeSubscription(joins[1]?.protocols[0]?.metadata as Buffer).topics).toEqual(["t"]);
    const sync = g.broker.received(SyncGroup).map((r) => r.request);
    expect(sync).toHaveLength(1);
    expect([sync[0]?.memberId, sync[0]?.generationId, sync[0]?.protocolName]).toEqual(["m-1", 7, "range"]);
    // A follower sends no assignments.
    expect(sync[0]?.assignments).toEqual([]);
    expect(g.of("reconcile").map((e) => e.target)).toEqual([[t1]]);
    expect(heartbeats().slice(0, 2)).toEqual([
      ["m-1", 7],
      ["m-1", 7],
    ]);
    expect(member.identity()).toEqual({ memberId: "m-1", generationIdOrMemberEpoch: 7, groupInstanceId: null });
    expect(g.reported).toEqual([]);
  });

  it("MEMBER_ID_REQUIRED (KIP-394): joins again at once with the id the coordinator handed out, quietly", async () => {
    const member = g.classic();
    member.subscribe({ topics: ["t"] });
    await until(() => g.of("reconciled").length === 1);
    const joins = g.broker.received(JoinGroup).map((r) => r.request.memberId);
    expect(joins).toEqual(["", "member-1"]);
    expect(g.broker.received(SyncGroup).map((r) => r.request.memberId)).toEqual(["member-1"]);
    expect(member.memberId).toBe("member-1");
    expect(g.reported).toEqual([]);
  });

  it("leader: runs the chosen assignor over every member's subscription and sends each member's assignment", async () => {
    const member = g.classic({ assignors: ["range"] });
    const other = { memberId: "z-other", groupInstanceId: null, metadata: Buffer.alloc(0) };
    g.broker.on(JoinGroup, (request) => {
      if (request.memberId === "")
        return createJoinGroupResponse({ memberId: "a-me", errorCode: ErrorCode.MEMBER_ID_REQUIRED });
      const metadata = request.protocols[0]?.metadata as Buffer;
      // The other member subscribes to "t" too: the same bytes will do.
      return createJoinGroupResponse({
        generationId: 3,
        protocolName: "range",
        leader: "a-me",
        memberId: "a-me",
        members: [
          { memberId: "a-me", groupInstanceId: null, metadata },
          { ...other, metadata },
        ],
      });
    });
    member.subscribe({ topics: ["t"] });
    await until(() => g.of("reconciled").length === 1);
    const sync = g.broker.received(SyncGroup)[0]?.request;
    expect(sync?.generationId).toBe(3);
    const sent = new Map(sync?.assignments.map((a) => [a.memberId, decodeAssignment(a.assignment)]));
    // Range over 2 partitions and 2 members sorted by id: one each, in order.
    expect(sent).toEqual(
      new Map([
        ["a-me", [t0]],
        ["z-other", [t1]],
      ]),
    );
    // It takes its own share.
    expect(g.of("reconcile").map((e) => e.target)).toEqual([[t0]]);
    expect(member.identity().generationIdOrMemberEpoch).toBe(3);
  });
});

describe("classic member: rebalances and lost membership", () => {
  it("REBALANCE_IN_PROGRESS on a heartbeat: eager members give everything up (the consumer's commit and revoke) before rejoining with the same id, and join once", async () => {
    const member = g.classic({ assignors: ["range"] });
    member.subscribe({ topics: ["t"] });
    await until(() => g.of("reconciled").length === 1 && heartbeats().length >= 1);
    // The coordinator answers every heartbeat REBALANCE_IN_PROGRESS until the member rejoins,
    // and the revoke (a commit, say) takes several heartbeat intervals.
    const joinsBefore = g.broker.received(JoinGroup).length;
    g.broker.on(Heartbeat, () =>
      createHeartbeatResponse({
        errorCode:
          g.broker.received(JoinGroup).length === joinsBefore ? ErrorCode.REBALANCE_IN_PROGRESS : ErrorCode.NONE,
      }),
    );
    g.onReconcile = (target) => (target.length === 0 ? new Promise((r) => setTimeout(r, 50)) : Promise.resolve());
    await until(() => heartbeats().filter(([, gen]) => gen === 2).length >= 10);

    const rejoin = g.indexOf(JoinGroup, joinsBefore);
    const revoked = g.events.find((e) => e.kind === "reconciled" && e.target?.length === 0);
    expect(revoked).toBeDefined();
    expect((revoked?.atRequest ?? Infinity) <= rejoin).toBe(true);
    // Heartbeats went on during the revoke (the session must not expire meanwhile).
    const duringRevoke = heartbeats().filter(([, gen]) => gen === 1).length;
    expect(duringRevoke).toBeGreaterThan(2);
    expect(g.broker.received(JoinGroup)[joinsBefore]?.request.memberId).toBe("member-1");
    // One rebalance, one JoinGroup: the heartbeats answered REBALANCE_IN_PROGRESS while the
    // member was already rejoining do not start another.
    expect(g.broker.received(JoinGroup)).toHaveLength(joinsBefore + 1);
    expect(g.of("reconciled").map((e) => e.target)).toEqual([[t0, t1], [], [t0, t1]]);
    expect(member.identity()).toMatchObject({ memberId: "member-1", generationIdOrMemberEpoch: 2 });
    expect(g.reported).toEqual([]);
  });

  it("REBALANCE_IN_PROGRESS, cooperative: keeps its partitions and restates them (and its generation) in the JoinGroup", async () => {
    const member = g.classic({ assignors: ["cooperative-sticky"] });
    member.subscribe({ topics: ["t"] });
    await until(() => g.of("reconciled").length === 1 && heartbeats().length >= 1);
    g.broker.once(Heartbeat, () => createHeartbeatResponse({ errorCode: ErrorCode.REBALANCE_IN_PROGRESS }));
    await until(() => g.broker.received(SyncGroup).length === 2 && g.of("reconciled").length === 2);
    const rejoin = g.broker.received(JoinGroup)[2]?.request;
    const subscription = decodeSubscription(rejoin?.protocols[0]?.metadata as Buffer);
    expect(subscription.generationId).toBe(1);
    expect(subscription.ownedPartitions).toEqual([{ topic: "t", partitions: [0, 1] }]);
    // Nothing was revoked: every reconcile had the full target.
    expect(g.of("reconcile").map((e) => e.target)).toEqual([
      [t0, t1],
      [t0, t1],
    ]);
  });

  it("UNKNOWN_MEMBER_ID on a heartbeat: partitions lost, member id and generation reset, joins as a new member", async () => {
    const member = await heartbeatAnswered(ErrorCode.UNKNOWN_MEMBER_ID);
    const lose = g.of("lose")[0];
    expect(lose).toBeDefined();
    // Lost before the rejoin went out, and without an id: the coordinator forgot this member.
    expect((lose?.atRequest ?? Infinity) <= g.indexOf(JoinGroup, 2)).toBe(true);
    expect(g.broker.received(JoinGroup).map((r) => r.request.memberId)).toEqual(["", "member-1", "", "member-2"]);
    expect(member.identity()).toMatchObject({ memberId: "member-2", generationIdOrMemberEpoch: 2 });
  });

  it("ILLEGAL_GENERATION on a heartbeat: partitions lost, the generation reset, rejoins with the same member id", async () => {
    const member = await heartbeatAnswered(ErrorCode.ILLEGAL_GENERATION);
    expect(g.of("lose")).toHaveLength(1);
    expect(g.broker.received(JoinGroup).map((r) => r.request.memberId)).toEqual(["", "member-1", "member-1"]);
    // The rejoin's subscription says "no generation" (-1), as Java's does after a reset.
    const rejoin = g.broker.received(JoinGroup)[2]?.request;
    expect(decodeSubscription(rejoin?.protocols[0]?.metadata as Buffer).generationId).toBe(-1);
    expect(member.identity()).toMatchObject({ memberId: "member-1", generationIdOrMemberEpoch: 2 });
  });

  it("ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID from SyncGroup: lost the same way, then joined", async () => {
    for (const [code, rejoinId] of [
      [ErrorCode.ILLEGAL_GENERATION, "member-1"],
      [ErrorCode.UNKNOWN_MEMBER_ID, ""],
    ] as const) {
      await g.close();
      g = await ScriptedGroup.start();
      classicCoordinator(g.broker);
      g.broker.once(SyncGroup, () => createSyncGroupResponse({ errorCode: code }));
      g.classic().subscribe({ topics: ["t"] });
      await until(() => g.of("reconciled").length === 1);
      expect(g.of("lose")).toHaveLength(1);
      expect(g.broker.received(JoinGroup)[2]?.request.memberId).toBe(rejoinId);
      expect(g.reported).toEqual([]);
    }
  });
});

describe("classic member: fatal errors and the coordinator", () => {
  it("FENCED_INSTANCE_ID on a heartbeat: membership ends with the broker's error (typed, coded), heartbeats stop", async () => {
    const member = g.classic({ groupInstanceId: "instance-1" });
    member.subscribe({ topics: ["t"] });
    await until(() => heartbeats().length >= 1);
    expect(g.broker.received(JoinGroup)[0]?.request.groupInstanceId).toBe("instance-1");
    expect(member.identity().groupInstanceId).toBe("instance-1");
    g.broker.once(Heartbeat, () => createHeartbeatResponse({ errorCode: ErrorCode.FENCED_INSTANCE_ID }));
    await until(() => g.failures.length === 1);
    const error = g.failures[0] as KafkaError;
    expect(error).toBeInstanceOf(KafkaError);
    expect(error.code).toBe("SAMSA_ERR_KAFKA");
    expect(error.errorCode).toBe(ErrorCode.FENCED_INSTANCE_ID);
    const sent = g.broker.requests.length;
    await new Promise((r) => setTimeout(r, 50)); // five heartbeat intervals
    expect(g.broker.requests.length).toBe(sent);
    expect(g.broker.received(JoinGroup)).toHaveLength(2);
  });

  it("FENCED_INSTANCE_ID from JoinGroup: fatal too, no SyncGroup", async () => {
    g.broker.on(JoinGroup, () => createJoinGroupResponse({ errorCode: ErrorCode.FENCED_INSTANCE_ID }));
    g.classic({ groupInstanceId: "instance-1" }).subscribe({ topics: ["t"] });
    await until(() => g.failures.length === 1);
    expect((g.failures[0] as KafkaError).errorCode).toBe(ErrorCode.FENCED_INSTANCE_ID);
    expect(g.broker.received(JoinGroup)).toHaveLength(1);
    expect(g.broker.received(SyncGroup)).toHaveLength(0);
  });

  it("NOT_COORDINATOR / COORDINATOR_NOT_AVAILABLE from JoinGroup: the coordinator is looked up again, then the join succeeds, quietly", async () => {
    // Both refusals queued before the first join (a `once` set later answers first), so the
    // retry cannot overtake the second one.
    g.broker.once(JoinGroup, () => createJoinGroupResponse({ errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE }));
    g.broker.once(JoinGroup, () => createJoinGroupResponse({ errorCode: ErrorCode.NOT_COORDINATOR }));
    g.classic().subscribe({ topics: ["t"] });
    await until(() => g.of("reconciled").length === 1);
    // One lookup to start, one after each refusal.
    expect(g.broker.received(FindCoordinator)).toHaveLength(3);
    expect(g.indexOf(FindCoordinator, 1) > g.indexOf(JoinGroup, 0)).toBe(true);
    expect(g.indexOf(FindCoordinator, 2) > g.indexOf(JoinGroup, 1)).toBe(true);
    expect(g.broker.received(JoinGroup).map((r) => r.request.memberId)).toEqual(["", "", "", "member-1"]);
    expect(g.reported).toEqual([]);
    expect(g.failures).toEqual([]);
  });

  it("NOT_COORDINATOR on a heartbeat: looked up again, heartbeats go on, no rejoin", async () => {
    g.classic().subscribe({ topics: ["t"] });
    await until(() => heartbeats().length >= 1);
    g.broker.once(Heartbeat, () => createHeartbeatResponse({ errorCode: ErrorCode.NOT_COORDINATOR }));
    const before = heartbeats().length;
    await until(() => heartbeats().length >= before + 3);
    expect(g.broker.received(FindCoordinator)).toHaveLength(2);
    expect(g.broker.received(JoinGroup)).toHaveLength(2);
    expect(g.of("lose")).toEqual([]);
  });
});

describe("classic member: leaving", () => {
  it("close: heartbeats stop, the consumer revokes while still a member, then LeaveGroup names the member", async () => {
    const member = g.classic();
    member.subscribe({ topics: ["t"] });
    await until(() => heartbeats().length >= 1);
    let revokedAt = -1;
    await member.leave(async () => {
      revokedAt = g.broker.requests.length;
    });
    const leaves = g.broker.received(LeaveGroup);
    expect(leaves).toHaveLength(1);
    expect(leaves[0]?.request.groupId).toBe(GROUP);
    expect(leaves[0]?.request.members).toEqual([
      { memberId: "member-1", groupInstanceId: null, reason: "consumer closed" },
    ]);
    const leaveAt = g.indexOf(LeaveGroup, 0);
    expect(revokedAt <= leaveAt).toBe(true);
    await new Promise((r) => setTimeout(r, 30));
    expect(g.broker.requests.length).toBe(leaveAt + 1);
  });

  it("close of a static member: no LeaveGroup (the coordinator keeps its partitions for the restart)", async () => {
    const member = g.classic({ groupInstanceId: "instance-1" });
    member.subscribe({ topics: ["t"] });
    await until(() => heartbeats().length >= 1);
    await member.leave(async () => {});
    expect(g.broker.received(LeaveGroup)).toEqual([]);
  });
});

describe("classic member: hostile answers", () => {
  it("an assignment that does not decode: a ProtocolError reported (not thrown, not fatal), the member joins again", async () => {
    // Version 3, then a topic array claiming 2^31-1 entries.
    g.broker.once(SyncGroup, () =>
      createSyncGroupResponse({ assignment: Buffer.from([0, 3, 0x7f, 0xff, 0xff, 0xff]) }),
    );
    g.classic().subscribe({ topics: ["t"] });
    await until(() => g.of("reconciled").length === 1);
    expect(g.reported).toHaveLength(1);
    expect(g.reported[0]?.error).toBeInstanceOf(ProtocolError);
    expect((g.reported[0]?.error as ProtocolError | undefined)?.code).toBe("SAMSA_ERR_PROTOCOL");
    expect(g.reported[0]?.context).toMatchObject({ source: "consumer", groupId: GROUP });
    expect(g.failures).toEqual([]);
    expect(g.broker.received(SyncGroup)).toHaveLength(2);
    expect(g.of("reconcile").map((e) => e.target)).toEqual([[t0, t1]]);
  });

  it("an assignment naming a topic the member did not subscribe to: those partitions are refused and reported, the rest taken", async () => {
    g.broker.once(SyncGroup, () =>
      createSyncGroupResponse({ assignment: assignmentBytes([t0, { topic: "other", partition: 0 }]) }),
    );
    g.classic().subscribe({ topics: ["t"] });
    await until(() => g.of("reconciled").length === 1);
    expect(g.of("reconcile").map((e) => e.target)).toEqual([[t0]]);
    expect(g.reported).toHaveLength(1);
    expect(g.reported[0]?.error).toBeInstanceOf(ProtocolError);
    expect(g.reported[0]?.error.message).toContain("other");
    expect(g.failures).toEqual([]);
  });

  it("leader: a member whose subscription does not decode gets an empty assignment, is reported, the others are served", async () => {
    g.broker.on(JoinGroup, (request) => {
      if (request.memberId === "")
        return createJoinGroupResponse({ memberId: "a-me", errorCode: ErrorCode.MEMBER_ID_REQUIRED });
      return createJoinGroupResponse({
        generationId: 1,
        protocolName: request.protocols[0]?.name ?? "",
        leader: "a-me",
        memberId: "a-me",
        members: [
          { memberId: "a-me", groupInstanceId: null, metadata: request.protocols[0]?.metadata as Buffer },
          { memberId: "bad", groupInstanceId: null, metadata: Buffer.from([0, 3, 0x7f]) },
        ],
      });
    });
    g.classic({ assignors: ["range"] }).subscribe({ topics: ["t"] });
    await until(() => g.of("reconciled").length === 1);
    const sent = new Map(
      g.broker.received(SyncGroup)[0]?.request.assignments.map((a) => [a.memberId, decodeAssignment(a.assignment)]),
    );
    expect(sent).toEqual(
      new Map([
        ["a-me", [t0, t1]],
        ["bad", []],
      ]),
    );
    expect(g.reported.map((r) => r.error.constructor)).toEqual([ProtocolError]);
    expect(g.reported[0]?.error.message).toContain("member bad");
    expect(g.failures).toEqual([]);
  });
});
