/**
 * The metrics of the Prometheus outlet, named once: each one's name (after the prefix), type,
 * labels and help text, and the buckets of the histograms. collector.ts feeds them from the
 * event catalogue, sources.ts from `stats()` at scrape time; docs/grafana-dashboard.json and
 * the docs' metric table use exactly these names.
 *
 * Cardinality: no label holds a record key, an offset, a member id or a broker address. The
 * per-partition series are bounded by clients × topics × partitions written or read, the
 * per-API series by the APIs a client uses (a dozen or so), the `error` label by Kafka's error
 * table plus samsa's error codes.
 */
import {
  Counter,
  Gauge,
  Histogram,
  type OpenMetricsContentType,
  type PrometheusContentType,
  type Registry,
} from "prom-client";
import { InvalidArgumentError } from "../protocol/errors.js";

/** A prom-client registry of either exposition format. */
export type AnyRegistry = Registry<PrometheusContentType> | Registry<OpenMetricsContentType>;

/** Label names the outlet uses. */
export type LabelName = "client_id" | "topic" | "partition" | "group" | "api" | "event" | "error" | "protocol";

/**
 * Send→ack and request latency, in seconds: 1 ms (a local broker) to 30 s (the default
 * request timeout), roughly ×2.5 apart, so p99 stays readable across three decades.
 */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Wire bytes of a batch: 128 B to 16 MiB, ×4 apart (`batchBytes` defaults to 16 KiB, 1 MiB is the broker's cap). */
export const BATCH_BYTES_BUCKETS = [128, 512, 1024, 4096, 16_384, 65_536, 262_144, 1_048_576, 4_194_304, 16_777_216];

/** Records in a batch: 1 (lingerMs 0, a record at a time) to 10,000. */
export const BATCH_RECORDS_BUCKETS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000];

/** Histogram bucket overrides (upper bounds, ascending); see the constants for the defaults. */
export interface BucketOptions {
  /** `produce_ack_latency_seconds` and `request_latency_seconds`; default {@link LATENCY_BUCKETS}. */
  latencySeconds?: readonly number[];
  /** `batch_size_bytes`; default {@link BATCH_BYTES_BUCKETS}. */
  batchSizeBytes?: readonly number[];
  /** `batch_size_records`; default {@link BATCH_RECORDS_BUCKETS}. */
  batchSizeRecords?: readonly number[];
}

type C<L extends LabelName> = Counter<L>;
type G<L extends LabelName> = Gauge<L>;
type H<L extends LabelName> = Histogram<L>;
type ProducedLabels = "client_id" | "topic" | "partition";
type ConsumedLabels = "client_id" | "group" | "topic" | "partition";

/** Every metric of the outlet, by its name without prefix. */
export interface Metrics {
  records_produced_total: C<ProducedLabels>;
  produced_bytes_total: C<ProducedLabels>;
  produced_uncompressed_bytes_total: C<ProducedLabels>;
  produce_ack_latency_seconds: H<"client_id" | "topic">;
  batch_size_bytes: H<"client_id" | "topic">;
  batch_size_records: H<"client_id" | "topic">;
  compression_ratio: G<"client_id" | "topic">;
  retries_total: C<"client_id" | "topic" | "error">;
  records_consumed_total: C<ConsumedLabels>;
  consumed_bytes_total: C<ConsumedLabels>;
  consumer_lag: G<ConsumedLabels>;
  rebalances_total: C<"client_id" | "group" | "protocol">;
  request_latency_seconds: H<"client_id" | "api">;
  in_flight_requests: G<"client_id" | "api">;
  connections_opened_total: C<"client_id">;
  connections_closed_total: C<"client_id">;
  errors_total: C<"client_id" | "event" | "error">;
  connections: G<"client_id">;
  producer_buffered_bytes: G<"client_id">;
  producer_in_flight_batches: G<"client_id">;
  consumer_buffered_bytes: G<"client_id">;
}

