/**
 * Records that `send` could not put in a batch yet: their topic's metadata is not there, or
 * buffer memory is full. They wait in send order (once anything waits, everything after it
 * waits too), bounded by `bufferMemory` and each by `maxBlockMs`, while metadata is fetched;
 * then they go into batches, or fail with the reason. Failures here are counted and reported
 * like failed batches (`producer:records-failed`).
 */
import type { Cluster } from "../network/cluster.js";
import { TimeoutError } from "../network/errors.js";
import type { TopicMetadata } from "../network/metadata.js";
import { isRetriable } from "../network/retry.js";
import { kafkaError } from "../protocol/kafka-error.js";
import { Fifo } from "../util/fifo.js";
import type { Prepared } from "./accumulator.js";
import type { BatchOutcomes } from "./batch-outcomes.js";
import { type Owner, type OwnerReject, ownerFailed, ownerSettled } from "./delivery.js";
import { BufferFullError } from "./errors.js";
import type { ResolvedProducerOptions } from "./options.js";

interface Waiting {
  prepared: Prepared;
  owner: Owner;
  reject: OwnerReject;
  index: number;
  deadline: number;
}

/** What the waiting records need from their producer. */
export interface WaitingHost {
  readonly client: Cluster;
  readonly options: ResolvedProducerOptions;
  readonly outcomes: BatchOutcomes;
  /** Appends if metadata and memory allow; false means the record must wait. */
  tryAppend(p: Prepared, owner: Owner, reject: OwnerReject, index: number): boolean;
  /** A record failed before reaching a batch (a transaction cannot commit without it). */
  recordFailed(err: Error): void;
  /** Something left the queue: `flush` callers may be done. */
  changed(): void;
}

/** A failure found inside `send`, answered after it (failLater). */
interface LaterFailure {
  topic: string;
  owner: Owner;
  reject: OwnerReject;
  err: Error;
  count: number;
}

/** The producer's waiting records; see the module comment. */
export class WaitingRecords {
  readonly #host: WaitingHost;
  readonly #queue = new Fifo<Waiting>();
  /** Bytes of the waiting records: bounded by bufferMemory too, so RSS stays bounded. */
  #bytes = 0;
  /** The BufferFullError shared by the records refused in the current turn (see #overflowError). */
  #overflow: BufferFullError | undefined;
  /** Failures found inside `send` this turn, answered by one microtask (failLater). */
  #later: LaterFailure[] = [];
  #timer: NodeJS.Timeout | undefined;
  readonly #fetching = new Set<string>();
  /** Why the last metadata lookup for waiting records failed, for the error at maxBlockMs. */
  #metadataError: unknown;

  constructor(host: WaitingHost) {
    this.#host = host;
  }

  get length(): number {
    return this.#queue.length;
  }

  /** Bytes of the records waiting. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Queues a record to wait for metadata or memory (from `send`); false when full, and the
   * record then fails with BufferFullError on a microtask.
   */
  add(prepared: Prepared, owner: Owner, reject: OwnerReject, index: number, now: number): boolean {
    const { options } = this.#host;
    if (this.#bytes + prepared.size > options.bufferMemory) {
      // Called from inside `send`: its caller hears on a microtask, never inside the call.
      this.failLater(prepared.topic, owner, reject, this.#overflowError(options.bufferMemory));
      return false;
    }
    this.#bytes += prepared.size;
    this.#queue.push({ prepared, owner, reject, index, deadline: now + options.maxBlockMs });
    return true;
  }

  /**
   * The BufferFullError of this turn: records refused in one synchronous run of sends (a loop
   * that outran the buffer) share one error, as the records of one failed batch do, instead of
   * capturing a stack each (~9 µs apiece, which made such a loop take seconds).
   */
  #overflowError(bufferMemory: number): BufferFullError {
    if (this.#overflow === undefined) {
      this.#overflow = new BufferFullError(bufferMemory);
      queueMicrotask(() => {
        this.#overflow = undefined;
      });
    }
    return this.#overflow;
  }

