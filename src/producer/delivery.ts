/**
 * Delivery reports. One `Delivery` per `send` call, however many records it carried: the
 * client keeps no promise per record, and an array send settles once, when its last batch is
 * acknowledged (or its first fails).
 */

/** Where a record landed: the delivery report. */
export interface RecordMetadata {
  topic: string;
  partition: number;
  /** Offset the broker assigned; -1n with acks=0 (the broker says nothing). */
  offset: bigint;
  /** The record's timestamp (the broker's log-append time on topics that use it). */
  timestamp: number;
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