/** A metric's name without prefix. */
export type MetricName = keyof Metrics;

/** What each metric is, for the constructor and for the docs. */
interface Definition {
  type: "counter" | "gauge" | "histogram";
  labels: readonly LabelName[];
  help: string;
  buckets?: keyof BucketOptions;
}

const PRODUCED = ["client_id", "topic", "partition"] as const;
const CONSUMED = ["client_id", "group", "topic", "partition"] as const;

/** The definitions, in the order the docs list them. */
export const DEFINITIONS: { readonly [N in MetricName]: Definition } = {
  records_produced_total: {
    type: "counter",
    labels: PRODUCED,
    help: "Records the brokers acknowledged (producer:batch-acknowledged).",
  },
  produced_bytes_total: {
    type: "counter",
    labels: PRODUCED,
    help: "Wire (compressed) bytes of the acknowledged batches (producer:batch-acknowledged).",
  },
  produced_uncompressed_bytes_total: {
    type: "counter",
    labels: PRODUCED,
    help: "Bytes of the acknowledged batches before compression (producer:batch-acknowledged).",
  },
  produce_ack_latency_seconds: {
    type: "histogram",
    labels: ["client_id", "topic"],
    help: "Per acknowledged batch: from send() of its first record to the broker's answer (producer:batch-acknowledged).",
    buckets: "latencySeconds",
  },
  batch_size_bytes: {
    type: "histogram",
    labels: ["client_id", "topic"],
    help: "Wire (compressed) bytes of each acknowledged batch (producer:batch-acknowledged).",
    buckets: "batchSizeBytes",
  },
  batch_size_records: {
    type: "histogram",
    labels: ["client_id", "topic"],
    help: "Records in each acknowledged batch (producer:batch-acknowledged).",
    buckets: "batchSizeRecords",
  },
  compression_ratio: {
    type: "gauge",
    labels: ["client_id", "topic"],
    help: "Uncompressed / wire bytes of every batch acknowledged since the collector started; 1 without compression.",
  },
  retries_total: {
    type: "counter",
    labels: ["client_id", "topic", "error"],
    help: "Batches sent again after a retriable error (producer:batch-retried).",
  },
  records_consumed_total: {
    type: "counter",
    labels: CONSUMED,
    help: "Records in the fetched batches, before filtering (consumer:fetch-answered).",
  },
  consumed_bytes_total: {
    type: "counter",
    labels: CONSUMED,
    help: "Bytes of the fetched record batches (consumer:fetch-answered).",
  },
  consumer_lag: {
    type: "gauge",
    labels: CONSUMED,
    help: "High watermark (LSO with read_committed) minus the next fetch offset, at the last fetch (consumer:fetch-answered).",
  },
  rebalances_total: {
    type: "counter",
    labels: ["client_id", "group", "protocol"],
    help: "Generations (classic) or epochs (KIP-848) this member joined (consumer:group-joined).",
  },
  request_latency_seconds: {
    type: "histogram",
    labels: ["client_id", "api"],
    help: "From queueing a request to its answer, per Kafka API (samsa:network:request asyncEnd).",
    buckets: "latencySeconds",
  },
  in_flight_requests: {
    type: "gauge",
    labels: ["client_id", "api"],
    help: "Requests queued or sent and not yet answered or failed (samsa:network:request start/asyncEnd/error).",
  },
  connections_opened_total: {
    type: "counter",
    labels: ["client_id"],
    help: "Connections opened: connected and ApiVersions negotiated (network:connection-opened).",
  },
  connections_closed_total: {
    type: "counter",
    labels: ["client_id"],
    help: "Connections closed, by the client or by a failure, including failed attempts (network:connection-closed).",
  },
  errors_total: {
    type: "counter",
    labels: ["client_id", "event", "error"],
    help: "Errors by the event that reported them and Kafka's error name (or samsa's error code).",
  },
  connections: {
    type: "gauge",
    labels: ["client_id"],
    help: "Connections open now, to all brokers (Client.stats().connections, read at scrape).",
  },
  producer_buffered_bytes: {
    type: "gauge",
    labels: ["client_id"],
    help: "Bytes in batches not yet acknowledged, over the watched producers (Producer.stats(), read at scrape).",
  },
  producer_in_flight_batches: {
    type: "gauge",
    labels: ["client_id"],
    help: "Batches in Produce requests awaiting an answer, over the watched producers (Producer.stats(), read at scrape).",
  },
  consumer_buffered_bytes: {
    type: "gauge",
    labels: ["client_id"],
    help: "Fetched bytes not yet handed out, over the watched consumers (Consumer.stats(), read at scrape).",
  },
};

