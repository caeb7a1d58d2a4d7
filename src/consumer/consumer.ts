/**
 * The consumer's public face: `assign` or `subscribe`, iteration (`for await`, `batches()`),
 * `seek`, `pause`/`resume`, `commit`, `lag` and `close`. It owns the partition states and
 * ties together the fetcher (which fills the buffer), the reader (which empties it), the
 * starting-offset logic, commits (commits.ts), the errors waiting for the loop
 * (pending-errors.ts) and, with `subscribe`, a group membership (KIP-848 or classic) whose
 * rebalances rebalance.ts carries out.
 */

import type { BackgroundErrorContext } from "../network/background-errors.js";
import type { Cluster } from "../network/cluster.js";
import { newConnectionOwner } from "../network/connection-classes.js";
import type { ConsumerGroupMetadata, TransactionOffset } from "../producer/transaction-offsets.js";
import { ErrorCode } from "../protocol/error-table.js";
import { ClosedError, InvalidArgumentError } from "../protocol/errors.js";
import { kafkaError } from "../protocol/kafka-error.js";
import { ApiVersions, ConsumerGroupHeartbeat } from "../protocol/messages/index.js";
import {
  type AssignedPartition,
  type CommitOffset,
  type ConsumerLag,
  type ConsumerStats,
  checkPartition,
  checkSubscription,
  type ReadOptions,
  type RebalanceListener,
  type SeekTarget,
} from "./api.js";
import { Commits } from "./commits.js";
import { LogTruncationError, UnknownTopicError } from "./errors.js";
import { FetchBuffer } from "./fetch-buffer.js";
import { Fetcher } from "./fetcher.js";
import { ClassicGroupMember } from "./group/classic.js";
import { ConsumerGroupMember } from "./group/consumer-group.js";
import { GroupCoordinator } from "./group/coordinator.js";
import type { Membership, MembershipHost, Subscription } from "./group/membership.js";
import { ConsumerIterator, type ReadSource } from "./iterator.js";
import type { Message, MessageBatch } from "./message.js";
import type { MemberIdentity } from "./offsets.js";
import { type ConsumerOptions, type ResolvedConsumerOptions, resolveConsumerOptions } from "./options.js";
import { PartitionState, partitionKey, type TopicPartition } from "./partition.js";
import { PendingErrors } from "./pending-errors.js";
import { Positions } from "./positions.js";
import { type PENDING, RecordReader } from "./reader.js";
import { Rebalancer } from "./rebalance.js";

const NO_MEMBER: MemberIdentity = { memberId: "", generationIdOrMemberEpoch: -1, groupInstanceId: null };

/** How often a subscription to topics that do not exist looks again (and reports again). */
const TOPIC_RECHECK_MS = 30_000;

