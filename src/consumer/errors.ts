/**
 * Errors the consumer raises. The offset errors are KafkaErrors with Kafka's
 * OFFSET_OUT_OF_RANGE code (Java's NoOffsetForPartitionException, OffsetOutOfRangeException
 * and LogTruncationException share a parent for the same reason), carrying the partition;
 * the others name the partition (and offset) they are about, with the underlying error as `cause`.
 */

import { ErrorCode } from "../protocol/error-table.js";
import { SamsaError } from "../protocol/errors.js";
import { KafkaError } from "../protocol/kafka-error.js";

/** The fetch position left the log and `autoOffsetReset` is "none". Seek to continue. */
export class OffsetOutOfRangeError extends KafkaError {
  readonly topic: string;
  readonly partition: number;
  /** The position that is out of range. */
  readonly offset: bigint;

  constructor(topic: string, partition: number, offset: bigint) {
    super(
      ErrorCode.OFFSET_OUT_OF_RANGE,
      `${topic}-${partition}: offset ${offset} is out of range and autoOffsetReset is "none"; seek to continue`,
    );
    this.topic = topic;
    this.partition = partition;
    this.offset = offset;
  }
}

/** The partition has no committed offset and `autoOffsetReset` is "none". Seek to continue. */
export class NoOffsetForPartitionError extends KafkaError {
  readonly topic: string;
  readonly partition: number;

  constructor(topic: string, partition: number) {
    super(
      ErrorCode.OFFSET_OUT_OF_RANGE,
      `${topic}-${partition}: no committed offset and autoOffsetReset is "none"; seek to choose a start`,
    );
    this.topic = topic;
    this.partition = partition;
  }
}

/**
 * After a leader change the new leader's log ends before what was already handed out (an
 * unclean election truncated it, KIP-320), and `autoOffsetReset` is "none". Seek to continue;
 * `divergentOffset` is where the logs part.
 */
export class LogTruncationError extends KafkaError {
  readonly topic: string;
  readonly partition: number;
  /** The position that was handed out. */
  readonly offset: bigint;
  /** The end of the fetched epoch in the new leader's log. */
  readonly divergentOffset: bigint;

  constructor(topic: string, partition: number, offset: bigint, divergentOffset: bigint) {
    super(
      ErrorCode.OFFSET_OUT_OF_RANGE,
      `${topic}-${partition}: the log was truncated to ${divergentOffset} below the position ${offset} and autoOffsetReset is "none"; seek to continue`,
    );
    this.topic = topic;
    this.partition = partition;
    this.offset = offset;
    this.divergentOffset = divergentOffset;
  }
}

/**
 * A key or value deserializer threw. The position stays on the record: the next iteration
 * hands it to the deserializer again, and commits do not pass it. Seek to `offset + 1n` to
 * skip it (Java's RecordDeserializationException).
 */
export class DeserializationError extends SamsaError {
  readonly topic: string;
  readonly partition: number;
  /** The record's offset. */
  readonly offset: bigint;
  /** Which deserializer threw. */
  readonly field: "key" | "value";

  constructor(topic: string, partition: number, offset: bigint, field: "key" | "value", cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(
      "SAMSA_ERR_DESERIALIZATION",
      `${topic}-${partition} offset ${offset}: the ${field} deserializer threw: ${why}; seek past the record to skip it`,
      { cause },
    );
    this.topic = topic;
    this.partition = partition;
    this.offset = offset;
    this.field = field;
  }
}

/**
 * A partition could not be fetched `attempts` times in a row: a persistent partition error,
 * a response that does not decode, no leader, or a topic that does not exist. `cause` is the
 * last failure (a KafkaError carries the broker's code). The consumer keeps retrying with
 * backoff; the error comes again after as many further failures.
 */
export class FetchError extends SamsaError {
  readonly topic: string;
  readonly partition: number;
  /** Consecutive failed attempts. */
  readonly attempts: number;

  constructor(topic: string, partition: number, attempts: number, cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super("SAMSA_ERR_FETCH", `${topic}-${partition}: fetching failed ${attempts} times in a row: ${why}`, { cause });
    this.topic = topic;
    this.partition = partition;
    this.attempts = attempts;
  }
}

/**
 * A subscribed topic does not exist (and the client does not create topics). Reported with
 * `client.on("error")`: the member stays subscribed and gets the topic's partitions once it is
 * created (Java logs the same and waits). `cause` is the metadata error.
 */
export class UnknownTopicError extends KafkaError {
  readonly topic: string;

  constructor(topic: string, cause: KafkaError) {
    super(
      cause.errorCode,
      `subscribed topic "${topic}" does not exist (${cause.errorName}); waiting for it to be created`,
      { cause },
    );
    this.topic = topic;
  }
}
