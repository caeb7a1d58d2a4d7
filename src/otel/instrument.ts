/**
 * `instrument()` and `uninstall()`: subscribing the span makers (send.ts, process.ts,
 * poll.ts, request.ts) to samsa's diagnostics channels, and taking them off again. Channels
 * are found by name, which Node keeps process-wide, so every samsa client in the process is
 * traced, whichever copy of the package made it. While nothing is installed the clients pay
 * one `hasSubscribers` check per send and per handed-out record.
 */
import * as diagnostics from "node:diagnostics_channel";
import { diag, type TextMapPropagator, type Tracer, type TracerProvider, trace } from "@opentelemetry/api";
import type { EventName, TRACING_NAMES } from "../observability/events.js";
import { InvalidArgumentError } from "../protocol/errors.js";
import { boolOption, checkOptionsObject, type OptionKeys, oneOfOption } from "../util/options.js";
import { pollHandler } from "./poll.js";
import { type ProcessParent, processHandlers } from "./process.js";
import { requestHandlers } from "./request.js";
import { sendHandlers } from "./send.js";

/** The instrumentation scope spans carry (`otel.scope.name`). */
export const TRACER_NAME = "samsa";

/** Options of {@link instrument}. */
export interface InstrumentOptions {
  /**
   * Where spans go. Default: the global provider, the one `provider.register()` sets, also
   * when it is registered after `instrument()`.
   */
  tracerProvider?: TracerProvider;
  /**
   * Writes and reads the trace context in record headers. Default: the global propagator
   * (`propagation.setGlobalPropagator`, which `provider.register()` sets to W3C Trace Context
   * and Baggage), or, while none is registered, a built-in W3C `traceparent`/`tracestate` one.
   */
  propagator?: TextMapPropagator;
  /**
   * Parent of the process span of a record handed out by `for await`: `"producer"` (default),
   * the record's creation context, so the span lands in the producing trace (an active span at
   * that point is linked); or `"active"`, the span active in the loop, with the creation
   * context only linked (what the conventions recommend when processing runs inside another
   * span). Batch spans always take the active span as parent.
   */
  processParent?: ProcessParent;
  /**
   * `poll <topic>` spans for Fetch answers that brought records. Default false: samsa fetches
   * in the background, so each is a root span, a trace of its own per partition and fetch,
   * which buries the producer-to-consumer traces in a trace list.
   */
  pollSpans?: boolean;
  /** A span per protocol request (`Produce`, `Fetch`, ...). Default false: there are many. */
  requestSpans?: boolean;
}

const KNOWN = {
  tracerProvider: true,
  propagator: true,
  processParent: true,
  pollSpans: true,
  requestSpans: true,
} satisfies OptionKeys<InstrumentOptions>;

type TracingName = (typeof TRACING_NAMES)[number];

/** The full channel name of one event of a tracing channel, as Node's `tracingChannel` forms it. */
const traced = (name: TracingName, event: "start" | "end" | "asyncEnd" | "error") => `tracing:${name}:${event}`;
const plain = (name: EventName) => `samsa:${name}`;

/**
 * A subscriber that never throws: Node rethrows a subscriber's exception on the next tick,
 * which would crash the application over a tracing fault. Faults go to OpenTelemetry's diag
 * logger instead.
 */
function guarded(what: string, handler: (message: unknown) => void): (message: unknown) => void {
  return (message) => {
    try {
      handler(message);
    } catch (err) {
      diag.error(`samsa/otel: ${what} failed`, err);
    }
  };
}

/**
 * An installed instrumentation; see {@link instrument}. The package exports only its type:
 * made any other way than by `instrument()`, a second one would double every span.
 */
export class SamsaInstrumentation {
  /** The tracer spans are made with. */
  readonly tracer: Tracer;
  readonly #subscriptions: [channel: string, subscriber: (message: unknown) => void][] = [];

