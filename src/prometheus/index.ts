/**
 * `samsa/prometheus`: samsa's metrics for Prometheus, through prom-client (an optional peer
 * dependency, needed only by this entry). `collectMetrics` subscribes to the event catalogue
 * (`samsa:*` diagnostics channels) and registers the metrics of metrics.ts in a registry the
 * application serves at `/metrics`; docs/grafana-dashboard.json charts them.
 */
export { type CollectMetricsOptions, collectMetrics, type MetricsCollector } from "./collector.js";
export { errorLabel } from "./error-label.js";
export {
  type AnyRegistry,
  BATCH_BYTES_BUCKETS,
  BATCH_RECORDS_BUCKETS,
  type BucketOptions,
  DEFINITIONS,
  LATENCY_BUCKETS,
  type LabelName,
  type MetricName,
} from "./metrics.js";
export type { MetricsSource, StatsClient, StatsConsumer, StatsProducer, WatchedClient } from "./sources.js";
