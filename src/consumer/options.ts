/**
 * Consumer options: one TypeScript type, checked once at construction with errors that name
 * the option and its allowed range. Defaults follow the Java client unless a comment says why
 * not.
 */
import { InvalidArgumentError } from "../protocol/errors.js";
import {
  boolOption,
  checkOptionsObject,
  intOption,
  type OptionKeys,
  oneOfOption,
  optionalFunctionOption,
  optionalStringOption,
} from "../util/options.js";
import type { Assignor } from "./group/assignors.js";

/** Turns fetched key or value bytes into the type the application wants. */
export type Deserializer<T> = (data: Buffer | null, topic: string) => T;

/** Which group protocol a group consumer speaks. */
export type GroupProtocol = "consumer" | "classic";

/** Where to start when a partition has no committed offset, or its offset left the log. */
export type AutoOffsetReset = "earliest" | "latest" | "none";

/** Whether records of open and aborted transactions are handed out. */
export type IsolationLevel = "read_committed" | "read_uncommitted";

/** Options of a consumer. Times are milliseconds, sizes bytes. */
export interface ConsumerOptions<K = Buffer | null, V = Buffer | null> {
  /** The consumer group. Needed for `subscribe` and for committing; `assign` works without. */
  groupId?: string;
  /**
   * "consumer" (KIP-848: the broker assigns, heartbeats carry the assignment) or "classic"
   * (JoinGroup/SyncGroup, the leader member assigns). Default: "consumer" when the group
   * coordinator speaks ConsumerGroupHeartbeat v1+ (Kafka 4.x), else "classic".
   */
  groupProtocol?: GroupProtocol;
  /** Static membership (KIP-345): a restart with the same id gets its partitions back without a rebalance. */
  groupInstanceId?: string;
  /** The consumer's rack, for rack-aware assignment. */
  rackId?: string;
  /** Default "latest", as Java. "none" makes the iterator throw NoOffsetForPartitionError / OffsetOutOfRangeError. */
  autoOffsetReset?: AutoOffsetReset;
  /** Commit what was handed to the application, every `autoCommitIntervalMs`, on revoke and on close. Default true. */
  autoCommit?: boolean;
  /** Default 5,000 (Java's). */
  autoCommitIntervalMs?: number;
  /**
   * Default "read_committed": records of aborted transactions are never handed out, and
   * records of open transactions wait until they commit. Java defaults to read_uncommitted;
   * samsa chooses the setting that cannot surface rolled-back data, at the cost of waiting
   * behind open transactions (non-transactional topics behave the same either way).
   */
  isolationLevel?: IsolationLevel;
  /** Classic protocol: the member is removed after this long without a heartbeat. Default 45,000 (Java's). */
  sessionTimeoutMs?: number;
  /** Classic protocol: heartbeat period. Default 3,000 (Java's). KIP-848 takes it from the broker. */
  heartbeatIntervalMs?: number;
  /** How long the group waits for this member to give up revoked partitions. Default 300,000 (Java's max.poll.interval.ms). */
  rebalanceTimeoutMs?: number;
  /**
   * Classic protocol: assignors in order of preference, by name or your own. Default
   * ["cooperative-sticky"]: incremental rebalancing, where members keep their partitions
   * while others join or leave. The group rebalances cooperatively only when every listed
   * assignor is cooperative (Java's rule); listing "range" or "roundrobin" makes it eager.
   */
  assignors?: readonly ("range" | "roundrobin" | "cooperative-sticky" | Assignor)[];
  /** KIP-848: the broker's assignor ("uniform" or "range"); default: the broker's default. */
  serverAssignor?: string;
  /** Fetch: bytes the broker waits for before answering. Default 1. */
  minBytes?: number;
  /** Fetch: largest response. Default 50 MiB (Java's). */
  maxBytes?: number;
  /** Fetch: longest wait for `minBytes`. Default 500 (Java's). */
  maxWaitMs?: number;
  /** Fetch: largest slice of one partition in one response. Default 1 MiB (Java's). */
  maxPartitionBytes?: number;
  /**
   * Prefetch bound: fetched bytes not yet handed to the application, plus what requests in
   * flight may bring back. Fetching pauses at this bound. Default 64 MiB.
   */
  maxBufferedBytes?: number;
  /**
   * Most bytes one partition's fetched data may decompress to (its compressed batches all
   * together); past it the iterator throws DecompressionLimitError naming the topic and
   * partition, and that partition stops until a seek. The guard against decompression bombs.
   * Default 64 × maxPartitionBytes, at least 256 MiB (256 MiB with the defaults): a
   * partition's data is mostly at most maxPartitionBytes compressed (a larger batch still comes
   * whole, KIP-74), 64:1 is beyond what real record data reaches, and the floor leaves room for
   * one large batch; a bomb is stopped with at most about twice this held (one chunk decoded
   * ahead).
   */
  maxDecompressedBytes?: number;
  /** Group and offset requests time out after this. Default: the client's. */
  requestTimeoutMs?: number;
  /** Backoff floor after a failed request. Default 100. */
  retryBackoffMs?: number;
  /** Check each batch's CRC-32C. Default true. */
  checkCrcs?: boolean;
  /**
   * `batches()`: most messages in one MessageBatch. A partition's fetched data past it comes
   * in the next batches, in order. Default 500 (Java's max.poll.records): a batch's messages
   * are alive together, and a smaller live set is cheaper for V8's young-generation collector
   * than a whole 1 MiB fetch of them (measured: scavenge time per 1M records 70 → 43 ms).
   */
  maxBatchMessages?: number;
  keyDeserializer?: Deserializer<K>;
  valueDeserializer?: Deserializer<V>;
}