  /** Validates `options` and subscribes; {@link instrument} is the one caller. */
  constructor(options: InstrumentOptions) {
    checkOptionsObject(options, KNOWN, "samsa/otel instrument()");
    const provider = options.tracerProvider;
    if (provider !== undefined && typeof provider?.getTracer !== "function") {
      throw new InvalidArgumentError("tracerProvider", "must be an OpenTelemetry TracerProvider (with getTracer)");
    }
    const propagator = options.propagator;
    if (
      propagator !== undefined &&
      (typeof propagator?.inject !== "function" || typeof propagator.extract !== "function")
    ) {
      throw new InvalidArgumentError(
        "propagator",
        "must be an OpenTelemetry TextMapPropagator (with inject and extract)",
      );
    }
    const processParent = oneOfOption(options, "processParent", ["producer", "active"] as const, "producer");
    const pollSpans = boolOption(options, "pollSpans", false);
    const requestSpans = boolOption(options, "requestSpans", false);

    // trace.getTracer hands out a proxy that follows the global provider when it is set later.
    this.tracer = provider ? provider.getTracer(TRACER_NAME) : trace.getTracer(TRACER_NAME);
    const propagation = { propagator };

    const send = sendHandlers(this.tracer, propagation);
    this.#on(traced("samsa:producer:send", "start"), "send start", send.start);
    this.#on(traced("samsa:producer:send", "error"), "send error", send.error);
    this.#on(traced("samsa:producer:send", "asyncEnd"), "send end", send.asyncEnd);
    const processing = processHandlers(this.tracer, propagation, processParent);
    this.#on(traced("samsa:consumer:process", "start"), "process start", processing.start);
    this.#on(traced("samsa:consumer:process", "end"), "process end", processing.end);
    if (pollSpans) this.#on(plain("consumer:fetch-answered"), "poll", pollHandler(this.tracer));
    if (requestSpans) {
      const request = requestHandlers(this.tracer);
      this.#on(traced("samsa:network:request", "start"), "request start", request.start);
      this.#on(traced("samsa:network:request", "error"), "request error", request.error);
      this.#on(traced("samsa:network:request", "asyncEnd"), "request end", request.asyncEnd);
    }
  }

  /** Whether its subscribers are still on the channels. */
  get installed(): boolean {
    return this.#subscriptions.length > 0;
  }

  /**
   * Takes every subscriber off. Spans open at that moment (a send awaiting its answer, a
   * record being processed) are never ended, so never exported. Calling it again does nothing.
   */
  uninstall(): void {
    for (const [channel, subscriber] of this.#subscriptions.splice(0)) diagnostics.unsubscribe(channel, subscriber);
    if (current === this) current = undefined;
  }

  #on(channel: string, what: string, handler: (message: unknown) => void): void {
    const subscriber = guarded(what, handler);
    diagnostics.subscribe(channel, subscriber);
    this.#subscriptions.push([channel, subscriber]);
  }
}

/** The instrumentation {@link instrument} installed last, which {@link uninstall} removes. */
let current: SamsaInstrumentation | undefined;

/**
 * Traces every samsa client in the process with OpenTelemetry: `send <topic>` spans per
 * `send()` call (their context injected into the records' headers unless the producer has
 * `propagateTraceContext: false`), `process <topic>` spans per record or batch a consumer
 * hands out, and, with `pollSpans: true`, `poll <topic>` spans per Fetch answer. Only one is
 * installed at a time: calling it again replaces the previous one (as if {@link uninstall}
 * ran first), so spans are never made twice. Throws `InvalidArgumentError` naming a bad or
 * unknown option.
 */
export function instrument(options: InstrumentOptions = {}): SamsaInstrumentation {
  // Validate before removing the old one: a bad call must not leave the process untraced.
  const next = new SamsaInstrumentation(options);
  const previous = current;
  current = next;
  previous?.uninstall();
  return next;
}

/** Removes what {@link instrument} installed; does nothing when nothing is installed. */
export function uninstall(): void {
  current?.uninstall();
}
