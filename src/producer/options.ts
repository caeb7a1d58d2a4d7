/**
 * Producer options: one TypeScript type, checked once at construction with errors that name
 * the option and its allowed range. Defaults follow the Java client except where a
 * measurement on this codebase argued otherwise (each such default says why).
 */
import { InvalidArgumentError } from "../protocol/errors.js";
import type { CompressionCodec } from "../protocol/records/compression/index.js";
import type { RecordData } from "../protocol/records/index.js";
import * as option from "../util/options.js";
import { type Partitioner, roundRobinPartitioner } from "./partitioner.js";

/** Turns a user key or value into bytes (or a string, written as UTF-8). */
export type Serializer<T> = (value: T, topic: string) => RecordData;

/** Options of a producer. Times are milliseconds, sizes bytes. */
export interface ProducerOptions<K = RecordData, V = RecordData> {
  /** 0 (no acknowledgement), 1 (leader), -1 or "all" (all in-sync replicas). Default "all". */
  acks?: 0 | 1 | -1 | "all";
  /** Idempotent delivery (no duplicates on retry, order kept). Default true; needs acks "all". */
  idempotent?: boolean;
  /** How long a batch waits for more records. Default 5 (Kafka 4.0's default). */
  lingerMs?: number;
  /**
   * Largest batch per partition, uncompressed. Default 256 KiB: with 100-byte records,
   * Java's 16 KiB makes the broker handle 16× more batches for the same data, and at 1 MiB a
   * batch no longer fits under the broker's default 1 MiB `message.max.bytes` uncompressed.
   */
  batchBytes?: number;
  /** Default "none". */
  compression?: CompressionCodec;
  /**
   * When the OpenTelemetry outlet (`samsa/otel`) traces sends, add W3C `traceparent` and
   * `tracestate` headers to each record, so consumers can link to the producing span. Default
   * true; false saves the header bytes (~70 per record). Without the outlet nothing is added.
   */
  propagateTraceContext?: boolean;
  /** Codec level (gzip 1–9, zstd 1–22, …); the codec's default when omitted. */
  compressionLevel?: number;
  /** Produce requests in flight per broker; default 5 (at most 5 with idempotence). */
  maxInFlight?: number;
  /** A record not acknowledged within this after `send` fails. Default 120,000. */
  deliveryTimeoutMs?: number;
  /** One Produce request's timeout (also the broker-side `timeoutMs`). Default 30,000. */
  requestTimeoutMs?: number;
  /** Backoff before a retry; default 100, doubling to `retryBackoffMaxMs` (1,000). */
  retryBackoffMs?: number;
  retryBackoffMaxMs?: number;
  /** Bytes buffered in unsent and unacknowledged batches before `send` waits. Default 32 MiB. */
  bufferMemory?: number;
  /** How long `send` may wait for metadata or buffer memory before it rejects. Default 60,000. */
  maxBlockMs?: number;
  /**
   * Bytes buffered (in batches and waiting) from which the callback form of `send` returns
   * false, as `Writable.write` does: stop, and go on at the producer's `"drain"` event.
   * Default 4 MiB (half of `bufferMemory` when that is smaller); at most `bufferMemory`.
   */
  highWaterMark?: number;
  /** Largest Produce request (and so largest record). Default 1 MiB (Kafka's). */
  maxRequestBytes?: number;
  /**
   * "default": murmur2 for keyed records (Java-compatible), KIP-794 uniform sticky for
   * keyless ones; "roundRobin"; or your own function.
   */
  partitioner?: "default" | "roundRobin" | Partitioner;
  /** Ask the broker to create unknown topics (if it allows that). Default true, as Java. */
  allowAutoTopicCreation?: boolean;
  keySerializer?: Serializer<K>;
  valueSerializer?: Serializer<V>;
  /**
   * Makes the producer transactional (docs/transactions.md): records are sent inside
   * `beginTransaction()` … `commitTransaction()` and become visible to read_committed
   * consumers only once committed. One id per producer instance that must survive restarts
   * (e.g. `app-<input partition>`): a new producer with the same id fences the old one.
   * Implies `idempotent: true` and `acks: "all"`.
   */
  transactionalId?: string;
  /**
   * How long the coordinator lets a transaction stay open before it aborts it (and fences
   * this producer's epoch). Default 60,000 (Java's); at most the broker's
   * `transaction.max.timeout.ms` (default 900,000). Only with `transactionalId`.
   */
  transactionTimeoutMs?: number;
}

