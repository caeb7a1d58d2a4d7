/**
 * `samsa/otel`: the OpenTelemetry outlet. `instrument()` turns samsa's diagnostics channels
 * into spans that follow the OpenTelemetry semantic conventions for Kafka (pinned in
 * {@link SEMCONV_VERSION}) and carries trace context from producers to consumers in record
 * headers. Needs the optional peer dependency `@opentelemetry/api`; docs/observability.md
 * shows a whole setup.
 */
export { ATTR, SAMSA_ATTR, SEMCONV_VERSION } from "./attributes.js";
export { type InstrumentOptions, instrument, type SamsaInstrumentation, TRACER_NAME, uninstall } from "./instrument.js";
export type { ProcessParent } from "./process.js";
export { formatTraceparent, parseTraceparent, TRACEPARENT, TRACESTATE, W3CTraceContext } from "./w3c.js";
