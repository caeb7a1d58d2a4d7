/**
 * Classic group membership: JoinGroup (retried once with the id the coordinator hands out on
 * MEMBER_ID_REQUIRED), the leader runs the assignor and SyncGroup spreads the result, then
 * Heartbeat on its own timer, on the member's own "group" connection (never behind another
 * consumer's held JoinGroup), until the coordinator announces a
 * rebalance. Eager assignors give everything up before joining; cooperative ones keep what
 * they own and give up only what moved, then join once more. Static members
 * (groupInstanceId) do not send LeaveGroup, so a restart gets the same partitions back.
 *
 * Only the FATAL codes end membership. Any other error (UNKNOWN_SERVER_ERROR, say, which the
 * coordinator answers every member with while one member's subscription does not decode) is
 * reported once to the client's `error` event and the member rejoins with backoff, as Java's
 * poll() does after throwing it. A leader skips (and reports) members whose subscription does
 * not decode: they get no partitions, everyone else goes on.
 */

import { backoffDelay, sleep } from "../../network/backoff.js";
import { isRetriable, needsCoordinatorLookup } from "../../network/retry.js";
import { ErrorCode } from "../../protocol/error-table.js";
import { ProtocolError } from "../../protocol/errors.js";
import { KafkaError, kafkaError } from "../../protocol/kafka-error.js";
import {
  decodeConsumerProtocolAssignment,
  decodeConsumerProtocolSubscription,
  encodeConsumerProtocolAssignment,
  encodeConsumerProtocolSubscription,
  Heartbeat,
  JoinGroup,
  LeaveGroup,
  SyncGroup,
} from "../../protocol/messages/index.js";
import { Reader } from "../../protocol/primitives/reader.js";
import { Writer } from "../../protocol/primitives/writer.js";
import type { MemberIdentity } from "../offsets.js";
import { partitionKey, type TopicPartition } from "../partition.js";
import { type Assignor, type AssignorMember, BUILTIN_ASSIGNORS } from "./assignors.js";
import {
  allTopics,
  type Membership,
  type MembershipHost,
  reportFenced,
  reportJoined,
  type Subscription,
} from "./membership.js";

const PROTOCOL_TYPE = "consumer";
/** ConsumerProtocolSubscription/Assignment version written (v3: rack id, owned partitions, generation). */
const EMBEDDED_VERSION = 3;
/** How often a pattern subscription looks for new matching topics. */
const PATTERN_REFRESH_MS = 30_000;

/** Errors after which rejoining cannot help. */
const FATAL = new Set<number>([
  ErrorCode.FENCED_INSTANCE_ID,
  ErrorCode.GROUP_AUTHORIZATION_FAILED,
  ErrorCode.GROUP_MAX_SIZE_REACHED,
  ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
  ErrorCode.INVALID_SESSION_TIMEOUT,
  ErrorCode.INVALID_GROUP_ID,
  ErrorCode.UNSUPPORTED_VERSION,
]);

function encodeEmbedded<T>(encode: (w: Writer, m: T, v: number) => void, message: T): Buffer {
  const w = new Writer(128);
  w.int16(EMBEDDED_VERSION);
  encode(w, message, EMBEDDED_VERSION);
  return w.finish();
}

function decodeEmbedded<T>(decode: (r: Reader, v: number) => T, buf: Buffer): T {
  const r = new Reader(buf);
  // Newer versions only append fields: read them as the newest version we know (Java does too).
  const version = Math.min(r.int16("version"), EMBEDDED_VERSION);
  return decode(r, version);
}

function grouped(partitions: readonly TopicPartition[]): { topic: string; partitions: number[] }[] {
  const byTopic = new Map<string, number[]>();
  for (const tp of partitions) {
    const list = byTopic.get(tp.topic);
    if (list) list.push(tp.partition);
    else byTopic.set(tp.topic, [tp.partition]);
  }
  return [...byTopic].map(([topic, ps]) => ({ topic, partitions: ps }));
}

