import * as diagnostics from "node:diagnostics_channel";
import { type Attributes, SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { AbortedError, RequestTimeoutError } from "../../../src/network/errors.js";
import type { SendContext } from "../../../src/observability/events.js";
import { addServer, errorType, keyString, offsetValue } from "../../../src/otel/attributes.js";
import { instrument, uninstall } from "../../../src/otel/index.js";
import { InvalidArgumentError } from "../../../src/protocol/errors.js";
import { KafkaError } from "../../../src/protocol/kafka-error.js";

const send = diagnostics.tracingChannel("samsa:producer:send");
const processing = diagnostics.tracingChannel("samsa:consumer:process");
const request = diagnostics.tracingChannel("samsa:network:request");
const fetchAnswered = diagnostics.channel("samsa:consumer:fetch-answered");

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

afterEach(() => {
  uninstall();
  exporter.reset();
});
afterAll(() => provider.shutdown());

/** A send call's context as the producer publishes it (send-tracing.ts). */
function sendContext(): SendContext {
  return { clientId: "c", topic: "t", partition: undefined, records: 1, key: "k", propagate: true };
}

describe("instrument() and uninstall()", () => {
  it("subscribes to the send and process channels; poll and request spans only when asked", () => {
    expect(send.hasSubscribers).toBe(false);
    const installed = instrument({ tracerProvider: provider });
    expect(installed.installed).toBe(true);
    expect([send.hasSubscribers, processing.hasSubscribers]).toEqual([true, true]);
    // Poll spans are root spans, one trace each: off by default (user try: Zipkin filled with them).
    expect([fetchAnswered.hasSubscribers, request.hasSubscribers]).toEqual([false, false]);
    instrument({ tracerProvider: provider, requestSpans: true, pollSpans: true });
    expect([request.hasSubscribers, fetchAnswered.hasSubscribers]).toEqual([true, true]);
    uninstall();
    expect([
      send.hasSubscribers,
      processing.hasSubscribers,
      request.hasSubscribers,
      fetchAnswered.hasSubscribers,
    ]).toEqual([false, false, false, false]);
    expect(installed.installed).toBe(false);
    // Again, and on the handle: nothing to do, no error.
    uninstall();
    installed.uninstall();
  });

  it("poll spans only with pollSpans: true: a root CLIENT span per answer that brought records", () => {
    const answer = (records: number) => ({
      clientId: "c",
      groupId: "g",
      nodeId: 1,
      address: "127.0.0.1:9092",
      topic: "t",
      partition: 2,
      records,
      bytes: 100 * records,
      highWatermark: 10n,
      lastStableOffset: 10n,
      fetchOffset: 10n,
      lag: 0n,
      durationMs: 12,
    });
    instrument({ tracerProvider: provider });
    fetchAnswered.publish(answer(5));
    expect(exporter.getFinishedSpans()).toEqual([]);
    instrument({ tracerProvider: provider, pollSpans: true });
    fetchAnswered.publish(answer(0));
    fetchAnswered.publish(answer(5));
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => [s.name, s.kind, s.parentSpanContext])).toEqual([["poll t", SpanKind.CLIENT, undefined]]);
    expect(spans[0]?.attributes).toMatchObject({
      "messaging.operation.type": "receive",
      "messaging.destination.partition.id": "2",
      "messaging.batch.message_count": 5,
      "messaging.consumer.group.name": "g",
    });
  });

  it("a request the client aborted ends its span without ERROR; a failed one with it", () => {
    instrument({ tracerProvider: provider, requestSpans: true });
    const context = (correlationId: number) => ({
      clientId: "c",
      address: "127.0.0.1:9092",
      apiKey: 1,
      apiName: "Fetch",
      apiVersion: 17,
      correlationId,
      requestBytes: 80,
    });
    const aborted = { ...context(1), error: new AbortedError("Fetch request aborted"), aborted: true as const };
    request.start.publish(aborted);
    request.error.publish(aborted);
    const failed = { ...context(2), error: new RequestTimeoutError("127.0.0.1:9092", "Fetch", 30_000) };
    request.start.publish(failed);
    request.error.publish(failed);
    const [a, f] = exporter.getFinishedSpans();
    expect([a?.status.code, a?.attributes["samsa.request.aborted"], a?.events.length]).toEqual([
      SpanStatusCode.UNSET,
      true,
      0,
    ]);
    expect([f?.status.code, f?.attributes["samsa.request.aborted"], f?.attributes["error.type"]]).toEqual([
      SpanStatusCode.ERROR,
      undefined,
      "SAMSA_ERR_REQUEST_TIMEOUT",
    ]);
  });

  it("a second instrument() replaces the first: one span per send, not two", () => {
    instrument({ tracerProvider: provider });
    instrument({ tracerProvider: provider });
    const c = sendContext();
    send.start.publish(c);
    send.asyncEnd.publish(c);
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => [s.name, s.kind])).toEqual([["send t", SpanKind.PRODUCER]]);
    expect(c.traceHeaders?.map((h) => h.key)).toEqual(["traceparent"]);
  });

  it("an uninstalled handle leaves a later install alone", () => {
    const first = instrument({ tracerProvider: provider });
    instrument({ tracerProvider: provider });
    first.uninstall();
    expect(send.hasSubscribers).toBe(true);
  });

  it("a failing span maker does not throw into the client", async () => {
    instrument({ tracerProvider: provider });
    // Node would rethrow a subscriber's exception on the next tick, crashing the process
    // (vitest reports it as an unhandled error); the outlet logs it to diag instead.
    const hostile = Object.defineProperty({}, "topic", {
      get() {
        throw new Error("boom");
      },
    }) as SendContext;
    expect(() => send.start.publish(hostile)).not.toThrow();
    await new Promise((resolve) => setImmediate(resolve));
    const c = sendContext();
    c.error = new KafkaError(10);
    send.start.publish(c);
    send.error.publish(c);
    send.asyncEnd.publish(c);
    const failed = exporter.getFinishedSpans().find((s) => s.attributes["error.type"] !== undefined);
    expect(failed?.status.code).toBe(SpanStatusCode.ERROR);
    expect(failed?.attributes["error.type"]).toBe("MESSAGE_TOO_LARGE");
  });

  it("rejects bad options by name, before touching what is installed", () => {
    instrument({ tracerProvider: provider });
    expect(() => instrument({ pollspans: true } as never)).toThrow(/pollspans.*did you mean pollSpans/);
    expect(() => instrument({ processParent: "parent" as never })).toThrow(InvalidArgumentError);
    expect(() => instrument({ requestSpans: "yes" as never })).toThrow(/requestSpans/);
    expect(() => instrument({ tracerProvider: {} as never })).toThrow(/tracerProvider/);
    expect(() => instrument({ propagator: { inject() {} } as never })).toThrow(/propagator/);
    expect(send.hasSubscribers).toBe(true);
  });
});