/** A Kafka consumer; see the module comment and docs/consumer.md. */
export class Consumer<K = Buffer | null, V = Buffer | null> implements AsyncIterable<Message<K, V>> {
  readonly #client: Cluster;
  readonly #options: ResolvedConsumerOptions;
  readonly #states = new Map<string, PartitionState>();
  readonly #buffer: FetchBuffer;
  readonly #reader: RecordReader<K, V>;
  readonly #fetcher: Fetcher;
  readonly #positions: Positions;
  readonly #coordinator: GroupCoordinator | undefined;
  /**
   * This consumer's connection owner: its Fetch long-polls and its group requests (it is one
   * member) get sockets of their own, so neither waits behind another consumer's held request.
   * Released on close.
   */
  readonly #owner = newConnectionOwner("consumer");
  #mode: "none" | "assign" | "subscribe" = "none";
  #membership: Membership | undefined;
  /** Errors for the loop to throw. */
  readonly #errors = new PendingErrors(
    (error, operation, state) => this.#background(error, operation, state),
    () => this.#buffer.wakeReaders(),
  );
  #subscription: Subscription | undefined;
  #topicCheck: NodeJS.Timeout | undefined;
  #fatal: Error | undefined;
  #iterating = false;
  #closing: Promise<void> | undefined;
  readonly #commits: Commits;
  readonly #rebalancer: Rebalancer;

  constructor(client: Cluster, options: ConsumerOptions<K, V> = {}) {
    this.#client = client;
    this.#options = resolveConsumerOptions(options as ConsumerOptions<unknown, unknown>, client.requestTimeoutMs);
    const o = this.#options;
    this.#buffer = new FetchBuffer(o.maxBufferedBytes);
    // The thread that reads fetch sockets starts now: its start-up overlaps the group join.
    client.prepareFetchThread();
    this.#reader = new RecordReader<K, V>(this.#buffer, {
      verifyCrc: o.checkCrcs,
      maxDecompressedBytes: o.maxDecompressedBytes,
      readCommitted: o.isolationLevel === "read_committed",
      maxBatchMessages: o.maxBatchMessages,
      keyDeserializer: options.keyDeserializer,
      valueDeserializer: options.valueDeserializer,
    });
    this.#coordinator =
      o.groupId === undefined
        ? undefined
        : new GroupCoordinator(client, o.groupId, this.#owner, o.requestTimeoutMs, o.retryBackoffMs);
    this.#fetcher = new Fetcher({
      client,
      owner: this.#owner,
      options: o,
      buffer: this.#buffer,
      partitions: () => this.#states.values(),
      outOfRange: (state) => this.#positions.outOfRange(state),
      failPartition: (state, error) => this.#report(error, state),
      fetchFailed: (state, error) => this.#errors.fetchFailed(error, state),
      truncated: (state, endOffset) => this.#truncated(state, endOffset),
    });
    this.#buffer.onSpace = () => this.#fetcher.wake();
    this.#positions = new Positions({
      client,
      options: o,
      coordinator: this.#coordinator,
      states: () => this.#states.values(),
      member: () => this.#membership?.offsetFetchIdentity() ?? { memberId: null, memberEpoch: -1 },
      ready: () => this.#fetcher.wake(),
      report: (error, state) => this.#report(error, state),
      fetchFailed: (state, error) => this.#errors.fetchFailed(error, state),
      signal: this.#fetcher.signal,
    });
    this.#commits = new Commits({
      coordinator: this.#coordinator,
      states: this.#states,
      member: () => this.#membership?.identity() ?? NO_MEMBER,
      assigned: (name, p) => this.#assigned(name, p),
      background: (error, operation) => this.#background(error, operation),
      groupId: o.groupId,
      instrumentation: client.instrumentation,
    });
    this.#rebalancer = new Rebalancer({
      options: o,
      states: this.#states,
      buffer: this.#buffer,
      reader: this.#reader,
      commits: this.#commits,
      positions: this.#positions,
      iterating: () => this.#iterating,
      closing: () => this.#closing !== undefined,
      report: (error) => this.#report(error),
      instrumentation: client.instrumentation,
    });
    if (o.groupId !== undefined && o.autoCommit) this.#commits.startAutoCommit(o.autoCommitIntervalMs);
  }

  /** The options in force, defaults applied. */
  get options(): Readonly<ResolvedConsumerOptions> {
    return this.#options;
  }

  /** The group member id (empty without a group, or before the classic coordinator gave one). */
  get memberId(): string {
    return this.#membership?.memberId ?? "";
  }

  /** The group protocol in use; undefined before `subscribe` started it. */
  get groupProtocol(): "consumer" | "classic" | undefined {
    return this.#membership?.protocol;
  }

  /** A snapshot of this consumer's counters (a new object each call). */
  stats(): ConsumerStats {
    return {
      fetch: { ...this.#fetcher.stats },
      bufferedBytes: this.#buffer.bufferedBytes,
      pendingErrors: this.#errors.size,
      ...this.#commits.stats,
      rebalances: this.#rebalancer.rebalances,
    };
  }

  /** The partitions this consumer reads now. */
  assignment(): TopicPartition[] {
    return [...this.#states.values()].map((s) => ({ topic: s.topic, partition: s.partition }));
  }

  /**
   * Reads exactly these partitions, without group membership (a group id is still used for
   * committed offsets). Replaces any earlier assignment. Starts at `offset`, else at the
   * committed offset, else where autoOffsetReset says.
   */
  assign(partitions: readonly AssignedPartition[]): void {
    this.#checkOpen();
    if (this.#mode === "subscribe") {
      throw new InvalidArgumentError("partitions", "this consumer subscribed; a consumer either assigns or subscribes");
    }
    if (!Array.isArray(partitions)) throw new InvalidArgumentError("partitions", "must be an array");
    const seen = new Set<string>();
    const list: AssignedPartition[] = partitions.map((p, i) => {
      const tp = checkPartition(`partitions[${i}]`, p);
      if (p.offset !== undefined && (typeof p.offset !== "bigint" || p.offset < 0n)) {
        throw new InvalidArgumentError(`partitions[${i}].offset`, `must be a bigint ≥ 0, got ${String(p.offset)}`);
      }
      const key = partitionKey(tp.topic, tp.partition);
      if (seen.has(key)) throw new InvalidArgumentError("partitions", `${tp.topic}-${tp.partition} is listed twice`);
      seen.add(key);
      return p.offset === undefined ? tp : { ...tp, offset: p.offset };
    });
    this.#mode = "assign";
    const gone = [...this.#states.values()].filter((s) => !seen.has(s.key));
    for (const s of gone) this.#states.delete(s.key);
    if (gone.length > 0) {
      this.#rebalancer.drop(gone);
      void this.#commits.consumed(gone, "commitOnAssign");
    }
    const added: PartitionState[] = [];
    for (const p of list) {
      const existing = this.#states.get(partitionKey(p.topic, p.partition));
      if (existing) {
        // Already read: keeps its position, unless an offset says where to go.
        if (p.offset !== undefined) {
          existing.moveTo(p.offset);
          this.#buffer.dropStale();
          this.#fetcher.wake();
        }
        continue;
      }
      const state = new PartitionState(p.topic, p.partition);
      if (p.offset !== undefined) state.moveTo(p.offset);
      this.#states.set(state.key, state);
      added.push(state);
    }
    this.#positions.start(added);
  }

  /**
   * Joins the group (needs `groupId`) and reads what it assigns: topic names, or a pattern
   * matched against every topic (KIP-848: by the broker, RE2 syntax; classic: by the client).
   * Calling it again changes the subscription.
   */
  subscribe(topics: string | readonly string[] | RegExp, listener: RebalanceListener = {}): void {
    this.#checkOpen();
    if (this.#coordinator === undefined) throw new InvalidArgumentError("groupId", "subscribe needs a groupId");
    if (this.#mode === "assign") {
      throw new InvalidArgumentError("topics", "this consumer uses assign(); a consumer either assigns or subscribes");
    }
    const subscription = checkSubscription(topics);
    if (listener === null || typeof listener !== "object")
      throw new InvalidArgumentError("listener", "must be an object");
    for (const name of ["assigned", "revoked", "lost"] as const) {
      if (listener[name] !== undefined && typeof listener[name] !== "function") {
        throw new InvalidArgumentError(`listener.${name}`, "must be a function");
      }
    }
    this.#mode = "subscribe";
    this.#rebalancer.listener = listener;
    this.#subscription = subscription;
    this.#checkTopics(subscription);
    if (this.#membership) {
      this.#membership.subscribe(subscription);
      return;
    }
    const host: MembershipHost = {
      client: this.#client,
      options: this.#options,
      coordinator: this.#coordinator,
      reconcile: (target) => this.#rebalancer.reconcile(target),
      lose: () => this.#rebalancer.lose(),
      fail: (error) => this.#failFatal(error),
      owned: () => this.assignment(),
    };
    const protocol = this.#options.groupProtocol;
    const membership =
      protocol === "classic"
        ? new ClassicGroupMember(host)
        : protocol === "consumer"
          ? new ConsumerGroupMember(host)
          : undefined;
    if (membership) {
      this.#membership = membership;
      membership.subscribe(subscription);
      return;
    }
    // No protocol chosen: KIP-848 when the coordinator speaks ConsumerGroupHeartbeat v1+ (Kafka 4.x).
    const pending: { subscription: Subscription } = { subscription };
    const starting = {
      protocol: "consumer" as const,
      memberId: "",
      subscribe: (s: Subscription) => {
        pending.subscription = s;
      },
      identity: () => NO_MEMBER,
      offsetFetchIdentity: () => ({ memberId: null, memberEpoch: -1 }),
      leave: (revoke: () => Promise<void>) => revoke(),
    };
    this.#membership = starting;
    this.#coordinator
      // Only the versions the connection negotiated are read: any request class will do.
      .call(
        ApiVersions,
        async (connection) => connection.versions?.broker.get(ConsumerGroupHeartbeat.apiKey)?.max ?? -1,
      )
      .then(
        (max) => {
          if (this.#closing || this.#membership !== starting) return;
          const chosen = max >= 1 ? new ConsumerGroupMember(host) : new ClassicGroupMember(host);
          this.#membership = chosen;
          chosen.subscribe(pending.subscription);
        },
        (error: unknown) => this.#failFatal(error as Error),
      );
  }

  /**
   * Subscribed topics that do not exist are reported (client `error` event, UnknownTopicError
   * naming the metadata error), then looked at again every TOPIC_RECHECK_MS until they exist:
   * the member waits for them, as Java's does, but not silently.
   */
  #checkTopics(subscription: Subscription): void {
    if (this.#topicCheck) clearTimeout(this.#topicCheck);
    this.#topicCheck = undefined;
    if (!("topics" in subscription)) return;
    const topics = subscription.topics;
    const context = { source: "consumer", operation: "subscribe", groupId: this.#options.groupId } as const;
    this.#client.metadata(topics, { maxAgeMs: 0 }).then(
      (metadata) => {
        if (this.#closing || this.#subscription !== subscription) return;
        this.#fetcher.preconnect(topics);
        let missing = false;
        for (const topic of topics) {
          const t = metadata.topics.get(topic);
          if (t !== undefined && t.errorCode === ErrorCode.NONE) continue;
          missing = true;
          const cause = kafkaError(t?.errorCode ?? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
          this.#client.reportError(new UnknownTopicError(topic, cause), { ...context, topic });
        }
        if (!missing) return;
        this.#topicCheck = setTimeout(() => this.#checkTopics(subscription), TOPIC_RECHECK_MS);
        this.#topicCheck.unref();
      },
      (error: unknown) => {
        if (!this.#closing) this.#client.reportError(error as Error, context);
      },
    );
  }

  /** Async iteration over messages, one at a time (`for await (const m of consumer)`). */
  [Symbol.asyncIterator](): AsyncIterableIterator<Message<K, V>> {
    return this.messages();
  }

  /** Messages one at a time; the signal ends the iteration. */
  messages(options: ReadOptions = {}): AsyncIterableIterator<Message<K, V>> {
    return new ConsumerIterator(
      this.#source(() => this.#reader.nextMessage()),
      options.signal,
      (m) => ({
        clientId: this.#client.instrumentation.clientId,
        groupId: this.#options.groupId ?? null,
        topic: m.topic,
        partition: m.partition,
        record: m,
      }),
    );
  }

  /**
   * Batches of one partition's fetched records, at most `maxBatchMessages` each: the fast path
   * (no promise per record).
   */
  batches(options: ReadOptions = {}): AsyncIterableIterator<MessageBatch<K, V>> {
    return new ConsumerIterator(
      this.#source(() => this.#reader.nextBatch()),
      options.signal,
      (b) => ({
        clientId: this.#client.instrumentation.clientId,
        groupId: this.#options.groupId ?? null,
        topic: b.topic,
        partition: b.partition,
        records: b.messages,
      }),
    );
  }

  /**
   * Puts partitions (default: every assigned one) back at the group's committed offset, or
   * where the reset policy says when there is none: what an application does after aborting a
   * transaction, so that the records of the aborted batch are handed out again. Buffered data
   * is dropped; with read_committed the lookup waits for transactions still settling (KIP-447).
   */
  seekToCommitted(partitions?: readonly TopicPartition[]): void {
    this.#checkOpen();
    if (this.#options.groupId === undefined) {
      throw new InvalidArgumentError("groupId", "seekToCommitted needs a groupId");
    }
    const states =
      partitions === undefined
        ? [...this.#states.values()]
        : partitions.map((tp, i) => this.#assigned(`partitions[${i}]`, tp));
    for (const s of states) s.restartFromCommitted();
    this.#buffer.dropStale();
    this.#positions.start(states);
  }

  /** Moves a partition: the next message handed out is at `offset` (or the log's start or end). */
  seek(target: SeekTarget): void {
    this.#checkOpen();
    const state = this.#assigned("target", target);
    const offset = target.offset;
    if (offset === "earliest" || offset === "latest") {
      this.#positions.reset(state, offset);
      this.#buffer.dropStale();
      return;
    }
    if (typeof offset !== "bigint" || offset < 0n) {
      throw new InvalidArgumentError(
        "target.offset",
        `must be a bigint ≥ 0, "earliest" or "latest", got ${String(offset)}`,
      );
    }
    state.moveTo(offset);
    this.#buffer.dropStale();
    this.#fetcher.wake();
  }

  /** Stops fetching and handing out these partitions until `resume`; buffered data is dropped. */
  pause(partitions: readonly TopicPartition[]): void {
    this.#checkOpen();
    const states = partitions.map((p, i) => this.#assigned(`partitions[${i}]`, p));
    for (const s of states) s.pause();
    this.#buffer.dropStale();
  }

  /** Fetches paused partitions again, from where the application stopped. */
  resume(partitions: readonly TopicPartition[]): void {
    this.#checkOpen();
    const states = partitions.map((p, i) => this.#assigned(`partitions[${i}]`, p));
    for (const s of states) s.resume();
    this.#fetcher.wake();
  }

  /** The paused partitions. */
  paused(): TopicPartition[] {
    return [...this.#states.values()].filter((s) => s.paused).map((s) => ({ topic: s.topic, partition: s.partition }));
  }

  /** Next offset to be handed out for a partition; undefined before its start offset is known. */
  position(partition: TopicPartition): bigint | undefined {
    return this.#assigned("partition", partition).position;
  }

  /** Lag per assigned partition, from the last fetch of each. */
  lag(): ConsumerLag[] {
    const readCommitted = this.#options.isolationLevel === "read_committed";
    return [...this.#states.values()].map((s) => {
      const endOffset = readCommitted && s.lastStableOffset >= 0n ? s.lastStableOffset : s.highWatermark;
      const position = s.position;
      const lag =
        position === undefined || endOffset < 0n ? undefined : endOffset > position ? endOffset - position : 0n;
      return { topic: s.topic, partition: s.partition, position, endOffset, lag };
    });
  }

  /**
   * Commits offsets to the group: with no argument, everything the application is done
   * with (each record handed out before the one it is working on now); or the given offsets
   * (each the offset of the next record to read), which must be of assigned partitions.
   */
  async commit(offsets?: readonly CommitOffset[]): Promise<void> {
    if (this.#coordinator === undefined) throw new InvalidArgumentError("groupId", "commit needs a groupId");
    // Closing runs the revoked listener, which may still commit (the partitions are still ours).
    if (this.#closing && !this.#rebalancer.inListener) throw new ClosedError("consumer");
    if (offsets === undefined) return this.#commits.consumed([...this.#states.values()]);
    return this.#commits.explicit(offsets);
  }

  /**
   * The member as the group coordinator knows it now (Java's `ConsumerGroupMetadata`): what
   * a transaction's offset commit names, so that the coordinator refuses the offsets of a
   * member a rebalance replaced (KIP-447). `generationIdOrMemberEpoch` is the classic group's
   * generation or the KIP-848 member epoch; -1 and "" before the first join (or with `assign`).
   */
  groupMetadata(): ConsumerGroupMetadata {
    const groupId = this.#options.groupId;
    if (groupId === undefined) throw new InvalidArgumentError("groupId", "groupMetadata needs a groupId");
    const member = this.#membership?.identity() ?? NO_MEMBER;
    return {
      groupId,
      memberId: member.memberId,
      generationIdOrMemberEpoch: member.generationIdOrMemberEpoch,
      groupInstanceId: member.groupInstanceId,
    };
  }

  /**
   * The offsets a transaction commits for this consumer (`producer.sendOffsets(consumer)`):
   * each assigned partition's position, the next record to hand out, so every record handed
   * out so far counts as processed, the batch in hand included (unlike `commit()`, which
   * stops before it). Partitions still at the offset the group had committed are left out. Refused with `autoCommit` on: the consumer would also commit offsets
   * outside the transactions, past records of transactions that then abort.
   */
  transactionOffsets(): TransactionOffset[] {
    if (this.#options.autoCommit) {
      throw new InvalidArgumentError(
        "autoCommit",
        "must be false for a consumer whose offsets transactions commit (it would commit past aborted work)",
      );
    }
    const offsets: TransactionOffset[] = [];
    for (const s of this.#states.values()) {
      const position = s.position;
      // Already the group's committed offset (nothing handed out since): nothing to add.
      if (position === undefined || s.error !== undefined || position === s.committed) continue;
      offsets.push({ topic: s.topic, partition: s.partition, offset: position, leaderEpoch: s.recordLeaderEpoch });
    }
    return offsets;
  }

  /**
   * Stops: ends iteration, commits what the application is done with (auto-commit), tells
   * the revoke listener, leaves the group. The client stays open. A loop running now ends
   * quietly; calls made afterwards (a new loop, commit, seek, …) throw ClosedError. Errors of
   * the final commit and of leaving go to the client's `error` event.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#buffer.wakeReaders();
    this.#commits.stopAutoCommit();
    if (this.#topicCheck) clearTimeout(this.#topicCheck);
    this.#fetcher.stop();
    this.#reader.commitLast();
    this.#rebalancer.released();
    const states = [...this.#states.values()];
    if (this.#membership && this.#fatal === undefined) {
      await this.#membership
        .leave(() => this.#rebalancer.revoke([...this.#states.values()], "commitOnClose"))
        .catch((error: unknown) => this.#background(error, "leaveGroup"));
    } else if (this.#coordinator && this.#options.autoCommit && this.#fatal === undefined) {
      await this.#commits.consumed(states, "commitOnClose");
    }
    this.#rebalancer.drop([...this.#states.values()]);
    this.#states.clear();
    this.#reader.clear();
    this.#buffer.clear();
    // After the leave (which went out on the member's group socket): nothing of this
    // consumer uses its fetch or group sockets any more.
    this.#client.releaseConnections(this.#owner);
  }

  #checkOpen(): void {
    if (this.#closing) throw new ClosedError("consumer");
  }

  #assigned(name: string, p: TopicPartition): PartitionState {
    const tp = checkPartition(name, p);
    const state = this.#states.get(partitionKey(tp.topic, tp.partition));
    if (!state) throw new InvalidArgumentError(name, `${tp.topic}-${tp.partition} is not assigned to this consumer`);
    return state;
  }

  #source<T>(take: () => T | undefined | typeof PENDING): ReadSource<T> {
    this.#checkOpen();
    if (this.#mode === "none") {
      // Java's poll throws IllegalStateException here: without this the loop would wait for ever.
      throw new InvalidArgumentError(
        "consumer",
        "is neither subscribed nor assigned: call subscribe() or assign() before reading",
      );
    }
    if (this.#iterating) {
      throw new InvalidArgumentError("consumer", "is already being iterated; end the other loop first");
    }
    this.#iterating = true;
    const consumer = this;
    return {
      take: () => {
        // Closing: nothing more is handed out (nor thrown); the iterator then sees `ended`.
        if (this.#closing !== undefined) return undefined;
        if (this.#fatal !== undefined) throw this.#fatal;
        if (this.#errors.size > 0) {
          this.#reader.commitLast();
          throw this.#errors.shift();
        }
        const item = take();
        if (this.#rebalancer.waiting) this.#rebalancer.released();
        return item;
      },
      wait: (signal) => this.#wait(signal),
      get ended() {
        return consumer.#closing !== undefined;
      },
      finish: () => {
        this.#reader.commitLast();
        this.#iterating = false;
        this.#rebalancer.released();
      },
    };
  }

  async #wait(signal: AbortSignal | undefined): Promise<void> {
    const decoding = this.#reader.decoding;
    if (decoding) return decoding;
    if (this.#errors.size > 0 || this.#fatal !== undefined || this.#closing) return;
    if (this.#buffer.length > 0) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        signal?.removeEventListener("abort", done);
        resolve();
      };
      signal?.addEventListener("abort", done, { once: true });
      this.#buffer.waitForData().then(done);
    });
  }

  /** Reports an error through the iterator; a partition error stops that partition until a seek. */
  #report(error: Error, state?: PartitionState): void {
    if (state) {
      state.fail(error);
      this.#buffer.dropStale();
    }
    this.#errors.enqueue(error, state);
  }

  /** An error no caller waits for: to the client's `error` event (or one stderr line). */
  #background(error: unknown, operation: string, state?: PartitionState): void {
    const context: BackgroundErrorContext = { source: "consumer", operation };
    if (this.#options.groupId !== undefined) context.groupId = this.#options.groupId;
    if (state) {
      context.topic = state.topic;
      context.partition = state.partition;
    }
    this.#client.reportError(error instanceof Error ? error : new Error(String(error)), context);
  }

  /**
   * KIP-320: the new leader's log ends at `endOffset`, before the fetch position. Prefetched
   * data past it is dropped; if records past it were handed out, the position moves back to
   * it (Java's choice), or with autoOffsetReset "none" the partition stops.
   */
  #truncated(state: PartitionState, endOffset: bigint): void {
    const position = state.position;
    if (position !== undefined && endOffset < position) {
      if (this.#options.autoOffsetReset === "none") {
        this.#report(new LogTruncationError(state.topic, state.partition, position, endOffset), state);
        return;
      }
      state.moveTo(endOffset);
    } else {
      state.rewind();
    }
    this.#buffer.dropStale();
    this.#fetcher.wake();
  }

  #failFatal(error: Error): void {
    if (this.#fatal !== undefined || this.#closing) return;
    this.#fatal = error;
    this.#fetcher.stop();
    this.#buffer.wakeReaders();
  }
}
