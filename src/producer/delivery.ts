/**
 * Delivery reports and who receives them. A batch keeps, per run of records, an *owner*: for
 * an array send one `Delivery` (the client keeps no promise per record, and the call settles
 * once, when its last batch is acknowledged or its first fails); for a one-record send the
 * caller's own callback, or its promise's resolve and reject, so that path makes no object of
 * its own until the acknowledgement (then one `RecordMetadata`).
 */
import { inspect } from "node:util";

/**
 * Where a record landed: the delivery report. The offset's BigInt is made only when read
 * (a batch of N records shares one base offset), as for consumed messages.
 */
export class RecordMetadata {
  readonly topic: string;
  readonly partition: number;
  /** The record's timestamp (the broker's log-append time on topics that use it). */
  readonly timestamp: number;
  readonly #baseOffset: bigint;
  readonly #delta: number;

  constructor(topic: string, partition: number, baseOffset: bigint, delta: number, timestamp: number) {
    this.topic = topic;
    this.partition = partition;
    this.#baseOffset = baseOffset;
    this.#delta = delta;
    this.timestamp = timestamp;
  }

  /** Offset the broker assigned; -1n with acks=0 (the broker says nothing). */
  get offset(): bigint {
    return this.#baseOffset < 0n ? -1n : this.#baseOffset + BigInt(this.#delta);
  }

  /** Plain-object form (for logging and JSON): offset as a decimal string. */
  toJSON(): object {
    return { topic: this.topic, partition: this.partition, offset: this.offset.toString(), timestamp: this.timestamp };
  }

  /** Shows the offset in `console.log`, which does not call getters. */
  [inspect.custom](_depth: number, options: object): string {
    return `RecordMetadata ${inspect({ ...this.toJSON(), offset: this.offset }, options)}`;
  }
}

/** The settling side of one `send` call. */
export class Delivery {
  readonly results: RecordMetadata[];
  #remaining: number;
  #settled = false;
  readonly #resolve: (results: RecordMetadata[]) => void;
  readonly #reject: (err: Error) => void;

  constructor(count: number, resolve: (results: RecordMetadata[]) => void, reject: (err: Error) => void) {
    this.results = new Array(count);
    this.#remaining = count;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  /** True once resolved or rejected. */
  get settled(): boolean {
    return this.#settled;
  }

  /** Records one record's report; resolves when it was the last. */
  complete(index: number, metadata: RecordMetadata): void {
    if (this.#settled) return;
    this.results[index] = metadata;
    if (--this.#remaining === 0) {
      this.#settled = true;
      this.#resolve(this.results);
    }
  }

  /** Rejects the whole send: one failed record fails the call (others may still land). */
  fail(err: Error): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#reject(err);
  }
}

/**
 * Who hears of a record's fate: a {@link Delivery} (array sends), the callback of a one-record
 * send, or the resolve of a one-record promise (its reject travels beside it).
 */
export type Owner = Delivery | ((err: Error | null, result?: RecordMetadata) => void) | ((m: RecordMetadata) => void);

/** What a promise owner's reject looks like; undefined for the other owners. */
export type OwnerReject = ((err: Error) => void) | undefined;

/**
 * Tells a callback owner, keeping the producer's own bookkeeping safe from the callback: an
 * exception it throws is rethrown on its own tick (an uncaught exception, as from an
 * EventEmitter listener), not into the middle of a Produce answer.
 */
export function callBack<T>(callback: (err: Error | null, result?: T) => void, err: Error | null, result?: T): void {
  try {
    callback(err, result);
  } catch (thrown) {
    process.nextTick(() => {
      throw thrown;
    });
  }
}

/** Record `index` of `owner` was acknowledged with `metadata`. */
export function ownerAcknowledged(owner: Owner, reject: OwnerReject, index: number, metadata: RecordMetadata): void {
  if (typeof owner !== "function") owner.complete(index, metadata);
  else if (reject !== undefined) (owner as (m: RecordMetadata) => void)(metadata);
  else callBack(owner as (err: Error | null, result?: RecordMetadata) => void, null, metadata);
}

/** A record of `owner` failed with `err` (an array send fails as a whole, once). */
export function ownerFailed(owner: Owner, reject: OwnerReject, err: Error): void {
  if (typeof owner !== "function") owner.fail(err);
  else if (reject !== undefined) reject(err);
  else callBack(owner as (err: Error | null, result?: RecordMetadata) => void, err);
}

/** True for an array send that already settled (its other records need no report). */
export function ownerSettled(owner: Owner): boolean {
  return typeof owner !== "function" && owner.settled;
}
