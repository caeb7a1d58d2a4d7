/**
 * The one retry policy: whether a failed call may be tried again, and whether it must
 * refresh metadata or look its coordinator up first. Broker codes are classified by Kafka's
 * own table (generated into error-table.ts, carried on each KafkaError); samsa's own errors
 * by the rules below. Every retry and re-route decision in samsa asks these functions.
 */
import { KafkaError } from "../protocol/kafka-error.js";
import { ConnectionClosedError, ConnectionError, RequestTimeoutError } from "./errors.js";

/**
 * Whether the call that failed with `err` may be tried again, with backoff, until its
 * deadline. Every retry in samsa asks this function, so a retry policy change is one edit here.
 *
 * Retriable does not always mean "resend unchanged": for the metadata family
 * (NOT_LEADER_OR_FOLLOWER, UNKNOWN_TOPIC_OR_PARTITION, LEADER_NOT_AVAILABLE,
 * FENCED_LEADER_EPOCH, ...) the caller refreshes metadata first, and for NOT_COORDINATOR and
 * COORDINATOR_NOT_AVAILABLE it looks the coordinator up again; COORDINATOR_LOAD_IN_PROGRESS
 * and NOT_CONTROLLER are retriable in Kafka's own table too, so they need no override here.
 *
 * Some codes the table marks non-retriable are still recovered from, but only after an
 * action that belongs to the layer that owns the state, so they stay false here and that
 * layer handles them before asking:
 * - REBALANCE_IN_PROGRESS, UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION, MEMBER_ID_REQUIRED,
 *   FENCED_MEMBER_EPOCH: the group member rejoins; resending the same request cannot succeed.
 * - STALE_MEMBER_EPOCH: an offset commit is resent with the epoch from the next heartbeat.
 * - UNKNOWN_PRODUCER_ID, OUT_OF_ORDER_SEQUENCE_NUMBER, INVALID_PRODUCER_EPOCH: the idempotent
 *   producer bumps its epoch (KIP-360) and resequences before resending.
 * - TRANSACTION_ABORTABLE: the transaction is aborted, then the producer carries on (KIP-890).
 * - REBOOTSTRAP_REQUIRED: the client rebootstraps its metadata (KIP-1102).
 */
export function isRetriable(err: unknown): boolean {
  // A broker error: Kafka's table decides, read from the pinned kafka-clients jar (a code's
  // exception extends RetriableException) so samsa retries exactly what the Java client does.
  // That includes CORRUPT_MESSAGE: since KIP-467 a broker reports records that fail validation
  // (say, a null key on a compacted topic) as INVALID_RECORD, which is not retriable, leaving
  // CORRUPT_MESSAGE mostly for CRC mismatches: bytes damaged in transit, which a resend of the
  // same batch can fix. Codes newer than the table are not retriable (see errorInfo).
  if (err instanceof KafkaError) return err.retriable;
  // A connection that could not be opened or that dropped: brokers restart and leaders move;
  // the caller reconnects (with backoff) and, for a leader-routed request, refreshes metadata.
  if (err instanceof ConnectionError) return true;
  // A request written before the close may have been applied. Retrying is still right for
  // idempotent requests (reads, and produce with idempotence: the broker drops the duplicate
  // by sequence number); a non-idempotent producer decides with `mayHaveReachedBroker`.
  if (err instanceof ConnectionClosedError) return true;
  // A timed-out request closed its connection; same reasoning as a dropped connection.
  if (err instanceof RequestTimeoutError) return true;
  // Anything else (samsa's own client errors, bugs, user errors) is not retriable until the
  // layer that raises it says otherwise here. AuthenticationError, FrameTooLargeError and
  // ProtocolError are deliberately absent: retrying cannot fix a wrong password, a hostile
  // frame or bytes we cannot parse.
  return false;
}

/**
 * Whether what we know of a partition's leader is wrong after `err`, so the caller must
 * refresh metadata (or apply a KIP-951 hint) and re-route before it retries. Kafka's own
 * classification: the codes whose Java exception extends InvalidMetadataException, from the
 * generated table. A dropped connection says the same of the broker it went to.
 */
export function needsMetadataRefresh(err: unknown): boolean {
  if (err instanceof KafkaError) return err.invalidMetadata;
  return err instanceof ConnectionError || err instanceof ConnectionClosedError;
}

/**
 * Whether the group or transaction coordinator moved (NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE):
 * forget it and look it up again before retrying. From the generated table.
 */
export function needsCoordinatorLookup(err: unknown): boolean {
  return err instanceof KafkaError && err.coordinatorMoved;
}