const PRODUCER_OPTION_KEYS = {
  acks: true,
  idempotent: true,
  lingerMs: true,
  batchBytes: true,
  compression: true,
  compressionLevel: true,
  maxInFlight: true,
  deliveryTimeoutMs: true,
  requestTimeoutMs: true,
  retryBackoffMs: true,
  retryBackoffMaxMs: true,
  bufferMemory: true,
  maxBlockMs: true,
  highWaterMark: true,
  maxRequestBytes: true,
  partitioner: true,
  allowAutoTopicCreation: true,
  keySerializer: true,
  valueSerializer: true,
  transactionalId: true,
  transactionTimeoutMs: true,
  propagateTraceContext: true,
} satisfies option.OptionKeys<ProducerOptions>;

/** Options after defaults and checks. */
export interface ResolvedProducerOptions {
  acks: number;
  propagateTraceContext: boolean;
  idempotent: boolean;
  lingerMs: number;
  batchBytes: number;
  compression: CompressionCodec;
  compressionLevel: number | undefined;
  maxInFlight: number;
  deliveryTimeoutMs: number;
  requestTimeoutMs: number;
  retryBackoffMs: number;
  retryBackoffMaxMs: number;
  bufferMemory: number;
  maxBlockMs: number;
  highWaterMark: number;
  maxRequestBytes: number;
  /** Custom or round-robin partitioner; undefined means the default. */
  partitioner: Partitioner | undefined;
  allowAutoTopicCreation: boolean;
  /** Set for a transactional producer. */
  transactionalId: string | undefined;
  transactionTimeoutMs: number;
}

/**
 * 4 MiB: a loop that follows the mark keeps about this much buffered, so it is also the
 * records' queueing delay. Measured with 1M × 100 B callback sends to a local broker
 * (records/s, p99 send→ack): 16 MiB 0.85M, 212 ms; 8 MiB 0.95M, 96 ms; 4 MiB 1.11M, 60 ms;
 * 2 MiB 1.2M, 32 ms; 1 MiB 1.02M, 17 ms. Less live data also means less garbage collection of
 * the callers' records and callbacks; 4 rather than 2 MiB leaves room for five requests in
 * flight to a broker further away than loopback.
 */
const DEFAULT_HIGH_WATER_MARK = 4 * 1024 * 1024;

const CODECS: readonly CompressionCodec[] = ["none", "gzip", "snappy", "lz4", "zstd"];

