/**
 * Where each partition starts: the seek the application made, else the group's committed
 * offset (OffsetFetch), else autoOffsetReset (ListOffsets for the log's start or end), or a
 * NoOffsetForPartitionError with "none". Also resets after OFFSET_OUT_OF_RANGE. Runs in the
 * background, retrying what may succeed later, and never overrides a seek made meanwhile.
 */
import { InvalidArgumentError, TimeoutError } from "../errors.js";
import { backoffDelay, sleep } from "../network/backoff.js";
import type { Client } from "../network/client.js";
import { isRetriable } from "../protocol/kafka-error.js";
import { NoOffsetForPartitionError, OffsetOutOfRangeError } from "./errors.js";
import type { GroupCoordinator } from "./group/coordinator.js";
import {
  type CommitEntry,
  commitOffsets,
  EARLIEST_TIMESTAMP,
  fetchCommittedOffsets,
  LATEST_TIMESTAMP,
  listOffsets,
  type MemberIdentity,
} from "./offsets.js";
import type { ResolvedConsumerOptions } from "./options.js";
import type { PartitionState } from "./partition.js";

/** What positions need from the consumer. */
export interface PositionsHost {
  client: Client;
  options: ResolvedConsumerOptions;
  coordinator: GroupCoordinator | undefined;
  states(): Iterable<PartitionState>;
  /** OffsetFetch's member fields (KIP-848 members are checked by epoch). */
  member(): { memberId: string | null; memberEpoch: number };
  /** Some partitions got positions: fetching may start. */
  ready(): void;
  /** Reports an error through the iterator; with a state, that partition stops. */
  report(error: Error, state?: PartitionState): void;
  /** Aborts lookups when the consumer closes. */
  signal: AbortSignal;
}

/** Starting offsets and resets; see the module comment. */
export class Positions {
  readonly #host: PositionsHost;
  #running = false;
  #again = false;

  constructor(host: PositionsHost) {
    this.#host = host;
  }

  /** Finds starting offsets for `states` that have none yet (and any other such partition). */
  start(states: readonly PartitionState[]): void {
    if (states.length === 0) return;
    const topics = [...new Set(states.map((s) => s.topic))];
    // Track the topics now, so the fetcher knows their leaders as soon as positions exist.
    this.#host.client.metadata(topics).catch(() => {});
    if (states.some((s) => s.fetchOffset === undefined)) this.#run();
    else this.#host.ready();
  }

  /** Moves a partition to the log's start or end (a seek, or the reset policy). */
  reset(state: PartitionState, where: "earliest" | "latest"): void {
    state.startReset(where);
    this.#run();
  }

  /** A fetch got OFFSET_OUT_OF_RANGE: reset per autoOffsetReset, or stop the partition with an error. */
  outOfRange(state: PartitionState): void {
    const policy = this.#host.options.autoOffsetReset;
    if (policy === "none") {
      this.#host.report(new OffsetOutOfRangeError(state.topic, state.partition, state.fetchOffset ?? -1n), state);
    } else {
      this.reset(state, policy);
    }
  }

  /**
   * Commits offsets on the coordinator. Not tied to the consumer's signal: the commit on
   * close runs after fetching stopped.
   */
  commit(entries: readonly CommitEntry[], member: () => MemberIdentity): Promise<void> {
    const coordinator = this.#host.coordinator;
    if (!coordinator) return Promise.reject(new InvalidArgumentError("groupId", "commit needs a groupId"));
    return commitOffsets(coordinator, entries, member);
  }

  #run(): void {
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = true;
    this.#loop().finally(() => {
      this.#running = false;
    });
  }

  async #loop(): Promise<void> {
    const { signal, options } = this.#host;
    for (let attempt = 0; !signal.aborted; ) {
      this.#again = false;
      const pending = [...this.#host.states()].filter(
        (s) => !s.revoked && s.error === undefined && s.fetchOffset === undefined,
      );
      if (pending.length === 0) return;
      try {
        await this.#resolve(pending);
        attempt = 0;
        this.#host.ready();
      } catch (err) {
        if (signal.aborted) return;
        if (!isRetriable(err) && !(err instanceof TimeoutError)) {
          this.#host.report(err as Error);
          if (!this.#again) return;
          continue;
        }
        const wait = backoffDelay(attempt++, { floorMs: Math.max(1, options.retryBackoffMs), ceilingMs: 5_000 });
        await sleep(wait, signal).catch(() => {});
      }
    }
  }

  async #resolve(pending: PartitionState[]): Promise<void> {
    const { client, options, coordinator, signal } = this.#host;
    const readCommitted = options.isolationLevel === "read_committed";
    const policy = options.autoOffsetReset;
    const topics = [...new Set(pending.map((s) => s.topic))];
    const metadata = await client.metadata(topics, { signal });
    for (const s of pending) {
      const t = metadata.topics.get(s.topic);
      if (t && t.errorCode === 0 && t.partitions.length > 0 && s.partition >= t.partitions.length) {
        this.#host.report(
          new InvalidArgumentError("partition", `${s.topic} has ${t.partitions.length} partitions; got ${s.partition}`),
          s,
        );
      }
    }
    const lookup = pending.filter((s) => s.resetTo === undefined && s.error === undefined);
    if (lookup.length > 0) {
      const generations = new Map(lookup.map((s) => [s, s.generation]));
      const committed = coordinator
        ? await fetchCommittedOffsets(coordinator, lookup, this.#host.member, readCommitted, signal)
        : new Map();
      for (const s of lookup) {
        // A seek (or revoke) while OffsetFetch ran wins over what it found.
        if (s.generation !== generations.get(s) || s.fetchOffset !== undefined || s.revoked) continue;
        const c = committed.get(s.key);
        if (c) {
          s.moveTo(c.offset);
          s.committed = c.offset;
          s.recordLeaderEpoch = c.leaderEpoch;
        } else if (policy === "none") {
          this.#host.report(new NoOffsetForPartitionError(s.topic, s.partition), s);
        } else {
          s.resetTo = policy;
        }
      }
    }
    const reset = pending.filter(
      (s) => s.resetTo !== undefined && s.fetchOffset === undefined && s.error === undefined && !s.revoked,
    );
    if (reset.length === 0) return;
    const generations = new Map(reset.map((s) => [s, s.generation]));
    const offsets = await listOffsets(
      client,
      reset.map((s) => ({
        topic: s.topic,
        partition: s.partition,
        timestamp: s.resetTo === "earliest" ? EARLIEST_TIMESTAMP : LATEST_TIMESTAMP,
      })),
      readCommitted,
      options.retryBackoffMs,
      signal,
    );
    for (const s of reset) {
      if (s.generation !== generations.get(s) || s.fetchOffset !== undefined || s.revoked) continue;
      const offset = offsets.get(s.key);
      if (offset !== undefined) s.moveTo(offset);
    }
  }
}
