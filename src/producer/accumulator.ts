/**
 * The accumulator: per partition, an open batch that records are encoded into at `send`
 * time, and a queue of closed batches waiting for the sender. A batch closes when the next
 * record would not fit or when its linger time is up. It also keeps the one buffer-memory
 * count that makes `bufferMemory` a hard bound.
 *
 *   send() ──encode──▶ open batch ──full / linger──▶ ready queue ──▶ sender ──▶ in flight
 *                                                        ▲                      │
 *                                                        └──── retry (same bytes)┘
 */
import { RecordBatchBuilder, type RecordInput } from "../protocol/records/index.js";
import type { Owner, OwnerReject } from "./delivery.js";
import { PartitionSequencer } from "./sequencer.js";

/** Fixed overhead of a Produce request around its batches, generously rounded up. */
export const REQUEST_OVERHEAD_BYTES = 1024;

/** A checked record: what the batch encodes (itself a RecordInput, so no second object per record) and how to place it. */
export interface Prepared extends RecordInput {
  timestamp: number;
  topic: string;
  partition: number | undefined;
  /** Key bytes for the partitioner (keyed records without an explicit partition). */
  keyBytes: Buffer | Uint8Array | null;
  size: number;
}

/** One batch on its way to one partition. */
export class ProducerBatch {
  readonly queue: PartitionQueue;
  /** Encodes records until the batch closes; null afterwards. */
  builder: RecordBatchBuilder | null;
  /** The finished bytes, sent and re-sent as they are. */
  bytes: Buffer | null = null;
  /** Size before compression, known once sealed (for events and metrics). */
  uncompressedBytes = 0;
  recordCount = 0;
  /** Bytes charged to buffer memory for this batch. */
  charged = 0;
  /**
   * Whose records these are, run-length coded (a send call's records mostly land together,
   * and so do one-record sends sharing a callback): run r is `runLength(r)` records in batch
   * order, owned by `runOwner(r)` (see delivery.ts; `runReject(r)` beside a promise's
   * resolve), results `runStart(r)`… of a Delivery, all stamped `runTimestamp(r)`.
   * Two slots of `#owners` and three numbers of `#numbers` per run, no object per record, and
   * both are made with room for the runs the batch's buffer would hold at the partition's last
   * batch's bytes per run (Accumulator.append). (The five push-grown arrays
   * this replaced cost about 150 bytes a record in garbage with one callback per record.)
   */
  #owners: (Owner | OwnerReject)[];
  /** Per run: start, length, timestamp. */
  #numbers: Float64Array;
  #runs = 0;

  /** Adds one record (result `index` of `owner`, stamped `timestamp`) to the runs. */
  addOwner(owner: Owner, reject: OwnerReject, index: number, timestamp: number): void {
    const r = this.#runs - 1;
    const n = this.#numbers;
    if (
      r >= 0 &&
      this.#owners[2 * r] === owner &&
      n[3 * r + 2] === timestamp &&
      reject === undefined &&
      // A Delivery's results are indexed; a callback's records need only be counted.
      (typeof owner === "function" || (n[3 * r] as number) + (n[3 * r + 1] as number) === index)
    ) {
      n[3 * r + 1] = (n[3 * r + 1] as number) + 1;
      return;
    }
    const at = r + 1;
    if (3 * at === n.length) this.#grow();
    const owners = this.#owners;
    owners[2 * at] = owner;
    owners[2 * at + 1] = reject;
    const numbers = this.#numbers;
    numbers[3 * at] = index;
    numbers[3 * at + 1] = 1;
    numbers[3 * at + 2] = timestamp;
    this.#runs = at + 1;
  }

