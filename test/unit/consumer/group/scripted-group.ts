/**
 * A group member (classic or KIP-848) on a real Cluster against the fake broker, with a host
 * that records what the membership asks of the consumer (reconcile, lose, fail) and when, in
 * terms of the requests the broker had received by then. Default handlers play a well-behaved
 * coordinator; a test overrides one answer with `broker.once(Api, …)`.
 */
import { ClassicGroupMember } from "../../../../src/consumer/group/classic.js";
import { ConsumerGroupMember } from "../../../../src/consumer/group/consumer-group.js";
import { GroupCoordinator } from "../../../../src/consumer/group/coordinator.js";
import type { MembershipHost } from "../../../../src/consumer/group/membership.js";
import { type ConsumerOptions, resolveConsumerOptions } from "../../../../src/consumer/options.js";
import type { TopicPartition } from "../../../../src/consumer/partition.js";
import type { BackgroundErrorContext } from "../../../../src/network/background-errors.js";
import { Cluster } from "../../../../src/network/cluster.js";
import { ErrorCode } from "../../../../src/protocol/error-table.js";
import {
  ConsumerGroupHeartbeat,
  type ConsumerGroupHeartbeatResponseTopicPartitions,
  type ConsumerProtocolSubscription,
  createConsumerGroupHeartbeatResponse,
  createHeartbeatResponse,
  createJoinGroupResponse,
  createLeaveGroupResponse,
  createSyncGroupResponse,
  decodeConsumerProtocolAssignment,
  decodeConsumerProtocolSubscription,
  encodeConsumerProtocolAssignment,
  Heartbeat,
  JoinGroup,
  LeaveGroup,
  SyncGroup,
} from "../../../../src/protocol/messages/index.js";
import { Reader } from "../../../../src/protocol/primitives/reader.js";
import { Writer } from "../../../../src/protocol/primitives/writer.js";
import { FakeBroker, type FakeTopic } from "../../../../tools/fault/fake-broker.js";

export const GROUP = "g";

/** Polls `condition` every 5 ms; throws after `timeoutMs`. */
export async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** ConsumerProtocolAssignment bytes (v3, as Java writes them). */
export function assignmentBytes(partitions: readonly TopicPartition[]): Buffer {
  const byTopic = new Map<string, number[]>();
  for (const tp of partitions) byTopic.set(tp.topic, [...(byTopic.get(tp.topic) ?? []), tp.partition]);
  const w = new Writer(64);
  w.int16(3);
  encodeConsumerProtocolAssignment(
    w,
    { assignedPartitions: [...byTopic].map(([topic, ps]) => ({ topic, partitions: ps })), userData: null },
    3,
  );
  return w.finish();
}

/** The partitions in ConsumerProtocolAssignment bytes. */
export function decodeAssignment(bytes: Buffer): TopicPartition[] {
  const r = new Reader(bytes);
  const a = decodeConsumerProtocolAssignment(r, r.int16("version"));
  return a.assignedPartitions.flatMap((t) => t.partitions.map((partition) => ({ topic: t.topic, partition })));
}

/** ConsumerProtocolSubscription bytes, decoded. */
export function decodeSubscription(bytes: Buffer): ConsumerProtocolSubscription {
  const r = new Reader(bytes);
  return decodeConsumerProtocolSubscription(r, r.int16("version"));
}

/** One call the membership made on its host, with how many requests the broker had received by then. */
export interface HostEvent {
  kind: "reconcile" | "reconciled" | "lose" | "fail";
  atRequest: number;
  target?: TopicPartition[];
  error?: Error;
}

/** A broker, a Cluster on it, and a recording host; see the module comment. */
export class ScriptedGroup {
  readonly broker: FakeBroker;
  readonly client: Cluster;
  readonly events: HostEvent[] = [];
  readonly reported: { error: Error; context: BackgroundErrorContext }[] = [];
  /** What the consumer owns (the last reconcile's target; nothing after a loss). */
  owned: TopicPartition[] = [];
  /** Runs inside each reconcile, before it completes (a slow commit, say). */
  onReconcile: (target: readonly TopicPartition[]) => Promise<void> = async () => {};
  readonly #members: { leave(revoke: () => Promise<void>): Promise<void> }[] = [];

  private constructor(broker: FakeBroker) {
    this.broker = broker;
    this.client = new Cluster({ bootstrap: broker.bootstrap, retryBackoffMs: 5, retryBackoffMaxMs: 20 });
    this.client.on("error", (error, context) => this.reported.push({ error, context }));
  }

  static async start(topics: readonly FakeTopic[] = [{ name: "t", partitions: 2 }]): Promise<ScriptedGroup> {
    return new ScriptedGroup(await FakeBroker.start({ topics }));
  }

