/**
 * A request the client itself gives up is not a request error (user try: a clean
 * `consumer.close()` counted its aborted Fetch in `requestErrors` and logged it as failed).
 * Aborted: the caller's signal fired, or the connection was closed without a reason (what a
 * closing consumer or client does). Failed: a timeout, a connection closed for a reason.
 * Request durations are reported to the microsecond.
 */
import * as diagnostics from "node:diagnostics_channel";
import { afterEach, describe, expect, it } from "vitest";
import { Connection } from "../../../src/network/connection.js";
import { AbortedError, ConnectionClosedError, ConnectionError } from "../../../src/network/errors.js";
import type { RequestContext } from "../../../src/observability/events.js";
import { Instrumentation } from "../../../src/observability/instrumentation.js";
import type { Logger } from "../../../src/observability/logger.js";
import {
  createFetchRequest,
  createMetadataRequest,
  createSyncGroupRequest,
  Fetch,
  Metadata,
  SyncGroup,
} from "../../../src/protocol/messages/index.js";
import { FakeBroker } from "../../../tools/fault/fake-broker.js";

interface Line {
  fields: Record<string, unknown>;
  message: string;
}

/** A trace-level logger that keeps the request lines. */
function recordingLogger(lines: Line[]): Logger {
  const keep = (fields: Record<string, unknown>, message: string) => {
    if (fields.event === "network:request") lines.push({ fields, message });
  };
  return { level: "trace", trace: keep, debug: keep, info: keep, warn: keep, error: keep };
}

/** Decimals of a number as printed: 0.834 has 3. */
const decimals = (n: unknown) => (String(n).split(".")[1] ?? "").length;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A connected Connection to a fake broker that never answers a Fetch. */
async function setUp() {
  const broker = await FakeBroker.start();
  cleanups.push(() => broker.close());
  broker.on(Fetch, () => FakeBroker.never());
  const lines: Line[] = [];
  const inst = new Instrumentation("aborts", recordingLogger(lines));
  const connection = new Connection({ host: "127.0.0.1", port: broker.port, instrumentation: inst });
  cleanups.push(() => connection.close());
  await connection.connect();
  return { broker, connection, inst, lines };
}

const fetchRequest = () => createFetchRequest({ maxWaitMs: 60_000, topics: [] });

/** Waits until the fake broker has read `n` requests of `api`. */
async function received(broker: FakeBroker, api: typeof Fetch, n: number): Promise<void> {
  while (broker.received(api).length < n) await new Promise((r) => setTimeout(r, 5));
}