  #grow(): void {
    const numbers = new Float64Array(2 * this.#numbers.length);
    numbers.set(this.#numbers);
    this.#numbers = numbers;
    this.#owners.length = 2 * this.#owners.length;
  }

  /** How many runs of owners the batch holds. */
  get runCount(): number {
    return this.#runs;
  }
  /** Run r's owner: a Delivery, a callback, or a promise's resolve. */
  runOwner(r: number): Owner {
    return this.#owners[2 * r] as Owner;
  }
  /** Run r's promise reject, beside its resolve; undefined otherwise. */
  runReject(r: number): OwnerReject {
    return this.#owners[2 * r + 1] as OwnerReject;
  }
  /** Run r's first result index in its Delivery. */
  runStart(r: number): number {
    return this.#numbers[3 * r] as number;
  }
  /** Records in run r. */
  runLength(r: number): number {
    return this.#numbers[3 * r + 1] as number;
  }
  /** Run r's records' timestamp. */
  runTimestamp(r: number): number {
    return this.#numbers[3 * r + 2] as number;
  }

  readonly createdAt: number;
  /** Fail the batch after this (deliveryTimeoutMs from creation). */
  readonly deadline: number;
  /** Idempotence: sequence of the first record, -1 until first drained. */
  baseSequence = -1;
  producerEpoch = -1;
  attempts = 0;
  /** Not to be sent again before this time (retry backoff). */
  retryAt = 0;
  /** Why the last attempt failed: the cause of a delivery timeout. */
  lastError: unknown = undefined;

  /**
   * `runs`: how many owner runs to make room for (more grow the arrays). The batch's base
   * timestamp is its first record's (the builder's default), as in Java's batches.
   */
  constructor(queue: PartitionQueue, now: number, deliveryTimeoutMs: number, capacity: number, runs = 1) {
    this.queue = queue;
    const slots = Math.max(2, runs);
    this.#owners = new Array(2 * slots);
    this.#numbers = new Float64Array(3 * slots);
    this.createdAt = now;
    this.deadline = now + deliveryTimeoutMs;
    this.builder = new RecordBatchBuilder({ initialCapacity: capacity });
  }
}

/** Everything about one partition's outgoing batches. */
export class PartitionQueue {
  readonly topic: string;
  readonly partition: number;
  open: ProducerBatch | null = null;
  /** Closed batches in send order; retried batches go back to the front, in sequence order. */
  readonly ready: ProducerBatch[] = [];
  inFlight = 0;
  /** Bytes of records waiting here (open + ready): the load signal for the sticky partitioner. */
  queuedBytes = 0;
  /** Size of the last batch closed here: the next one starts with that capacity. */
  lastBatchBytes = 0;
  /** Owner runs of the last batch closed here: the next one makes room for about as many. */
  lastBatchRuns = 0;
  /** Idempotence: this partition's sequence numbers (see sequencer.ts). */
  readonly sequencer = new PartitionSequencer();

  constructor(topic: string, partition: number) {
    this.topic = topic;
    this.partition = partition;
  }
}

/** Options the accumulator needs. */
export interface AccumulatorOptions {
  batchBytes: number;
  lingerMs: number;
  deliveryTimeoutMs: number;
  bufferMemory: number;
}

/** Per-partition queues and the memory count; see the module comment. */
export class Accumulator {
  readonly #options: AccumulatorOptions;
  readonly #topics = new Map<string, PartitionQueue[]>();
  /** Bytes in batches not yet acknowledged. */
  bufferedBytes = 0;
  /** Called when a batch opens or becomes ready (full), so the sender can run. */
  readonly #onReady: () => void;

  constructor(options: AccumulatorOptions, onReady: () => void) {
    this.#options = options;
    this.#onReady = onReady;
  }

  /** The queues of the topic used last (most records repeat it): no map lookup for them. */
  #lastTopic: string | undefined;
  #lastQueues: PartitionQueue[] = [];

  /** The queue of a partition, created on first use. */
  queue(topic: string, partition: number): PartitionQueue {
    let queues = topic === this.#lastTopic ? this.#lastQueues : this.#topics.get(topic);
    if (!queues) {
      queues = [];
      this.#topics.set(topic, queues);
    }
    this.#lastTopic = topic;
    this.#lastQueues = queues;
    let q = queues[partition];
    if (!q) {
      q = new PartitionQueue(topic, partition);
      queues[partition] = q;
    }
    return q;
  }

  /** Bytes queued for a partition (0 for one never used). */
  queuedBytes(topic: string, partition: number): number {
    return this.#topics.get(topic)?.[partition]?.queuedBytes ?? 0;
  }

