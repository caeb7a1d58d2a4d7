/**
 * The OpenTelemetry outlet end to end: a real broker, a real Zipkin server, the OpenTelemetry
 * Node SDK with its Zipkin exporter. Zipkin's API shows what a user's tracing backend would
 * show (the trace tree, span kinds, tags); Zipkin drops span links, so those are checked
 * on the same spans through the SDK's in-memory exporter, which sits beside Zipkin's.
 */
import { randomUUID } from "node:crypto";
import * as diagnostics from "node:diagnostics_channel";
import { context, propagation, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from "@opentelemetry/core";
import { ZipkinExporter } from "@opentelemetry/exporter-zipkin";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  BatchSpanProcessor,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from "vitest";
import { Client } from "../../../src/client.js";
import type { Message, MessageBatch } from "../../../src/consumer/message.js";
import { instrument, parseTraceparent, uninstall } from "../../../src/otel/index.js";
import type { RecordMetadata } from "../../../src/producer/delivery.js";
import { startZipkin, type ZipkinServer } from "../../../tools/observability/zipkin.js";
import { createTopic } from "../../helpers/topics.js";

/** A span as Zipkin's v2 API returns it. */
interface ZipkinSpan {
  traceId: string;
  id: string;
  parentId?: string;
  name: string;
  kind?: "CLIENT" | "SERVER" | "PRODUCER" | "CONSUMER";
  tags?: Record<string, string>;
  localEndpoint?: { serviceName?: string };
}

const SERVICE = "samsa-otel-test";

/** The spans of `traceId` once Zipkin holds at least `count` of them; bounded. */
async function zipkinTrace(zipkin: ZipkinServer, traceId: string, count: number): Promise<ZipkinSpan[]> {
  const deadline = Date.now() + 30_000;
  let spans: ZipkinSpan[] = [];
  for (;;) {
    const res = await fetch(`${zipkin.url}/api/v2/trace/${traceId}`);
    if (res.status === 200) spans = (await res.json()) as ZipkinSpan[];
    else await res.arrayBuffer();
    if (spans.length >= count) return spans;
    if (Date.now() > deadline)
      throw new Error(`trace ${traceId}: ${spans.length} of ${count} spans in Zipkin after 30 s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The first header named `key`, as text. */
function header(m: Message, key: string): string | undefined {
  return m.headers.find((h) => h.key === key)?.value?.toString("utf8");
}

describe("samsa/otel: spans in Zipkin from a real broker", () => {
  const bootstrap = inject("kafkaBootstrap");
  let zipkin: ZipkinServer;
  let provider: NodeTracerProvider;
  const memory = new InMemorySpanExporter();
  let producing: Client;
  let consuming: Client;

  beforeAll(async () => {
    zipkin = await startZipkin();
    provider = new NodeTracerProvider({
      resource: resourceFromAttributes({ "service.name": SERVICE }),
      spanProcessors: [
        new BatchSpanProcessor(new ZipkinExporter({ url: zipkin.spansUrl })),
        new SimpleSpanProcessor(memory),
      ],
    });
    // Registers the global tracer provider, the async-hooks context manager and the W3C
    // (trace context + baggage) propagator, as an application's setup would.
    provider.register();
    instrument();
    producing = new Client({ bootstrap, clientId: "otel-producer" });
    consuming = new Client({ bootstrap, clientId: "otel-consumer" });
  });

  afterAll(async () => {
    uninstall();
    consuming?.close();
    producing?.close();
    await provider?.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
    await zipkin?.stop();
  });

  /** Reads `count` records of `topic` in a new group with `for await`, then closes the consumer. */
  async function consume(topic: string, count: number, groupId = `otel-${randomUUID()}`): Promise<Message[]> {
    const consumer = consuming.consumer({ groupId, autoOffsetReset: "earliest" });
    consumer.subscribe(topic);
    const out: Message[] = [];
    try {
      for await (const m of consumer.messages({ signal: AbortSignal.timeout(60_000) })) {
        out.push(m);
        if (out.length === count) break;
      }
    } finally {
      await consumer.close();
    }
    expect(out).toHaveLength(count);
    return out;
  }

  const spansOf = (topic: string, operation: string): ReadableSpan[] =>
    memory.getFinishedSpans().filter((s) => s.name === `${operation} ${topic}`);

  it("100 records sent inside a span: each process span sits under its record's send span in the producing trace", async () => {
    // Poll spans are off by default; this test checks them too.
    instrument({ pollSpans: true });
    onTestFinished(() => {
      instrument();
    });
    const topic = `otel-zipkin-${randomUUID()}`;
    const groupId = `otel-group-${randomUUID()}`;
    await createTopic(producing, topic, 3);
    const producer = producing.producer({ lingerMs: 5 });
    const tracer = trace.getTracer("test");
    const { metadata, root } = await tracer.startActiveSpan("produce-100", async (span) => {
      const sent = await Promise.all(
        Array.from({ length: 100 }, (_, i) => producer.send({ topic, key: `key-${i}`, value: `value-${i}` })),
      );
      span.end();
      return { metadata: sent, root: span.spanContext() };
    });
    await producer.close();

    const records = await consume(topic, 100, groupId);
    await provider.forceFlush();

    // 1 parent + 100 send + 100 process; poll spans start their own traces.
    const spans = await zipkinTrace(zipkin, root.traceId, 201);
    expect(spans).toHaveLength(201);
    const byId = new Map(spans.map((s) => [s.id, s]));
    const sends = spans.filter((s) => s.name === `send ${topic}`);
    const processes = spans.filter((s) => s.name === `process ${topic}`);
    expect([sends.length, processes.length]).toEqual([100, 100]);
    expect(spans.every((s) => s.localEndpoint?.serviceName === SERVICE)).toBe(true);

    // Send spans: children of the span active at send(), one per call, the broker's answer on them.
    const sendAt = new Map<string, ZipkinSpan>();
    for (const s of sends) {
      expect(s.kind).toBe("PRODUCER");
      expect(s.parentId).toBe(root.spanId);
      expect(s.tags).toMatchObject({
        "messaging.system": "kafka",
        "messaging.operation.name": "send",
        "messaging.operation.type": "send",
        "messaging.destination.name": topic,
        "messaging.client.id": "otel-producer",
      });
      expect(s.tags?.["messaging.batch.message_count"]).toBeUndefined();
      sendAt.set(`${s.tags?.["messaging.destination.partition.id"]}/${s.tags?.["messaging.kafka.offset"]}`, s);
    }
    for (const [i, m] of metadata.entries()) {
      expect(sendAt.get(`${m.partition}/${m.offset}`)?.tags?.["messaging.kafka.message.key"]).toBe(`key-${i}`);
    }

    // Process spans: child of the send span named by the record's traceparent, which is the
    // send span of that very record (same partition and offset).
    const processOf = new Map(
      processes.map((s) => [
        `${s.tags?.["messaging.destination.partition.id"]}/${s.tags?.["messaging.kafka.offset"]}`,
        s,
      ]),
    );
    const memoryProcess = new Map(spansOf(topic, "process").map((s) => [s.spanContext().spanId, s]));
    for (const r of records) {
      const where = `${r.partition}/${r.offset}`;
      const creation = parseTraceparent(header(r, "traceparent") ?? "");
      const send = sendAt.get(where);
      const process = processOf.get(where);
      expect(creation?.traceId, where).toBe(root.traceId);
      expect(creation?.spanId, where).toBe(send?.id);
      expect(process?.parentId, where).toBe(send?.id);
      expect(process?.kind).toBe("CONSUMER");
      expect(process?.tags).toMatchObject({
        "messaging.system": "kafka",
        "messaging.operation.name": "process",
        "messaging.operation.type": "process",
        "messaging.destination.name": topic,
        "messaging.destination.partition.id": String(r.partition),
        "messaging.kafka.offset": String(r.offset),
        "messaging.kafka.message.key": r.key?.toString("utf8"),
        "messaging.consumer.group.name": groupId,
        "messaging.client.id": "otel-consumer",
      });
      expect(byId.get(process?.parentId ?? "")?.parentId).toBe(root.spanId);
      // Zipkin drops links; the SDK kept them: a single record's span also links to its creation context.
      const links = memoryProcess.get(process?.id ?? "")?.links.map((l) => l.context.spanId);
      expect(links, where).toEqual([send?.id]);
    }

    // Poll spans (pollSpans: true): one root span per partition answer with records, together
    // covering the 100 records.
    const polls = spansOf(topic, "poll");
    expect(polls.length).toBeGreaterThan(0);
    let polled = 0;
    for (const p of polls) {
      expect(p.kind).toBe(SpanKind.CLIENT);
      expect(p.parentSpanContext).toBeUndefined();
      expect(p.attributes).toMatchObject({
        "messaging.operation.name": "poll",
        "messaging.operation.type": "receive",
        "messaging.consumer.group.name": groupId,
      });
      polled += p.attributes["messaging.batch.message_count"] as number;
    }
    expect(polled).toBeGreaterThanOrEqual(100);
  });

  it("batches(): each batch span links to the send spans of its records, each once, under the active span", async () => {
    const topic = `otel-batches-${randomUUID()}`;
    await createTopic(producing, topic, 1);
    const producer = producing.producer({ lingerMs: 20 });
    // Three array sends of 10 (one send span each) and 10 single sends.
    const calls: Promise<unknown>[] = [];
    for (let a = 0; a < 3; a++) {
      calls.push(producer.send(Array.from({ length: 10 }, (_, i) => ({ topic, key: `a${a}-${i}`, value: "x" }))));
    }
    for (let i = 0; i < 10; i++) calls.push(producer.send({ topic, key: `s${i}`, value: "y" }));
    await Promise.all(calls);
    await producer.close();
    const sendSpans = spansOf(topic, "send");
    expect(sendSpans.map((s) => s.attributes["messaging.batch.message_count"] ?? 1).sort()).toEqual([
      ...Array(10).fill(1),
      10,
      10,
      10,
    ]);
    const sendIds = new Set(sendSpans.map((s) => s.spanContext().spanId));

    const consumer = consuming.consumer({ groupId: `otel-${randomUUID()}`, autoOffsetReset: "earliest" });
    consumer.subscribe(topic);
    const batches: MessageBatch[] = [];
    const tracer = trace.getTracer("test");
    const outer = await tracer.startActiveSpan("consume-batches", async (span) => {
      let count = 0;
      try {
        for await (const b of consumer.batches({ signal: AbortSignal.timeout(60_000) })) {
          batches.push(b);
          count += b.messages.length;
          if (count >= 40) break;
        }
      } finally {
        span.end();
        await consumer.close();
      }
      return span.spanContext();
    });
    expect(batches.reduce((n, b) => n + b.messages.length, 0)).toBe(40);

    // Spans end in hand-out order: the k-th batch span is the k-th batch.
    const batchSpans = spansOf(topic, "process");
    expect(batchSpans).toHaveLength(batches.length);
    for (const [k, b] of batches.entries()) {
      const span = batchSpans[k] as ReadableSpan;
      expect(span.kind).toBe(SpanKind.CONSUMER);
      expect(span.parentSpanContext?.spanId).toBe(outer.spanId);
      expect(span.attributes["messaging.batch.message_count"]).toBe(b.messages.length);
      expect(span.attributes["messaging.kafka.offset"]).toBeUndefined();
      const expected = [...new Set(b.messages.map((m) => parseTraceparent(header(m, "traceparent") ?? "")?.spanId))];
      const linked = span.links.map((l) => l.context.spanId);
      expect(linked).toEqual(expected);
      expect(linked.every((id) => sendIds.has(id))).toBe(true);
    }
    // 40 records from 13 send calls: deduplicated, the links name each send span once.
    expect(new Set(batchSpans.flatMap((s) => s.links.map((l) => l.context.spanId)))).toEqual(sendIds);
    expect(batchSpans.reduce((n, s) => n + s.links.length, 0)).toBe(13);
    // By default there are no poll spans: each would be a lone root trace.
    expect(spansOf(topic, "poll")).toEqual([]);
  });

  it("propagateTraceContext: false: the send is traced but the records carry no trace headers", async () => {
    const topic = `otel-nopropagate-${randomUUID()}`;
    await createTopic(producing, topic, 1);
    const producer = producing.producer({ propagateTraceContext: false });
    await Promise.all(Array.from({ length: 5 }, (_, i) => producer.send({ topic, value: `v${i}` })));
    await producer.close();
    expect(spansOf(topic, "send")).toHaveLength(5);
    const records = await consume(topic, 5);
    expect(records.flatMap((m) => m.headers.map((h) => h.key))).toEqual([]);
    // Nothing to join: the process spans are roots without links.
    const processes = spansOf(topic, "process");
    expect(processes).toHaveLength(5);
    expect(processes.every((s) => s.parentSpanContext === undefined && s.links.length === 0)).toBe(true);
  });

  it("without instrument(), records carry no trace headers and no span is made; installing again works", async () => {
    uninstall();
    uninstall();
    expect(diagnostics.tracingChannel("samsa:producer:send").hasSubscribers).toBe(false);
    const topic = `otel-off-${randomUUID()}`;
    await createTopic(producing, topic, 1);
    const producer = producing.producer();
    await trace.getTracer("test").startActiveSpan("outer", async (span) => {
      await producer.send([
        { topic, value: "a", headers: [{ key: "own", value: "1" }] },
        { topic, value: "b" },
      ]);
      span.end();
    });
    const records = await consume(topic, 2);
    expect(records.map((m) => m.headers.map((h) => h.key))).toEqual([["own"], []]);
    expect([...spansOf(topic, "send"), ...spansOf(topic, "process"), ...spansOf(topic, "poll")]).toEqual([]);

    instrument();
    await producer.send({ topic, value: "c" });
    await producer.close();
    const again = await consume(topic, 3);
    expect(again[2]?.headers.map((h) => h.key)).toEqual(["traceparent"]);
    expect(spansOf(topic, "send")).toHaveLength(1);
  });

  it("with no propagator registered, the built-in W3C one carries the context", async () => {
    propagation.disable();
    try {
      expect(propagation.fields()).toEqual([]);
      const topic = `otel-builtin-${randomUUID()}`;
      await createTopic(producing, topic, 1);
      const producer = producing.producer();
      await producer.send({ topic, key: "k", value: "v" });
      await producer.close();
      const [record] = await consume(topic, 1);
      const send = spansOf(topic, "send")[0];
      const creation = parseTraceparent(header(record as Message, "traceparent") ?? "");
      expect(creation?.spanId).toBe(send?.spanContext().spanId);
      expect(spansOf(topic, "process")[0]?.parentSpanContext?.spanId).toBe(send?.spanContext().spanId);
    } finally {
      propagation.setGlobalPropagator(
        new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
      );
    }
  });

  it("failed sends end their span with status ERROR, error.type and the exception, in Zipkin too", async () => {
    const topic = `otel-errors-${randomUUID()}`;
    // The broker rejects a record above max.message.bytes; samsa's own check allows it.
    await createTopic(producing, topic, 1, 1, [{ name: "max.message.bytes", value: "1024" }]);
    const producer = producing.producer();
    const tooLarge = await producer.send({ topic, value: "x".repeat(4096) }).catch((e: Error) => e);
    const noPartition = await producer.send({ topic, partition: 7, value: "x" }).catch((e: Error) => e);
    await producer.close();
    expect(tooLarge).toBeInstanceOf(Error);
    expect(noPartition).toBeInstanceOf(Error);

    const failed = spansOf(topic, "send");
    expect(failed).toHaveLength(2);
    const byPartition = new Map(failed.map((s) => [s.attributes["messaging.destination.partition.id"], s]));
    const broker = failed.find((s) => s !== byPartition.get("7"));
    expect(broker?.attributes["error.type"]).toBe("MESSAGE_TOO_LARGE");
    expect(byPartition.get("7")?.attributes["error.type"]).toBe("SAMSA_ERR_INVALID_ARGUMENT");
    for (const s of failed) {
      expect(s.status.code).toBe(SpanStatusCode.ERROR);
      expect(s.events.map((e) => e.name)).toEqual(["exception"]);
      expect(s.attributes["messaging.kafka.offset"]).toBeUndefined();
    }

    await provider.forceFlush();
    const [inZipkin] = await zipkinTrace(zipkin, broker?.spanContext().traceId ?? "", 1);
    expect(inZipkin?.kind).toBe("PRODUCER");
    expect(inZipkin?.tags).toMatchObject({ "otel.status_code": "ERROR", "error.type": "MESSAGE_TOO_LARGE" });
  });

  it("requestSpans: one CLIENT span per protocol request, with the broker's address", async () => {
    instrument({ requestSpans: true });
    try {
      const topic = `otel-requests-${randomUUID()}`;
      await createTopic(producing, topic, 1);
      const producer = producing.producer();
      const sent = (await producer.send({ topic, value: "v" })) as RecordMetadata;
      await producer.close();
      expect(sent.offset).toBe(0n);
      const [host, port] = bootstrap.split(",")[0]?.split(":") ?? [];
      const produce = memory
        .getFinishedSpans()
        .filter((s) => s.name === "Produce" && s.attributes["samsa.request.bytes"] !== undefined);
      expect(produce.length).toBeGreaterThan(0);
      expect(produce.at(-1)?.kind).toBe(SpanKind.CLIENT);
      expect(produce.at(-1)?.attributes).toMatchObject({
        "messaging.system": "kafka",
        "server.address": host,
        "server.port": Number(port),
        "samsa.request.api_key": 0,
      });
      expect(spansOf(topic, "send")).toHaveLength(1);
    } finally {
      instrument();
    }
  });
});
