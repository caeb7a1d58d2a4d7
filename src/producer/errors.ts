/**
 * Errors of the producer: records too large, a full buffer, and the transactional states
 * (fenced, abortable, a call in the wrong state).
 */
import { SamsaError } from "../protocol/errors.js";

/** A record larger than the producer may send (`maxRequestBytes`); nothing was sent. */
export class RecordTooLargeError extends SamsaError {
  /** The record's encoded size. */
  readonly size: number;
  readonly maxBytes: number;

  /**
   * `maxBytes` is the largest record that fits: `maxRequestBytes` less the batch and request
   * framing, or `bufferMemory` when that is smaller; the message names both.
   */
  constructor(size: number, maxBytes: number, maxRequestBytes?: number) {
    super(
      "SAMSA_ERR_RECORD_TOO_LARGE",
      `record of ${size} bytes exceeds the largest that fits, ${maxBytes} bytes${
        maxRequestBytes !== undefined
          ? ` (maxRequestBytes ${maxRequestBytes} less framing, or bufferMemory when smaller)`
          : ""
      }`,
    );
    this.size = size;
    this.maxBytes = maxBytes;
  }
}

/**
 * The producer's buffer is full and so is its waiting line: `bufferMemory` bytes are in
 * batches and as many again wait for room. Slow down (await sends) or raise `bufferMemory`.
 */
export class BufferFullError extends SamsaError {
  constructor(bufferMemory: number) {
    super(
      "SAMSA_ERR_BUFFER_FULL",
      `producer buffer full: ${bufferMemory} bytes buffered and as many waiting; await earlier sends or raise bufferMemory`,
    );
  }
}

/**
 * A transactional producer was fenced: another producer initialised the same
 * `transactionalId` (a newer instance of this application), or the coordinator moved past
 * this producer's epoch. Fatal: the producer is unusable, every later call fails with this
 * error; close it. `cause` is the broker's error (PRODUCER_FENCED or INVALID_PRODUCER_EPOCH).
 */
export class ProducerFencedError extends SamsaError {
  /** The fenced producer's transactional id. */
  readonly transactionalId: string;

  constructor(transactionalId: string, options?: { cause?: unknown }) {
    const cause = options?.cause;
    super(
      "SAMSA_ERR_PRODUCER_FENCED",
      `transactional producer ${JSON.stringify(transactionalId)} was fenced by a newer producer with the same transactionalId${
        cause instanceof Error ? ` (${cause.message})` : ""
      }; close this producer`,
      options,
    );
    this.transactionalId = transactionalId;
  }
}

/**
 * A transactional call made in a state that does not allow it: `send` or `sendOffsets`
 * outside a transaction, `commitTransaction` without `beginTransaction`, a second
 * `beginTransaction`, a call on a `transaction()` handle after its body ended. Nothing was
 * sent; the producer's state is unchanged.
 */
export class TransactionStateError extends SamsaError {
  /** The call that was refused, e.g. `commitTransaction`. */
  readonly operation: string;
  /** The transaction state at the call, e.g. `ready` (no transaction open). */
  readonly state: string;

  constructor(operation: string, state: string, message: string) {
    super("SAMSA_ERR_TRANSACTION_STATE", `${operation}: ${message} (transaction state: ${state})`);
    this.operation = operation;
    this.state = state;
  }
}

/**
 * The current transaction hit an error it cannot commit past (a record that failed, an offset
 * commit refused, TRANSACTION_ABORTABLE, INVALID_PRODUCER_EPOCH on a send): call
 * `abortTransaction()`, after which the producer goes on with a new transaction. `cause` is the
 * first error of the transaction.
 */
export class TransactionAbortableError extends SamsaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("SAMSA_ERR_TRANSACTION_ABORTABLE", message, options);
  }
}
