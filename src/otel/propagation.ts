/**
 * Trace context in Kafka record headers: the setter and getter over samsa's header lists,
 * and the choice of propagator: the application's global one (`propagation.setGlobalPropagator`,
 * which `NodeTracerProvider.register()` sets), or the built-in W3C one when none is registered.
 */
import {
  type Context,
  propagation,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
} from "@opentelemetry/api";
import type { RecordHeader, RecordHeaderInput } from "../protocol/records/index.js";
import { W3CTraceContext } from "./w3c.js";

const builtIn = new W3CTraceContext();

/** Writes into the header list a send hands the producer (`SendContext.traceHeaders`). */
const headerSetter: TextMapSetter<RecordHeaderInput[]> = {
  set(carrier, key, value) {
    // A propagator may set a field twice; the last value is the one it means.
    for (const h of carrier) {
      if (h.key === key) {
        h.value = value;
        return;
      }
    }
    carrier.push({ key, value });
  },
};

/**
 * Reads a consumed record's headers. The first header of a name wins: the producer appends
 * trace headers after the record's own, so a context the application put in the record
 * itself (a custom creation context, which the conventions say must not be replaced) is the
 * one found.
 */
const headerGetter: TextMapGetter<readonly RecordHeader[]> = {
  keys(carrier) {
    return carrier.map((h) => h.key);
  },
  get(carrier, key) {
    for (const h of carrier) {
      if (h.key === key) return h.value === null ? undefined : h.value.toString("utf8");
    }
    return undefined;
  },
};

/** Options that pick the propagator; see `InstrumentOptions.propagator`. */
export interface Propagation {
  /** A propagator to use instead of the global one. */
  propagator?: TextMapPropagator | undefined;
}

/**
 * The propagator in effect. Looked up at each use, not at `instrument()`, so a provider
 * registered afterwards is honoured. The API's no-op propagator has no fields: that is how
 * "nothing registered" shows.
 */
function propagatorOf(options: Propagation): TextMapPropagator {
  if (options.propagator) return options.propagator;
  return propagation.fields().length === 0 ? builtIn : propagation;
}

/** The headers that carry `context` (empty when it holds no valid span context). */
export function injectHeaders(context: Context, options: Propagation): RecordHeaderInput[] {
  const headers: RecordHeaderInput[] = [];
  propagatorOf(options).inject(context, headers, headerSetter);
  return headers;
}

/** `context` with what a record's headers carry (unchanged when they carry nothing valid). */
export function extractHeaders(context: Context, headers: readonly RecordHeader[], options: Propagation): Context {
  if (headers.length === 0) return context;
  return propagatorOf(options).extract(context, headers, headerGetter);
}
