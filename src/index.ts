/**
 * samsa: a pure-TypeScript Apache Kafka client for Node.js. This entry point re-exports the
 * public API; the layers live in src/protocol, src/network, src/producer, src/consumer and
 * src/admin (see docs/DESIGN.md).
 */

/** The client software name samsa sends in ApiVersions (KIP-511). */
export const CLIENT_SOFTWARE_NAME = "samsa";

export * from "./errors.js";
export * from "./network/index.js";
export * from "./protocol/index.js";