  /** True when buffer memory has room for `size` more bytes. */
  hasRoom(size: number): boolean {
    return this.bufferedBytes + size <= this.#options.bufferMemory || this.bufferedBytes === 0;
  }

  /**
   * Encodes a record into its partition's open batch (opening or rolling one as needed) and
   * records whose delivery it is. `size` is the caller's estimate, used for memory.
   */
  append(q: PartitionQueue, record: Prepared, owner: Owner, reject: OwnerReject, index: number): void {
    const { timestamp, size } = record;
    let batch = q.open;
    if (batch?.builder && !batch.builder.tryAppend(record, this.#options.batchBytes)) {
      this.#close(q);
      batch = null;
    }
    if (!batch) {
      // Room for up to four times this partition's previous batch (at most batchBytes): linger
      // and the sticky partitioner close a busy partition's batches part-full and of varying
      // size, and a batch that outgrows its buffer copies what it holds. Sized like the
      // previous one, 230 of ~540 batches per 1M records grew (34 MB copied); at four times,
      // 16-18 (1-2 MB). A trickle still gets 16 KiB, not batchBytes, per batch.
      const capacity = Math.min(this.#options.batchBytes, Math.max(4 * q.lastBatchBytes, size, 16 * 1024)) + 128;
      // Room for as many runs as that buffer holds at the previous batch's bytes per run, and
      // an eighth more than last time: with a callback per record a run is a record, and a
      // full batch after one that linger closed half-full doubled its run arrays (~300 times
      // per 1M records, ~15 ms of a run's CPU profile).
      const last = q.lastBatchRuns;
      // A partition's first batch: as many as records of this one's size would fill.
      const scaled =
        q.lastBatchBytes > 0
          ? Math.ceil((last * capacity) / q.lastBatchBytes)
          : Math.ceil(capacity / Math.max(size, 64));
      const runs = Math.max(last + (last >> 3) + 1, scaled);
      // The clock is read once a batch, here: linger and the delivery timeout count from now.
      batch = new ProducerBatch(q, Date.now(), this.#options.deliveryTimeoutMs, capacity, runs);
      q.open = batch;
      (batch.builder as RecordBatchBuilder).append(record);
      // The sender must learn of the new batch to arm its linger timer.
      this.#onReady();
    }
    batch.recordCount++;
    batch.addOwner(owner, reject, index, timestamp);
    batch.charged += size;
    q.queuedBytes += size;
    this.bufferedBytes += size;
    if ((batch.builder as RecordBatchBuilder).sizeInBytes >= this.#options.batchBytes) this.#close(q);
  }

  /** Moves the open batch to the ready queue. */
  #close(q: PartitionQueue): void {
    const batch = q.open;
    if (!batch) return;
    q.open = null;
    q.lastBatchBytes = batch.builder?.sizeInBytes ?? q.lastBatchBytes;
    q.lastBatchRuns = batch.runCount;
    q.ready.push(batch);
    this.#onReady();
  }

  /**
   * Closes open batches whose linger is up (all of them when `flushing`) and returns the
   * earliest time another one will be, or Infinity.
   */
  expireLinger(now: number, flushing: boolean): number {
    let next = Number.POSITIVE_INFINITY;
    for (const queues of this.#topics.values()) {
      for (const q of queues) {
        const open = q?.open;
        if (!open || !q) continue;
        const due = open.createdAt + this.#options.lingerMs;
        if (flushing || due <= now) this.#close(q);
        else if (due < next) next = due;
      }
    }
    return next;
  }

  /** Every partition queue. */
  *queues(): IterableIterator<PartitionQueue> {
    for (const queues of this.#topics.values()) for (const q of queues) if (q) yield q;
  }

  /** Gives back a finished batch's memory. */
  release(batch: ProducerBatch): void {
    this.bufferedBytes -= batch.charged;
    batch.queue.queuedBytes -= batch.charged;
    batch.charged = 0;
  }

  /** True when nothing is open, ready or in flight. */
  get empty(): boolean {
    for (const q of this.queues()) if (q.open || q.ready.length > 0 || q.inFlight > 0) return false;
    return true;
  }
}
