/**
 * The attribute names and values the outlet writes, and the small conversions they need (a
 * key's string form, an error's `error.type`, a broker address split into host and port).
 * Names follow the OpenTelemetry semantic conventions for messaging and Kafka, pinned to
 * {@link SEMCONV_VERSION}: those conventions are still "Development", so a later release may
 * rename attributes (the pin says which names a dashboard can rely on).
 */
import { type Attributes, type Span, SpanStatusCode } from "@opentelemetry/api";

/**
 * The semantic-conventions release the span names, kinds and attributes follow
 * (https://github.com/open-telemetry/semantic-conventions/blob/v1.44.0/docs/messaging/kafka.md).
 */
export const SEMCONV_VERSION = "1.44.0";

/** Attribute names, as the conventions spell them. */
export const ATTR = {
  system: "messaging.system",
  operationName: "messaging.operation.name",
  operationType: "messaging.operation.type",
  destination: "messaging.destination.name",
  partition: "messaging.destination.partition.id",
  key: "messaging.kafka.message.key",
  offset: "messaging.kafka.offset",
  tombstone: "messaging.kafka.message.tombstone",
  batchCount: "messaging.batch.message_count",
  group: "messaging.consumer.group.name",
  clientId: "messaging.client.id",
  serverAddress: "server.address",
  serverPort: "server.port",
  errorType: "error.type",
} as const;

/** samsa's own attributes of request spans: the conventions define none for Kafka's protocol. */
export const SAMSA_ATTR = {
  apiKey: "samsa.request.api_key",
  apiVersion: "samsa.request.api_version",
  correlationId: "samsa.request.correlation_id",
  requestBytes: "samsa.request.bytes",
  responseBytes: "samsa.response.bytes",
  errorCode: "samsa.response.error_code",
  aborted: "samsa.request.aborted",
} as const;

// Keys are usually UTF-8 text; `fatal` makes bytes that are not decline a string form
// instead of turning into replacement characters that would misname the key.
const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The `messaging.kafka.message.key` value of `key`, or undefined when it must be left out: a
 * null key, or one without an unambiguous string form (bytes that are not UTF-8, an object a
 * serializer will turn into bytes).
 */
export function keyString(key: unknown): string | undefined {
  if (typeof key === "string") return key;
  if (key instanceof Uint8Array) {
    try {
      return utf8.decode(key);
    } catch {
      return undefined;
    }
  }
  if (typeof key === "number" || typeof key === "bigint") return String(key);
  return undefined;
}

/**
 * `error.type` of a failure, low-cardinality as the conventions ask: Kafka's error name for a
 * broker error (`UNKNOWN_TOPIC_OR_PARTITION`), samsa's stable code for its own errors
 * (`SAMSA_ERR_RECORD_TOO_LARGE`), else the class name. Duck-typed, so errors of another copy
 * of samsa in the same process are named too.
 */
export function errorType(error: unknown): string {
  if (error !== null && typeof error === "object") {
    const e = error as { errorName?: unknown; code?: unknown; name?: unknown };
    if (typeof e.errorName === "string" && e.errorName !== "") return e.errorName;
    if (typeof e.code === "string" && e.code !== "") return e.code;
    if (typeof e.name === "string" && e.name !== "" && e.name !== "Error") return e.name;
  }
  return "_OTHER";
}

/** Records a failure on `span` the way the conventions' "Recording errors" page asks. */
export function recordError(span: Span, error: unknown): void {
  const type = errorType(error);
  span.setAttribute(ATTR.errorType, type);
  if (error instanceof Error) {
    span.recordException(error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
  } else {
    span.recordException(String(error));
    span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
  }
}

/** Adds `server.address` and `server.port` of a samsa connection address (`host:port`, `[v6]:port`). */
export function addServer(attributes: Attributes, address: string): void {
  const colon = address.lastIndexOf(":");
  if (colon <= 0) {
    attributes[ATTR.serverAddress] = address;
    return;
  }
  let host = address.slice(0, colon);
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  const port = Number(address.slice(colon + 1));
  attributes[ATTR.serverAddress] = host;
  if (Number.isInteger(port) && port > 0) attributes[ATTR.serverPort] = port;
}

const MAX_SAFE_OFFSET = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * An offset as the conventions' int attribute. OpenTelemetry attributes have no 64-bit
 * integer, so an offset past 2^53 (never seen in practice) would lose its last digits: such
 * an offset is written as a string rather than silently rounded.
 */
export function offsetValue(offset: bigint): number | string {
  return offset <= MAX_SAFE_OFFSET ? Number(offset) : offset.toString();
}
