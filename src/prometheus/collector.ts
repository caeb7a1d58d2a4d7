/**
 * The collector: subscribes to samsa's diagnostics channels (observability/events.ts) and
 * turns each event into updates of the metrics of metrics.ts. Everything here runs inside
 * the publisher's call, so each handler does a few map lookups and no allocation beyond its
 * label objects; events come per batch, per fetched partition or per request, never per record.
 */
import * as diagnostics from "node:diagnostics_channel";
import { register as globalRegistry } from "prom-client";
import type { EventName, EventPayloads, RequestContext } from "../observability/events.js";
import { ErrorCode } from "../protocol/error-table.js";
import { ClosedError, InvalidArgumentError } from "../protocol/errors.js";
import { checkOptionsObject, type OptionKeys, rejectUnknownOptions } from "../util/options.js";
import { errorCodeLabel, errorLabel } from "./error-label.js";
import {
  type AnyRegistry,
  type BucketOptions,
  createMetrics,
  type Metrics,
  removeMetrics,
  validPrefix,
} from "./metrics.js";
import { type MetricsSource, Sources, watchedClient } from "./sources.js";

/** Options of {@link collectMetrics}. */
export interface CollectMetricsOptions {
  /** Where the metrics are registered; default prom-client's global `register`. */
  registry?: AnyRegistry;
  /** Put before every metric name; default `"samsa_"`. Must make valid names (`[a-zA-Z_:][a-zA-Z0-9_:]*`). */
  prefix?: string;
  /**
   * Clients (with their producers and consumers) whose `stats()` fill the scrape-time gauges:
   * `connections`, `producer_buffered_bytes`, `producer_in_flight_batches`,
   * `consumer_buffered_bytes`. The event-driven metrics need none: they cover every samsa
   * client in the process. More can be added later with {@link MetricsCollector.watch}.
   */
  clients?: readonly MetricsSource[];
  /** Histogram bucket overrides. */
  buckets?: BucketOptions;
}

/** A running collector; see {@link collectMetrics}. */
export interface MetricsCollector {
  /** The registry the metrics are in. */
  readonly registry: AnyRegistry;
  /** The prefix of their names. */
  readonly prefix: string;
  /** Reads `source`'s `stats()` at every scrape from now on; the returned function stops that. */
  watch(source: MetricsSource): () => void;
  /** Unsubscribes from every channel and removes the metrics from the registry. Safe to call twice. */
  close(): void;
}

const KNOWN = {
  registry: true,
  prefix: true,
  clients: true,
  buckets: true,
} satisfies OptionKeys<CollectMetricsOptions>;
const KNOWN_BUCKETS = {
  latencySeconds: true,
  batchSizeBytes: true,
  batchSizeRecords: true,
} satisfies OptionKeys<BucketOptions>;

type Handlers = { [E in EventName]?: (payload: EventPayloads[E]) => void };

const REQUEST_CHANNEL = "samsa:network:request";

/**
 * Starts collecting samsa's metrics into a prom-client registry; serve `registry.metrics()`
 * at `/metrics` for Prometheus to scrape. Covers every samsa client of the process (events
 * carry their `clientId`), from now until `close()`.
 *
 * ```ts
 * const metrics = collectMetrics({ registry, clients: [{ client, producers: [producer] }] });
 * ```
 *
 * Throws InvalidArgumentError for a bad or unknown option (as `instrument()` of samsa/otel
 * does), or when the registry already holds a metric of the same name (one collector per
 * registry and prefix).
 */
