/**
 * The sender: takes ready batches, groups them by partition leader and sends one Produce
 * request per broker (one batch per partition, up to `maxRequestBytes`), with up to
 * `maxInFlight` requests in flight per broker. It settles deliveries from the responses and
 * retries what is retriable until the delivery timeout, re-sending the same bytes.
 *
 * Ordering with idempotence: a partition's batches carry consecutive sequence numbers and
 * go out on one connection, which the broker handles in order. When one comes back for a
 * retry, the partition stops sending until all its in-flight batches are back, then resends
 * from the lowest sequence, so the broker never sees a gap it would have to reject.
 *
 * Transactions: batches carry the transactional attribute and the Produce request the
 * transactional id; below TV2 a partition's first batch of a transaction waits until the
 * TransactionManager has added the partition (AddPartitionsToTxn). A batch that fails for good
 * fails the transaction instead of bumping the epoch here: the abort bumps it (or, with TV2,
 * EndTxn gives the next one), and until then nothing unsent goes out.
 */

import { backoffDelay } from "../network/backoff.js";
import type { Cluster } from "../network/cluster.js";
import { TimeoutError } from "../network/errors.js";
import { isRetriable, needsMetadataRefresh } from "../network/retry.js";
import { ErrorCode } from "../protocol/error-table.js";
import { type KafkaError, kafkaError } from "../protocol/kafka-error.js";
import { Produce, type ProduceRequest, type ProduceResponse } from "../protocol/messages/index.js";
import { GATHER_MIN_BYTES } from "../protocol/primitives/writer.js";
import { rewriteProducerState } from "../protocol/records/index.js";
import type { Accumulator, PartitionQueue, ProducerBatch } from "./accumulator.js";
import { BatchOutcomes } from "./batch-outcomes.js";
import { ownerAcknowledged, ownerFailed, RecordMetadata } from "./delivery.js";
import type { ProducerIdSource } from "./idempotence.js";
import type { ResolvedProducerOptions } from "./options.js";
import type { PartitionSequencer } from "./sequencer.js";
import type { TransactionManager } from "./transaction-manager.js";

const {
  NONE,
  OUT_OF_ORDER_SEQUENCE_NUMBER,
  DUPLICATE_SEQUENCE_NUMBER,
  UNKNOWN_PRODUCER_ID,
  UNKNOWN_TOPIC_OR_PARTITION,
} = ErrorCode;

/** Callbacks into the producer. */
export interface SenderHooks {
  /** A batch is settled (acknowledged or failed): release memory, wake waiters. */
  onBatchSettled(batch: ProducerBatch): void;
  /**
   * A request came back and its batches are no longer counted in flight. `flush` waits on
   * this, not on settlement alone: a batch settles while its request still counts as in
   * flight, so checking only then would never see the producer idle.
   */
  onRequestDone(): void;
}

/** Work the sender starts in the background and must not start twice. */
type BackgroundTask = "identity" | "metadata";

/** See the module comment. */
export class Sender {
  readonly #client: Cluster;
  readonly #accumulator: Accumulator;
  readonly #options: ResolvedProducerOptions;
  readonly #idempotence: ProducerIdSource | undefined;
  readonly #hooks: SenderHooks;
  readonly #transactions: TransactionManager | undefined;
  readonly #inFlightByNode = new Map<number, number>();
  /** Per broker: resolves once the latest request was handed to the connection (see #send). */
  readonly #issued = new Map<number, Promise<void>>();
  #scheduled = false;
  /** Where the next request's drain starts among a broker's partitions (see #drain). */
  #drainIndex = 0;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Number.POSITIVE_INFINITY;
  #flushing = 0;
  /** A partition lost a sequenced batch (or the broker lost our state): bump before sending more. */
  #bumpNeeded = false;
  #bumpingEpoch = false;
  /** Background work under way, each kind at most once at a time. */
  readonly #running: Record<BackgroundTask, boolean> = { identity: false, metadata: false };
  /** Produce requests sent (for tests and metrics). */
  requests = 0;
  /** Batches put back for another attempt (for tests and metrics). */
  retries = 0;
  /** Counters and events of settled batches (see `ProducerStats`). */
  readonly outcomes: BatchOutcomes;