/** A classic group member; see the module comment. */
export class ClassicGroupMember implements Membership {
  readonly protocol = "classic" as const;
  readonly #host: MembershipHost;
  readonly #assignors: Assignor[];
  readonly #cooperative: boolean;
  #memberId = "";
  #generation = -1;
  #subscription: Subscription | undefined;
  #topics: string[] = [];
  #state: "active" | "leaving" | "stopped" = "active";
  #rejoin = true;
  /**
   * A rejoin is under way but its JoinGroup has not gone out yet (the eager revoke, a pattern
   * lookup): a REBALANCE_IN_PROGRESS answered meanwhile is the rebalance this JoinGroup joins.
   */
  #rejoining = false;
  #joining = false;
  #wakeLoop: (() => void) | undefined;
  #loop: Promise<void> | undefined;
  #heartbeatTimer: NodeJS.Timeout | undefined;
  #heartbeatToken: object | undefined;
  /** A heartbeat learned the generation is gone; the loop tells the consumer before rejoining. */
  #pendingLoss: "member" | "generation" | undefined;
  #patternTimer: NodeJS.Timeout | undefined;
  readonly #controller = new AbortController();
  /** The error last reported while joining: a streak of the same one is reported once. */
  #reported: string | undefined;

  constructor(host: MembershipHost) {
    this.#host = host;
    this.#assignors = host.options.assignors.map((a) =>
      typeof a === "string" ? (BUILTIN_ASSIGNORS.get(a) as Assignor) : a,
    );
    // Java's rule: cooperative only when every offered assignor is.
    this.#cooperative = this.#assignors.every((a) => a.rebalanceProtocol === "cooperative");
  }

  /** See {@link Membership}. */
  get memberId(): string {
    return this.#memberId;
  }

  /** The group generation (-1 outside one). */
  get generationId(): number {
    return this.#generation;
  }

  subscribe(subscription: Subscription): void {
    this.#subscription = subscription;
    if ("pattern" in subscription && !this.#patternTimer) {
      this.#patternTimer = setInterval(() => void this.#checkPattern(), PATTERN_REFRESH_MS);
      this.#patternTimer.unref();
    }
    this.#requestRejoin();
    this.#loop ??= this.#run();
  }

  identity(): MemberIdentity {
    return {
      memberId: this.#memberId,
      generationIdOrMemberEpoch: this.#generation,
      groupInstanceId: this.#host.options.groupInstanceId ?? null,
    };
  }

  offsetFetchIdentity(): { memberId: string | null; memberEpoch: number } {
    // Member fields of OffsetFetch are for KIP-848 groups only.
    return { memberId: null, memberEpoch: -1 };
  }

  async leave(revoke: () => Promise<void>): Promise<void> {
    if (this.#state !== "active") return revoke();
    this.#state = "leaving";
    this.#stopHeartbeats();
    if (this.#patternTimer) clearInterval(this.#patternTimer);
    // A JoinGroup may wait for the whole rebalance: abandon it rather than wait.
    this.#controller.abort();
    this.#wakeLoop?.();
    await revoke();
    this.#state = "stopped";
    const { coordinator, options } = this.#host;
    // Static members stay: the coordinator keeps their partitions until the session times out.
    if (this.#memberId === "" || options.groupInstanceId !== undefined) return;
    try {
      const connection = await coordinator.connection(LeaveGroup);
      const version = connection.versionFor(LeaveGroup);
      await connection.request(
        LeaveGroup,
        {
          groupId: coordinator.groupId,
          memberId: version < 3 ? this.#memberId : "",
          members: version >= 3 ? [{ memberId: this.#memberId, groupInstanceId: null, reason: "consumer closed" }] : [],
        },
        { timeoutMs: coordinator.requestTimeoutMs },
      );
    } catch (err) {
      // Without a LeaveGroup the session times out instead.
      this.#report(err, "leaveGroup");
    }
  }

  #report(error: unknown, operation: string): void {
    this.#host.client.reportError(error instanceof Error ? error : new Error(String(error)), {
      source: "consumer",
      operation,
      groupId: this.#host.coordinator.groupId,
    });
  }

  #requestRejoin(): void {
    this.#rejoin = true;
    this.#wakeLoop?.();
  }

  async #run(): Promise<void> {
    const host = this.#host;
    for (let attempt = 0; this.#state === "active"; ) {
      if (!this.#rejoin) {
        await new Promise<void>((resolve) => {
          this.#wakeLoop = resolve;
        });
        this.#wakeLoop = undefined;
        continue;
      }
      this.#rejoin = false;
      this.#rejoining = true;
      try {
        const loss = this.#pendingLoss;
        this.#pendingLoss = undefined;
        if (loss !== undefined) {
          reportFenced(
            host,
            this.#memberId,
            loss === "member" ? ErrorCode.UNKNOWN_MEMBER_ID : ErrorCode.ILLEGAL_GENERATION,
          );
          await this.#lost(loss === "member");
        }
        const subscription = this.#subscription as Subscription;
        this.#topics =
          "topics" in subscription ? [...subscription.topics] : await this.#matchPattern(subscription.pattern);
        // Eager: everything is given up (committed, listener told) before the next generation.
        if (!this.#cooperative && host.owned().length > 0) await host.reconcile([]);
        const assignment = await this.#joinAndSync();
        if (this.#state !== "active") return;
        this.#startHeartbeats();
        const wanted = new Set(this.#topics);
        const target = assignment.filter((tp) => wanted.has(tp.topic));
        if (target.length < assignment.length) {
          // The leader was given this member's topics: anything else is its bug (or a hostile
          // answer). Taking it would fetch a topic nobody asked for; the rest is still ours.
          const foreign = [...new Set(assignment.filter((tp) => !wanted.has(tp.topic)).map((tp) => tp.topic))];
          this.#report(
            new ProtocolError(
              `assignment names topics this member does not subscribe to (${foreign.join(", ")}); ignored`,
            ),
            "syncGroup",
          );
        }
        const keys = new Set(target.map((tp) => partitionKey(tp.topic, tp.partition)));
        const revokes = host.owned().some((tp) => !keys.has(partitionKey(tp.topic, tp.partition)));
        await host.reconcile(target);
        // Cooperative: what was given up can now be assigned elsewhere, in one more round.
        if (this.#cooperative && revokes) this.#rejoin = true;
        attempt = 0;
        this.#reported = undefined;
      } catch (err) {
        this.#joining = false;
        this.#rejoining = false;
        if (this.#state !== "active") return;
        const code = err instanceof KafkaError ? err.errorCode : undefined;
        if (code !== undefined && FATAL.has(code)) {
          this.#fail(err as Error);
          return;
        }
        if (code === ErrorCode.UNKNOWN_MEMBER_ID || code === ErrorCode.ILLEGAL_GENERATION) {
          reportFenced(host, this.#memberId, code);
          await this.#lost(code === ErrorCode.UNKNOWN_MEMBER_ID);
        } else if (needsCoordinatorLookup(err)) {
          host.coordinator.invalidate();
        } else if (code !== ErrorCode.REBALANCE_IN_PROGRESS && !isRetriable(err)) {
          // Not known to be hopeless: said once per streak, then joined again with backoff.
          const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
          if (this.#reported !== what) {
            this.#reported = what;
            this.#report(err, "join");
          }
        }
        this.#rejoin = true;
        if (code !== ErrorCode.REBALANCE_IN_PROGRESS) {
          const floorMs = Math.max(1, host.options.retryBackoffMs);
          await sleep(backoffDelay(attempt++, { floorMs, ceilingMs: 5_000 }), this.#controller.signal).catch(() => {});
        }
      }
    }
  }

  #fail(error: Error): void {
    this.#state = "stopped";
    this.#stopHeartbeats();
    this.#host.fail(error);
  }

  /** Out of the generation: the partitions are lost (no commit is accepted any more). */
  async #lost(unknownMember: boolean): Promise<void> {
    this.#stopHeartbeats();
    this.#generation = -1;
    if (unknownMember) this.#memberId = "";
    await this.#host.lose();
  }

  async #joinAndSync(): Promise<TopicPartition[]> {
    const { coordinator, options } = this.#host;
    const signal = this.#controller.signal;
    this.#joining = true;
    this.#rejoining = false;
    this.#stopHeartbeats();
    try {
      // JoinGroup and SyncGroup share the member's group socket: the broker holds JoinGroup up
      // to the rebalance timeout, and only this member's heartbeats (paused meanwhile) use it.
      const connection = await coordinator.connection(JoinGroup, signal);
      const owned = this.#cooperative ? this.#host.owned() : [];
      const metadata = encodeEmbedded(encodeConsumerProtocolSubscription, {
        topics: this.#topics,
        userData: null,
        ownedPartitions: grouped(owned),
        generationId: this.#cooperative ? this.#generation : -1,
        rackId: options.rackId ?? null,
      });
      // The coordinator holds JoinGroup until every member rejoined, up to the rebalance timeout.
      const timeoutMs = Math.max(coordinator.requestTimeoutMs, options.rebalanceTimeoutMs + 5_000);
      let join = await connection.request(JoinGroup, this.#joinRequest(metadata), { timeoutMs, signal });
      if (join.errorCode === ErrorCode.MEMBER_ID_REQUIRED) {
        // KIP-394: the first JoinGroup only hands out the id to join with.
        this.#memberId = join.memberId;
        join = await connection.request(JoinGroup, this.#joinRequest(metadata), { timeoutMs, signal });
      }
      if (join.errorCode !== ErrorCode.NONE) throw kafkaError(join.errorCode);
      this.#memberId = join.memberId;
      this.#generation = join.generationId;
      const protocolName = join.protocolName ?? "";
      const assignments =
        join.leader === join.memberId && !join.skipAssignment ? await this.#assign(protocolName, join.members) : [];
      const sync = await connection.request(
        SyncGroup,
        {
          groupId: coordinator.groupId,
          generationId: this.#generation,
          memberId: this.#memberId,
          groupInstanceId: options.groupInstanceId ?? null,
          protocolType: PROTOCOL_TYPE,
          protocolName,
          assignments,
        },
        { timeoutMs, signal },
      );
      if (sync.errorCode !== ErrorCode.NONE) throw kafkaError(sync.errorCode);
      reportJoined(this.#host, this.#memberId, this.#generation, "classic");
      if (sync.assignment.length === 0) return [];
      const decoded = decodeEmbedded(decodeConsumerProtocolAssignment, sync.assignment);
      return decoded.assignedPartitions.flatMap((t) =>
        t.partitions.map((partition) => ({ topic: t.topic, partition })),
      );
    } finally {
      this.#joining = false;
    }
  }

  #joinRequest(metadata: Buffer) {
    const { coordinator, options } = this.#host;
    return {
      groupId: coordinator.groupId,
      sessionTimeoutMs: options.sessionTimeoutMs,
      rebalanceTimeoutMs: options.rebalanceTimeoutMs,
      memberId: this.#memberId,
      groupInstanceId: options.groupInstanceId ?? null,
      protocolType: PROTOCOL_TYPE,
      protocols: this.#assignors.map((a) => ({ name: a.name, metadata })),
      reason: null,
    };
  }

  /** The leader's job: run the chosen assignor over every member's subscription. */
  async #assign(
    protocolName: string,
    members: { memberId: string; groupInstanceId: string | null; metadata: Buffer }[],
  ): Promise<{ memberId: string; assignment: Buffer }[]> {
    const assignor = this.#assignors.find((a) => a.name === protocolName);
    if (!assignor) throw new KafkaError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, `no local assignor "${protocolName}"`);
    const input: AssignorMember[] = [];
    for (const m of members) {
      let s: ReturnType<typeof decodeConsumerProtocolSubscription>;
      try {
        s = decodeEmbedded(decodeConsumerProtocolSubscription, m.metadata);
      } catch (err) {
        // One member's bytes must not stop the group: it gets nothing, and the others go on.
        const why = err instanceof Error ? err.message : String(err);
        this.#report(
          new ProtocolError(`member ${m.memberId}: subscription metadata does not decode (${why}); assigned nothing`, {
            cause: err,
          }),
          "assign",
        );
        continue;
      }
      input.push({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        topics: s.topics,
        ownedPartitions: s.ownedPartitions.flatMap((t) =>
          t.partitions.map((partition) => ({ topic: t.topic, partition })),
        ),
        generationId: s.generationId,
        rackId: s.rackId,
      });
    }
    const topics = [...new Set(input.flatMap((m) => m.topics))];
    const metadata = await this.#host.client.metadata(topics, { maxAgeMs: 0 });
    const partitionsPerTopic = new Map<string, number>();
    for (const name of topics) {
      const t = metadata.topics.get(name);
      if (t && t.errorCode === ErrorCode.NONE && t.partitions.length > 0)
        partitionsPerTopic.set(name, t.partitions.length);
    }
    const result = assignor.assign({ members: input, partitionsPerTopic });
    const empty = encodeEmbedded(encodeConsumerProtocolAssignment, { assignedPartitions: [], userData: null });
    const skipped = members
      .filter((m) => !input.some((i) => i.memberId === m.memberId))
      .map((m) => ({ memberId: m.memberId, assignment: empty }));
    const assigned = input.map((m) => ({
      memberId: m.memberId,
      assignment: encodeEmbedded(encodeConsumerProtocolAssignment, {
        assignedPartitions: grouped(result.get(m.memberId) ?? []).map((t) => ({
          topic: t.topic,
          partitions: t.partitions,
        })),
        userData: null,
      }),
    }));
    return [...assigned, ...skipped];
  }

  #startHeartbeats(): void {
    this.#stopHeartbeats();
    const interval = this.#host.options.heartbeatIntervalMs;
    // A token per chain: a tick that was in flight when heartbeats restarted must not fork a second chain.
    const token = {};
    this.#heartbeatToken = token;
    const tick = async () => {
      await this.#heartbeat();
      if (this.#heartbeatToken === token) this.#heartbeatTimer = setTimeout(tick, interval);
    };
    this.#heartbeatTimer = setTimeout(tick, interval);
  }

  #stopHeartbeats(): void {
    if (this.#heartbeatTimer) clearTimeout(this.#heartbeatTimer);
    this.#heartbeatTimer = undefined;
    this.#heartbeatToken = undefined;
  }

  async #heartbeat(): Promise<void> {
    if (this.#state !== "active" || this.#joining || this.#generation < 0) return;
    const { coordinator, options } = this.#host;
    try {
      const connection = await coordinator.connection(Heartbeat);
      const response = await connection.request(
        Heartbeat,
        {
          groupId: coordinator.groupId,
          generationId: this.#generation,
          memberId: this.#memberId,
          groupInstanceId: options.groupInstanceId ?? null,
        },
        { timeoutMs: coordinator.requestTimeoutMs },
      );
      const code = response.errorCode;
      if (code === ErrorCode.NONE || this.#state !== "active" || this.#joining) return;
      if (code === ErrorCode.REBALANCE_IN_PROGRESS) {
        // Heartbeats go on through the eager revoke (the session must not expire), and the
        // coordinator answers each of them REBALANCE_IN_PROGRESS until the JoinGroup arrives:
        // asking again would make the member join a second time right after this rebalance.
        if (!this.#rejoining) this.#requestRejoin();
      } else if (code === ErrorCode.UNKNOWN_MEMBER_ID || code === ErrorCode.ILLEGAL_GENERATION) {
        // The loop owns every change to the consumer's partitions: it handles the loss.
        this.#pendingLoss = code === ErrorCode.UNKNOWN_MEMBER_ID ? "member" : "generation";
        this.#stopHeartbeats();
        this.#requestRejoin();
      } else if (FATAL.has(code)) {
        this.#fail(kafkaError(code));
      } else if (needsCoordinatorLookup(kafkaError(code))) {
        coordinator.invalidate();
      }
    } catch {
      // The next heartbeat tries again; a dead coordinator is looked up again.
      coordinator.invalidate();
    }
  }

  async #matchPattern(pattern: RegExp): Promise<string[]> {
    const whole = new RegExp(`^(?:${pattern.source})$`);
    const names = await allTopics(this.#host.client, this.#controller.signal);
    return [...names.keys()].filter((name) => whole.test(name)).sort();
  }

  async #checkPattern(): Promise<void> {
    const s = this.#subscription;
    if (!s || !("pattern" in s) || this.#state !== "active") return;
    try {
      const now = await this.#matchPattern(s.pattern);
      if (now.join("\u0000") !== this.#topics.join("\u0000")) this.#requestRejoin();
    } catch {
      // Next time.
    }
  }
}
