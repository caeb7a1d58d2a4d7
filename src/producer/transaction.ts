/**
 * The handle `producer.transaction(body)` gives its body: `send` and `sendOffsets` of that one
 * transaction. Once the body has returned (or thrown, or its signal fired) the handle refuses
 * further calls, so a straggling callback cannot slip records into the next transaction.
 */
import { AbortedError } from "../network/errors.js";
import type { RecordData } from "../protocol/records/index.js";
import type { DeliveryCallback, SendCallback, SendFunction, SendInput } from "./api.js";
import type { RecordMetadata } from "./delivery.js";
import { TransactionStateError } from "./errors.js";
import type { Producer } from "./producer.js";
import type { ConsumerGroupMetadata, TransactionOffset, TransactionOffsetsSource } from "./transaction-offsets.js";

/**
 * Answers a send refused before it took any record, in the form its caller chose: a rejected
 * promise, or the callback with the error on a microtask (a callback never runs synchronously).
 */
export function refuseSend(err: unknown, callback: DeliveryCallback<never> | undefined): Promise<never> | undefined {
  if (!callback) return Promise.reject(err);
  queueMicrotask(() => callback(err as Error, undefined as never));
  return undefined;
}

/** Options of `producer.transaction(body, options)`. */
export interface TransactionOptions {
  /** Aborting it while the body runs aborts the transaction; `transaction()` rejects with AbortedError. */
  signal?: AbortSignal;
}

/** See the module comment. */
export class Transaction<K = RecordData, V = RecordData> {
  readonly #producer: Producer<K, V>;
  #ended = false;
  /** The signal passed to `transaction()`, for the body to hand on to its own calls. */
  readonly signal: AbortSignal | undefined;

  constructor(producer: Producer<K, V>, signal: AbortSignal | undefined) {
    this.#producer = producer;
    this.signal = signal;
  }

  /** Called by the producer when the body is over. */
  end(): void {
    this.#ended = true;
  }

  #check(operation: string): void {
    if (this.#ended) {
      throw new TransactionStateError(operation, "ended", "this transaction's body has already ended");
    }
  }

  /**
   * Sends within the transaction; the same forms as `Producer.send`. A promise left
   * unawaited does not go unhandled: a record that fails makes the commit fail instead.
   */
  readonly send = ((input: SendInput<K, V>, callback?: SendCallback) => {
    try {
      this.#check("send");
    } catch (err) {
      const refused = refuseSend(err, callback);
      refused?.catch(() => {});
      return refused ?? !this.#producer.needsDrain;
    }
    const send = this.#producer.send as (input: SendInput<K, V>, callback?: SendCallback) => unknown;
    if (callback) return send(input, callback);
    const result = send(input) as Promise<RecordMetadata | RecordMetadata[]>;
    result.catch(() => {});
    return result;
  }) as SendFunction<K, V>;

  /** Adds the consumer's offsets to this transaction; see `Producer.sendOffsets`. */
  async sendOffsets(
    groupOrConsumer: ConsumerGroupMetadata | TransactionOffsetsSource,
    offsets?: readonly TransactionOffset[],
  ): Promise<void> {
    this.#check("sendOffsets");
    await this.#producer.sendOffsets(groupOrConsumer, offsets);
  }
}

/**
 * `producer.transaction(body, options)`: begins, runs the body, commits; aborts and rethrows
 * when the body throws, the commit fails, or the signal fires while the body runs.
 */
export async function runTransaction<K, V, T>(
  producer: Producer<K, V>,
  body: (tx: Transaction<K, V>) => T | Promise<T>,
  options: TransactionOptions,
): Promise<T> {
  const { signal } = options;
  if (signal?.aborted) throw new AbortedError("transaction aborted before it began", { cause: signal.reason });
  await producer.beginTransaction();
  const tx = new Transaction<K, V>(producer, signal);
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new AbortedError("transaction aborted by its signal", { cause: signal?.reason }));
    signal?.addEventListener("abort", onAbort, { once: true });
  });
  aborted.catch(() => {});
  try {
    // The signal only interrupts the body: once EndTxn is on its way the outcome is the coordinator's.
    const result = await Promise.race([Promise.resolve().then(() => body(tx)), aborted]);
    tx.end();
    await producer.commitTransaction();
    return result;
  } catch (err) {
    tx.end();
    const state = producer.transactionState;
    if (state === "inTransaction" || state === "abortableError") {
      try {
        await producer.abortTransaction();
      } catch (abortError) {
        // A fenced producer must stop: that outranks why the body failed.
        if (producer.transactionState === "fatalError") throw abortError;
      }
    }
    throw err;
  } finally {
    if (onAbort) signal?.removeEventListener("abort", onAbort);
  }
}