  constructor(
    client: Cluster,
    accumulator: Accumulator,
    options: ResolvedProducerOptions,
    idempotence: ProducerIdSource | undefined,
    hooks: SenderHooks,
    transactions?: TransactionManager,
  ) {
    this.#transactions = transactions;
    this.#client = client;
    this.#accumulator = accumulator;
    this.#options = options;
    this.#idempotence = idempotence;
    this.#hooks = hooks;
    this.outcomes = new BatchOutcomes(client.instrumentation, options.compression);
  }

  /** Runs the sender soon (once, however many times it is called before it runs). */
  wake(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#run();
    });
  }

  /** While flushing, open batches are sent without waiting for their linger. */
  beginFlush(): void {
    this.#flushing++;
    this.wake();
  }

  endFlush(): void {
    this.#flushing--;
  }

  /** Stops timers (the producer is closed). */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(at: number): void {
    if (!Number.isFinite(at) || at >= this.#timerAt) return;
    clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.#timerAt = Number.POSITIVE_INFINITY;
        this.#run();
      },
      Math.max(0, at - Date.now()),
    );
  }

  #run(): void {
    const now = Date.now();
    let next = this.#accumulator.expireLinger(now, this.#flushing > 0);
    // Delivery timeouts first, whatever else blocks sending (no leader, no producer id, an
    // epoch bump): a batch not in flight fails at its deadline however often it was retried.
    next = Math.min(next, this.#expire(now));
    const transactions = this.#transactions;
    if (transactions?.blocked) {
      // The transaction failed (or the producer is fenced): what is not yet sent never will
      // be under this transaction; in-flight batches come back by themselves.
      const err = transactions.sendError();
      for (const q of this.#accumulator.queues()) for (const b of q.ready.splice(0)) this.#fail(b, err);
      this.#schedule(next);
      return;
    }
    const idempotence = this.#idempotence;
    if (idempotence) {
      if (this.#bumpNeeded || this.#bumpingEpoch) {
        this.#maybeBumpEpoch();
        this.#schedule(next);
        return;
      }
      if (!idempotence.identity) {
        if (this.#hasReady()) this.#ensureIdentity();
        this.#schedule(next);
        return;
      }
    }
    const metadata = this.#client.cachedMetadata;
    const byNode = new Map<number, PartitionQueue[]>();
    let needMetadata = false;
    for (const q of this.#accumulator.queues()) {
      if (q.ready.length === 0) continue;
      if (q.sequencer.draining) {
        if (q.inFlight > 0) continue;
        q.sequencer.drained();
      }
      const head = q.ready[0] as ProducerBatch;
      if (head.retryAt > now) {
        next = Math.min(next, head.retryAt);
        continue;
      }
      // Below TV2 the partition joins the transaction first; the manager wakes us when it has.
      if (transactions?.needsPartition(q.topic, q.partition)) continue;
      const leader = metadata.topics.get(q.topic)?.partitions[q.partition]?.leaderId ?? -1;
      if (leader < 0 || !metadata.brokers.has(leader)) {
        needMetadata = true;
        continue;
      }
      let list = byNode.get(leader);
      if (!list) {
        list = [];
        byNode.set(leader, list);
      }
      list.push(q);
    }
    for (const [nodeId, queues] of byNode) {
      const inFlight = this.#inFlightByNode.get(nodeId) ?? 0;
      if (inFlight >= this.#options.maxInFlight) continue;
      const batches = this.#drain(queues);
      if (batches.length === 0) continue;
      this.#inFlightByNode.set(nodeId, inFlight + 1);
      void this.#send(nodeId, batches);
    }
    if (needMetadata) this.#refreshMetadata();
    this.#schedule(next);
  }

  /**
   * Fails every batch waiting in a ready queue past its delivery deadline (in-flight ones are
   * bounded by the request timeout and judged when they return). Returns the earliest
   * deadline still ahead, so the sender wakes for it even when nothing else happens.
   */
  #expire(now: number): number {
    let next = Number.POSITIVE_INFINITY;
    for (const q of this.#accumulator.queues()) {
      if (q.ready.length === 0) continue;
      let kept = 0;
      for (const b of q.ready) {
        if (b.deadline > now) {
          q.ready[kept++] = b;
          if (b.deadline < next) next = b.deadline;
          continue;
        }
        const what = b.attempts === 0 ? "not sent" : `not acknowledged after ${b.attempts} attempts`;
        this.#fail(
          b,
          new TimeoutError(
            `${q.topic}-${q.partition}: records ${what} within deliveryTimeoutMs (${this.#options.deliveryTimeoutMs} ms)${
              b.lastError instanceof Error ? `: ${b.lastError.message}` : ""
            }`,
            b.lastError !== undefined ? { cause: b.lastError } : undefined,
          ),
        );
      }
      q.ready.length = kept;
    }
    return next;
  }

  #hasReady(): boolean {
    for (const q of this.#accumulator.queues()) if (q.ready.length > 0) return true;
    return false;
  }

  #ensureIdentity(): void {
    if (this.#running.identity || !this.#idempotence) return;
    this.#running.identity = true;
    this.#whenDone("identity", this.#idempotence.ensure(), this.#onIdentityError);
  }

  // No broker reachable (yet): keep trying; the batches' delivery deadlines bound the wait. A
  // refusal (e.g. authorization) stays a refusal: fail what is waiting.
  readonly #onIdentityError = (err: Error): void => {
    if (isRetriable(err)) {
      this.#retryLater(err);
    } else {
      for (const q of this.#accumulator.queues()) for (const b of q.ready.splice(0)) this.#fail(b, err);
    }
  };

  /** Remembers a failure that is not any one batch's, as the cause for batches that then time out. */
  #noteError(err: unknown): void {
    for (const q of this.#accumulator.queues()) for (const b of q.ready) b.lastError ??= err;
  }

  #refreshMetadata(): void {
    if (this.#running.metadata) return;
    this.#running.metadata = true;
    this.#whenDone("metadata", this.#client.refreshMetadata(), this.#retryLater);
  }

  /** Notes `err` for the waiting batches and runs the loop again after the retry backoff. */
  readonly #retryLater = (err: unknown): void => {
    this.#noteError(err);
    this.#schedule(Date.now() + this.#options.retryBackoffMs);
  };

  /**
   * Clears `task`'s running flag once `work` settles, then wakes the loop or hands the error to
   * `onError`. The handlers are fields, so starting a task makes no closures beyond these two.
   */
  #whenDone(task: BackgroundTask, work: Promise<unknown>, onError: (err: Error) => void): void {
    work.then(
      () => {
        this.#running[task] = false;
        this.wake();
      },
      (err: Error) => {
        this.#running[task] = false;
        onError(err);
      },
    );
  }

  /** Takes one ready batch per partition for one request, assigning sequences to new ones. */
  #drain(queues: PartitionQueue[]): ProducerBatch[] {
    const batches: ProducerBatch[] = [];
    let size = 0;
    const identity = this.#idempotence?.identity;
    // Each request starts where the previous one stopped (as Java's drainIndex): a request
    // holds only a few full batches, and always starting at the first partition would leave
    // the last ones waiting behind the others whenever all have batches ready (seconds of p99).
    const start = this.#drainIndex % queues.length;
    for (let k = 0; k < queues.length; k++) {
      const at = (start + k) % queues.length;
      const q = queues[at] as PartitionQueue;
      const batch = q.ready[0] as ProducerBatch;
      const batchSize = batch.bytes?.length ?? batch.builder?.sizeInBytes ?? 0;
      this.#drainIndex = at;
      if (batches.length > 0 && size + batchSize > this.#options.maxRequestBytes) break;
      this.#drainIndex = at + 1;
      q.ready.shift();
      q.inFlight++;
      size += batchSize;
      if (identity && batch.baseSequence < 0) {
        // Sequences are assigned here, synchronously and in queue order, so that a
        // partition's batches get consecutive numbers in the order they will be sent.
        batch.baseSequence = q.sequencer.assign(batch.recordCount);
        batch.producerEpoch = identity.producerEpoch;
        batch.builder?.setProducerState(
          identity.producerId,
          identity.producerEpoch,
          batch.baseSequence,
          this.#transactions !== undefined,
        );
      }
      // From here the broker may hold these records: the transaction needs an EndTxn to end.
      this.#transactions?.batchSent();
      batches.push(batch);
    }
    return batches;
  }

  async #send(nodeId: number, batches: ProducerBatch[]): Promise<void> {
    // Requests to one broker must reach its connection in the order they were drained:
    // sequences were assigned in that order, and a compression (or a connection setup) that
    // finishes out of order would otherwise put a later batch on the wire first, which the
    // broker rejects as OUT_OF_ORDER_SEQUENCE_NUMBER. Each request waits for the previous
    // one to be handed to the connection; compressions still run in parallel.
    const previous = this.#issued.get(nodeId);
    let issued!: () => void;
    const mine = new Promise<void>((resolve) => {
      issued = resolve;
    });
    this.#issued.set(nodeId, mine);
    try {
      const sealing = Promise.all(batches.map((b) => this.#seal(b)));
      await previous;
      await sealing;
      const request = this.#request(batches);
      // The request's buffer, sized once: headers, names and the batches it copies, generously
      // (batches of GATHER_MIN_BYTES or more go to the socket as they are, uncopied).
      let sizeHint = 512;
      for (const b of batches) {
        const bytes = b.bytes?.length ?? 0;
        sizeHint += (bytes < GATHER_MIN_BYTES ? bytes : 0) + 64 + b.queue.topic.length;
      }
      const connection = await this.#client.connection(nodeId, { api: Produce });
      this.requests++;
      this.outcomes.sent(batches, nodeId);
      if (this.#options.acks === 0) {
        const written = connection.request(Produce, request, { noResponse: true, sizeHint, gather: true });
        issued();
        await written;
        for (const b of batches) this.#complete(b, -1n, -1n);
        return;
      }
      // request() queues the frame synchronously, so the order is fixed once it returns.
      const cap = this.#transactions?.produceVersionCap;
      const responded = connection.request(Produce, request, {
        timeoutMs: this.#options.requestTimeoutMs,
        sizeHint,
        // Built batches stay as they are while a request holds them (a producer-state rewrite
        // waits until none is in flight): they go out uncopied.
        gather: true,
        ...(cap !== undefined ? { version: Math.min(cap, connection.versionFor(Produce)) } : {}),
      });
      issued();
      this.#handle(batches, await responded);
    } catch (err) {
      issued();
      // The request failed as a whole (connection lost, timeout): every batch may or may not
      // have been written. Retrying the same bytes is safe with idempotence (the broker drops
      // duplicates by sequence) and is what Kafka's clients do without it.
      for (const b of batches) this.#retryOrFail(b, err);
      if (needsMetadataRefresh(err) || isRetriable(err)) {
        // The broker may be gone: learn the partitions' new leaders before the retries.
        this.#client.invalidateLeader();
        this.#refreshMetadata();
      }
    } finally {
      this.#inFlightByNode.set(nodeId, (this.#inFlightByNode.get(nodeId) ?? 1) - 1);
      for (const b of batches) b.queue.inFlight--;
      this.#hooks.onRequestDone();
      this.wake();
    }
  }

  /** Builds a batch's bytes once (compressing if configured); retries reuse them. */
  async #seal(batch: ProducerBatch): Promise<void> {
    const builder = batch.builder;
    if (batch.bytes || !builder) return;
    batch.builder = null;
    const { compression, compressionLevel } = this.#options;
    batch.uncompressedBytes = builder.sizeInBytes;
    batch.bytes =
      compression === "none" ? builder.build() : await builder.buildCompressed(compression, compressionLevel);
  }

  #request(batches: ProducerBatch[]): ProduceRequest {
    const metadata = this.#client.cachedMetadata;
    const topics = new Map<string, ProduceRequest["topicData"][number]>();
    for (const b of batches) {
      let t = topics.get(b.queue.topic);
      if (!t) {
        t = {
          name: b.queue.topic,
          topicId: metadata.topics.get(b.queue.topic)?.topicId ?? "AAAAAAAAAAAAAAAAAAAAAA",
          partitionData: [],
        };
        topics.set(b.queue.topic, t);
      }
      t.partitionData.push({ index: b.queue.partition, records: b.bytes });
    }
    return {
      transactionalId: this.#transactions?.transactionalId ?? null,
      acks: this.#options.acks,
      timeoutMs: this.#options.requestTimeoutMs,
      topicData: [...topics.values()],
    };
  }

  #handle(batches: ProducerBatch[], response: ProduceResponse): void {
    const metadata = this.#client.cachedMetadata;
    const results = new Map<string, ProduceResponse["responses"][number]["partitionResponses"][number]>();
    for (const t of response.responses) {
      // Produce v13+ names topics by id only.
      const name = t.name || metadata.topicNames.get(t.topicId) || "";
      for (const p of t.partitionResponses) results.set(`${name}\0${p.index}`, p);
    }
    const endpoints = response.nodeEndpoints.map((e) => ({
      nodeId: e.nodeId,
      host: e.host,
      port: e.port,
      rack: e.rack,
    }));
    for (const b of batches) {
      const q = b.queue;
      const r = results.get(`${q.topic}\0${q.partition}`);
      if (!r) {
        this.#retryOrFail(b, kafkaError(UNKNOWN_TOPIC_OR_PARTITION, "the response did not mention this partition"));
        continue;
      }
      if (r.errorCode === NONE || r.errorCode === DUPLICATE_SEQUENCE_NUMBER) {
        this.#complete(b, r.baseOffset, r.logAppendTimeMs);
        continue;
      }
      const error = kafkaError(r.errorCode, r.errorMessage);
      // The leader we sent to is not (or no longer) the leader: re-route before the retry.
      if (error.invalidMetadata) {
        // KIP-951: the broker names the new leader; use it before a metadata round trip.
        if (r.currentLeader.leaderId >= 0) {
          this.#client.applyLeaderHint(
            q.topic,
            q.partition,
            r.currentLeader.leaderId,
            r.currentLeader.leaderEpoch,
            endpoints,
          );
        } else {
          this.#client.invalidateLeader();
          this.#refreshMetadata();
        }
      }
      if (this.#idempotence && (r.errorCode === OUT_OF_ORDER_SEQUENCE_NUMBER || r.errorCode === UNKNOWN_PRODUCER_ID)) {
        this.#sequenceError(b, error);
        continue;
      }
      this.#retryOrFail(b, error);
    }
  }

  /**
   * OUT_OF_ORDER_SEQUENCE_NUMBER for a batch that is not the next one the broker expects
   * just means an earlier batch failed and will be resent first: retry this one after it.
   * For the next expected batch (a real gap: the broker lost state) and for
   * UNKNOWN_PRODUCER_ID, bump the epoch and resequence everything not yet acknowledged
   * (KIP-360). Either way the delivery deadline still holds.
   */
  #sequenceError(batch: ProducerBatch, error: KafkaError): void {
    const sequencer: PartitionSequencer = batch.queue.sequencer;
    batch.lastError = error;
    if (error.errorCode !== OUT_OF_ORDER_SEQUENCE_NUMBER || sequencer.isNextExpected(batch.baseSequence)) {
      if (this.#transactions) {
        // Transactional: the transaction fails (abortable) and its abort bumps the epoch.
        this.#fail(batch, error);
        return;
      }
      sequencer.outOfSync();
      this.#bumpNeeded = true;
    }
    if (Date.now() >= batch.deadline) this.#retryOrFail(batch, error);
    else this.#retry(batch);
  }

  /**
   * Bumps the epoch once nothing is in flight (their answers still belong to the old epoch;
   * `onRequestDone` brings the sender back here), then starts every partition's sequences
   * again at 0, rewriting the batches that already had one.
   */
  #maybeBumpEpoch(): void {
    if (this.#bumpingEpoch || !this.#idempotence) return;
    for (const q of this.#accumulator.queues()) if (q.inFlight > 0) return;
    this.#bumpingEpoch = true;
    this.#bumpNeeded = false;
    this.#idempotence.bump().then(
      (identity) => {
        for (const q of this.#accumulator.queues()) {
          q.sequencer.reset();
          for (const b of q.ready) {
            if (b.baseSequence < 0) continue;
            b.baseSequence = q.sequencer.assign(b.recordCount);
            b.producerEpoch = identity.producerEpoch;
            if (b.bytes) rewriteProducerState(b.bytes, identity.producerId, identity.producerEpoch, b.baseSequence);
            else b.builder?.setProducerState(identity.producerId, identity.producerEpoch, b.baseSequence);
          }
        }
        this.#bumpingEpoch = false;
        this.wake();
      },
      (err: Error) => {
        this.#bumpingEpoch = false;
        if (isRetriable(err)) {
          // No broker answers yet: try again; delivery deadlines bound how long batches wait.
          this.#bumpNeeded = true;
          this.#noteError(err);
          this.#schedule(Date.now() + this.#options.retryBackoffMs);
        } else {
          for (const q of this.#accumulator.queues()) for (const b of q.ready.splice(0)) this.#fail(b, err);
          this.wake();
        }
      },
    );
  }

  #retryOrFail(batch: ProducerBatch, err: unknown): void {
    batch.lastError = err;
    if (!isRetriable(err)) {
      this.#fail(batch, err as Error);
      return;
    }
    if (Date.now() >= batch.deadline) {
      this.#fail(
        batch,
        new TimeoutError(
          `${batch.queue.topic}-${batch.queue.partition}: records not acknowledged after ${batch.attempts + 1} attempts within deliveryTimeoutMs (${this.#options.deliveryTimeoutMs} ms): ${(err as Error).message}`,
          { cause: err },
        ),
      );
      return;
    }
    this.#retry(batch);
  }

  /** Puts a batch back at its place in the ready queue, after a backoff. */
  #retry(batch: ProducerBatch): void {
    const q = batch.queue;
    this.retries++;
    this.outcomes.retried(batch);
    batch.retryAt =
      Date.now() +
      backoffDelay(batch.attempts, {
        floorMs: this.#options.retryBackoffMs,
        ceilingMs: this.#options.retryBackoffMaxMs,
      });
    batch.attempts++;
    if (this.#idempotence && batch.baseSequence >= 0) {
      // Ready batches stay in sequence order: those with sequences first, lowest first.
      let at = 0;
      while (at < q.ready.length) {
        const other = q.ready[at] as ProducerBatch;
        if (other.baseSequence < 0 || other.baseSequence > batch.baseSequence) break;
        at++;
      }
      q.ready.splice(at, 0, batch);
      q.sequencer.requeued();
    } else {
      q.ready.unshift(batch);
    }
  }

  #complete(batch: ProducerBatch, baseOffset: bigint, logAppendTimeMs: bigint): void {
    const q = batch.queue;
    if (batch.baseSequence >= 0) q.sequencer.acknowledged(batch.baseSequence, batch.recordCount);
    const { topic, partition } = q;
    const logAppend = logAppendTimeMs >= 0n ? Number(logAppendTimeMs) : -1;
    let delta = 0;
    for (let r = 0; r < batch.runCount; r++) {
      const owner = batch.runOwner(r);
      const reject = batch.runReject(r);
      const start = batch.runStart(r);
      const count = batch.runLength(r);
      const timestamp = logAppend >= 0 ? logAppend : batch.runTimestamp(r);
      for (let k = 0; k < count; k++) {
        ownerAcknowledged(
          owner,
          reject,
          start + k,
          new RecordMetadata(topic, partition, baseOffset, delta++, timestamp),
        );
      }
    }
    this.outcomes.acknowledged(batch, baseOffset);
    this.#hooks.onBatchSettled(batch);
  }

  #fail(batch: ProducerBatch, err: Error): void {
    if (this.#transactions) {
      // The transaction cannot commit without these records; its abort handles the sequence gap.
      this.#transactions.batchFailed(err, batch.baseSequence >= 0);
    } else if (this.#idempotence && batch.baseSequence >= 0) {
      // Its sequence will never be acknowledged: a gap only a new epoch closes (sequencer.ts).
      batch.queue.sequencer.lost();
      this.#bumpNeeded = true;
    }
    this.outcomes.failed(batch, err);
    for (let r = 0; r < batch.runCount; r++) {
      const owner = batch.runOwner(r);
      const reject = batch.runReject(r);
      // Every record of a callback's run hears; an array send fails once.
      const count = typeof owner !== "function" ? 1 : batch.runLength(r);
      for (let k = 0; k < count; k++) ownerFailed(owner, reject, err);
    }
    this.#hooks.onBatchSettled(batch);
  }

  /** Fails every batch not in flight (close with abort). */
  abortAll(err: Error): void {
    for (const q of this.#accumulator.queues()) {
      if (q.open) {
        q.ready.push(q.open);
        q.open = null;
      }
      for (const b of q.ready.splice(0)) this.#fail(b, err);
    }
  }
}
