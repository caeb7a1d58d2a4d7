/**
 * The producer's public face: `send` checks and serialises records, picks partitions and
 * hands records to the accumulator, waiting (up to `maxBlockMs`) only when a topic's metadata
 * or buffer memory is not there yet; `flush` and `close` wait for delivery. With a
 * `transactionalId` it is also the transactional API (begin, sendOffsets, commit, abort,
 * `transaction(body)`); the protocol behind it lives in transaction-manager.ts.
 */

import { EventEmitter } from "node:events";
import type { Cluster } from "../network/cluster.js";
import { AbortedError } from "../network/errors.js";
import type { ClusterMetadata, TopicMetadata } from "../network/metadata.js";
import { tracing } from "../observability/events.js";
import { ClosedError, InvalidArgumentError } from "../protocol/errors.js";
import type { RecordData } from "../protocol/records/index.js";
import { Accumulator, type Prepared, type ProducerBatch } from "./accumulator.js";
import type { CloseOptions, ProducerRecord, ProducerStats, SendCallback, SendFunction, SendInput } from "./api.js";
import { callBack, Delivery, type Owner, type OwnerReject, type RecordMetadata } from "./delivery.js";
import { TransactionStateError } from "./errors.js";
import { IdempotenceManager } from "./idempotence.js";
import { type ProducerOptions, type ResolvedProducerOptions, resolveProducerOptions } from "./options.js";
import { partitionForKey, StickyPartitioner } from "./partitioner.js";
import { clearPrepared, copyPrepared, newPrepared, RecordPreparer } from "./prepare.js";
import { tracedSend } from "./send-tracing.js";
import { Sender } from "./sender.js";
import { refuseSend, runTransaction, type Transaction, type TransactionOptions } from "./transaction.js";
import { TransactionManager, type TransactionState } from "./transaction-manager.js";
import {
  type ConsumerGroupMetadata,
  resolveOffsets,
  type TransactionOffset,
  type TransactionOffsetsSource,
} from "./transaction-offsets.js";
import { WaitingRecords } from "./waiting.js";

/** Records of an array send that reuse the producer's pooled `Prepared` objects (about 200 KB of them). */
const PREPARED_POOL = 2048;

/** Events of a {@link Producer}. */
export interface ProducerEvents {
  /** Buffered bytes fell below `highWaterMark` after the callback form of `send` returned false. */
  drain: [];
}

/** A batching, compressing, idempotent Kafka producer; see the module comment. */
export class Producer<K = RecordData, V = RecordData> extends EventEmitter<ProducerEvents> {
  readonly #client: Cluster;
  readonly #options: ResolvedProducerOptions;
  /** Checks records and fills what their batches need (prepare.ts). */
  readonly #preparer: RecordPreparer<K, V>;
  readonly #accumulator: Accumulator;
  readonly #sender: Sender;
  readonly #sticky: StickyPartitioner;
  /** Records that could not be appended yet (no metadata or no memory), in send order. */
  readonly #waiting: WaitingRecords;
  readonly #available = new WeakMap<TopicMetadata, number[]>();
  /** The previous record's route: its topic's metadata in the snapshot it came from. */
  #routeSnapshot: ClusterMetadata | undefined;
  #routeTopic = "";
  #routeMetadata: TopicMetadata | undefined;
  #routeAvailable: number[] | undefined;
  readonly #idle: (() => void)[] = [];
  #closed = false;
  /** Above the high-water mark since `send` last said so; `"drain"` clears it. */
  #needDrain = false;
  /** The one-record path's record, reused by every call (see #sendOne). */
  readonly #scratch: Prepared = newPrepared();
  #preparing = false;
  /**
   * Reused by `#sendAll` for arrays of up to PREPARED_POOL records, so an array send makes no
   * object per record (one `Prepared` each was ~110 of the ~190 bytes an array send allocated
   * per record). Cleared after every call.
   */
  readonly #pool: Prepared[] = [];
  #poolBusy = false;
  /** Inside a `send` call: a failure found now is reported on a microtask, not inside it. */
  #inSend = 0;
  /** Set for a transactional producer. */
  readonly #transactions: TransactionManager | undefined;

