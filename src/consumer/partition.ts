/**
 * The consumer's state for one assigned partition: where fetching continues, what was handed
 * to the application and what of that the application is done with (what a commit stores).
 * Every change is a method here, named for the event that causes it, so the rules (what
 * invalidates buffered data, what a seek clears) live in one place; fields are read-only
 * outside. Offsets the hot path moves per record are kept as (base bigint, number delta)
 * pairs, so handing out a record never allocates a BigInt; the bigint is made only when read.
 *
 *   new ──startAtCommitted / moveTo──▶ fetchable ──fetchStarted──▶ in flight ──fetchEnded──▶ …
 *    │                                  ▲   │                       (fetched: fetch offset moves on)
 *    └─useResetPolicy / startReset──▶ resetting (ListOffsets) ──moveTo──┘   │
 *   fetchable ⇄ paused (pause/resume) · ⇄ validating (KIP-320) · ──fail──▶ failed ──moveTo──▶ …
 *   any ──revoke──▶ revoked (terminal)
 */

import type { TopicPartition } from "../network/metadata.js";
import { IllegalTransitionError } from "./errors.js";

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
  #generation = 0;
  #restarts = 0;
  #fetchOffset: bigint | undefined;
  #inFlight = false;
  #resetTo: "earliest" | "latest" | undefined;
  #notBefore = 0;
  #paused = false;
  #revoked = false;
  #error: Error | undefined;
  #leaderEpoch = -1;
  #fetchedEpoch = -1;
  #validating = false;
  #recordLeaderEpoch = -1;
  #highWatermark = -1n;
  #lastStableOffset = -1n;
  #logStartOffset = -1n;
  #fetchFailures = 0;
  #committed: bigint | undefined;

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

  /**
   * Bumped whenever buffered and in-flight data of this partition stops being valid (seek,
   * pause, reset, failure): data tagged with an older generation is dropped unseen.
   */
  get generation(): number {
    return this.#generation;
  }

  /**
   * Bumped whenever the consumed mark is set anew (a move: seek, assign with an offset, a
   * reset's answer, a KIP-320 truncation; or a restart from the committed offset). A record
   * handed out before that must not move the mark once the application is done with it; one
   * handed out before a pause, a rewind, a pending reset or a failure still does, since those
   * drop buffered data but leave what the application holds consumed once it asks for more.
   */
  get restarts(): number {
    return this.#restarts;
  }

  /** Next offset to fetch; undefined until the committed offset or the reset policy gives one. */
  get fetchOffset(): bigint | undefined {
    return this.#fetchOffset;
  }

  /** In some broker's fetch request right now: no second fetcher may ask for it (duplicates). */
  get inFlight(): boolean {
    return this.#inFlight;
  }

  /** Waiting for a ListOffsets to move it to the log's start or end (reset policy, or a seek). */
  get resetTo(): "earliest" | "latest" | undefined {
    return this.#resetTo;
  }

  /** Not fetched before this time (ms): backoff after a partition error. */
  get notBefore(): number {
    return this.#notBefore;
  }

  /** Paused by the application: not fetched, nothing handed out. */
  get paused(): boolean {
    return this.#paused;
  }

  /** Removed from the assignment; stale references see this and stop. */
  get revoked(): boolean {
    return this.#revoked;
  }

  /** An error that stops this partition until the application seeks (autoOffsetReset "none", bad data). */
  get error(): Error | undefined {
    return this.#error;
  }

  /** Leader epoch (from metadata) of the leader this partition was last fetched from. */
  get leaderEpoch(): number {
    return this.#leaderEpoch;
  }

  /** Leader epoch of the last fetched batch: what OffsetForLeaderEpoch checks after a leader change. */
  get fetchedEpoch(): number {
    return this.#fetchedEpoch;
  }

  /** OffsetForLeaderEpoch is checking the position against a new leader's log (KIP-320). */
  get validating(): boolean {
    return this.#validating;
  }

  /** Leader epoch of the last record handed out; committed with the offset. */
  get recordLeaderEpoch(): number {
    return this.#recordLeaderEpoch;
  }

  /** From the last fetch response; -1n until one arrives. */
  get highWatermark(): bigint {
    return this.#highWatermark;
  }

  /** From the last fetch response; -1n until one arrives. */
  get lastStableOffset(): bigint {
    return this.#lastStableOffset;
  }

  /** From the last fetch response that carried one; -1n until then. */
  get logStartOffset(): bigint {
    return this.#logStartOffset;
  }

  /**
   * Consecutive failed attempts to fetch (or find a position or leader for) this partition;
   * 0 after a fetch succeeds. Drives its backoff and the FetchError every FETCH_ATTEMPTS.
   */
  get fetchFailures(): number {
    return this.#fetchFailures;
  }

  /** Offset last committed by this consumer (or fetched as committed); skips redundant commits. */
  get committed(): bigint | undefined {
    return this.#committed;
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

  /** Fetchable now: started, not paused, not failed, not revoked, not in another request. */
  get fetchable(): boolean {
    return (
      this.#fetchOffset !== undefined &&
      !this.#paused &&
      !this.#revoked &&
      this.#error === undefined &&
      !this.#inFlight &&
      !this.#validating
    );
  }

  // ── Starting points ────────────────────────────────────────────────────────────────────

  /**
   * Starts (or restarts) at `offset`: both marks move there, buffered and in-flight data is
   * invalidated, a failure or pending reset is cleared, and fetching continues from it. Used
   * by seek, assign with an offset, a finished ListOffsets reset and a KIP-320 truncation.
   * The fetched epoch is forgotten: batches from before the move say nothing about the log
   * at the new place, so a leader change right after needs no validation.
   */
  moveTo(offset: bigint): void {
    this.#generation++;
    this.#restarts++;
    this.#fetchOffset = offset;
    this.#positionBase = offset;
    this.#positionDelta = 0;
    this.#consumedBase = offset;
    this.#consumedDelta = 0;
    this.#error = undefined;
    this.#resetTo = undefined;
    this.#fetchedEpoch = -1;
  }

  /**
   * OffsetFetch found the group's committed offset: start there, and remember it as
   * committed (so an auto-commit that would store the same offset is skipped) with the
   * leader epoch it was committed with (committed again until a record is handed out).
   * Refused once the partition has a position or is revoked: a seek or revoke during the
   * OffsetFetch wins over what it found, and the caller checks that first.
   */
  startAtCommitted(offset: bigint, leaderEpoch: number): void {
    if (this.#fetchOffset !== undefined || this.#revoked) {
      this.#refuse("startAtCommitted", this.#revoked ? "it is revoked" : "it already has a fetch offset");
    }
    this.moveTo(offset);
    this.#committed = offset;
    this.#recordLeaderEpoch = leaderEpoch;
  }

  /**
   * No committed offset: the reset policy decides, by a ListOffsets to the log's start or
   * end. Nothing was fetched or handed out yet, so unlike {@link startReset} there is no
   * data to invalidate. Refused once the partition has a fetch offset.
   */
  useResetPolicy(where: "earliest" | "latest"): void {
    if (this.#fetchOffset !== undefined) this.#refuse("useResetPolicy", "it already has a fetch offset");
    this.#resetTo = where;
  }

  /**
   * Waits for a ListOffsets to the log's start or end (a seek to "earliest"/"latest", or
   * OFFSET_OUT_OF_RANGE with a reset policy): nothing is fetched or handed out and the
   * position is unknown until then; what was consumed stays committable.
   */
  startReset(where: "earliest" | "latest"): void {
    this.#generation++;
    this.#fetchOffset = undefined;
    this.#positionBase = undefined;
    this.#positionDelta = 0;
    this.#error = undefined;
    this.#resetTo = where;
  }

  /**
   * Forgets the position so that the group's committed offset is looked up again (the
   * application's `seekToCommitted`, after an aborted transaction): nothing is fetched or
   * handed out until OffsetFetch (or the reset policy) gives a start, and the records handed
   * out since the last commit are handed out again. What counts as committed is forgotten too,
   * since OffsetFetch tells it afresh.
   */
  restartFromCommitted(): void {
    this.#generation++;
    this.#restarts++;
    this.#fetchOffset = undefined;
    this.#positionBase = undefined;
    this.#positionDelta = 0;
    this.#consumedBase = undefined;
    this.#consumedDelta = 0;
    this.#committed = undefined;
    this.#error = undefined;
    this.#resetTo = undefined;
    this.#fetchedEpoch = -1;
  }

  // ── The application ────────────────────────────────────────────────────────────────────

  /**
   * The application paused it: buffered and in-flight data is dropped (it would be stale by
   * resume, and holds memory meanwhile) and fetching will continue from the position. False
   * when it was paused already (nothing changes).
   */
  pause(): boolean {
    if (this.#paused) return false;
    this.#paused = true;
    this.rewind();
    return true;
  }

  /** The application resumed it: fetchable again, from where {@link pause} rewound it. */
  resume(): void {
    this.#paused = false;
  }

  /**
   * Taken out of the assignment (rebalance, a new assign, close): the fetcher and reader
   * drop its data and stop. The generation stays, so a record the application holds from
   * it still becomes consumed and is committed on revoke. Final: no transition undoes it.
   */
  revoke(): void {
    this.#revoked = true;
  }

  /**
   * Stops the partition with `error` until the application seeks (autoOffsetReset "none",
   * bytes that do not decode, a non-retriable fetch error): the error is thrown once by the
   * iterator, and buffered data is invalidated so nothing past the failure is handed out.
   */
  fail(error: Error): void {
    this.#error = error;
    this.#generation++;
  }

  /** A commit stored `offset` for this partition. */
  markCommitted(offset: bigint): void {
    this.#committed = offset;
  }

  // ── The reader (hot path: no checks) ───────────────────────────────────────────────────

  /** A record at `base + delta - 1` was handed out, from a batch of leader epoch `leaderEpoch`. */
  handed(base: bigint, delta: number, leaderEpoch: number): void {
    this.#positionBase = base;
    this.#positionDelta = delta;
    this.#recordLeaderEpoch = leaderEpoch;
  }

  /** The application is done with everything below `base + delta`. */
  consumedUpTo(base: bigint, delta: number): void {
    this.#consumedBase = base;
    this.#consumedDelta = delta;
  }

  /** Sets where handing out continues (a fetched chunk drained: its end, past control batches). */
  setPosition(offset: bigint): void {
    this.#positionBase = offset;
    this.#positionDelta = 0;
  }

  // ── The fetcher ────────────────────────────────────────────────────────────────────────

  /**
   * Drops buffered and in-flight data and fetches again from the position, which is where
   * the application continues (pause, a KIP-320 check that found nothing lost).
   */
  rewind(): void {
    this.#generation++;
    const position = this.position;
    if (position !== undefined) this.#fetchOffset = position;
  }

  /**
   * Put in a Fetch request: no other broker's loop may ask for it until the request ends
   * (a leader change mid-request would otherwise fetch the same offsets twice). Refused
   * unless {@link fetchable}: the fetcher takes only fetchable partitions.
   */
  fetchStarted(): void {
    if (!this.fetchable) this.#refuse("fetchStarted", "it is not fetchable");
    this.#inFlight = true;
  }

  /** Its Fetch request ended, answered or not. Refused when no request had it. */
  fetchEnded(): void {
    if (!this.#inFlight) this.#refuse("fetchEnded", "no fetch request has it");
    this.#inFlight = false;
  }

  /**
   * A Fetch answered it without an error: failures no longer count in a row, and the
   * watermarks are the leader's latest (lag reads them). A response without a log start
   * offset (-1) keeps the one known.
   */
  answered(highWatermark: bigint, lastStableOffset: bigint, logStartOffset: bigint): void {
    this.#fetchFailures = 0;
    this.#highWatermark = highWatermark;
    this.#lastStableOffset = lastStableOffset;
    if (logStartOffset >= 0n) this.#logStartOffset = logStartOffset;
  }

  /**
   * Complete batches up to `nextOffset` were queued for the reader: the next fetch starts
   * there, and `lastEpoch` (the last batch's leader epoch) is what a KIP-320 check asks the
   * next leader about. Refused unless the offset moves forward from a known fetch offset of
   * an assigned partition: the fetcher drops answers for places the partition has left.
   */
  fetched(nextOffset: bigint, lastEpoch: number): void {
    if (this.#revoked || this.#fetchOffset === undefined || nextOffset <= this.#fetchOffset) {
      this.#refuse("fetched", `it is at ${String(this.#fetchOffset)}${this.#revoked ? " and revoked" : ""}`);
    }
    this.#fetchOffset = nextOffset;
    this.#fetchedEpoch = lastEpoch;
  }

  /**
   * Fetched (or about to be) from the leader at `leaderEpoch`: a later metadata epoch above
   * it means a new leader, whose log a KIP-320 check compares with what was fetched. Also
   * set when a check ends without a verdict that needs a retry, so it is not asked again.
   */
  acceptLeader(leaderEpoch: number): void {
    this.#leaderEpoch = leaderEpoch;
  }

  /**
   * One more failed attempt in a row (an error code, a failed request, no leader or topic);
   * returns how many. Its backoff is {@link backOffUntil}.
   */
  attemptFailed(): number {
    return ++this.#fetchFailures;
  }

  /** Position lookups found its topic: the failures counted while it was missing are over. */
  attemptSucceeded(): void {
    this.#fetchFailures = 0;
  }

  /** Not fetched before `time` (ms since the epoch); an earlier time than one set stays later. */
  backOffUntil(time: number): void {
    if (time > this.#notBefore) this.#notBefore = time;
  }

  /** A KIP-951 hint named the new leader: fetch at once, the backoff is for not knowing one. */
  retryNow(): void {
    this.#notBefore = 0;
  }

  /**
   * A KIP-320 check (OffsetForLeaderEpoch) starts: not fetched until {@link validationEnded},
   * since fetching on could hand out records past a truncation. Refused while one runs.
   */
  validationStarted(): void {
    if (this.#validating) this.#refuse("validationStarted", "a validation is running");
    this.#validating = true;
  }

  /** The KIP-320 check ended, whatever it found. Refused when none runs. */
  validationEnded(): void {
    if (!this.#validating) this.#refuse("validationEnded", "no validation is running");
    this.#validating = false;
  }

  #refuse(transition: string, why: string): never {
    throw new IllegalTransitionError(`${this.topic}-${this.partition}: ${transition} refused: ${why}`);
  }
}
