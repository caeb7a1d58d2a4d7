/**
 * A built-in W3C Trace Context propagator (`traceparent`, `tracestate`), used when the
 * application registered none: `@opentelemetry/api` alone has only a no-op propagator, and
 * without this a producer that traces would write nothing a consumer could join. Extraction
 * validates the format and ignores what does not parse, since headers come from any producer.
 */
import {
  type Context,
  createTraceState,
  isSpanContextValid,
  type SpanContext,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
  trace,
} from "@opentelemetry/api";

/** Header names of https://www.w3.org/TR/trace-context/. */
export const TRACEPARENT = "traceparent";
export const TRACESTATE = "tracestate";

/**
 * version-traceid-parentid-flags. Version `ff` is forbidden; a later version may append
 * fields after a `-`, which version 00 may not (checked after the match).
 */
const TRACEPARENT_FORMAT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/** The span context a `traceparent` value names, or undefined when it is malformed. */
export function parseTraceparent(value: string): SpanContext | undefined {
  const m = TRACEPARENT_FORMAT.exec(value.trim());
  if (m === null) return undefined;
  const [, version, traceId, spanId, flags, rest] = m as unknown as [string, string, string, string, string, string?];
  if (version === "ff" || (version === "00" && rest !== undefined)) return undefined;
  const context: SpanContext = { traceId, spanId, traceFlags: Number.parseInt(flags, 16) & 0xff, isRemote: true };
  // All-zero ids are the spec's "invalid" markers.
  return isSpanContextValid(context) ? context : undefined;
}

/** The `traceparent` value of `context` (version 00; only the sampled flag is defined). */
export function formatTraceparent(context: SpanContext): string {
  const flags = (context.traceFlags & 0xff).toString(16).padStart(2, "0");
  return `00-${context.traceId}-${context.spanId}-${flags}`;
}

/** W3C Trace Context over any carrier; the outlet's fallback when no global propagator is set. */
export class W3CTraceContext implements TextMapPropagator {
  inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    const span = trace.getSpanContext(context);
    if (span === undefined || !isSpanContextValid(span)) return;
    setter.set(carrier, TRACEPARENT, formatTraceparent(span));
    const state = span.traceState?.serialize();
    if (state) setter.set(carrier, TRACESTATE, state);
  }

  extract(context: Context, carrier: unknown, getter: TextMapGetter): Context {
    const raw = first(getter.get(carrier, TRACEPARENT));
    if (raw === undefined) return context;
    const span = parseTraceparent(raw);
    if (span === undefined) return context;
    const state = getter.get(carrier, TRACESTATE);
    // Several tracestate headers are one list split up (W3C §3.3.1); createTraceState drops
    // members that do not parse and keeps at most 32.
    const joined = Array.isArray(state) ? state.join(",") : state;
    if (joined) span.traceState = createTraceState(joined);
    return trace.setSpanContext(context, span);
  }

  fields(): string[] {
    return [TRACEPARENT, TRACESTATE];
  }
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
