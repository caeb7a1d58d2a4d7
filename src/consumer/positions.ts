/**
 * Where each partition starts: the seek the application made, else the group's committed
 * offset (OffsetFetch), else autoOffsetReset (ListOffsets for the log's start or end), or a
 * NoOffsetForPartitionError with "none". Also resets after OFFSET_OUT_OF_RANGE. Runs in the
 * background, retrying what may succeed later, and never overrides a seek made meanwhile.
 * A partition whose topic does not exist is retried with backoff and counted like a failed
 * fetch: every FETCH_ATTEMPTS the loop throws a FetchError naming the metadata error.
 */

import { backoffDelay, sleep } from "../network/backoff.js";
import type { Cluster } from "../network/cluster.js";
import { TimeoutError } from "../network/errors.js";
import { isRetriable } from "../network/retry.js";
import { ErrorCode } from "../protocol/error-table.js";
import { InvalidArgumentError } from "../protocol/errors.js";
import { kafkaError } from "../protocol/kafka-error.js";
import { type FetchError, NoOffsetForPartitionError, OffsetOutOfRangeError } from "./errors.js";
import { noteFailure } from "./fetcher.js";
import type { GroupCoordinator } from "./group/coordinator.js";
import { EARLIEST_TIMESTAMP, fetchCommittedOffsets, LATEST_TIMESTAMP, listOffsets } from "./offsets.js";
import type { ResolvedConsumerOptions } from "./options.js";
import type { PartitionState } from "./partition.js";

/** What positions need from the consumer. */
export interface PositionsHost {
  client: Cluster;
  options: ResolvedConsumerOptions;
  coordinator: GroupCoordinator | undefined;
  states(): Iterable<PartitionState>;
  /** OffsetFetch's member fields (KIP-848 members are checked by epoch). */
  member(): { memberId: string | null; memberEpoch: number };
  /** Some partitions got positions: fetching may start. */
  ready(): void;
  /** Reports an error through the iterator; with a state, that partition stops. */
  report(error: Error, state?: PartitionState): void;
  /** A partition keeps failing to get a position (its topic does not exist): tell the application. */
  fetchFailed(state: PartitionState, error: FetchError): void;
  /** Aborts lookups when the consumer closes. */
  signal: AbortSignal;
}

/** Starting offsets and resets; see the module comment. */
export class Positions {
  readonly #host: PositionsHost;
  #running = false;
  #again = false;
  /** The last round met topics that do not exist: the next asks for fresh metadata. */
  #unknown = false;

  constructor(host: PositionsHost) {
    this.#host = host;
  }

  /** Finds starting offsets for `states` that have none yet (and any other such partition). */
  start(states: readonly PartitionState[]): void {
    if (states.length === 0) return;
    const topics = [...new Set(states.map((s) => s.topic))];
    // Track the topics now, so the fetcher knows their leaders as soon as positions exist.
    this.#host.client.metadata(topics).catch((error: unknown) => {
      // The lookup below retries; this only says why it may take a while.
      this.#host.client.reportError(error as Error, { source: "consumer", operation: "refreshMetadata" });
    });
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
      const floorMs = Math.max(1, options.retryBackoffMs);
      try {
        const unresolved = await this.#resolve(pending);
        this.#host.ready();
        if (!unresolved) {
          attempt = 0;
          continue;
        }
        // Topics that do not exist (yet): look again, backing off as failed fetches do.
        const wait = backoffDelay(attempt++, { floorMs, ceilingMs: Math.max(floorMs, 1_000) });
        await sleep(wait, signal).catch(() => {});
      } catch (err) {
        if (signal.aborted) return;
        if (!isRetriable(err) && !(err instanceof TimeoutError)) {
          this.#host.report(err as Error);
          if (!this.#again) return;
          continue;
        }
        this.#host.client.reportError(err as Error, { source: "consumer", operation: "position" });
        const wait = backoffDelay(attempt++, { floorMs, ceilingMs: 5_000 });
        await sleep(wait, signal).catch(() => {});
      }
    }
  }

  /** One round; true when some partitions' topics do not exist (they are left for the next round). */
  async #resolve(all: PartitionState[]): Promise<boolean> {
    const { client, options, coordinator, signal } = this.#host;
    const readCommitted = options.isolationLevel === "read_committed";
    const policy = options.autoOffsetReset;
    const topics = [...new Set(all.map((s) => s.topic))];
    const metadata = await client.metadata(topics, { signal, maxAgeMs: this.#unknown ? 0 : undefined });
    const pending: PartitionState[] = [];
    let unknown = false;
    for (const s of all) {
      const t = metadata.topics.get(s.topic);
      if (t === undefined || t.errorCode !== ErrorCode.NONE) {
        unknown = true;
        const cause = kafkaError(t?.errorCode ?? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
        noteFailure(s, cause, options.retryBackoffMs, (state, error) => this.#host.fetchFailed(state, error));
        continue;
      }
      s.attemptSucceeded();
      pending.push(s);
      if (t.partitions.length > 0 && s.partition >= t.partitions.length) {
        this.#host.report(
          new InvalidArgumentError("partition", `${s.topic} has ${t.partitions.length} partitions; got ${s.partition}`),
          s,
        );
      }
    }
    this.#unknown = unknown;
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
          s.startAtCommitted(c.offset, c.leaderEpoch);
        } else if (policy === "none") {
          this.#host.report(new NoOffsetForPartitionError(s.topic, s.partition), s);
        } else {
          s.useResetPolicy(policy);
        }
      }
    }
    const reset = pending.filter(
      (s) => s.resetTo !== undefined && s.fetchOffset === undefined && s.error === undefined && !s.revoked,
    );
    if (reset.length === 0) return unknown;
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
    return unknown;
  }
}
