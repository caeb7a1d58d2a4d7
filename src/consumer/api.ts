/**
 * The consumer's public argument and result types, and the checks its methods run on
 * arguments (errors name the argument, as everywhere in samsa).
 */
import { InvalidArgumentError } from "../protocol/errors.js";
import type { FetcherStats } from "./fetcher.js";
import type { Subscription } from "./group/membership.js";
import type { TopicPartition } from "./partition.js";

/** Called around rebalances; each may be async, and `commit()` works inside them. */
export interface RebalanceListener {
  /** Partitions just assigned, before fetching starts: `seek` here chooses where to start. */
  assigned?(partitions: TopicPartition[]): void | Promise<void>;
  /** Partitions about to go (auto-commit already ran for them): commit your own offsets here. */
  revoked?(partitions: TopicPartition[]): void | Promise<void>;
  /** Partitions taken away without a chance to commit (fenced, session expired). Default: `revoked`. */
  lost?(partitions: TopicPartition[]): void | Promise<void>;
}

/** A partition to read in assign mode; without `offset`, the committed offset or autoOffsetReset decides. */
export interface AssignedPartition extends TopicPartition {
  offset?: bigint;
}

/** An explicit offset to commit: the offset of the next record to read, as Kafka stores it. */
export interface CommitOffset extends TopicPartition {
  offset: bigint;
  metadata?: string | null;
}

/** Where to move a partition: an offset, or the log's start or end. */
export interface SeekTarget extends TopicPartition {
  offset: bigint | "earliest" | "latest";
}

/** Options of `messages()` and `batches()`. */
export interface ReadOptions {
  /** Ends the iteration (cleanly: the loop just ends) when it aborts. */
  signal?: AbortSignal;
}

/** How far one partition is behind. */
export interface ConsumerLag extends TopicPartition {
  /** Next offset to be handed out; undefined before the start offset is known. */
  position: bigint | undefined;
  /** Log end (high watermark, or last stable offset with read_committed) at the last fetch; -1n before one. */
  endOffset: bigint;
  /** endOffset − position, never negative; undefined while either is unknown. */
  lag: bigint | undefined;
}

/** Counters for tests and metrics. */
export interface ConsumerStats {
  fetch: FetcherStats;
  /** Fetched bytes not yet handed out, decompressed payloads included (bounded by maxBufferedBytes). */
  bufferedBytes: number;
  /** Errors waiting for the loop to throw them (one per partition, at most 64). */
  pendingErrors: number;
  commits: number;
  commitErrors: number;
  rebalances: number;
}

const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

/** Checks a `{ topic, partition }` argument; `name` is what errors call it. */
export function checkPartition(name: string, p: unknown): TopicPartition {
  if (p === null || typeof p !== "object") throw new InvalidArgumentError(name, "must be { topic, partition }");
  const { topic, partition } = p as TopicPartition;
  if (typeof topic !== "string" || !TOPIC_NAME.test(topic)) {
    throw new InvalidArgumentError(`${name}.topic`, `must be a valid topic name, got ${JSON.stringify(topic)}`);
  }
  if (typeof partition !== "number" || !Number.isInteger(partition) || partition < 0) {
    throw new InvalidArgumentError(`${name}.partition`, `must be an integer ≥ 0, got ${String(partition)}`);
  }
  return { topic, partition };
}

/** Checks what `subscribe` was given: names, or a RegExp without flags. */
export function checkSubscription(topics: string | readonly string[] | RegExp): Subscription {
  if (topics instanceof RegExp) {
    if (topics.flags.replace(/[gy]/g, "") !== "") {
      throw new InvalidArgumentError(
        "topics",
        `pattern flags are not supported (got /${topics.source}/${topics.flags})`,
      );
    }
    return { pattern: topics };
  }
  const list = typeof topics === "string" ? [topics] : topics;
  if (!Array.isArray(list) || list.length === 0) {
    throw new InvalidArgumentError("topics", "must be a topic name, a non-empty array of names, or a RegExp");
  }
  for (const t of list) {
    if (typeof t !== "string" || !TOPIC_NAME.test(t)) {
      throw new InvalidArgumentError("topics", `${JSON.stringify(t)} is not a valid topic name`);
    }
  }
  return { topics: [...new Set(list as string[])] };
}