const PREFIX = /^([a-zA-Z_:][a-zA-Z0-9_:]*)?$/;

/** Whether `prefix` makes valid metric names (Prometheus's `[a-zA-Z_:][a-zA-Z0-9_:]*`; "" allowed). */
export function validPrefix(prefix: string): boolean {
  return PREFIX.test(prefix);
}

function checkBuckets(name: string, buckets: readonly number[]): number[] {
  if (
    !Array.isArray(buckets) ||
    buckets.length === 0 ||
    buckets.some((b, i) => typeof b !== "number" || !Number.isFinite(b) || (i > 0 && b <= (buckets[i - 1] as number)))
  ) {
    throw new InvalidArgumentError(`buckets.${name}`, "must be a non-empty array of finite numbers in ascending order");
  }
  return [...buckets];
}

/** Functions prom-client calls before it reads a gauge (at every scrape). */
export type ScrapeHooks = Partial<Record<MetricName, () => void>>;

/**
 * Makes every metric, registered in `registry` as `prefix + name`, with `onScrape` as the
 * `collect` of the gauges it names. Throws (before registering anything) if the registry
 * already holds one of the names: prom-client would throw halfway through, and two collectors
 * sharing series would count every event twice.
 */
export function createMetrics(
  registry: AnyRegistry,
  prefix: string,
  buckets: BucketOptions = {},
  onScrape: ScrapeHooks = {},
): Metrics {
  const taken = (Object.keys(DEFINITIONS) as MetricName[]).filter((n) => registry.getSingleMetric(prefix + n));
  if (taken.length > 0) {
    throw new InvalidArgumentError(
      "registry",
      `already holds ${taken.map((n) => prefix + n).join(", ")}; one collector per registry and prefix (close the other, or give another prefix)`,
    );
  }
  const bucketsOf: { [K in keyof BucketOptions]-?: number[] } = {
    latencySeconds: checkBuckets("latencySeconds", buckets.latencySeconds ?? LATENCY_BUCKETS),
    batchSizeBytes: checkBuckets("batchSizeBytes", buckets.batchSizeBytes ?? BATCH_BYTES_BUCKETS),
    batchSizeRecords: checkBuckets("batchSizeRecords", buckets.batchSizeRecords ?? BATCH_RECORDS_BUCKETS),
  };
  const metrics: Partial<Record<MetricName, Counter<LabelName> | Gauge<LabelName> | Histogram<LabelName>>> = {};
  for (const [name, d] of Object.entries(DEFINITIONS) as [MetricName, Definition][]) {
    const config = { name: prefix + name, help: d.help, labelNames: d.labels, registers: [registry] };
    const collect = onScrape[name];
    if (d.type === "counter") metrics[name] = new Counter(config);
    else if (d.type === "gauge") metrics[name] = new Gauge(collect ? { ...config, collect } : config);
    else metrics[name] = new Histogram({ ...config, buckets: bucketsOf[d.buckets as keyof BucketOptions] });
  }
  return metrics as unknown as Metrics;
}

/** Unregisters every metric `createMetrics` registered under `prefix`. */
export function removeMetrics(registry: AnyRegistry, prefix: string): void {
  for (const name of Object.keys(DEFINITIONS)) registry.removeSingleMetric(prefix + name);
}