  constructor(client: Cluster, options: ProducerOptions<K, V> = {}) {
    super();
    this.#client = client;
    this.#options = resolveProducerOptions(options as ProducerOptions<never, never>);
    this.#preparer = new RecordPreparer(this.#options, options.keySerializer, options.valueSerializer);
    this.#sticky = new StickyPartitioner(this.#options.batchBytes);
    this.#accumulator = new Accumulator(this.#options, () => this.#sender.wake());
    const timeoutMs = Math.max(this.#options.maxBlockMs, this.#options.requestTimeoutMs);
    const { transactionalId } = this.#options;
    this.#transactions =
      transactionalId !== undefined
        ? new TransactionManager(client, {
            transactionalId,
            transactionTimeoutMs: this.#options.transactionTimeoutMs,
            timeoutMs,
            retryBackoffMs: this.#options.retryBackoffMs,
            retryBackoffMaxMs: this.#options.retryBackoffMaxMs,
            onChange: () => this.#sender.wake(),
          })
        : undefined;
    const idempotence =
      this.#transactions ?? (this.#options.idempotent ? new IdempotenceManager(client, timeoutMs) : undefined);
    this.#sender = new Sender(
      client,
      this.#accumulator,
      this.#options,
      idempotence,
      {
        onBatchSettled: (batch) => this.#settled(batch),
        onRequestDone: () => this.#checkIdle(),
      },
      this.#transactions,
    );
    this.#waiting = new WaitingRecords({
      client,
      options: this.#options,
      outcomes: this.#sender.outcomes,
      tryAppend: (p, owner, reject, index) => this.#tryAppend(p, owner, reject, index),
      recordFailed: (err) => this.#transactions?.batchFailed(err, false),
      changed: () => this.#checkIdle(),
    });
  }

  /** The options in force, defaults applied. */
  get options(): Readonly<ResolvedProducerOptions> {
    return this.#options;
  }

  /** Produce requests sent so far. */
  get requestCount(): number {
    return this.#sender.requests;
  }

  /** A snapshot of what is buffered and what became of the records (a new object each call). */
  stats(): ProducerStats {
    const o = this.#sender.outcomes;
    let openBatches = 0;
    let readyBatches = 0;
    let inFlightBatches = 0;
    for (const q of this.#accumulator.queues()) {
      if (q.open) openBatches++;
      readyBatches += q.ready.length;
      inFlightBatches += q.inFlight;
    }
    return {
      waitingRecords: this.#waiting.length,
      bufferedBytes: this.#accumulator.bufferedBytes,
      openBatches,
      readyBatches,
      inFlightBatches,
      requests: this.#sender.requests,
      retries: this.#sender.retries,
      batchesAcknowledged: o.batchesAcknowledged,
      recordsAcknowledged: o.recordsAcknowledged,
      bytesAcknowledged: o.bytesAcknowledged,
      batchesFailed: o.batchesFailed,
      recordsFailed: o.recordsFailed,
    };
  }

  /**
   * Sends records; see {@link SendFunction} for its four forms. While someone traces sends
   * (`samsa:producer:send`, e.g. the `samsa/otel` outlet), each call runs inside its span.
   */
  readonly send = ((input: SendInput<K, V>, callback?: SendCallback) =>
    tracing.send.hasSubscribers
      ? tracedSend(
          this.#client.instrumentation.clientId,
          this.#options.propagateTraceContext,
          input,
          callback,
          this.#untraced,
        )
      : this.#send(input, callback)) as SendFunction<K, V>;

  readonly #untraced = (input: SendInput<unknown, unknown>, callback: SendCallback): boolean => {
    this.#send(input as SendInput<K, V>, callback);
    return !this.#needDrain;
  };

  /**
   * True when more than `highWaterMark` bytes are buffered: the callback form of `send` said
   * false, and `"drain"` will follow (as `Writable.writableNeedDrain`).
   */
  get needsDrain(): boolean {
    return this.#needDrain;
  }

  #send(
    input: SendInput<K, V>,
    callback: SendCallback | undefined,
  ): Promise<RecordMetadata | RecordMetadata[]> | boolean {
    const transactions = this.#transactions;
    if (transactions && !this.#closed) {
      // Outside a transaction (or in a failed one) a transactional producer sends nothing.
      try {
        transactions.checkSend();
      } catch (err) {
        return refuseSend(err, callback) ?? !this.#needDrain;
      }
    }
    // The forms that make closures live in their own methods: a closure here over `input`
    // or `callback` would make V8 allocate this call's context on every send, the
    // one-record callback form's included (64 bytes a record, measured).
    if (!Array.isArray(input)) {
      // One record: the caller's callback, or the promise's resolve and reject, own it directly.
      if (callback) {
        this.#sendOne(input as ProducerRecord<K, V>, callback as Owner, undefined);
        return !this.#needDrain;
      }
      return this.#sendOnePromise(input as ProducerRecord<K, V>);
    }
    return this.#sendArray(input as readonly ProducerRecord<K, V>[], callback);
  }

  #sendOnePromise(record: ProducerRecord<K, V>): Promise<RecordMetadata> {
    return new Promise<RecordMetadata>((resolve, reject) => this.#sendOne(record, resolve, reject));
  }

  #sendArray(
    records: readonly ProducerRecord<K, V>[],
    callback: SendCallback | undefined,
  ): Promise<RecordMetadata[]> | boolean {
    if (callback) {
      this.#sendAll(
        records,
        new Delivery(
          records.length,
          (results) => callBack(callback as (err: Error | null, result?: RecordMetadata[]) => void, null, results),
          (err) => callBack(callback as (err: Error | null) => void, err),
        ),
      );
      return !this.#needDrain;
    }
    return new Promise((resolve, reject) => this.#sendAll(records, new Delivery(records.length, resolve, reject)));
  }

  /** The one-record path: checks, encodes into its batch, and keeps no object of its own. */
  #sendOne(record: ProducerRecord<K, V>, owner: Owner, reject: OwnerReject): void {
    if (this.#closed) {
      this.#refuse(record, owner, reject, new ClosedError("producer"), 1);
      return;
    }
    // A partitioner or serializer that sends from inside `send` gets its own scratch record.
    const reentered = this.#preparing;
    const p = reentered ? newPrepared() : this.#scratch;
    this.#preparing = true;
    this.#inSend++;
    try {
      const now = Date.now();
      try {
        this.#preparer.prepare(record, now, p);
      } catch (err) {
        this.#refuse(record, owner, reject, err as Error, 1);
        return;
      }
      if (this.#waiting.length > 0) {
        // Order is kept: once anything waits, everything after it waits too.
        this.#waiting.add(copyPrepared(p), owner, reject, 0, now);
      } else if (!this.#tryAppend(p, owner, reject, 0)) {
        if (this.#waiting.add(copyPrepared(p), owner, reject, 0, now)) this.#waiting.pump();
      }
      this.#checkHighWater();
    } finally {
      this.#preparing = reentered;
      this.#inSend--;
    }
  }

  #sendAll(records: readonly ProducerRecord<K, V>[], delivery: Delivery): void {
    if (this.#closed) {
      this.#refuse(records[0], delivery, undefined, new ClosedError("producer"), records.length);
      return;
    }
    if (records.length === 0) {
      this.#refuse(undefined, delivery, undefined, new InvalidArgumentError("records", "must not be empty"), 0);
      return;
    }
    const n = records.length;
    // The pool serves arrays up to its size, one call at a time (a partitioner or serializer
    // that sends an array from inside this one gets objects of its own).
    const pooled = !this.#poolBusy && n <= PREPARED_POOL;
    const prepared: Prepared[] = pooled ? this.#pool : new Array(n);
    if (pooled) {
      while (prepared.length < n) prepared.push(newPrepared());
      this.#poolBusy = true;
    }
    try {
      // Check everything first: a bad record in an array sends nothing.
      // One clock read per call: records of one send without their own timestamp share it.
      const now = Date.now();
      try {
        for (let i = 0; i < n; i++) {
          const into = pooled ? (prepared[i] as Prepared) : newPrepared();
          prepared[i] = this.#preparer.prepare(records[i] as ProducerRecord<K, V>, now, into);
        }
      } catch (err) {
        this.#refuse(records[0], delivery, undefined, err as Error, n);
        return;
      }
      this.#inSend++;
      try {
        for (let i = 0; i < n; i++) {
          const p = prepared[i] as Prepared;
          // Order is kept: once anything waits, everything after it waits too.
          const behind = this.#waiting.length > 0;
          if (!behind && this.#tryAppend(p, delivery, undefined, i)) continue;
          // A waiting record keeps its own copy of a pooled one.
          if (!this.#waiting.add(pooled ? copyPrepared(p) : p, delivery, undefined, i, now)) break;
          // Queued behind others, whoever frees memory or brings metadata pumps; first in line, we do.
          if (!behind) this.#waiting.pump();
        }
      } finally {
        this.#inSend--;
      }
    } finally {
      if (pooled) {
        // The pool pins none of the caller's data once the call returns.
        for (let i = 0; i < n; i++) clearPrepared(prepared[i] as Prepared);
        this.#poolBusy = false;
      }
    }
    this.#checkHighWater();
  }

  /**
   * A send refused before any of its records was taken (closed, a bad record): counted like
   * any failed record, and answered on a microtask, so a callback never runs inside `send`.
   */
  #refuse(record: unknown, owner: Owner, reject: OwnerReject, err: Error, count: number): void {
    const topic = (record as { topic?: unknown } | null | undefined)?.topic;
    this.#waiting.failLater(typeof topic === "string" ? topic : "", owner, reject, err, count);
  }

  /**
   * Appends if metadata and memory allow; false means the record must wait. No clock reading
   * is passed in: a double argument to a call V8 does not inline is boxed, 16 bytes a record.
   */
  #tryAppend(p: Prepared, owner: Owner, reject: OwnerReject, index: number): boolean {
    const snapshot = this.#client.cachedMetadata;
    let topic = this.#routeMetadata;
    if (snapshot !== this.#routeSnapshot || p.topic !== this.#routeTopic) {
      topic = snapshot.topics.get(p.topic);
      this.#routeSnapshot = snapshot;
      this.#routeTopic = p.topic;
      this.#routeMetadata = topic;
      this.#routeAvailable = undefined;
    }
    if (topic?.errorCode !== 0 || topic.partitions.length === 0) return false;
    if (!this.#accumulator.hasRoom(p.size)) return false;
    let partition = p.partition;
    const count = topic.partitions.length;
    if (partition === undefined) {
      let available = this.#routeAvailable;
      if (available === undefined) {
        available = this.#availablePartitions(topic);
        this.#routeAvailable = available;
      }
      if (this.#options.partitioner) {
        partition = this.#options.partitioner({
          topic: p.topic,
          key: p.keyBytes,
          partitionCount: count,
          availablePartitions: available,
        });
      } else if (p.keyBytes) {
        partition = partitionForKey(p.keyBytes, count);
      } else {
        partition = this.#sticky.partition(p.topic, p.size, available, this.#accumulator);
      }
    }
    if (!Number.isInteger(partition) || (partition as number) < 0 || (partition as number) >= count) {
      const name = p.topic;
      const err = new InvalidArgumentError("partition", `${name} has ${count} partitions; got ${String(partition)}`);
      if (this.#inSend > 0) this.#waiting.failLater(name, owner, reject, err);
      else this.#waiting.fail(name, owner, reject, err);
      return true;
    }
    this.#accumulator.append(this.#accumulator.queue(p.topic, partition as number), p, owner, reject, index);
    return true;
  }

  /** After taking records: above the high-water mark, the callback form says stop. */
  #checkHighWater(): void {
    if (!this.#needDrain && this.#accumulator.bufferedBytes + this.#waiting.bytes >= this.#options.highWaterMark) {
      this.#needDrain = true;
    }
  }

  #availablePartitions(topic: TopicMetadata): number[] {
    let list = this.#available.get(topic);
    if (!list) {
      list = topic.partitions.filter((p) => p && p.leaderId >= 0).map((p) => p.partition);
      if (list.length === 0) list = topic.partitions.map((p) => p.partition);
      this.#available.set(topic, list);
    }
    return list;
  }

  #settled(batch: ProducerBatch): void {
    this.#accumulator.release(batch);
    if (this.#waiting.length > 0) this.#waiting.pump();
    this.#checkIdle();
  }

  /** Wakes `flush` callers once nothing is waiting, buffered or in flight; says `"drain"` below the mark. */
  #checkIdle(): void {
    if (this.#needDrain && this.#accumulator.bufferedBytes + this.#waiting.bytes < this.#options.highWaterMark) {
      this.#needDrain = false;
      this.emit("drain");
    }
    if (this.#idle.length > 0 && this.#waiting.length === 0 && this.#accumulator.empty) {
      for (const resolve of this.#idle.splice(0)) resolve();
    }
  }

  /** Sends everything buffered now (ignoring linger) and resolves when all is settled. */
  async flush(): Promise<void> {
    this.#sender.beginFlush();
    try {
      while (this.#waiting.length > 0 || !this.#accumulator.empty) {
        await new Promise<void>((resolve) => {
          this.#idle.push(resolve);
          this.#sender.wake();
        });
      }
    } finally {
      this.#sender.endFlush();
    }
  }

  /** Where the transactional producer stands; undefined for a producer without `transactionalId`. */
  get transactionState(): TransactionState | undefined {
    return this.#transactions?.state;
  }

  #transactional(operation: string): TransactionManager {
    if (this.#closed) throw new ClosedError("producer");
    if (!this.#transactions) {
      throw new TransactionStateError(operation, "none", "the producer is not transactional (set transactionalId)");
    }
    return this.#transactions;
  }

  /**
   * Registers the transactional id with its coordinator (InitProducerId): aborts what a
   * previous producer with this id left open and fences that producer. `beginTransaction`
   * does this on first use; call it at start-up to fence a zombie before any work.
   */
  async initTransactions(): Promise<void> {
    await this.#transactional("initTransactions").ensure();
  }

  /** Opens a transaction: the records sent and offsets added until commit or abort belong to it. */
  async beginTransaction(): Promise<void> {
    const transactions = this.#transactional("beginTransaction");
    if (transactions.state === "uninitialized") await transactions.ensure();
    transactions.begin();
  }

  /** Same as {@link beginTransaction}. */
  begin(): Promise<void> {
    return this.beginTransaction();
  }

  /**
   * Adds a consumer's positions to the transaction: they commit with its records, atomically
   * (consume-transform-produce). Pass the consumer itself (`sendOffsets(consumer)`): its group
   * metadata (KIP-447: the coordinator refuses a member a rebalance replaced) and, without
   * `offsets`, each assigned partition's position, so everything handed out so far, the batch in
   * hand included, counts as processed. Or pass `groupMetadata` and `offsets`, the next offsets
   * to read (last processed + 1). A consumer with nothing to commit adds nothing.
   */
  async sendOffsets(
    groupOrConsumer: ConsumerGroupMetadata | TransactionOffsetsSource,
    offsets?: readonly TransactionOffset[],
  ): Promise<void> {
    const transactions = this.#transactional("sendOffsets");
    const resolved = resolveOffsets(groupOrConsumer, offsets);
    if (resolved === undefined) {
      transactions.checkSend("sendOffsets");
      return;
    }
    await transactions.sendOffsets(resolved.group, resolved.offsets);
  }

  /**
   * Sends everything buffered, then commits: the records become visible to read_committed
   * consumers and the offsets are committed. When a record failed, rejects with
   * TransactionAbortableError: call `abortTransaction()`.
   */
  async commitTransaction(): Promise<void> {
    const transactions = this.#transactional("commitTransaction");
    transactions.beginCommit();
    await this.flush();
    if (transactions.state !== "committing") throw transactions.commitFailed();
    if (await transactions.end(true)) this.#resetSequences();
  }

  /**
   * Aborts the transaction: records not yet sent are dropped (their sends reject with
   * AbortedError), those in flight are waited for, and the coordinator writes abort markers so
   * read_committed consumers skip everything the transaction wrote.
   */
  async abortTransaction(): Promise<void> {
    const transactions = this.#transactional("abortTransaction");
    transactions.beginAbort();
    const err = new AbortedError("the transaction was aborted before these records were sent");
    this.#waiting.failAll(err);
    this.#sender.abortAll(err);
    // In-flight batches come back by themselves; their records are aborted with the rest.
    await this.flush();
    try {
      if (await transactions.end(false)) this.#resetSequences();
    } catch (e) {
      transactions.abortFailed();
      throw e;
    }
  }

  /**
   * Runs `body` in a transaction: begins, runs it, commits. When the body throws, the commit
   * fails or `options.signal` aborts, the transaction is aborted and the error rethrown.
   * Resolves with what the body returned.
   */
  transaction<T>(body: (tx: Transaction<K, V>) => T | Promise<T>, options: TransactionOptions = {}): Promise<T> {
    return runTransaction(this, body, options);
  }

  /** A new epoch: every partition's sequence starts again at 0 (nothing is in flight now). */
  #resetSequences(): void {
    for (const q of this.#accumulator.queues()) q.sequencer.reset();
  }

  /**
   * Stops accepting records, delivers what is buffered, and releases timers. With a signal
   * that aborts, what is not yet acknowledged fails with AbortedError instead. The Cluster
   * stays open (other producers and consumers may share it). A transaction still open is
   * aborted, as Java's producer does.
   */
  async close(options: CloseOptions = {}): Promise<void> {
    const transactions = this.#transactions;
    if (!this.#closed && (transactions?.state === "inTransaction" || transactions?.state === "abortableError")) {
      await this.abortTransaction().catch(() => {});
    }
    this.#closed = true;
    const { signal } = options;
    const abort = () => {
      const err = new AbortedError("producer closed before delivery");
      this.#waiting.failAll(err);
      this.#sender.abortAll(err);
      for (const resolve of this.#idle.splice(0)) resolve();
    };
    if (signal?.aborted) abort();
    else signal?.addEventListener("abort", abort, { once: true });
    try {
      if (!signal?.aborted) await this.flush();
    } finally {
      signal?.removeEventListener("abort", abort);
      this.#waiting.stop();
      this.#sender.stop();
    }
  }
}