export function collectMetrics(options: CollectMetricsOptions = {}): MetricsCollector {
  checkOptionsObject(options, KNOWN, "samsa/prometheus collectMetrics()");
  const buckets: unknown = options.buckets;
  if (buckets !== undefined) {
    if (buckets === null || typeof buckets !== "object" || Array.isArray(buckets)) {
      throw new InvalidArgumentError("buckets", "must be an object of bucket bounds");
    }
    rejectUnknownOptions(buckets, KNOWN_BUCKETS, "samsa/prometheus buckets");
  }
  const registry = options.registry ?? globalRegistry;
  if (typeof registry?.getSingleMetric !== "function") {
    throw new InvalidArgumentError("registry", "must be a prom-client Registry");
  }
  const prefix = options.prefix ?? "samsa_";
  if (typeof prefix !== "string" || !validPrefix(prefix)) {
    throw new InvalidArgumentError(
      "prefix",
      `must match [a-zA-Z_:][a-zA-Z0-9_:]* (or be ""), got ${JSON.stringify(prefix)}`,
    );
  }
  if (options.clients !== undefined && !Array.isArray(options.clients)) {
    throw new InvalidArgumentError("clients", "must be an array");
  }
  const initial = (options.clients ?? []).map((c, i) => watchedClient(c, `clients[${i}]`));
  const sources = new Sources();
  const m = createMetrics(registry, prefix, options.buckets, sources.hooks());
  sources.bind(m);
  for (const w of initial) sources.add(w);

  const handlers = eventHandlers(m);
  const subscribed: [string, (message: unknown, name: string | symbol) => void][] = [];
  for (const [name, handler] of Object.entries(handlers)) {
    const fn = guarded(handler as (message: unknown) => void);
    diagnostics.subscribe(`samsa:${name}`, fn);
    subscribed.push([`samsa:${name}`, fn]);
  }
  const requests = diagnostics.tracingChannel<string, RequestContext>(REQUEST_CHANNEL);
  // Node skips the span events a subscriber has no handler for (end, asyncStart: the request
  // span never publishes them); its typings want all five, hence the cast.
  const tracing = requestTracing(m);
  const requestHandlers = {
    start: guarded(tracing.start),
    asyncEnd: guarded(tracing.asyncEnd),
    error: guarded(tracing.error),
  } as diagnostics.TracingChannelSubscribers<RequestContext>;
  requests.subscribe(requestHandlers);

  let closed = false;
  return {
    registry,
    prefix,
    watch(source) {
      if (closed) throw new ClosedError("metrics collector");
      return sources.add(watchedClient(source, "source"));
    },
    close() {
      if (closed) return;
      closed = true;
      for (const [name, fn] of subscribed) diagnostics.unsubscribe(name, fn);
      requests.unsubscribe(requestHandlers);
      removeMetrics(registry, prefix);
    },
  };
}

/**
 * `fn`, made unable to throw. A subscriber that throws does not fail the publisher: Node
 * rethrows it on the next tick, where it is an uncaught exception that ends the process. A
 * metric that cannot be updated (prom-client refuses a value) must cost a sample, not the
 * application.
 */
function guarded<T>(fn: (message: T) => void): (message: T) => void {
  return (message) => {
    try {
      fn(message);
    } catch {
      // Dropped on purpose; see above.
    }
  };
}

