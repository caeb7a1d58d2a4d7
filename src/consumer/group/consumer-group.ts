/**
 * KIP-848 group membership: the broker assigns. The member heartbeats (ConsumerGroupHeartbeat,
 * on its own "group" connection to the coordinator, on its own timer) with a client-made member id and
 * its epoch; a response may carry a new target assignment (topic ids), which the member
 * reconciles (revoke: stop, commit, listener; then assign) and acknowledges by sending what it
 * owns in the next heartbeat, sent at once. FENCED_MEMBER_EPOCH / UNKNOWN_MEMBER_ID: the
 * partitions are lost and the member rejoins at epoch 0. Leaving sends epoch -1 (-2 static).
 *
 * Only the FATAL codes end membership. Any other heartbeat error is retried with backoff (the
 * next heartbeat restates every field); one Kafka does not mark retriable is also reported
 * once per streak to the client's `error` event, as the classic path does after a failed join.
 */
import { randomBytes } from "node:crypto";
import { backoffDelay } from "../../network/backoff.js";
import { isRetriable, needsCoordinatorLookup } from "../../network/retry.js";
import { ErrorCode } from "../../protocol/error-table.js";
import { ClosedError, UnsupportedVersionError } from "../../protocol/errors.js";
import { kafkaError } from "../../protocol/kafka-error.js";
import {
  ConsumerGroupHeartbeat,
  type ConsumerGroupHeartbeatRequest,
  type ConsumerGroupHeartbeatResponseTopicPartitions,
} from "../../protocol/messages/index.js";
import type { MemberIdentity } from "../offsets.js";
import type { TopicPartition } from "../partition.js";
import {
  type Membership,
  type MembershipHost,
  reportFenced,
  reportJoined,
  type Subscription,
  topicNamesOf,
} from "./membership.js";

const LEAVE_EPOCH = -1;
const STATIC_LEAVE_EPOCH = -2;

/** Heartbeat errors after which the member starts over at epoch 0, its partitions lost. */
const REJOIN = new Set<number>([ErrorCode.FENCED_MEMBER_EPOCH, ErrorCode.UNKNOWN_MEMBER_ID]);
/**
 * Heartbeat errors after which no later heartbeat can succeed: membership ends and the
 * iterator throws. Java's ConsumerHeartbeatRequestManager fails the consumer on the same
 * named codes: GROUP_AUTHORIZATION_FAILED (needs an ACL change), INVALID_REQUEST and
 * UNSUPPORTED_VERSION (this client and that broker disagree on the protocol),
 * GROUP_MAX_SIZE_REACHED, UNSUPPORTED_ASSIGNOR and INVALID_REGULAR_EXPRESSION (the group's
 * or this consumer's configuration). FENCED_INSTANCE_ID and INVALID_GROUP_ID end the classic
 * path too: another process holds the static instance id, or the id is refused outright.
 *
 * Not here, unlike Java:
 * - UNRELEASED_INSTANCE_ID (Java fails): a static member restarting before its crashed
 *   predecessor's session ran out; waiting lets the old session expire and this member take
 *   the instance id over.
 * - Codes Java does not name (its default fails the consumer): UNKNOWN_SERVER_ERROR, say, may
 *   be one coordinator's passing trouble; they are reported once and retried, as classic does.
 * - TOPIC_AUTHORIZATION_FAILED: Java reports it from poll() and keeps the member as it is,
 *   so it recovers once the ACLs are added; here it is reported and retried the same way.
 */
const FATAL = new Set<number>([
  ErrorCode.GROUP_AUTHORIZATION_FAILED,
  ErrorCode.INVALID_REQUEST,
  ErrorCode.UNSUPPORTED_VERSION,
  ErrorCode.GROUP_MAX_SIZE_REACHED,
  ErrorCode.UNSUPPORTED_ASSIGNOR,
  ErrorCode.INVALID_REGULAR_EXPRESSION,
  ErrorCode.FENCED_INSTANCE_ID,
  ErrorCode.INVALID_GROUP_ID,
]);

