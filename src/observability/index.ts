/**
 * The observability surface of the package root: the event catalogue's names and payload
 * types, the span contexts, and the logger interface. The outlets built on them are the
 * subpath entries `samsa/otel` and `samsa/prometheus`.
 */
export {
  EVENT_LEVELS,
  EVENT_NAMES,
  type EventBase,
  type EventName,
  type EventOffset,
  type EventPartition,
  type EventPayloads,
  type LogLevel,
  type ProcessContext,
  type ProcessedRecord,
  type ProducerBatchEvent,
  type RequestContext,
  type SendContext,
  TRACING_NAMES,
} from "./events.js";
export type { Logger, LogMethod } from "./logger.js";
