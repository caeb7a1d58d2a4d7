/**
 * Spans of single Kafka protocol requests (kind CLIENT, named by the API: `Produce`,
 * `Fetch`, `JoinGroup`...), from the `samsa:network:request` tracing channel; off unless
 * `requestSpans` is set, as a busy client makes thousands a second. The conventions define
 * no such span, so beyond `server.*` and `messaging.*` their attributes are samsa's own.
 * The parent is the context active when the request was made, which for background work
 * (the producer's sender, the fetch loop) is the one that started it.
 */
import { type Attributes, context, type Span, SpanKind, SpanStatusCode, type Tracer } from "@opentelemetry/api";
import type { RequestContext } from "../observability/events.js";
import { errorInfo } from "../protocol/error-table.js";
import { ATTR, addServer, recordError, SAMSA_ATTR } from "./attributes.js";

/** Where a request's span waits for its end: on the channel's context object, never in a map. */
const SPAN = Symbol("samsa/otel request span");

/** The handlers of the request channel's events (each takes a `RequestContext`). */
export interface RequestHandlers {
  start(message: unknown): void;
  error(message: unknown): void;
  asyncEnd(message: unknown): void;
}

/** Handlers that make request spans with `tracer`. */
export function requestHandlers(tracer: Tracer): RequestHandlers {
  return {
    start(message) {
      const c = message as RequestContext;
      const attributes: Attributes = {
        [ATTR.system]: "kafka",
        [ATTR.clientId]: c.clientId,
        [SAMSA_ATTR.apiKey]: c.apiKey,
        [SAMSA_ATTR.apiVersion]: c.apiVersion,
        [SAMSA_ATTR.correlationId]: c.correlationId,
        [SAMSA_ATTR.requestBytes]: c.requestBytes,
      };
      addServer(attributes, c.address);
      c[SPAN] = tracer.startSpan(c.apiName, { kind: SpanKind.CLIENT, attributes }, context.active());
    },
    error(message) {
      const c = message as RequestContext;
      const span = c[SPAN] as Span | undefined;
      if (span === undefined) return;
      c[SPAN] = undefined;
      // Given up by the client (a closing consumer's Fetch, a caller's signal): not a failure,
      // so no ERROR status that would flag every clean shutdown.
      if (c.aborted) span.setAttribute(SAMSA_ATTR.aborted, true);
      else recordError(span, c.error);
      span.end();
    },
    asyncEnd(message) {
      const c = message as RequestContext;
      const span = c[SPAN] as Span | undefined;
      if (span === undefined) return;
      c[SPAN] = undefined;
      if (c.responseBytes !== undefined) span.setAttribute(SAMSA_ATTR.responseBytes, c.responseBytes);
      if (c.errorCode !== undefined && c.errorCode !== 0) {
        // The broker answered with an error for the whole request. Per-partition errors live
        // deeper in the answer; a send that fails of one shows it on its send span.
        const name = errorInfo(c.errorCode).name;
        span.setAttribute(SAMSA_ATTR.errorCode, c.errorCode);
        span.setAttribute(ATTR.errorType, name);
        span.setStatus({ code: SpanStatusCode.ERROR, message: name });
      }
      span.end();
    },
  };
}