/** Options after defaults and checks. */
export interface ResolvedConsumerOptions {
  groupId: string | undefined;
  groupProtocol: GroupProtocol | undefined;
  groupInstanceId: string | undefined;
  rackId: string | undefined;
  autoOffsetReset: AutoOffsetReset;
  autoCommit: boolean;
  autoCommitIntervalMs: number;
  isolationLevel: IsolationLevel;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  rebalanceTimeoutMs: number;
  assignors: readonly ("range" | "roundrobin" | "cooperative-sticky" | Assignor)[];
  serverAssignor: string | undefined;
  minBytes: number;
  maxBytes: number;
  maxWaitMs: number;
  maxPartitionBytes: number;
  maxBufferedBytes: number;
  maxDecompressedBytes: number;
  requestTimeoutMs: number;
  retryBackoffMs: number;
  checkCrcs: boolean;
  maxBatchMessages: number;
}

const MIB = 1024 * 1024;
/** Floor of the default maxDecompressedBytes (see ConsumerOptions.maxDecompressedBytes). */
const MIN_DEFAULT_DECOMPRESSED_BYTES = 256 * MIB;
/** Expansion ratio the default maxDecompressedBytes allows over a partition's fetch size. */
const DECOMPRESSION_RATIO = 64;

const NAMED_ASSIGNORS = ["range", "roundrobin", "cooperative-sticky"] as const;

/** Every key of ConsumerOptions: anything else is refused (a typo, or a feature samsa lacks). */
const CONSUMER_OPTION_KEYS = {
  groupId: true,
  groupProtocol: true,
  groupInstanceId: true,
  rackId: true,
  autoOffsetReset: true,
  autoCommit: true,
  autoCommitIntervalMs: true,
  isolationLevel: true,
  sessionTimeoutMs: true,
  heartbeatIntervalMs: true,
  rebalanceTimeoutMs: true,
  assignors: true,
  serverAssignor: true,
  minBytes: true,
  maxBytes: true,
  maxWaitMs: true,
  maxPartitionBytes: true,
  maxBufferedBytes: true,
  maxDecompressedBytes: true,
  requestTimeoutMs: true,
  retryBackoffMs: true,
  checkCrcs: true,
  maxBatchMessages: true,
  keyDeserializer: true,
  valueDeserializer: true,
} satisfies OptionKeys<ConsumerOptions>;

