/**
 * samsa's protocol layer: pure code that turns Kafka messages into bytes and back. No
 * sockets, no timers. Everything the wire needs is here: primitives, one generated module
 * per API, record batches, compression, and the broker error table.
 */
export * from "./api.js";
export * from "./error-table.js";
export * from "./kafka-error.js";
export * from "./messages/index.js";
export { Reader } from "./primitives/reader.js";
export { uvarintSize, varintSize, Writer } from "./primitives/writer.js";
export * from "./records/index.js";
