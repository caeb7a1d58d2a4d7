/**
 * `poll <topic>` spans (kind CLIENT), one per partition of a Fetch answer that brought
 * records, from the `samsa:consumer:fetch-answered` event. The event fires when the answer
 * arrives, so the span is made whole then: it starts `durationMs` earlier. samsa fetches in
 * the background, ahead of the application, so these spans belong to no caller's trace: each
 * is a root span (as a child of the context that started the consumer, hours of polls would
 * pile into that one trace). Being root spans, they are off unless `pollSpans: true`.
 */
import { type Attributes, ROOT_CONTEXT, SpanKind, type Tracer } from "@opentelemetry/api";
import type { EventPayloads } from "../observability/events.js";
import { ATTR } from "./attributes.js";

type FetchAnswered = EventPayloads["consumer:fetch-answered"];

/** The subscriber of `samsa:consumer:fetch-answered` that makes poll spans with `tracer`. */
export function pollHandler(tracer: Tracer): (message: unknown) => void {
  return (message) => {
    const e = message as FetchAnswered;
    // Long polls that end empty come every fetch.max.wait.ms per partition: as spans they
    // would bury the ones that carried data.
    if (e.records === 0) return;
    const end = Date.now();
    const attributes: Attributes = {
      [ATTR.system]: "kafka",
      [ATTR.operationName]: "poll",
      [ATTR.operationType]: "receive",
      [ATTR.destination]: e.topic,
      [ATTR.partition]: String(e.partition),
      [ATTR.batchCount]: e.records,
      [ATTR.clientId]: e.clientId,
    };
    if (e.groupId !== null && e.groupId !== "") attributes[ATTR.group] = e.groupId;
    const span = tracer.startSpan(
      `poll ${e.topic}`,
      { kind: SpanKind.CLIENT, attributes, startTime: end - e.durationMs, root: true },
      ROOT_CONTEXT,
    );
    span.end(end);
  };
}
