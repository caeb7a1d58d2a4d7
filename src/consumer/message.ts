/**
 * What the consumer hands out: `Message` (one record with its topic, partition and offset)
 * and `MessageBatch` (records of one partition from one fetch). Key, value and header
 * values are views into the fetched bytes; the offset's BigInt is made only when read.
 */
import { inspect } from "node:util";
import type { RecordHeader } from "../protocol/records/index.js";

/**
 * What the records of one record batch share: kept once per batch, so a Message holds one
 * reference for its topic, partition, base offset, base timestamp and leader epoch.
 */
export interface MessageOrigin {
  readonly topic: string;
  readonly partition: number;
  readonly baseOffset: bigint;
  /** The batch's base timestamp, or its log-append time (then every record's delta is 0). */
  readonly baseTimestamp: number;
  readonly leaderEpoch: number;
}

/** One consumed record. */
export class Message<K = Buffer | null, V = Buffer | null> {
  /** A view into the fetched bytes (or what `keyDeserializer` made of it); null when the record had none. */
  readonly key: K;
  /** A view into the fetched bytes (or what `valueDeserializer` made of it); null for a tombstone. */
  readonly value: V;
  /** In record order; keys may repeat. Values are views into the fetched bytes. */
  readonly headers: readonly RecordHeader[];
  // Per record only these six fields (the rest is the batch's): a consumer makes one Message
  // per record, and every word of it is garbage to collect.
  readonly #origin: MessageOrigin;
  readonly #offsetDelta: number;
  readonly #timestampDelta: number;

  constructor(
    origin: MessageOrigin,
    offsetDelta: number,
    timestampDelta: number,
    key: K,
    value: V,
    headers: readonly RecordHeader[],
  ) {
    this.#origin = origin;
    this.#offsetDelta = offsetDelta;
    this.#timestampDelta = timestampDelta;
    this.key = key;
    this.value = value;
    this.headers = headers;
  }

  get topic(): string {
    return this.#origin.topic;
  }

  get partition(): number {
    return this.#origin.partition;
  }

  /** Milliseconds since the epoch: create time, or the broker's log-append time. */
  get timestamp(): number {
    return this.#origin.baseTimestamp + this.#timestampDelta;
  }

  /** Leader epoch of the batch the record came in (-1 when unknown). */
  get leaderEpoch(): number {
    return this.#origin.leaderEpoch;
  }

  /** The record's offset in its partition. */
  get offset(): bigint {
    return this.#origin.baseOffset + BigInt(this.#offsetDelta);
  }

  /** Plain-object form (for logging and JSON): offset as a decimal string, buffers as-is. */
  toJSON(): object {
    return {
      topic: this.topic,
      partition: this.partition,
      offset: this.offset.toString(),
      key: this.key,
      value: this.value,
      headers: this.headers,
      timestamp: this.timestamp,
      leaderEpoch: this.leaderEpoch,
    };
  }

  /** Shows the offset in `console.log`, which does not call getters. */
  [inspect.custom](_depth: number, options: object): string {
    return `Message ${inspect({ ...this.toJSON(), offset: this.offset }, options)}`;
  }
}

/**
 * Records of one partition from one fetch response, in offset order: at most the consumer's
 * `maxBatchMessages`, the rest of that response's records following in the next batches.
 */
export interface MessageBatch<K = Buffer | null, V = Buffer | null> {
  topic: string;
  partition: number;
  /** May be empty when the fetch held only transaction markers or aborted records. */
  messages: Message<K, V>[];
  /** The partition's high watermark when it was fetched. */
  highWatermark: bigint;
  /** Records between the end of this batch and the end the isolation level can see. */
  lag: bigint;
}