/** A KIP-848 group member; see the module comment. */
export class ConsumerGroupMember implements Membership {
  readonly protocol = "consumer" as const;
  readonly #host: MembershipHost;
  /** KIP-848 v1: the client makes the member id and keeps it for the consumer's life. */
  #memberId = randomBytes(16).toString("base64url");
  #epoch = 0;
  #subscription: Subscription | undefined;
  #subscriptionVersion = 0;
  #subscriptionSent = -1;
  /** Bumped after each reconciliation: owned partitions to acknowledge. */
  #ownedVersion = 0;
  #ownedSent = -1;
  /** The next heartbeat carries every field (join, rejoin, after a failed heartbeat). */
  #full = true;
  /**
   * The coordinator's heartbeat interval. Until an answer names one (and for an answer that
   * says 0), heartbeatIntervalMs: starting at 0 made every heartbeat follow the last at once.
   */
  #intervalMs: number;
  #failures = 0;
  #timer: NodeJS.Timeout | undefined;
  #beating: Promise<void> | undefined;
  #beatAgain = false;
  #state: "active" | "leaving" | "stopped" = "active";
  /** The heartbeat error last reported: a streak of the same one is reported once. */
  #reported: string | undefined;
  /** Latest target from the coordinator (topic ids), and whether it is reconciled. */
  #target: ConsumerGroupHeartbeatResponseTopicPartitions[] | undefined;
  #targetVersion = 0;
  #reconciledVersion = 0;
  /** Reconciliations and losses run one at a time, in order. */
  #work: Promise<void> = Promise.resolve();
  #reconcileQueued = false;
  readonly #topicIds = new Map<string, string>();

  constructor(host: MembershipHost) {
    this.#host = host;
    this.#intervalMs = host.options.heartbeatIntervalMs;
  }

  /** See {@link Membership}. */
  get memberId(): string {
    return this.#memberId;
  }

  /** The member epoch (0 before joining). */
  get memberEpoch(): number {
    return this.#epoch;
  }

  subscribe(subscription: Subscription): void {
    this.#subscription = subscription;
    this.#subscriptionVersion++;
    this.#beatSoon();
  }

  identity(): MemberIdentity {
    return {
      memberId: this.#memberId,
      generationIdOrMemberEpoch: this.#epoch,
      groupInstanceId: this.#host.options.groupInstanceId ?? null,
    };
  }

