import { ROOT_CONTEXT, type TextMapGetter, type TextMapSetter, TraceFlags, trace } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { describe, expect, it } from "vitest";
import { formatTraceparent, parseTraceparent, W3CTraceContext } from "../../../src/otel/w3c.js";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN = "00f067aa0ba902b7";

type Carrier = Record<string, string | string[]>;
const setter: TextMapSetter<Carrier> = {
  set: (c, k, v) => {
    c[k] = v;
  },
};
const getter: TextMapGetter<Carrier> = { keys: (c) => Object.keys(c), get: (c, k) => c[k] };

describe("the built-in W3C trace context propagator", () => {
  it("parses a version-00 traceparent into a remote span context", () => {
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-01`)).toEqual({
      traceId: TRACE,
      spanId: SPAN,
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
    });
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-00`)?.traceFlags).toBe(TraceFlags.NONE);
    // A later version may append fields; version 00 may not.
    expect(parseTraceparent(`01-${TRACE}-${SPAN}-01-extra`)?.spanId).toBe(SPAN);
  });

  it.each([
    ["empty", ""],
    ["version ff", `ff-${TRACE}-${SPAN}-01`],
    ["version 00 with extra fields", `00-${TRACE}-${SPAN}-01-extra`],
    ["all-zero trace id", `00-${"0".repeat(32)}-${SPAN}-01`],
    ["all-zero span id", `00-${TRACE}-${"0".repeat(16)}-01`],
    ["upper-case hex", `00-${TRACE.toUpperCase()}-${SPAN}-01`],
    ["short trace id", `00-${TRACE.slice(1)}-${SPAN}-01`],
    ["missing flags", `00-${TRACE}-${SPAN}`],
    ["not hex", `00-${"g".repeat(32)}-${SPAN}-01`],
    ["garbage", "hello world"],
  ])("rejects a malformed traceparent (%s)", (_name, value) => {
    expect(parseTraceparent(value)).toBeUndefined();
    const context = new W3CTraceContext().extract(ROOT_CONTEXT, { traceparent: value }, getter);
    expect(trace.getSpanContext(context)).toBeUndefined();
  });

  it("writes what it reads, tracestate included", () => {
    const propagator = new W3CTraceContext();
    const incoming: Carrier = { traceparent: `00-${TRACE}-${SPAN}-01`, tracestate: "vendor=abc,other=x-1" };
    const context = propagator.extract(ROOT_CONTEXT, incoming, getter);
    const span = trace.getSpanContext(context);
    expect(span?.traceState?.get("vendor")).toBe("abc");
    const out: Carrier = {};
    propagator.inject(context, out, setter);
    expect(out).toEqual(incoming);
    expect(formatTraceparent({ traceId: TRACE, spanId: SPAN, traceFlags: 0 })).toBe(`00-${TRACE}-${SPAN}-00`);
  });

  it("joins repeated tracestate headers and drops members that do not parse", () => {
    const context = new W3CTraceContext().extract(
      ROOT_CONTEXT,
      { traceparent: `00-${TRACE}-${SPAN}-01`, tracestate: ["a=1", "b=2,BAD KEY=3"] },
      getter,
    );
    const state = trace.getSpanContext(context)?.traceState;
    expect(state?.get("a")).toBe("1");
    expect(state?.get("b")).toBe("2");
    expect(state?.serialize()).toBe("a=1,b=2");
  });

  it("injects nothing for an invalid or absent span context", () => {
    const out: Carrier = {};
    new W3CTraceContext().inject(ROOT_CONTEXT, out, setter);
    new W3CTraceContext().inject(
      trace.setSpanContext(
        ROOT_CONTEXT,
        trace
          .wrapSpanContext({
            traceId: "0".repeat(32),
            spanId: "0".repeat(16),
            traceFlags: 0,
          })
          .spanContext(),
      ),
      out,
      setter,
    );
    expect(out).toEqual({});
  });

  it("agrees with OpenTelemetry's own W3C propagator in both directions", () => {
    const ours = new W3CTraceContext();
    const theirs = new W3CTraceContextPropagator();
    for (const flags of ["00", "01"]) {
      const carrier: Carrier = { traceparent: `00-${TRACE}-${SPAN}-${flags}`, tracestate: "k=v" };
      const a: Carrier = {};
      const b: Carrier = {};
      theirs.inject(ours.extract(ROOT_CONTEXT, carrier, getter), a, setter);
      ours.inject(theirs.extract(ROOT_CONTEXT, carrier, getter), b, setter);
      expect(a).toEqual(carrier);
      expect(b).toEqual(carrier);
    }
    expect(ours.fields()).toEqual(theirs.fields());
  });
});
