/**
 * The event catalogue: every event samsa reports, named once. Each has a payload type, a log
 * level and a `node:diagnostics_channel` channel named `samsa:<area>:<event>`; the three spans
 * (a request, a send call, the processing of a handed-out record or batch) are
 * `tracingChannel`s instead, so APM agents can wrap them without samsa knowing them.
 *
 * docs/observability.md lists the same names; test/unit/observability/events.test.ts checks
 * that the two agree. Payloads never carry credentials: connection events name the SASL
 * mechanism, never its options.
 */
import * as diagnostics from "node:diagnostics_channel";
import type { RecordHeader, RecordHeaderInput } from "../protocol/records/index.js";

/** Levels of the logger outlet, as pino names them. */
export type LogLevel = "trace" | "debug" | "info" | "warn" | "error";

/** What every payload carries. */
export interface EventBase {
  /** `clientId` of the client that reported it. */
  clientId: string;
}

/** A topic partition with an offset, in commit events. */
export interface EventOffset {
  topic: string;
  partition: number;
  offset: bigint;
}

/** A topic partition, in group events. */
export interface EventPartition {
  topic: string;
  partition: number;
}

/** Payload of each plain event, by name (`<area>:<event>`). */
export interface EventPayloads {
  /** TCP (and TLS) connected and ApiVersions negotiated; before SASL. */
  "network:connection-opened": EventBase & { address: string; tls: boolean; durationMs: number };
  /** SASL finished (first time or re-authentication, KIP-368). */
  "network:connection-authenticated": EventBase & {
    address: string;
    mechanism: string;
    reauthentication: boolean;
    /** The broker's session lifetime; 0 when it set none. */
    sessionLifetimeMs: number;
  };
  /** Closed: by the client (no error), or by a failure (the error says which). */
  "network:connection-closed": EventBase & { address: string; error?: Error };
  /** A Metadata answer replaced the client's view of the cluster. */
  "network:metadata-refreshed": EventBase & { brokers: number; topics: number; durationMs: number };
  /** An error no caller awaits (see network/background-errors.ts); also the `error` event. */
  "client:error": EventBase & {
    error: Error;
    source: "network" | "producer" | "consumer" | "admin";
    operation: string;
    topic?: string;
    partition?: number;
    groupId?: string;
    nodeId?: number;
  };
  /** A batch went out in a Produce request (again, when `attempt` > 0). */
  "producer:batch-sent": ProducerBatchEvent & { nodeId: number };
  /** The broker acknowledged a batch. `latencyMs` runs from the batch's first record to the answer. */
  "producer:batch-acknowledged": ProducerBatchEvent & { baseOffset: bigint; latencyMs: number };
  /** A retriable error: the same bytes will be sent again after a backoff. */
  "producer:batch-retried": ProducerBatchEvent & { error: Error };
  /** The batch's records failed: their senders get `error`. */
  "producer:batch-failed": ProducerBatchEvent & { error: Error };
  /**
   * Records that failed before they reached a batch: no metadata or no buffer memory within
   * `maxBlockMs`, a topic the cluster refuses, a partition that does not exist, or dropped by
   * an abort or a close.
   */
  "producer:records-failed": EventBase & { topic: string; records: number; error: Error };
  /** One partition of a Fetch answer. `lag` is high watermark (or LSO) − the next fetch offset. */
  "consumer:fetch-answered": EventBase & {
    groupId: string | null;
    nodeId: number;
    /** `host:port` of that broker. */
    address: string;
    topic: string;
    partition: number;
    /** Records in the answer's batches (from their headers; before any filtering). */
    records: number;
    bytes: number;
    highWatermark: bigint;
    lastStableOffset: bigint;
    /** Offset the next fetch of this partition starts from. */
    fetchOffset: bigint;
    lag: bigint;
    durationMs: number;
  };
  "consumer:group-joined": EventBase & {
    groupId: string;
    memberId: string;
    /** Generation (classic protocol) or member epoch (KIP-848). */
    generationId: number;
    protocol: "classic" | "consumer";
  };
  "consumer:partitions-assigned": EventBase & { groupId: string; partitions: EventPartition[] };
  "consumer:partitions-revoked": EventBase & { groupId: string; partitions: EventPartition[] };
  /** Taken away without a chance to commit (fenced, session expired). */
  "consumer:partitions-lost": EventBase & { groupId: string; partitions: EventPartition[] };
  /** The coordinator no longer knows this member (or its generation): it rejoins. */
  "consumer:member-fenced": EventBase & { groupId: string; memberId: string; error: Error };
  "consumer:offsets-committed": EventBase & { groupId: string; offsets: EventOffset[]; durationMs: number };
  "consumer:offsets-commit-failed": EventBase & { groupId: string; offsets: EventOffset[]; error: Error };
}

/** What the producer's batch events share. */
export interface ProducerBatchEvent extends EventBase {
  topic: string;
  partition: number;
  records: number;
  /** The batch on the wire (compressed). */
  bytes: number;
  /** Before compression; equal to `bytes` without it. */
  uncompressedBytes: number;
  compression: string;
  /** 0 for the first send. */
  attempt: number;
}

