/**
 * samsa: a pure-TypeScript Apache Kafka client for Node.js. This entry point re-exports the
 * public API; the layers live in src/protocol, src/network, src/producer, src/consumer and
 * src/admin.
 */

/** The client software name samsa sends in ApiVersions (KIP-511). */
export const CLIENT_SOFTWARE_NAME = "samsa";

export * from "./admin/index.js";
export { Client } from "./client.js";
export * from "./consumer/index.js";
export * from "./errors.js";
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
export * from "./producer/index.js";
export * from "./protocol/index.js";
