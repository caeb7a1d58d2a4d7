/**
 * samsa: a pure-TypeScript Apache Kafka client for Node.js. This entry point exports the
 * public API (clients, their options, errors and types); the wire protocol is the separate
 * `samsa/protocol` entry; the OpenTelemetry and Prometheus outlets are `samsa/otel` and
 * `samsa/prometheus`. The layers live in src/protocol, src/network, src/producer,
 * src/consumer, src/admin and src/observability.
 */

/** The client software name samsa sends in ApiVersions (KIP-511). */
export const CLIENT_SOFTWARE_NAME = "samsa";

export * from "./admin/index.js";
export { Client } from "./client.js";
export * from "./consumer/index.js";
export * from "./network/errors.js";
export {
  type BackgroundErrorContext,
  type BrokerNode,
  type ClientOptions,
  type ClientStats,
  type ClusterMetadata,
  Connection,
  type ConnectionOptions,
  type ConnectionPurpose,
  type CoordinatorType,
  type MetadataOptions,
  type OAuthBearerToken,
  type OAuthBearerTokenProvider,
  type PartitionMetadata,
  type SaslMechanism,
  type SaslOptions,
  type SaslSession,
  type TlsOptions,
  type TopicMetadata,
} from "./network/index.js";
export { isRetriable, needsCoordinatorLookup, needsMetadataRefresh } from "./network/retry.js";
export * from "./observability/index.js";
export * from "./producer/errors.js";
export * from "./producer/index.js";
// The protocol layer (every generated message, the record codec) stays at `samsa/protocol`;
// the root carries only what users of the clients handle: broker errors and record types.
export { ErrorCode, type ErrorName, errorInfo, type KafkaErrorInfo } from "./protocol/error-table.js";
export * from "./protocol/errors.js";
export { KafkaError, kafkaError } from "./protocol/kafka-error.js";
export type { CompressionCodec, RecordData, RecordHeaderInput } from "./protocol/records/index.js";