/** A plain event's name. */
export type EventName = keyof EventPayloads;

/** The level each event is logged at; `connection-closed` with an error is raised to warn. */
export const EVENT_LEVELS: { readonly [E in EventName]: LogLevel } = {
  "network:connection-opened": "debug",
  "network:connection-authenticated": "debug",
  "network:connection-closed": "debug",
  "network:metadata-refreshed": "debug",
  "client:error": "error",
  "producer:batch-sent": "trace",
  "producer:batch-acknowledged": "trace",
  "producer:batch-retried": "warn",
  "producer:batch-failed": "warn",
  "producer:records-failed": "warn",
  "consumer:fetch-answered": "trace",
  "consumer:group-joined": "info",
  "consumer:partitions-assigned": "info",
  "consumer:partitions-revoked": "info",
  "consumer:partitions-lost": "warn",
  "consumer:member-fenced": "warn",
  "consumer:offsets-committed": "debug",
  "consumer:offsets-commit-failed": "warn",
};

/** Every plain event's name, in catalogue order. */
export const EVENT_NAMES = Object.keys(EVENT_LEVELS) as EventName[];

/** The diagnostics channel of each plain event: `samsa:<area>:<event>`. */
export const channels: { readonly [E in EventName]: diagnostics.Channel } = Object.fromEntries(
  EVENT_NAMES.map((name) => [name, diagnostics.channel(`samsa:${name}`)]),
) as { [E in EventName]: diagnostics.Channel };

/**
 * Context of the `samsa:network:request` span: one request on one connection. `start` fires
 * when the frame is queued, `asyncEnd` with the answer, `error` if it failed.
 */
export interface RequestContext extends EventBase {
  address: string;
  apiKey: number;
  /** The API's name in Kafka's spec, e.g. `Produce`. */
  apiName: string;
  apiVersion: number;
  correlationId: number;
  requestBytes: number;
  /** Set by `asyncEnd`. */
  responseBytes?: number;
  /** The response's top-level error code, when it has one (set by `asyncEnd`). */
  errorCode?: number;
  /** Set by `asyncEnd` and `error`: from queued to settled, in ms rounded to the microsecond. */
  durationMs?: number;
  /** Set by `error`. */
  error?: Error;
  /**
   * Set (true) by `error` when the client itself gave the request up: its caller's signal
   * aborted (a closing consumer's Fetch), or the client closed the connection. Not a failure:
   * `requestErrors` does not count it, and its trace line says "aborted".
   */
  aborted?: true;
  /** Subscribers may keep their own state here (a span). */
  [key: symbol]: unknown;
}

/**
 * Context of the `samsa:producer:send` span: one `send` call. `start` fires before the
 * records are queued; a subscriber may set `traceHeaders`, which the producer adds to every
 * record of the call (unless its `propagateTraceContext` option is false). `asyncEnd` fires
 * when every record is acknowledged (`offsets` set for a single record), `error` when one failed.
 */
export interface SendContext extends EventBase {
  /** The topic of the call's first record (an array may name several). */
  topic: string;
  /** The partition asked for, if the call named one (the partitioner picks otherwise). */
  partition: number | undefined;
  /** Records in the call. */
  records: number;
  /** The key of a single-record call, as given. */
  key: unknown;
  /** Whether the producer adds `traceHeaders` to the records. */
  propagate: boolean;
  /** Headers a subscriber wants added to each record (W3C `traceparent`, `tracestate`). */
  traceHeaders?: RecordHeaderInput[];
  /** Set by `asyncEnd` for a single-record call. */
  partitionWritten?: number;
  offset?: bigint;
  error?: Error;
  [key: symbol]: unknown;
}

/** The slice of a consumed record the process span reads. */
export interface ProcessedRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  readonly key: unknown;
  readonly value: unknown;
  readonly headers: readonly RecordHeader[];
}

/**
 * Context of the `samsa:consumer:process` span: one record handed out by `for await`, or one
 * batch by `batches()`. `start` fires when it is handed out, `end` when the loop asks for the
 * next one (or leaves).
 */
export interface ProcessContext extends EventBase {
  groupId: string | null;
  topic: string;
  partition: number;
  /** Set for a single record. */
  record?: ProcessedRecord;
  /** Set for a batch. */
  records?: readonly ProcessedRecord[];
  [key: symbol]: unknown;
}

/** Names of the span channels (each has `tracing:<name>:start`, `:end`, `:asyncStart`, `:asyncEnd`, `:error`). */
export const TRACING_NAMES = ["samsa:network:request", "samsa:producer:send", "samsa:consumer:process"] as const;

/** The three span channels, named by {@link TRACING_NAMES}. */
export const tracing = {
  request: diagnostics.tracingChannel<string, RequestContext>(TRACING_NAMES[0]),
  send: diagnostics.tracingChannel<string, SendContext>(TRACING_NAMES[1]),
  process: diagnostics.tracingChannel<string, ProcessContext>(TRACING_NAMES[2]),
} as const;
