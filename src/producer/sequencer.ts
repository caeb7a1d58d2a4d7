/**
 * Idempotent sequencing of one partition's batches, as a small state machine the sender
 * drives and unit tests can script. The broker accepts a batch only when its base sequence
 * is the one after the last it appended for this producer id and epoch; a gap is
 * OUT_OF_ORDER_SEQUENCE_NUMBER, forever, until the producer changes epoch.
 *
 *   assign ──▶ in flight ──ack──▶ acknowledged (lastAcked moves)
 *                 │
 *                 ├─ retriable ──▶ requeued, same sequence (the partition drains first)
 *                 └─ failed for good ──▶ gap: `needsReset` until the epoch is bumped
 *
 * A batch that fails for good after its sequence was assigned (its delivery timeout passed,
 * or the broker refused it) leaves a hole the broker will never see filled: whether or not
 * it reached the log, no later batch can be accepted under this epoch. The only way on is
 * KIP-360's: bump the epoch and start every partition again from sequence 0, as the Java
 * client does. Rolling the sequence back instead would be unsafe: if the failed batch did
 * reach the log (a timeout says nothing either way), its sequence reused by a later batch
 * would make the broker drop that batch as a duplicate — silent loss.
 */

const INT32_MAX = 2_147_483_647;

/** Sequence arithmetic wraps from INT32_MAX to 0, as the broker's does. */
export function addSequence(sequence: number, n: number): number {
  const next = sequence + n;
  return next > INT32_MAX ? next - INT32_MAX - 1 : next;
}

/** One partition's sequence state; see the module comment. */
export class PartitionSequencer {
  #next = 0;
  /** Last sequence the broker acknowledged; -1 before any under this epoch. */
  #lastAcked = -1;
  #needsReset = false;
  /**
   * A batch came back for a retry: nothing more is sent until every in-flight batch of this
   * partition has returned, so the retried ones go out again in sequence order.
   */
  #draining = false;

  /** Sequence the next assigned batch gets. */
  get next(): number {
    return this.#next;
  }

  /** Last acknowledged sequence, -1 before any. */
  get lastAcked(): number {
    return this.#lastAcked;
  }

  /** A sequenced batch failed for good: nothing can be sent until the epoch is bumped. */
  get needsReset(): boolean {
    return this.#needsReset;
  }

  /** Retries are waiting for the partition's in-flight batches to come back. */
  get draining(): boolean {
    return this.#draining;
  }

  /** Gives a batch of `count` records its base sequence. */
  assign(count: number): number {
    const base = this.#next;
    this.#next = addSequence(base, count);
    return base;
  }

  /** The broker appended (or had appended) the batch starting at `baseSequence`. */
  acknowledged(baseSequence: number, count: number): void {
    this.#lastAcked = addSequence(baseSequence, count - 1);
  }

  /** True when `baseSequence` is the one the broker expects next (so OUT_OF_ORDER means a real gap). */
  isNextExpected(baseSequence: number): boolean {
    return baseSequence === addSequence(this.#lastAcked, 1);
  }

  /** A batch was put back for a retry. */
  requeued(): void {
    this.#draining = true;
  }

  /** Called when nothing of this partition is in flight: retries may go out, in order. */
  drained(): void {
    this.#draining = false;
  }

  /** A batch with an assigned sequence will never be acknowledged (see the module comment). */
  lost(): void {
    this.#needsReset = true;
  }

  /** The broker lost our state (UNKNOWN_PRODUCER_ID, or a real gap): same as a lost batch. */
  outOfSync(): void {
    this.#needsReset = true;
  }

  /** New epoch: sequences start again at 0. */
  reset(): void {
    this.#next = 0;
    this.#lastAcked = -1;
    this.#needsReset = false;
    this.#draining = false;
  }
}