/** Applies defaults and checks every option; throws InvalidArgumentError naming the option. */
export function resolveConsumerOptions(
  options: ConsumerOptions<unknown, unknown> = {},
  clientRequestTimeoutMs = 30_000,
): ResolvedConsumerOptions {
  checkOptionsObject(options, CONSUMER_OPTION_KEYS, "consumer");
  const groupId = optionalStringOption(options, "groupId");
  const groupProtocol =
    options.groupProtocol === undefined
      ? undefined
      : oneOfOption<GroupProtocol>(options, "groupProtocol", ["consumer", "classic"], undefined);
  const groupInstanceId = optionalStringOption(options, "groupInstanceId");
  if (groupInstanceId !== undefined && groupId === undefined) {
    throw new InvalidArgumentError("groupInstanceId", "needs a groupId");
  }
  const assignors = options.assignors ?? ["cooperative-sticky"];
  if (!Array.isArray(assignors) || assignors.length === 0) {
    throw new InvalidArgumentError("assignors", "must be a non-empty array");
  }
  for (const a of assignors) {
    const named = typeof a === "string" && (NAMED_ASSIGNORS as readonly string[]).includes(a);
    const custom = typeof a === "object" && a !== null && typeof a.name === "string" && typeof a.assign === "function";
    if (!named && !custom) {
      throw new InvalidArgumentError(
        "assignors",
        `each must be "range", "roundrobin", "cooperative-sticky" or an object with name and assign(); got ${JSON.stringify(a)}`,
      );
    }
  }
  optionalFunctionOption<Deserializer<unknown>>(options, "keyDeserializer");
  optionalFunctionOption<Deserializer<unknown>>(options, "valueDeserializer");
  const sessionTimeoutMs = intOption(options, "sessionTimeoutMs", 45_000, 1);
  const heartbeatIntervalMs = intOption(options, "heartbeatIntervalMs", 3_000, 1);
  if (heartbeatIntervalMs >= sessionTimeoutMs) {
    throw new InvalidArgumentError(
      "heartbeatIntervalMs",
      `must be below sessionTimeoutMs (${sessionTimeoutMs}), got ${heartbeatIntervalMs}`,
    );
  }
  const maxBytes = intOption(options, "maxBytes", 50 * MIB, 1);
  const maxPartitionBytes = intOption(options, "maxPartitionBytes", MIB, 1);
  const maxDecompressedBytes = intOption(
    options,
    "maxDecompressedBytes",
    Math.max(MIN_DEFAULT_DECOMPRESSED_BYTES, DECOMPRESSION_RATIO * maxPartitionBytes),
    1,
    Number.MAX_SAFE_INTEGER,
  );
  return {
    groupId,
    groupProtocol,
    groupInstanceId,
    rackId: optionalStringOption(options, "rackId"),
    autoOffsetReset: oneOfOption<AutoOffsetReset>(options, "autoOffsetReset", ["earliest", "latest", "none"], "latest"),
    autoCommit: boolOption(options, "autoCommit", true),
    autoCommitIntervalMs: intOption(options, "autoCommitIntervalMs", 5_000, 1),
    isolationLevel: oneOfOption<IsolationLevel>(
      options,
      "isolationLevel",
      ["read_committed", "read_uncommitted"],
      "read_committed",
    ),
    sessionTimeoutMs,
    heartbeatIntervalMs,
    rebalanceTimeoutMs: intOption(options, "rebalanceTimeoutMs", 300_000, 1),
    assignors,
    serverAssignor: optionalStringOption(options, "serverAssignor"),
    minBytes: intOption(options, "minBytes", 1, 0),
    maxBytes,
    maxWaitMs: intOption(options, "maxWaitMs", 500, 0),
    maxPartitionBytes,
    maxBufferedBytes: intOption(options, "maxBufferedBytes", 64 * MIB, 1, Number.MAX_SAFE_INTEGER),
    maxDecompressedBytes,
    requestTimeoutMs: intOption(options, "requestTimeoutMs", clientRequestTimeoutMs, 1),
    retryBackoffMs: intOption(options, "retryBackoffMs", 100, 0),
    checkCrcs: boolOption(options, "checkCrcs", true),
    maxBatchMessages: intOption(options, "maxBatchMessages", 500, 1),
  };
}
