/**
 * Errors the consumer raises. The offset errors are KafkaErrors with Kafka's
 * OFFSET_OUT_OF_RANGE code (Java's NoOffsetForPartitionException, OffsetOutOfRangeException
 * and LogTruncationException share a parent for the same reason), carrying the partition;
 * the others name the partition (and offset) they are about, with the underlying error as `cause`.
 */

import { ErrorCode } from "../protocol/error-table.js";
import { SamsaError } from "../protocol/errors.js";
import { KafkaError } from "../protocol/kafka-error.js";

/**
 * What the three offset errors share: Kafka's OFFSET_OUT_OF_RANGE code about one partition,
 * whose position cannot go on with `autoOffsetReset` "none". Not exported from the package:
 * catch the subclasses, or `KafkaError` with that code.
 */
export abstract class PartitionOffsetError extends KafkaError {
  constructor(
    readonly topic: string,
    readonly partition: number,
    detail: string,
  ) {
    super(ErrorCode.OFFSET_OUT_OF_RANGE, `${topic}-${partition}: ${detail}`);
  }
}

/** The fetch position left the log and `autoOffsetReset` is "none". Seek to continue. */
export class OffsetOutOfRangeError extends PartitionOffsetError {
  constructor(
    topic: string,
    partition: number,
    /** The position that is out of range. */
    readonly offset: bigint,
  ) {
    super(topic, partition, `offset ${offset} is out of range and autoOffsetReset is "none"; seek to continue`);
  }
}

/** The partition has no committed offset and `autoOffsetReset` is "none". Seek to continue. */
export class NoOffsetForPartitionError extends PartitionOffsetError {
  constructor(topic: string, partition: number) {
    super(topic, partition, `no committed offset and autoOffsetReset is "none"; seek to choose a start`);
  }
}

/**
 * After a leader change the new leader's log ends before what was already handed out (an
 * unclean election truncated it, KIP-320), and `autoOffsetReset` is "none". Seek to continue;
 * `divergentOffset` is where the logs part.
 */
export class LogTruncationError extends PartitionOffsetError {
  constructor(
    topic: string,
    partition: number,
    /** The position that was handed out. */
    readonly offset: bigint,
    /** The end of the fetched epoch in the new leader's log. */
    readonly divergentOffset: bigint,
  ) {
    super(
      topic,
      partition,
      `the log was truncated to ${divergentOffset} below the position ${offset} and autoOffsetReset is "none"; seek to continue`,
    );
  }
}

/** `cause`'s message, for an error that wraps it. */
function messageOf(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}

/**
 * A key or value deserializer threw. The position stays on the record: the next iteration
 * hands it to the deserializer again, and commits do not pass it. Seek to `offset + 1n` to
 * skip it (Java's RecordDeserializationException).
 */
export class DeserializationError extends SamsaError {
  constructor(
    readonly topic: string,
    readonly partition: number,
    /** The record's offset. */
    readonly offset: bigint,
    /** Which deserializer threw. */
    readonly field: "key" | "value",
    cause: unknown,
  ) {
    super(
      "SAMSA_ERR_DESERIALIZATION",
      `${topic}-${partition} offset ${offset}: the ${field} deserializer threw: ${messageOf(cause)}; seek past the record to skip it`,
      { cause },
    );
  }
}

/**
 * A partition could not be fetched `attempts` times in a row: a persistent partition error,
 * a response that does not decode, no leader, or a topic that does not exist. `cause` is the
 * last failure (a KafkaError carries the broker's code). The consumer keeps retrying with
 * backoff; the error comes again after as many further failures.
 */
export class FetchError extends SamsaError {
  constructor(
    readonly topic: string,
    readonly partition: number,
    /** Consecutive failed attempts. */
    readonly attempts: number,
    cause: unknown,
  ) {
    super("SAMSA_ERR_FETCH", `${topic}-${partition}: fetching failed ${attempts} times in a row: ${messageOf(cause)}`, {
      cause,
    });
  }
}

/**
 * A subscribed topic does not exist (and the client does not create topics). Reported with
 * `client.on("error")`: the member stays subscribed and gets the topic's partitions once it is
 * created (Java logs the same and waits). `cause` is the metadata error.
 */
export class UnknownTopicError extends KafkaError {
  constructor(
    readonly topic: string,
    cause: KafkaError,
  ) {
    // KafkaError's message already starts with the code's name and number: said once.
    super(cause.errorCode, `subscribed topic "${topic}" does not exist; waiting for it to be created`, { cause });
  }
}

/**
 * A transition the partition's state does not allow: a bug in samsa (a caller skipped a
 * check it must make), never the application's input, which the consumer checks first.
 */
export class IllegalTransitionError extends SamsaError {
  constructor(message: string) {
    super("SAMSA_ERR_ILLEGAL_STATE", message);
  }
}