  /** Moves waiting records into batches as metadata and memory allow; fails expired ones. */
  pump(): void {
    const { client, options } = this.#host;
    const now = Date.now();
    while (this.#queue.length > 0) {
      const w = this.#queue.peek() as Waiting;
      if (ownerSettled(w.owner)) {
        this.#queue.shift();
        this.#bytes -= w.prepared.size;
        continue;
      }
      if (this.#host.tryAppend(w.prepared, w.owner, w.reject, w.index)) {
        this.#queue.shift();
        this.#bytes -= w.prepared.size;
        continue;
      }
      if (now >= w.deadline) {
        this.#queue.shift();
        this.#bytes -= w.prepared.size;
        const known = client.cachedMetadata.topics.get(w.prepared.topic);
        if (known && known.errorCode === 0) {
          this.fail(
            w.prepared.topic,
            w.owner,
            w.reject,
            new TimeoutError(`no buffer memory for a record within maxBlockMs (${options.maxBlockMs} ms)`),
          );
          continue;
        }
        // Say why: the topic's own error, else what the last metadata request ran into
        // (ECONNREFUSED when no broker listens), not only that time ran out.
        const cause = known ? kafkaError(known.errorCode) : this.#metadataError;
        this.fail(
          w.prepared.topic,
          w.owner,
          w.reject,
          new TimeoutError(
            `topic ${w.prepared.topic} not present in metadata after maxBlockMs (${options.maxBlockMs} ms)${
              cause instanceof Error ? `: ${cause.message}` : ""
            }`,
            cause !== undefined ? { cause } : undefined,
          ),
        );
        continue;
      }
      const topic = client.cachedMetadata.topics.get(w.prepared.topic);
      if (topic?.errorCode !== 0 || topic.partitions.length === 0) this.#fetchTopic(w.prepared.topic, topic);
      break;
    }
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#host.changed();
    const head = this.#queue.peek();
    if (head) this.#timer = setTimeout(() => this.pump(), Math.min(Math.max(1, head.deadline - now), 100));
  }

  #fetchTopic(topic: string, known: TopicMetadata | undefined): void {
    const { client, options } = this.#host;
    if (this.#fetching.has(topic)) return;
    this.#fetching.add(topic);
    // A known non-retriable error (e.g. TOPIC_AUTHORIZATION_FAILED) fails the waiting records now.
    if (known && known.errorCode !== 0 && !isRetriable(kafkaError(known.errorCode))) {
      this.#failTopic(topic, kafkaError(known.errorCode));
    }
    client
      .metadata([topic], { maxAgeMs: 0, allowAutoTopicCreation: options.allowAutoTopicCreation })
      .then(
        (m) => {
          this.#metadataError = undefined;
          const t = m.topics.get(topic);
          if (t && t.errorCode !== 0 && !isRetriable(kafkaError(t.errorCode)))
            this.#failTopic(topic, kafkaError(t.errorCode));
        },
        (err) => {
          this.#metadataError = err;
          // A refresh that ran out of time is tried again until maxBlockMs; a refusal is final.
          if (!isRetriable(err) && !(err instanceof TimeoutError)) this.#failTopic(topic, err as Error);
        },
      )
      .finally(() => {
        // Retriable trouble (a topic being created, a leader moving): try again shortly.
        setTimeout(() => {
          this.#fetching.delete(topic);
          this.pump();
        }, options.retryBackoffMs);
      });
  }

  #failTopic(topic: string, err: Error): void {
    for (const w of this.#queue.removeWhere((w) => w.prepared.topic === topic)) {
      this.#bytes -= w.prepared.size;
      this.fail(topic, w.owner, w.reject, err);
    }
  }

  /**
   * `count` records of one owner fail before they reached a batch (`send`'s own checks, or
   * here): its sender hears, stats and events count them, a transaction learns it cannot commit.
   */
  fail(topic: string, owner: Owner, reject: OwnerReject, err: Error, count = 1): void {
    if (ownerSettled(owner)) return;
    this.#host.outcomes.unbatchedFailed(topic, count, err);
    this.#host.recordFailed(err);
    ownerFailed(owner, reject, err);
  }

  /**
   * {@link fail} on a microtask: for failures found inside `send`, whose callers hear after it.
   * The failures of one turn are answered by one microtask, in order, and consecutive ones of
   * one topic with one error count as one `producer:records-failed` event: a loop that outran
   * the buffer by 900,000 records logs one warning, not 900,000.
   */
  failLater(topic: string, owner: Owner, reject: OwnerReject, err: Error, count = 1): void {
    if (this.#later.length === 0) queueMicrotask(() => this.#failNow());
    this.#later.push({ topic, owner, reject, err, count });
  }

  #failNow(): void {
    const later = this.#later;
    this.#later = [];
    let i = 0;
    while (i < later.length) {
      const first = later[i] as LaterFailure;
      // A run of one topic and one error: one event for all of its records.
      let j = i;
      let records = 0;
      while (
        j < later.length &&
        (later[j] as LaterFailure).topic === first.topic &&
        (later[j] as LaterFailure).err === first.err
      ) {
        const f = later[j] as LaterFailure;
        if (!ownerSettled(f.owner)) records += f.count;
        j++;
      }
      if (records > 0) this.#host.outcomes.unbatchedFailed(first.topic, records, first.err);
      for (; i < j; i++) {
        const f = later[i] as LaterFailure;
        if (ownerSettled(f.owner)) continue;
        this.#host.recordFailed(f.err);
        ownerFailed(f.owner, f.reject, f.err);
      }
    }
  }

  /** Every waiting record fails with `err` (abort, close). */
  failAll(err: Error): void {
    for (const w of this.#queue.drain()) this.fail(w.prepared.topic, w.owner, w.reject, err);
    this.#bytes = 0;
  }

  /** Stops the expiry timer (close). */
  stop(): void {
    clearTimeout(this.#timer);
  }
}
