/**
 * Errors waiting for the application's loop to throw them, bounded: one per partition (the
 * latest replaces an older one) and one per distinct other error. Also the rule that decides
 * whether a partition's repeated fetch failures are thrown at all or only reported.
 */
import { ConnectionClosedError, ConnectionError, RequestTimeoutError } from "../network/errors.js";
import { ErrorCode } from "../protocol/error-table.js";
import { KafkaError } from "../protocol/kafka-error.js";
import type { FetchError } from "./errors.js";
import type { PartitionState } from "./partition.js";

/**
 * Errors waiting for the loop, at most. They are already one per partition (the latest) and
 * one per distinct other error, so this only binds a consumer of many failing partitions that
 * nobody iterates; past it, errors go to the client's `error` event instead.
 */
const MAX_PENDING_ERRORS = 64;

/** Whether a fetch failure's cause is one the cluster recovers from without the application. */
function heals(cause: unknown): boolean {
  if (cause instanceof KafkaError) {
    return (
      cause.retriable &&
      cause.errorCode !== ErrorCode.UNKNOWN_TOPIC_OR_PARTITION &&
      cause.errorCode !== ErrorCode.UNKNOWN_TOPIC_ID
    );
  }
  return (
    cause instanceof ConnectionError || cause instanceof ConnectionClosedError || cause instanceof RequestTimeoutError
  );
}

/** The queue; see the module comment. */
export class PendingErrors {
  /** Keyed by partition, or by name and message: Map order keeps the oldest first. */
  readonly #errors = new Map<string, Error>();
  readonly #background: (error: Error, operation: string, state?: PartitionState) => void;
  readonly #wake: () => void;

  /**
   * `background` takes what the queue will not hold (to the client's `error` event); `wake`
   * wakes a loop waiting for data, so it throws the new error.
   */
  constructor(background: (error: Error, operation: string, state?: PartitionState) => void, wake: () => void) {
    this.#background = background;
    this.#wake = wake;
  }

  /** Errors waiting. */
  get size(): number {
    return this.#errors.size;
  }

  /** Takes the oldest waiting error. */
  shift(): Error | undefined {
    const first = this.#errors.entries().next();
    if (first.done) return undefined;
    const [key, error] = first.value;
    this.#errors.delete(key);
    return error;
  }

  /**
   * Queues an error for the loop to throw: one per partition (a newer one replaces it) and one
   * per distinct other error, MAX_PENDING_ERRORS in all; past that, to the `error` event.
   */
  enqueue(error: Error, state?: PartitionState): void {
    const key = state ? state.key : `\u0001${error.name}\u0001${error.message}`;
    if (this.#errors.has(key)) {
      this.#errors.delete(key); // re-inserted last: the order stays oldest first
    } else if (this.#errors.size >= MAX_PENDING_ERRORS) {
      this.#background(error, "read", state);
      return;
    }
    this.#errors.set(key, error);
    this.#wake();
  }

  /**
   * A partition failed FETCH_ATTEMPTS times in a row. When the cause is one a cluster gets over
   * by itself (a broker restarting, a leader moving), the loop keeps running and the FetchError
   * goes to the client's `error` event: Java's consumer polls through that too, and a loop
   * ended by a broker restart would stop the application. A cause that waiting will not cure
   * (bytes that do not decode, a non-retriable code, a topic the cluster does not know) is
   * thrown by the loop.
   */
  fetchFailed(error: FetchError, state: PartitionState): void {
    if (heals(error.cause)) this.#background(error, "fetch", state);
    else this.enqueue(error, state);
  }
}
