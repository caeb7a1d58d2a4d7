/**
 * The admin client's two error classes. `AdminOperationError` carries per-item refusals of a
 * batch call (with the results of the items that worked); `AdminTimeoutError` says a call ran
 * out of time while it was still retrying, with the last retriable error as its cause. Each
 * has its own code, so a `switch (err.code)` tells them from the `KafkaError`
 * (`SAMSA_ERR_KAFKA`) and `RequestTimeoutError` (`SAMSA_ERR_REQUEST_TIMEOUT`) they wrap.
 */
import { SamsaError } from "../protocol/errors.js";

/** One item of a batch call that failed. */
export interface AdminItemFailure {
  /** Position of the item in the call's input. */
  readonly index: number;
  /** The item in words, e.g. `topic orders` or `orders-3`, for messages and logs. */
  readonly item: string;
  /**
   * Why it failed: a `KafkaError` with the broker's code and message for a refusal, or the
   * transport error (e.g. `ConnectionError`) when the broker that owns the item could not be
   * reached before the deadline.
   */
  readonly error: SamsaError;
}

/**
 * Some items of a batch call failed. The call did not throw on the first refusal: every item
 * was tried (retriable errors until the deadline), so `results` holds the outcome of the
 * items that succeeded, at their input positions, and `failures` names the rest. Switch on
 * `failures[i].error.code` (and `errorCode` for a `KafkaError`).
 */
export class AdminOperationError<R = unknown> extends SamsaError {
  constructor(
    /** The admin method, e.g. `createTopics`. */
    readonly operation: string,
    /** The failed items, in input order. */
    readonly failures: readonly AdminItemFailure[],
    /** Per input position: the item's result, or undefined where it failed. */
    readonly results: readonly (R | undefined)[],
  ) {
    const shown = failures.slice(0, 5).map((f) => `${f.item}: ${f.error.message}`);
    if (failures.length > shown.length) shown.push(`… and ${failures.length - shown.length} more`);
    const items = `${results.length} item${results.length === 1 ? "" : "s"}`;
    super("SAMSA_ERR_ADMIN_OPERATION", `${operation}: ${failures.length} of ${items} failed: ${shown.join("; ")}`);
  }
}

/**
 * A call did not complete within its `timeoutMs` because a retriable error (a leader moving,
 * a coordinator loading, a broker restarting) outlasted it. `cause` is the last such error.
 */
export class AdminTimeoutError extends SamsaError {
  constructor(
    /** The admin method, e.g. `listOffsets`. */
    readonly operation: string,
    /** The call's time budget. */
    readonly timeoutMs: number,
    cause: unknown,
  ) {
    const last = cause instanceof Error ? `; last error: ${cause.message}` : "";
    super("SAMSA_ERR_ADMIN_TIMEOUT", `${operation} did not complete within ${timeoutMs} ms${last}`, { cause });
  }
}