describe("requests the client gives up", () => {
  it("a Fetch aborted by its signal: AbortedError, not counted in requestErrors, logged as aborted", async () => {
    const { broker, connection, inst, lines } = await setUp();
    const controller = new AbortController();
    const errors: RequestContext[] = [];
    const onError = (ctx: unknown) => errors.push(ctx as RequestContext);
    diagnostics.subscribe("tracing:samsa:network:request:error", onError);
    cleanups.push(() => {
      diagnostics.unsubscribe("tracing:samsa:network:request:error", onError);
    });

    const fetching = connection.request(Fetch, fetchRequest(), { signal: controller.signal });
    await received(broker, Fetch, 1);
    const before = { requests: inst.requests, requestErrors: inst.requestErrors };
    controller.abort();
    const err = await fetching.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AbortedError);
    expect((err as AbortedError).code).toBe("SAMSA_ERR_ABORTED");
    expect(inst.requestErrors).toBe(before.requestErrors);
    expect(inst.requestErrors).toBe(0);

    const line = lines.find((l) => l.fields.apiName === "Fetch");
    expect(line?.message).toMatch(/^Fetch v\d+ to 127\.0\.0\.1:\d+ aborted after [\d.]+ ms: Fetch request aborted$/);
    expect(line?.fields).toMatchObject({ event: "network:request", aborted: true });
    expect(line?.fields.err).toBeUndefined();
    expect(decimals(line?.fields.durationMs)).toBeLessThanOrEqual(3);

    // The span still ends (so in-flight gauges go down), marked aborted.
    expect(errors.map((c) => [c.apiName, c.aborted, c.error?.constructor])).toEqual([["Fetch", true, AbortedError]]);
  });

  it("requests in flight when the client closes the connection: not counted, logged as aborted", async () => {
    const { broker, connection, inst, lines } = await setUp();
    const fetching = connection.request(Fetch, fetchRequest());
    await received(broker, Fetch, 1);
    connection.close();
    const err = await fetching.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionClosedError);
    expect((err as Error).message).toContain("closed by the client");
    expect(inst.requestErrors).toBe(0);
    const line = lines.find((l) => l.fields.apiName === "Fetch");
    expect(line?.message).toMatch(/ aborted after [\d.]+ ms: .*closed by the client/);
    expect(line?.fields.aborted).toBe(true);
    expect(line?.fields.err).toBeUndefined();
  });

  it("a connection closed for a reason fails its requests: counted, logged as failed with err", async () => {
    const { broker, connection, inst, lines } = await setUp();
    const fetching = connection.request(Fetch, fetchRequest());
    await received(broker, Fetch, 1);
    connection.close(new ConnectionError(connection.address, "broker went away"));
    const err = await fetching.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionClosedError);
    expect(inst.requestErrors).toBe(1);
    const line = lines.find((l) => l.fields.apiName === "Fetch");
    expect(line?.message).toMatch(/ failed: .*broker went away/);
    expect(line?.fields.aborted).toBeUndefined();
    expect(line?.fields.err).toBe(err);
  });

  it("an answered request reports durationMs to the microsecond, in the line and the context", async () => {
    const { connection, lines } = await setUp();
    const ends: RequestContext[] = [];
    const onEnd = (ctx: unknown) => ends.push(ctx as RequestContext);
    diagnostics.subscribe("tracing:samsa:network:request:asyncEnd", onEnd);
    cleanups.push(() => {
      diagnostics.unsubscribe("tracing:samsa:network:request:asyncEnd", onEnd);
    });
    for (let i = 0; i < 5; i++) await connection.request(Metadata, createMetadataRequest({ topics: [] }));
    const metadata = lines.filter((l) => l.fields.apiName === "Metadata");
    expect(metadata).toHaveLength(5);
    for (const l of metadata) {
      const ms = l.fields.durationMs as number;
      expect(ms).toBeGreaterThan(0);
      expect(decimals(ms)).toBeLessThanOrEqual(3);
      expect(Math.round(ms * 1000) / 1000).toBe(ms);
      expect(l.message).toBe(`Metadata v${l.fields.apiVersion} to ${connection.address} answered in ${ms} ms`);
    }
    const contexts = ends.filter((c) => c.apiName === "Metadata");
    expect(contexts).toHaveLength(5);
    expect(contexts.map((c) => decimals(c.durationMs) <= 3)).toEqual([true, true, true, true, true]);
  });
});

describe("a request's bytes belong to the connection once request() returns", () => {
  it("an aborted request still queued in the socket goes out with the bytes it was given, though the caller reused its buffer", async () => {
    const broker = await FakeBroker.start();
    cleanups.push(() => broker.close());
    broker.on(SyncGroup, () => FakeBroker.never());
    const connection = new Connection({ host: "127.0.0.1", port: broker.port });
    cleanups.push(() => connection.close());
    await connection.connect();
    // The broker stops reading: a 16 MiB request stays queued in the client's socket.
    (broker.connections[0] as { socket: { pause(): void; resume(): void } }).socket.pause();
    const assignment = Buffer.alloc(16 * 1024 * 1024, 0x42);
    const aborter = new AbortController();
    const request = createSyncGroupRequest({
      groupId: "g",
      memberId: "m",
      assignments: [{ memberId: "m", assignment }],
    });
    const answer = connection.request(SyncGroup, request, { timeoutMs: 60_000, signal: aborter.signal });
    await new Promise((r) => setTimeout(r, 100));
    aborter.abort();
    await expect(answer).rejects.toBeInstanceOf(AbortedError);
    // Its request is over, so the caller reuses the buffer; the connection stays open.
    assignment.fill(0x5a);
    (broker.connections[0] as { socket: { pause(): void; resume(): void } }).socket.resume();
    while (broker.received(SyncGroup).length < 1) await new Promise((r) => setTimeout(r, 10));
    const got = broker.received(SyncGroup)[0]?.request.assignments[0]?.assignment as Buffer;
    expect(got.length).toBe(assignment.length);
    expect(got.equals(Buffer.alloc(assignment.length, 0x42))).toBe(true);
    expect(connection.closed).toBe(false);
  });
});
