/**
 * `send <topic>` spans (kind PRODUCER), one per `producer.send()` call, from the
 * `samsa:producer:send` tracing channel. The span starts inside the call, so its parent is
 * whatever span is active where the application called `send`; its context goes into the
 * records' headers as their creation context (no separate "create" spans: the conventions'
 * "send span (producer)" shape), so consumers can join the producing trace.
 */
import { type Attributes, context, type Span, SpanKind, type Tracer, trace } from "@opentelemetry/api";
import type { SendContext } from "../observability/events.js";
import { ATTR, keyString, offsetValue, recordError } from "./attributes.js";
import { injectHeaders, type Propagation } from "./propagation.js";

/** Where a send's span waits for its end: on the channel's context object, never in a map. */
const SPAN = Symbol("samsa/otel send span");

/** The handlers of the send channel's events (each takes a `SendContext`). */
export interface SendHandlers {
  start(message: unknown): void;
  error(message: unknown): void;
  asyncEnd(message: unknown): void;
}

/** Handlers that make send spans with `tracer` and inject with `propagation`'s propagator. */
export function sendHandlers(tracer: Tracer, propagation: Propagation): SendHandlers {
  return {
    start(message) {
      const c = message as SendContext;
      const parent = context.active();
      const attributes: Attributes = {
        [ATTR.system]: "kafka",
        [ATTR.operationName]: "send",
        [ATTR.operationType]: "send",
        [ATTR.clientId]: c.clientId,
      };
      if (c.topic !== "") attributes[ATTR.destination] = c.topic;
      if (c.partition !== undefined) attributes[ATTR.partition] = String(c.partition);
      if (c.records === 1) {
        const key = keyString(c.key);
        if (key !== undefined) attributes[ATTR.key] = key;
      } else {
        // An array of records is the batching form of send; the conventions count those.
        attributes[ATTR.batchCount] = c.records;
      }
      const name = c.topic === "" ? "send" : `send ${c.topic}`;
      const span = tracer.startSpan(name, { kind: SpanKind.PRODUCER, attributes }, parent);
      c[SPAN] = span;
      if (!c.propagate) return;
      const headers = injectHeaders(trace.setSpan(parent, span), propagation);
      if (headers.length === 0) return;
      // Another subscriber (an APM agent) may have set headers first: ours replace those of
      // the same name, since this span is the one the records' consumers should join.
      const existing = c.traceHeaders;
      if (existing === undefined || existing.length === 0) {
        c.traceHeaders = headers;
        return;
      }
      for (const h of headers) {
        const same = existing.findIndex((e) => e.key === h.key);
        if (same >= 0) existing[same] = h;
        else existing.push(h);
      }
    },
    error(message) {
      const c = message as SendContext;
      const span = c[SPAN] as Span | undefined;
      if (span !== undefined) recordError(span, c.error);
    },
    asyncEnd(message) {
      const c = message as SendContext;
      const span = c[SPAN] as Span | undefined;
      if (span === undefined) return;
      c[SPAN] = undefined;
      if (c.partition === undefined && c.partitionWritten !== undefined) {
        span.setAttribute(ATTR.partition, String(c.partitionWritten));
      }
      // acks=0 reports offset -1: the broker never said where the record went.
      if (c.offset !== undefined && c.offset >= 0n) span.setAttribute(ATTR.offset, offsetValue(c.offset));
      span.end();
    },
  };
}
