/**
 * samsa's network layer: `Cluster` (bootstrap, metadata, coordinators, connections to every
 * broker) over `Connection` (one socket: framing, pipelining, TLS, SASL).
 */
export type { BackgroundErrorContext } from "./background-errors.js";
export type { BrokerNode, ConnectionPurpose } from "./broker.js";
export { type ClientOptions, type ClientStats, Cluster, type MetadataOptions, parseBootstrap } from "./cluster.js";
export { Connection, type ConnectionOptions, type RequestOptions, type TlsOptions } from "./connection.js";
export {
  type ConnectionClass,
  type ConnectionRoute,
  connectionClassOf,
  newConnectionOwner,
} from "./connection-classes.js";
export type { CoordinatorType } from "./coordinators.js";
export type { ClusterMetadata, PartitionMetadata, TopicMetadata } from "./metadata.js";
export * from "./sasl/index.js";
export type { NegotiatedVersions } from "./versions.js";