/** Applies defaults and checks every option; throws InvalidArgumentError naming the option. */
export function resolveProducerOptions(options: ProducerOptions<never, never> = {}): ResolvedProducerOptions {
  option.checkOptionsObject(options, PRODUCER_OPTION_KEYS, "producer");
  const acksRaw = options.acks ?? "all";
  if (acksRaw !== "all" && acksRaw !== 0 && acksRaw !== 1 && acksRaw !== -1) {
    throw new InvalidArgumentError("acks", `must be 0, 1, -1 or "all", got ${JSON.stringify(acksRaw)}`);
  }
  const acks = acksRaw === "all" ? -1 : acksRaw;
  const transactionalId = option.optionalStringOption(options, "transactionalId");
  if (transactionalId !== undefined) {
    // Transactions are built on idempotence: the coordinator tracks the producer id/epoch.
    if (options.idempotent === false) {
      throw new InvalidArgumentError("idempotent", "must be true (or left out) when transactionalId is set");
    }
    if (acks !== -1) {
      throw new InvalidArgumentError(
        "acks",
        `must be "all" when transactionalId is set, got ${JSON.stringify(acksRaw)}`,
      );
    }
  } else if (options.transactionTimeoutMs !== undefined) {
    throw new InvalidArgumentError(
      "transactionTimeoutMs",
      "applies only to a transactional producer (set transactionalId)",
    );
  }
  const idempotent = option.boolOption(options, "idempotent", true);
  if (idempotent && acks !== -1) {
    throw new InvalidArgumentError(
      "acks",
      'must be "all" when idempotent is true (set idempotent: false to use acks 0 or 1)',
    );
  }
  const compression = option.oneOfOption(options, "compression", CODECS, "none");
  const maxInFlight = option.intOption(options, "maxInFlight", 5, 1, idempotent ? 5 : 1000);
  const maxRequestBytes = option.intOption(options, "maxRequestBytes", 1024 * 1024, 1024);
  // The default yields to a smaller maxRequestBytes; an explicit batchBytes must fit in it.
  const batchBytes = option.intOption(
    options,
    "batchBytes",
    Math.min(256 * 1024, maxRequestBytes - 2048),
    1,
    maxRequestBytes,
  );
  const retryBackoffMs = option.intOption(options, "retryBackoffMs", 100, 0);
  const requestTimeoutMs = option.intOption(options, "requestTimeoutMs", 30_000, 1, 2_147_483_647);
  const lingerMs = option.intOption(options, "lingerMs", 5, 0);
  const deliveryTimeoutMs = option.intOption(options, "deliveryTimeoutMs", 120_000, 1);
  if (deliveryTimeoutMs < lingerMs + requestTimeoutMs) {
    throw new InvalidArgumentError(
      "deliveryTimeoutMs",
      `must be at least lingerMs + requestTimeoutMs (${lingerMs + requestTimeoutMs})`,
    );
  }
  let partitioner: Partitioner | undefined;
  const p = options.partitioner ?? "default";
  if (p === "roundRobin") partitioner = roundRobinPartitioner();
  else if (typeof p === "function") partitioner = p;
  else if (p !== "default")
    throw new InvalidArgumentError("partitioner", `must be "default", "roundRobin" or a function`);
  const level = options.compressionLevel;
  if (level !== undefined && (typeof level !== "number" || !Number.isInteger(level))) {
    throw new InvalidArgumentError("compressionLevel", "must be an integer");
  }
  const bufferMemory = option.intOption(options, "bufferMemory", 32 * 1024 * 1024, 1024);
  option.optionalFunctionOption(options, "keySerializer");
  option.optionalFunctionOption(options, "valueSerializer");
  return {
    acks,
    propagateTraceContext: option.boolOption(options, "propagateTraceContext", true),
    idempotent,
    lingerMs,
    batchBytes,
    compression,
    compressionLevel: level,
    maxInFlight,
    deliveryTimeoutMs,
    requestTimeoutMs,
    retryBackoffMs,
    retryBackoffMaxMs: Math.max(retryBackoffMs, option.intOption(options, "retryBackoffMaxMs", 1000, 0)),
    bufferMemory,
    maxBlockMs: option.intOption(options, "maxBlockMs", 60_000, 0),
    highWaterMark: option.intOption(
      options,
      "highWaterMark",
      Math.min(Math.floor(bufferMemory / 2), DEFAULT_HIGH_WATER_MARK),
      1,
      bufferMemory,
    ),
    maxRequestBytes,
    partitioner,
    allowAutoTopicCreation: option.boolOption(options, "allowAutoTopicCreation", true),
    transactionalId,
    transactionTimeoutMs: option.intOption(options, "transactionTimeoutMs", 60_000, 1),
  };
}