describe("attribute values", () => {
  it("keys: strings as they are, UTF-8 bytes decoded, other bytes and objects left out", () => {
    expect(keyString("k-1")).toBe("k-1");
    expect(keyString(Buffer.from("clé"))).toBe("clé");
    expect(keyString(new Uint8Array([0xff, 0xfe]))).toBeUndefined();
    expect(keyString(null)).toBeUndefined();
    expect(keyString({ id: 1 })).toBeUndefined();
    expect(keyString(42)).toBe("42");
  });

  it("error.type: Kafka's name for broker errors, samsa's code for its own, else the class", () => {
    expect(errorType(new KafkaError(3))).toBe("UNKNOWN_TOPIC_OR_PARTITION");
    expect(errorType(new InvalidArgumentError("partition", "bad"))).toBe("SAMSA_ERR_INVALID_ARGUMENT");
    expect(errorType(new TypeError("x"))).toBe("TypeError");
    expect(errorType(new Error("x"))).toBe("_OTHER");
    expect(errorType("a string")).toBe("_OTHER");
  });

  it("server address and port from a connection address; offsets past 2^53 as strings", () => {
    const a: Attributes = {};
    addServer(a, "broker-1.example.com:9092");
    expect(a).toEqual({ "server.address": "broker-1.example.com", "server.port": 9092 });
    const b: Attributes = {};
    addServer(b, "::1:9093");
    expect(b).toEqual({ "server.address": "::1", "server.port": 9093 });
    expect(offsetValue(42n)).toBe(42);
    expect(offsetValue(2n ** 60n)).toBe("1152921504606846976");
  });
});
