/**
 * What became of the producer's batches: counters for `ProducerStats` and the batch events of
 * the catalogue (observability/events.ts). The sender calls one method per transition; an
 * event nobody wants costs a `wants` check per batch, never per record.
 */
import type { EventPayloads, ProducerBatchEvent } from "../observability/events.js";
import type { Instrumentation } from "../observability/instrumentation.js";
import type { ProducerBatch } from "./accumulator.js";

type BatchEventName =
  | "producer:batch-sent"
  | "producer:batch-acknowledged"
  | "producer:batch-retried"
  | "producer:batch-failed";

/** Per-producer batch counters and events; see the module comment. */
export class BatchOutcomes {
  readonly #inst: Instrumentation;
  readonly #compression: string;
  batchesAcknowledged = 0;
  recordsAcknowledged = 0;
  /** Wire bytes (compressed) of the acknowledged batches. */
  bytesAcknowledged = 0;
  batchesFailed = 0;
  recordsFailed = 0;

  constructor(instrumentation: Instrumentation, compression: string) {
    this.#inst = instrumentation;
    this.#compression = compression;
  }

  /** The batches of one Produce request went out to `nodeId`. */
  sent(batches: readonly ProducerBatch[], nodeId: number): void {
    if (!this.#inst.wants("producer:batch-sent")) return;
    for (const b of batches) this.#emit("producer:batch-sent", b, { nodeId });
  }

  acknowledged(batch: ProducerBatch, baseOffset: bigint): void {
    this.batchesAcknowledged++;
    this.recordsAcknowledged += batch.recordCount;
    this.bytesAcknowledged += batch.bytes?.length ?? 0;
    if (!this.#inst.wants("producer:batch-acknowledged")) return;
    this.#emit("producer:batch-acknowledged", batch, { baseOffset, latencyMs: Date.now() - batch.createdAt });
  }

  /** The batch goes back into its queue; `batch.lastError` says why. */
  retried(batch: ProducerBatch): void {
    if (!this.#inst.wants("producer:batch-retried")) return;
    const e = batch.lastError;
    this.#emit("producer:batch-retried", batch, { error: e instanceof Error ? e : new Error(String(e)) });
  }

  /** Records of `topic` failed before they were in a batch. */
  unbatchedFailed(topic: string, records: number, error: Error): void {
    this.recordsFailed += records;
    if (!this.#inst.wants("producer:records-failed")) return;
    this.#inst.emit("producer:records-failed", { clientId: this.#inst.clientId, topic, records, error });
  }

  failed(batch: ProducerBatch, error: Error): void {
    this.batchesFailed++;
    this.recordsFailed += batch.recordCount;
    if (!this.#inst.wants("producer:batch-failed")) return;
    this.#emit("producer:batch-failed", batch, { error });
  }

  #emit<E extends BatchEventName>(
    name: E,
    batch: ProducerBatch,
    extra: Omit<EventPayloads[E], keyof ProducerBatchEvent>,
  ): void {
    const bytes = batch.bytes?.length ?? batch.builder?.sizeInBytes ?? 0;
    this.#inst.emit(name, {
      clientId: this.#inst.clientId,
      topic: batch.queue.topic,
      partition: batch.queue.partition,
      records: batch.recordCount,
      bytes,
      uncompressedBytes: batch.uncompressedBytes || bytes,
      compression: this.#compression,
      attempt: batch.attempts,
      ...extra,
    } as EventPayloads[E]);
  }
}