/** The plain events' handlers. */
function eventHandlers(m: Metrics): Handlers {
  /** Uncompressed and wire bytes per client and topic, for `compression_ratio`. */
  const compression = new Map<string, { raw: number; wire: number }>();
  const lagOf = (clientId: string, groupId: string, topic: string, partition: number) => ({
    client_id: clientId,
    group: groupId,
    topic,
    partition: String(partition),
  });
  /** A partition this member no longer reads keeps no lag series: its last value would be stale for ever. */
  const dropLag = (p: EventPayloads["consumer:partitions-revoked"]) => {
    for (const tp of p.partitions) m.consumer_lag.remove(lagOf(p.clientId, p.groupId, tp.topic, tp.partition));
  };
  const error = (event: EventName) => (p: { clientId: string; error: Error }) =>
    m.errors_total.inc({ client_id: p.clientId, event, error: errorLabel(p.error) });

  return {
    "producer:batch-acknowledged": (p) => {
      const part = { client_id: p.clientId, topic: p.topic, partition: String(p.partition) };
      m.records_produced_total.inc(part, p.records);
      m.produced_bytes_total.inc(part, p.bytes);
      m.produced_uncompressed_bytes_total.inc(part, p.uncompressedBytes);
      const topic = { client_id: p.clientId, topic: p.topic };
      m.produce_ack_latency_seconds.observe(topic, Math.max(0, p.latencyMs) / 1000);
      m.batch_size_bytes.observe(topic, p.bytes);
      m.batch_size_records.observe(topic, p.records);
      const key = `${p.clientId}\u0000${p.topic}`;
      let c = compression.get(key);
      if (!c) {
        c = { raw: 0, wire: 0 };
        compression.set(key, c);
      }
      c.raw += p.uncompressedBytes;
      c.wire += p.bytes;
      if (c.wire > 0) m.compression_ratio.set(topic, c.raw / c.wire);
    },
    "producer:batch-retried": (p) =>
      m.retries_total.inc({ client_id: p.clientId, topic: p.topic, error: errorLabel(p.error) }),
    "producer:batch-failed": error("producer:batch-failed"),
    "producer:records-failed": error("producer:records-failed"),
    "client:error": error("client:error"),
    "consumer:offsets-commit-failed": error("consumer:offsets-commit-failed"),
    "consumer:member-fenced": error("consumer:member-fenced"),
    "consumer:fetch-answered": (p) => {
      const labels = lagOf(p.clientId, p.groupId ?? "", p.topic, p.partition);
      // inc by 0 too: the series then exists from the first fetch, so rate() sees its start.
      m.records_consumed_total.inc(labels, p.records);
      m.consumed_bytes_total.inc(labels, p.bytes);
      m.consumer_lag.set(labels, Number(p.lag));
    },
    "consumer:group-joined": (p) =>
      m.rebalances_total.inc({ client_id: p.clientId, group: p.groupId, protocol: p.protocol }),
    "consumer:partitions-revoked": dropLag,
    "consumer:partitions-lost": dropLag,
    "network:connection-opened": (p) => m.connections_opened_total.inc({ client_id: p.clientId }),
    "network:connection-closed": (p) => {
      m.connections_closed_total.inc({ client_id: p.clientId });
      if (p.error)
        m.errors_total.inc({ client_id: p.clientId, event: "network:connection-closed", error: errorLabel(p.error) });
    },
  };
}

/**
 * Handlers of the request span. `in_flight_requests` counts a request only if this collector
 * saw its start (a mark on the context), so requests queued before it subscribed cannot drive
 * the gauge below zero when they end. A response's error code counts as an error except
 * MEMBER_ID_REQUIRED: that is the classic protocol's first JoinGroup answer (KIP-394), every
 * member gets it once, and an errors panel that lights up at each start would teach people to
 * ignore it.
 */
function requestTracing(m: Metrics) {
  const mark = Symbol("samsa.prometheus.inFlight");
  const settle = (ctx: RequestContext) => {
    if (ctx[mark] !== true) return;
    ctx[mark] = false;
    m.in_flight_requests.dec({ client_id: ctx.clientId, api: ctx.apiName });
  };
  return {
    start(ctx: RequestContext) {
      ctx[mark] = true;
      m.in_flight_requests.inc({ client_id: ctx.clientId, api: ctx.apiName });
    },
    asyncEnd(ctx: RequestContext) {
      settle(ctx);
      const api = { client_id: ctx.clientId, api: ctx.apiName };
      if (ctx.durationMs !== undefined) m.request_latency_seconds.observe(api, ctx.durationMs / 1000);
      if (
        ctx.errorCode !== undefined &&
        ctx.errorCode !== ErrorCode.NONE &&
        ctx.errorCode !== ErrorCode.MEMBER_ID_REQUIRED
      ) {
        m.errors_total.inc({ client_id: ctx.clientId, event: "network:request", error: errorCodeLabel(ctx.errorCode) });
      }
    },
    error(ctx: RequestContext) {
      settle(ctx);
    },
  };
}
