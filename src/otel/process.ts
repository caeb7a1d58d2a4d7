/**
 * `process <topic>` spans (kind CONSUMER), from the `samsa:consumer:process` tracing channel:
 * one per record handed out by `for await`, or per batch handed out by `batches()`, open
 * while the loop body works on it. Each links to the creation context of the records it
 * covers (read from their headers); a single record's span is also a child of it, so it
 * lands in the producing trace (the conventions allow that for single messages only).
 */
import {
  type Attributes,
  type Context,
  context,
  isSpanContextValid,
  type Link,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import type { ProcessContext, ProcessedRecord } from "../observability/events.js";
import { ATTR, keyString, offsetValue } from "./attributes.js";
import { extractHeaders, type Propagation } from "./propagation.js";

/** Where a process span waits for its end: on the channel's context object, never in a map. */
const SPAN = Symbol("samsa/otel process span");

/** Parent of a single record's process span; see `InstrumentOptions.processParent`. */
export type ProcessParent = "producer" | "active";

/** The handlers of the process channel's events (each takes a `ProcessContext`). */
export interface ProcessHandlers {
  start(message: unknown): void;
  end(message: unknown): void;
}

/** Handlers that make process spans with `tracer`, extracting with `propagation`'s propagator. */
export function processHandlers(tracer: Tracer, propagation: Propagation, parentOf: ProcessParent): ProcessHandlers {
  /** A single record: child of its creation context (by default), linked to it. */
  function single(record: ProcessedRecord, active: Context, attributes: Attributes, links: Link[]): Context {
    const key = keyString(record.key);
    if (key !== undefined) attributes[ATTR.key] = key;
    attributes[ATTR.offset] = offsetValue(record.offset);
    // ProcessedRecord does not promise a value, but the consumer's Message has one.
    if ((record as { value?: unknown }).value === null) attributes[ATTR.tombstone] = true;
    const extracted = extractHeaders(active, record.headers, propagation);
    if (extracted === active) return active;
    const producer = trace.getSpanContext(extracted);
    const ambient = trace.getSpanContext(active);
    // A propagator that found only baggage returns a new context whose span is still the
    // ambient one: that is no creation context.
    if (producer === undefined || producer === ambient || !isSpanContextValid(producer)) return active;
    links.push({ context: producer });
    if (parentOf === "active") return active;
    // The conventions ask that an ambient span the producer context displaces as parent
    // stays reachable: a link to it.
    if (ambient !== undefined && isSpanContextValid(ambient)) links.push({ context: ambient });
    return extracted;
  }

  /** A batch: links to each record's creation context, once each (records of one send share one). */
  function batch(records: readonly ProcessedRecord[], attributes: Attributes, links: Link[]): void {
    attributes[ATTR.batchCount] = records.length;
    // Local to this batch, so it cannot grow beyond one batch's records.
    let seen: Set<string> | undefined;
    for (const record of records) {
      if (record.headers.length === 0) continue;
      const found = trace.getSpanContext(extractHeaders(ROOT_CONTEXT, record.headers, propagation));
      if (found === undefined || !isSpanContextValid(found)) continue;
      const id = `${found.traceId}-${found.spanId}`;
      seen ??= new Set();
      if (seen.has(id)) continue;
      seen.add(id);
      links.push({ context: found });
    }
  }

  return {
    start(message) {
      const c = message as ProcessContext;
      const active = context.active();
      const attributes: Attributes = {
        [ATTR.system]: "kafka",
        [ATTR.operationName]: "process",
        [ATTR.operationType]: "process",
        [ATTR.destination]: c.topic,
        [ATTR.partition]: String(c.partition),
        [ATTR.clientId]: c.clientId,
      };
      if (c.groupId !== null && c.groupId !== "") attributes[ATTR.group] = c.groupId;
      const links: Link[] = [];
      let parent = active;
      if (c.record !== undefined) parent = single(c.record, active, attributes, links);
      else if (c.records !== undefined) batch(c.records, attributes, links);
      c[SPAN] = tracer.startSpan(`process ${c.topic}`, { kind: SpanKind.CONSUMER, attributes, links }, parent);
    },
    end(message) {
      const c = message as ProcessContext;
      const span = c[SPAN] as Span | undefined;
      if (span === undefined) return;
      c[SPAN] = undefined;
      span.end();
    },
  };
}