  offsetFetchIdentity(): { memberId: string | null; memberEpoch: number } {
    return { memberId: this.#memberId, memberEpoch: this.#epoch };
  }

  async leave(revoke: () => Promise<void>): Promise<void> {
    if (this.#state !== "active") return revoke();
    this.#state = "leaving";
    if (this.#timer) clearTimeout(this.#timer);
    await this.#beating;
    await this.#work;
    await revoke();
    this.#state = "stopped";
    // Never joined: nothing to leave.
    if (this.#epoch === 0 && this.#ownedSent === -1 && this.#subscriptionSent === -1) return;
    const o = this.#host.options;
    try {
      const connection = await this.#host.coordinator.connection(ConsumerGroupHeartbeat);
      await connection.request(
        ConsumerGroupHeartbeat,
        {
          groupId: this.#host.coordinator.groupId,
          memberId: this.#memberId,
          memberEpoch: o.groupInstanceId !== undefined ? STATIC_LEAVE_EPOCH : LEAVE_EPOCH,
          instanceId: o.groupInstanceId ?? null,
          rackId: null,
          rebalanceTimeoutMs: -1,
          subscribedTopicNames: null,
          subscribedTopicRegex: null,
          serverAssignor: null,
          topicPartitions: null,
        },
        { timeoutMs: this.#host.coordinator.requestTimeoutMs },
      );
    } catch (err) {
      // Leaving is a courtesy: without it the session times out. Still, say why it failed.
      this.#host.client.reportError(err as Error, {
        source: "consumer",
        operation: "leaveGroup",
        groupId: this.#host.coordinator.groupId,
      });
    }
  }

  /** Sends a heartbeat now, or right after the one in flight. */
  #beatSoon(): void {
    if (this.#state !== "active") return;
    if (this.#beating) {
      this.#beatAgain = true;
      return;
    }
    this.#schedule(0);
  }

  #schedule(ms: number): void {
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#state !== "active") return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#beating = this.#beat().finally(() => {
        this.#beating = undefined;
      });
    }, ms);
  }

  async #beat(): Promise<void> {
    const subscription = this.#subscription;
    if (subscription === undefined) return;
    const o = this.#host.options;
    const coordinator = this.#host.coordinator;
    const full = this.#full;
    const subscriptionVersion = this.#subscriptionVersion;
    const ownedVersion = this.#ownedVersion;
    const sendSubscription = full || subscriptionVersion !== this.#subscriptionSent;
    const sendOwned = full || ownedVersion !== this.#ownedSent;
    const request: ConsumerGroupHeartbeatRequest = {
      groupId: coordinator.groupId,
      memberId: this.#memberId,
      memberEpoch: this.#epoch,
      instanceId: full ? (o.groupInstanceId ?? null) : null,
      rackId: full ? (o.rackId ?? null) : null,
      rebalanceTimeoutMs: full ? o.rebalanceTimeoutMs : -1,
      subscribedTopicNames: sendSubscription && "topics" in subscription ? [...subscription.topics] : null,
      subscribedTopicRegex: sendSubscription && "pattern" in subscription ? subscription.pattern.source : null,
      serverAssignor: full ? (o.serverAssignor ?? null) : null,
      topicPartitions: sendOwned ? this.#ownedByTopicId() : null,
    };
    let delay: number;
    try {
      const connection = await coordinator.connection(ConsumerGroupHeartbeat);
      const response = await connection.request(ConsumerGroupHeartbeat, request, {
        timeoutMs: coordinator.requestTimeoutMs,
      });
      if (this.#state !== "active") return;
      const code = response.errorCode;
      if (code === ErrorCode.NONE) {
        this.#failures = 0;
        this.#reported = undefined;
        this.#full = false;
        this.#subscriptionSent = subscriptionVersion;
        this.#ownedSent = ownedVersion;
        // A v0 coordinator makes the member id itself.
        if (response.memberId) this.#memberId = response.memberId;
        const joined = this.#epoch === 0 && response.memberEpoch > 0;
        this.#epoch = response.memberEpoch;
        if (joined) reportJoined(this.#host, this.#memberId, this.#epoch, "consumer");
        if (response.heartbeatIntervalMs > 0) this.#intervalMs = response.heartbeatIntervalMs;
        if (response.assignment !== null) {
          this.#target = response.assignment.topicPartitions;
          this.#targetVersion++;
          this.#queueReconcile();
        }
        delay = this.#intervalMs;
      } else if (REJOIN.has(code)) {
        reportFenced(this.#host, this.#memberId, code);
        this.#rejoin();
        return;
      } else {
        const error = kafkaError(code, response.errorMessage);
        if (FATAL.has(code)) {
          this.#state = "stopped";
          this.#host.fail(error);
          return;
        }
        if (needsCoordinatorLookup(error)) coordinator.invalidate();
        // Passing trouble (loading, moving) is retried quietly; anything else is said once.
        else if (!isRetriable(error) && code !== ErrorCode.UNRELEASED_INSTANCE_ID) this.#reportOnce(error);
        // Refused, so not applied: the next heartbeat restates every field to be safe.
        this.#full = true;
        delay = this.#backoff();
      }
    } catch (err) {
      if (this.#state !== "active") return;
      // No broker this client can speak ConsumerGroupHeartbeat with, or the client closed:
      // no later heartbeat can go out either.
      if (err instanceof UnsupportedVersionError || err instanceof ClosedError) {
        this.#state = "stopped";
        this.#host.fail(err);
        return;
      }
      // A response that did not decode, say: a later one may; said once meanwhile.
      if (!isRetriable(err)) this.#reportOnce(err);
      // The broker may or may not have seen it: the next heartbeat restates everything.
      this.#full = true;
      coordinator.invalidate();
      delay = this.#backoff();
    }
    // Something to tell (an acknowledgement, a new subscription) goes out now, unless backing off.
    if (this.#beatAgain && this.#failures === 0) delay = 0;
    this.#beatAgain = false;
    this.#schedule(delay);
  }

  #reportOnce(error: unknown): void {
    const what = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    if (this.#reported === what) return;
    this.#reported = what;
    this.#host.client.reportError(error instanceof Error ? error : new Error(what), {
      source: "consumer",
      operation: "heartbeat",
      groupId: this.#host.coordinator.groupId,
    });
  }

  #backoff(): number {
    const o = this.#host.options;
    return backoffDelay(this.#failures++, { floorMs: Math.max(1, o.retryBackoffMs), ceilingMs: 5_000 });
  }

  /** Fenced or unknown: the partitions are lost (no commit: the epoch is dead); join again at 0. */
  #rejoin(): void {
    this.#epoch = 0;
    this.#full = true;
    this.#target = undefined;
    this.#reconciledVersion = this.#targetVersion;
    this.#work = this.#work
      .then(() => this.#host.lose())
      .catch((err: unknown) =>
        this.#host.client.reportError(err as Error, {
          source: "consumer",
          operation: "rejoin",
          groupId: this.#host.coordinator.groupId,
        }),
      )
      .then(() => {
        this.#ownedVersion++;
        this.#beatSoon();
      });
  }

  #queueReconcile(): void {
    if (this.#reconcileQueued) return;
    this.#reconcileQueued = true;
    this.#work = this.#work.then(async () => {
      this.#reconcileQueued = false;
      await this.#reconcile();
    });
  }

  async #reconcile(): Promise<void> {
    const target = this.#target;
    const version = this.#targetVersion;
    if (target === undefined || version === this.#reconciledVersion || this.#state !== "active") return;
    let names: Map<string, string>;
    try {
      names = await topicNamesOf(
        this.#host.client,
        target.map((t) => t.topicId),
      );
    } catch {
      setTimeout(() => this.#queueReconcile(), this.#backoff()).unref();
      return;
    }
    const partitions: TopicPartition[] = [];
    let unresolved = false;
    for (const t of target) {
      const name = names.get(t.topicId);
      if (name === undefined) {
        unresolved = true;
        continue;
      }
      this.#topicIds.set(name, t.topicId);
      for (const partition of t.partitions) partitions.push({ topic: name, partition });
    }
    await this.#host.reconcile(partitions);
    if (this.#epoch === 0 || this.#targetVersion !== version) return; // fenced meanwhile, or newer news
    this.#reconciledVersion = version;
    this.#ownedVersion++;
    this.#beatSoon();
    if (unresolved) {
      // A topic id the metadata does not know yet (just created): try again shortly.
      this.#reconciledVersion = -1;
      setTimeout(() => this.#queueReconcile(), 1_000).unref();
    }
  }

  #ownedByTopicId(): { topicId: string; partitions: number[] }[] {
    const byTopic = new Map<string, number[]>();
    for (const tp of this.#host.owned()) {
      const id = this.#topicIds.get(tp.topic) ?? this.#host.client.cachedMetadata.topics.get(tp.topic)?.topicId;
      if (id === undefined) continue;
      const list = byTopic.get(id);
      if (list) list.push(tp.partition);
      else byTopic.set(id, [tp.partition]);
    }
    return [...byTopic].map(([topicId, partitions]) => ({ topicId, partitions }));
  }
}
