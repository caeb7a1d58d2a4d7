/**
 * Errors the consumer raises about offsets. All are KafkaErrors with Kafka's
 * OFFSET_OUT_OF_RANGE code (Java's NoOffsetForPartitionException, OffsetOutOfRangeException
 * and LogTruncationException share a parent for the same reason), carrying the partition.
 */
import { ErrorCode } from "../protocol/error-table.js";
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
