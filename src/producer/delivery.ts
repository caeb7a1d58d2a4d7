/**
 * Delivery reports. One `Delivery` per `send` call, however many records it carried: the
 * client keeps no promise per record, and an array send settles once, when its last batch is
 * acknowledged (or its first fails).
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
