/**
 * The producer's public types: the record users send, the forms of `send`, its callback, the
 * stats snapshot and close options. The Producer class (producer.ts) implements them.
 */
import type { RecordData, RecordHeaderInput } from "../protocol/records/index.js";
import type { RecordMetadata } from "./delivery.js";

/** A record to send. */
export interface ProducerRecord<K = RecordData, V = RecordData> {
  topic: string;
  key?: K;
  value: V;
  /** Headers as a list (repeated keys allowed) or an object. */
  headers?: readonly RecordHeaderInput[] | Record<string, RecordData>;
  /** Send to this partition instead of asking the partitioner. */
  partition?: number;
  /** Create time in ms; default now. */
  timestamp?: number;
}

/** See {@link Producer.stats}. */
export interface ProducerStats {
  /** Records waiting for metadata or buffer memory (not yet in a batch). */
  waitingRecords: number;
  /** Bytes in batches not yet acknowledged (bounded by `bufferMemory`). */
  bufferedBytes: number;
  openBatches: number;
  /** Closed batches waiting to be sent (or re-sent). */
  readyBatches: number;
  /** Batches in Produce requests awaiting an answer. */
  inFlightBatches: number;
  /** Produce requests sent so far. */
  requests: number;
  /** Batches sent again after a retriable error. */
  retries: number;
  /** Batches, records and wire (compressed) bytes the brokers acknowledged. */
  batchesAcknowledged: number;
  recordsAcknowledged: number;
  bytesAcknowledged: number;
  /** Batches and records that failed (their senders got the error). */
  batchesFailed: number;
  recordsFailed: number;
}

/**
 * Node-style callback of the fire-and-forget form of `send`: `(null, report)` once the
 * record (or every record of the array) is acknowledged, or `(err)` with no report. Typed
 * as Node's own callbacks are (`fs.readFile`'s `data`): `result` is there whenever `err`
 * is null.
 */
export type DeliveryCallback<T> = (err: Error | null, result: T) => void;

/**
 * The four call forms of `send`, shared by `Producer.send` and `Transaction.send`: one record
 * or an array of them, answered by a promise or (fire-and-forget) by a callback.
 */
export interface SendFunction<K = RecordData, V = RecordData> {
  /** Sends one record; resolves with its delivery report once the broker acknowledged it. */
  (record: ProducerRecord<K, V>): Promise<RecordMetadata>;
  /** Sends several records; resolves with their reports, in order, once all are acknowledged. */
  (records: readonly ProducerRecord<K, V>[]): Promise<RecordMetadata[]>;
  /**
   * Fire-and-forget: no promise; `callback` gets the report or the error. Returns false once
   * more than `highWaterMark` bytes are buffered, as `Writable.write` does: the record is
   * taken, but a loop should wait for the producer's `"drain"` event before sending more.
   */
  (record: ProducerRecord<K, V>, callback: DeliveryCallback<RecordMetadata>): boolean;
  (records: readonly ProducerRecord<K, V>[], callback: DeliveryCallback<RecordMetadata[]>): boolean;
}

/** The first argument of {@link SendFunction}, its forms merged: one record or several. */
export type SendInput<K, V> = ProducerRecord<K, V> | readonly ProducerRecord<K, V>[];
/** The callback of {@link SendFunction}, its forms merged. */
export type SendCallback = DeliveryCallback<RecordMetadata | RecordMetadata[]>;

/** Options of `close`. */
export interface CloseOptions {
  /** When it aborts, records not yet acknowledged are failed with AbortedError. */
  signal?: AbortSignal;
}