  /** A host with `options` (groupId `g`, short intervals unless given). */
  host(options: ConsumerOptions = {}): MembershipHost {
    const o = resolveConsumerOptions({
      groupId: GROUP,
      heartbeatIntervalMs: 10,
      sessionTimeoutMs: 1_000,
      rebalanceTimeoutMs: 1_000,
      retryBackoffMs: 5,
      ...options,
    });
    const at = () => this.broker.requests.length;
    return {
      client: this.client,
      options: o,
      coordinator: new GroupCoordinator(this.client, GROUP, "consumer-test", 2_000, o.retryBackoffMs),
      reconcile: async (target) => {
        this.events.push({ kind: "reconcile", atRequest: at(), target: [...target] });
        await this.onReconcile(target);
        this.owned = [...target];
        this.events.push({ kind: "reconciled", atRequest: at(), target: [...target] });
      },
      lose: async () => {
        this.owned = [];
        this.events.push({ kind: "lose", atRequest: at() });
      },
      fail: (error) => {
        this.events.push({ kind: "fail", atRequest: at(), error });
      },
      owned: () => [...this.owned],
    };
  }

  classic(options: ConsumerOptions = {}): ClassicGroupMember {
    const member = new ClassicGroupMember(this.host({ groupProtocol: "classic", ...options }));
    this.#members.push(member);
    return member;
  }

  kip848(options: ConsumerOptions = {}): ConsumerGroupMember {
    const member = new ConsumerGroupMember(this.host({ groupProtocol: "consumer", ...options }));
    this.#members.push(member);
    return member;
  }

  /** The events of one kind. */
  of(kind: HostEvent["kind"]): HostEvent[] {
    return this.events.filter((e) => e.kind === kind);
  }

  /** The errors the host's `fail` got. */
  get failures(): Error[] {
    return this.of("fail").map((e) => e.error as Error);
  }

  /** Index in `broker.requests` of the `n`th (0-based) request of `api`. */
  indexOf(api: { apiKey: number }, n: number): number {
    let seen = 0;
    for (const [i, r] of this.broker.requests.entries()) {
      if (r.apiKey === api.apiKey && seen++ === n) return i;
    }
    return -1;
  }

  async close(): Promise<void> {
    for (const m of this.#members.splice(0)) await m.leave(async () => {});
    this.client.close();
    await this.broker.close();
  }
}

/**
 * A well-behaved classic coordinator with one member: KIP-394 (MEMBER_ID_REQUIRED with
 * `member-N` to a join without an id), a new generation per join, the joiner leads and gets
 * what it assigned itself; Heartbeat and LeaveGroup succeed.
 */
export function classicCoordinator(broker: FakeBroker): void {
  let ids = 0;
  let generation = 0;
  broker.on(JoinGroup, (request) => {
    if (request.memberId === "") {
      return createJoinGroupResponse({ errorCode: ErrorCode.MEMBER_ID_REQUIRED, memberId: `member-${++ids}` });
    }
    const protocol = request.protocols[0];
    return createJoinGroupResponse({
      generationId: ++generation,
      protocolType: "consumer",
      protocolName: protocol?.name ?? "",
      leader: request.memberId,
      memberId: request.memberId,
      members: [
        {
          memberId: request.memberId,
          groupInstanceId: request.groupInstanceId,
          metadata: protocol?.metadata ?? Buffer.alloc(0),
        },
      ],
    });
  });
  broker.on(SyncGroup, (request) =>
    createSyncGroupResponse({
      protocolType: "consumer",
      protocolName: request.protocolName,
      assignment: request.assignments.find((a) => a.memberId === request.memberId)?.assignment ?? Buffer.alloc(0),
    }),
  );
  broker.on(Heartbeat, () => createHeartbeatResponse({}));
  broker.on(LeaveGroup, (request) =>
    createLeaveGroupResponse({
      members: request.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, errorCode: 0 })),
    }),
  );
}

/** What {@link kip848Coordinator} answers; tests change it between heartbeats. */
export interface Kip848Script {
  /** The target assignment, sent with the answer to a join (epoch 0) and when changed. */
  target: ConsumerGroupHeartbeatResponseTopicPartitions[];
  heartbeatIntervalMs: number;
  /** The epoch handed out by the last join. */
  epoch: number;
}

/**
 * A well-behaved KIP-848 coordinator: a join (epoch 0) gets the next epoch and the target,
 * later heartbeats keep the epoch, a leave (epoch < 0) is echoed.
 */
export function kip848Coordinator(broker: FakeBroker, script: Kip848Script): void {
  broker.on(ConsumerGroupHeartbeat, (request) => {
    if (request.memberEpoch < 0)
      return createConsumerGroupHeartbeatResponse({ memberId: request.memberId, memberEpoch: request.memberEpoch });
    const join = request.memberEpoch === 0;
    if (join) script.epoch++;
    return createConsumerGroupHeartbeatResponse({
      memberId: request.memberId,
      memberEpoch: script.epoch,
      heartbeatIntervalMs: script.heartbeatIntervalMs,
      assignment: join ? { topicPartitions: script.target } : null,
    });
  });
}
