/**
 * The consumer's state for one assigned partition: where fetching continues, what was handed
 * to the application and what of that the application is done with (what a commit stores).
 * Offsets the hot path moves per record are kept as (base bigint, number delta) pairs, so
 * handing out a record never allocates a BigInt; the bigint is made only when read.
 */

import type { TopicPartition } from "../network/metadata.js";

export type { TopicPartition };

/** A topic, partition and offset (bigint). */
export interface TopicPartitionOffset extends TopicPartition {
  offset: bigint;
}

/** Key of a topic-partition in maps. A NUL cannot occur in topic names. */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

/** One assigned partition; see the module comment. */
export class PartitionState {
  readonly topic: string;
  readonly partition: number;
  readonly key: string;
  /**
   * Bumped whenever buffered and in-flight data of this partition stops being valid (seek,
   * pause, reset, revoke): data tagged with an older generation is dropped unseen.
   */
  generation = 0;
  /** Next offset to fetch; undefined until the committed offset or the reset policy gives one. */
  fetchOffset: bigint | undefined;
  /** In some broker's fetch request right now: no second fetcher may ask for it (duplicates). */
  inFlight = false;
  /** Waiting for a ListOffsets to move it to the log's start or end (reset policy, or a seek). */
  resetTo: "earliest" | "latest" | undefined;
  /** Not fetched before this time (ms): backoff after a partition error. */
  notBefore = 0;
  /** Paused by the application: not fetched, nothing handed out. */
  paused = false;
  /** Removed from the assignment; stale references see this and stop. */
  revoked = false;
  /** An error that stops this partition until the application seeks (autoOffsetReset "none"). */
  error: Error | undefined;
  /** Leader epoch (from metadata) of the leader this partition was last fetched from. */
  leaderEpoch = -1;
  /** Leader epoch of the last fetched batch: what OffsetForLeaderEpoch checks after a leader change. */
  fetchedEpoch = -1;
  /** OffsetForLeaderEpoch is checking the position against a new leader's log (KIP-320). */
  validating = false;
  /** Leader epoch of the last record handed out; committed with the offset. */
  recordLeaderEpoch = -1;
  /** From the last fetch response; -1n until one arrives. */
  highWatermark = -1n;
  lastStableOffset = -1n;
  logStartOffset = -1n;
  /**
   * Consecutive failed attempts to fetch (or find a position or leader for) this partition;
   * 0 after a fetch succeeds. Drives its backoff and the FetchError every FETCH_ATTEMPTS.
   */
  fetchFailures = 0;
  /** Offset last committed by this consumer (or fetched as committed); skips redundant commits. */
  committed: bigint | undefined;

  // Next offset to hand out = positionBase + positionDelta (undefined base: not known yet).
  #positionBase: bigint | undefined;
  #positionDelta = 0;
  // Offset the application is done with (what a commit stores) = consumedBase + consumedDelta.
  #consumedBase: bigint | undefined;
  #consumedDelta = 0;

  constructor(topic: string, partition: number) {
    this.topic = topic;
    this.partition = partition;
    this.key = partitionKey(topic, partition);
  }

  /** Next offset to hand to the application; undefined before the starting offset is known. */
  get position(): bigint | undefined {
    const base = this.#positionBase;
    if (base === undefined) return undefined;
    return this.#positionDelta === 0 ? base : base + BigInt(this.#positionDelta);
  }

  /** Offset up to which the application is done (exclusive): what `commit()` stores. */
  get consumed(): bigint | undefined {
    const base = this.#consumedBase;
    if (base === undefined) return undefined;
    return this.#consumedDelta === 0 ? base : base + BigInt(this.#consumedDelta);
  }

  /** Hot path: a record at `base + delta - 1` was handed out. */
  handed(base: bigint, delta: number, leaderEpoch: number): void {
    this.#positionBase = base;
    this.#positionDelta = delta;
    this.recordLeaderEpoch = leaderEpoch;
  }

  /** Hot path: the application is done with everything below `base + delta`. */
  consumedUpTo(base: bigint, delta: number): void {
    this.#consumedBase = base;
    this.#consumedDelta = delta;
  }

  /**
   * Starts (or restarts) at `offset`: both marks move there, buffered and in-flight data is
   * invalidated, and fetching continues from it. Used by seek, resets and offset init.
   */
  moveTo(offset: bigint): void {
    this.generation++;
    this.fetchOffset = offset;
    this.#positionBase = offset;
    this.#positionDelta = 0;
    this.#consumedBase = offset;
    this.#consumedDelta = 0;
    this.error = undefined;
    this.resetTo = undefined;
    this.fetchedEpoch = -1;
  }

  /**
   * Waits for a ListOffsets to the log's start or end: nothing is fetched or handed out and
   * the position is unknown until then; what was consumed stays committable.
   */
  startReset(where: "earliest" | "latest"): void {
    this.generation++;
    this.fetchOffset = undefined;
    this.#positionBase = undefined;
    this.#positionDelta = 0;
    this.error = undefined;
    this.resetTo = where;
  }

  /** Sets where handing out continues (a fetched chunk drained: its end, past control batches). */
  setPosition(offset: bigint): void {
    this.#positionBase = offset;
    this.#positionDelta = 0;
  }

  /**
   * Drops buffered and in-flight data and fetches again from the position, which is where
   * the application continues (pause, leader change with data lost in flight).
   */
  rewind(): void {
    this.generation++;
    const position = this.position;
    if (position !== undefined) this.fetchOffset = position;
  }

  /** Fetchable now: started, not paused, not failed, not revoked, not in another request. */
  get fetchable(): boolean {
    return (
      this.fetchOffset !== undefined &&
      !this.paused &&
      !this.revoked &&
      this.error === undefined &&
      !this.inFlight &&
      !this.validating
    );
  }
}
