/**
 * The event catalogue against a real broker: every channel a produce → group consume →
 * commit → close run goes through fires with the payload the catalogue promises, the counts
 * agree with what was sent and read, the logger gets structured lines, and the span channels
 * carry trace headers from the producer into the records the consumer reads.
 */
import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import * as diagnostics from "node:diagnostics_channel";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { Client } from "../../../src/client.js";
import type { Message } from "../../../src/consumer/message.js";
import {
  EVENT_NAMES,
  type EventName,
  type EventPayloads,
  type ProcessContext,
  type RequestContext,
  type SendContext,
  tracing,
} from "../../../src/observability/events.js";
import type { Logger } from "../../../src/observability/logger.js";
import { REPO_ROOT } from "../../../tools/kafka/paths.js";
import { createTopic } from "../../helpers/topics.js";

const bootstrap = inject("kafkaBootstrap");

/** Events of one client id, by name. */
class Recorder {
  readonly events = new Map<EventName, unknown[]>();
  readonly requests: RequestContext[] = [];
  readonly #subs = new Map<string, (m: unknown) => void>();
  readonly #requestSub = {
    asyncEnd: (m: RequestContext) => {
      if (m.clientId === this.clientId) this.requests.push(m);
    },
  };

  constructor(readonly clientId: string) {
    for (const name of EVENT_NAMES) {
      const fn = (m: unknown) => {
        if ((m as { clientId: string }).clientId !== clientId) return;
        const list = this.events.get(name) ?? [];
        list.push(m);
        this.events.set(name, list);
      };
      this.#subs.set(name, fn);
      diagnostics.subscribe(`samsa:${name}`, fn);
    }
    tracing.request.subscribe(this.#requestSub as never);
  }

  of<E extends EventName>(name: E): EventPayloads[E][] {
    return (this.events.get(name) ?? []) as EventPayloads[E][];
  }

  close(): void {
    for (const [name, fn] of this.#subs) diagnostics.unsubscribe(`samsa:${name}`, fn);
    tracing.request.unsubscribe(this.#requestSub as never);
  }
}

/** A logger that keeps (level, fields, message). */
function memoryLogger(level: string): Logger & { lines: [string, Record<string, unknown>, string][] } {
  const lines: [string, Record<string, unknown>, string][] = [];
  const order = ["trace", "debug", "info", "warn", "error"];
  const at = (l: string) => (fields: Record<string, unknown>, message: string) => {
    lines.push([l, fields, message]);
  };
  return {
    lines,
    isLevelEnabled: (l: string) => order.indexOf(l) >= order.indexOf(level),
    trace: at("trace"),
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
  };
}

describe("event catalogue against a real broker", () => {
  let admin: Client;
  beforeAll(() => {
    admin = new Client({ bootstrap, clientId: "events-admin" });
  });
  afterAll(() => admin?.close());

  it("a produce, group consume, commit and close fire every event they pass, with counts that match", async () => {
    const topic = `events-${randomUUID()}`;
    await createTopic(admin, topic, 3);
    const clientId = `events-${randomUUID().slice(0, 8)}`;
    const rec = new Recorder(clientId);
    const logger = memoryLogger("info");
    const client = new Client({ bootstrap, clientId, logger });
    const n = 300;
    try {
      const producer = client.producer({ lingerMs: 2 });
      await new Promise<void>((resolve, reject) => {
        let acked = 0;
        for (let i = 0; i < n; i++) {
          producer.send({ topic, key: `k${i}`, value: `v${i}` }, (err) => {
            if (err) reject(err);
            else if (++acked === n) resolve();
          });
        }
      });
      const groupId = `g-${randomUUID()}`;
      const consumer = client.consumer({ groupId, autoCommit: false, autoOffsetReset: "earliest" });
      consumer.subscribe(topic);
      let read = 0;
      for await (const _m of consumer) if (++read === n) break;
      await consumer.commit();
      // Empty fetches after the last records bring each partition's lag to 0.
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        const last = new Map<number, bigint>();
        for (const f of rec.of("consumer:fetch-answered")) last.set(f.partition, f.lag);
        if (last.size === 3 && [...last.values()].every((l) => l === 0n)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const producerStats = producer.stats();
      const consumerStats = consumer.stats();
      await consumer.close();
      await producer.close();
      const clientStats = client.stats();

      // Connections and requests.
      const opened = rec.of("network:connection-opened");
      expect(opened.length).toBeGreaterThanOrEqual(2);
      expect(opened.every((e) => e.address.startsWith("127.0.0.1:") && e.tls === false && e.durationMs >= 0)).toBe(
        true,
      );
      const produceRequests = rec.requests.filter((r) => r.apiName === "Produce");
      expect(produceRequests.length).toBe(producerStats.requests);
      expect(produceRequests.every((r) => (r.responseBytes ?? 0) > 0 && (r.durationMs ?? -1) >= 0)).toBe(true);
      expect(rec.requests.some((r) => r.apiName === "JoinGroup" || r.apiName === "ConsumerGroupHeartbeat")).toBe(true);
      expect(rec.of("network:metadata-refreshed").some((e) => e.topics >= 1 && e.brokers === 1)).toBe(true);

      // Producer batches: every record acknowledged once, offsets per partition contiguous from 0.
      const acked = rec.of("producer:batch-acknowledged");
      expect(acked.reduce((s, e) => s + e.records, 0)).toBe(n);
      expect(rec.of("producer:batch-sent").reduce((s, e) => s + e.records, 0)).toBe(n);
      for (let p = 0; p < 3; p++) {
        const mine = acked.filter((e) => e.partition === p).sort((a, b) => Number(a.baseOffset - b.baseOffset));
        let next = 0n;
        for (const e of mine) {
          expect(e.baseOffset).toBe(next);
          next += BigInt(e.records);
        }
      }
      expect(acked.every((e) => e.topic === topic && e.bytes > 61 && e.uncompressedBytes === e.bytes)).toBe(true);
      expect(rec.of("producer:batch-failed")).toEqual([]);
      expect(producerStats).toMatchObject({
        recordsAcknowledged: n,
        recordsFailed: 0,
        batchesAcknowledged: acked.length,
      });

      // Consumer: fetched records, lag to 0, the group, the commit.
      const fetched = rec.of("consumer:fetch-answered");
      expect(fetched.reduce((s, e) => s + e.records, 0)).toBe(n);
      expect(consumerStats.fetch.records).toBe(n);
      const joined = rec.of("consumer:group-joined");
      expect(joined.length).toBeGreaterThanOrEqual(1);
      expect(joined[0]).toMatchObject({ groupId, generationId: expect.any(Number) });
      expect((joined[0] as { memberId: string }).memberId.length).toBeGreaterThan(0);
      const assigned = rec.of("consumer:partitions-assigned").flatMap((e) => e.partitions.map((p) => p.partition));
      expect(assigned.sort()).toEqual([0, 1, 2]);
      const committed = rec.of("consumer:offsets-committed");
      expect(committed.length).toBeGreaterThanOrEqual(1);
      const total = new Map<number, bigint>();
      for (const c of committed) for (const o of c.offsets) total.set(o.partition, o.offset);
      expect([...total.values()].reduce((s, o) => s + o, 0n)).toBe(BigInt(n));
      expect(rec.of("consumer:partitions-revoked").flatMap((e) => e.partitions).length).toBe(3);

      // Client counters.
      expect(clientStats.requests).toBeGreaterThan(produceRequests.length);
      expect(clientStats.bytesSent).toBeGreaterThan(n * 4);
      expect(clientStats.bytesReceived).toBeGreaterThan(n * 4);
      expect(clientStats.backgroundErrors).toBe(0);

      // The logger at info: structured group lines, nothing below info.
      const infos = logger.lines.filter(([l]) => l === "info");
      expect(infos.some(([, f]) => f.event === "consumer:group-joined" && f.groupId === groupId)).toBe(true);
      expect(infos.some(([, f, m]) => f.event === "consumer:partitions-assigned" && m.includes(`${topic}-`))).toBe(
        true,
      );
      expect(logger.lines.filter(([l]) => l === "trace" || l === "debug")).toEqual([]);
    } finally {
      client.close();
      rec.close();
    }
    const closed = rec.of("network:connection-closed");
    expect(closed.length).toBeGreaterThanOrEqual(2);
  });

  it("a clean consumer.close() aborts its Fetch long poll: logged as aborted, not failed, and no request error", async () => {
    const topic = `events-close-${randomUUID()}`;
    await createTopic(admin, topic, 1);
    const clientId = `events-close-${randomUUID().slice(0, 8)}`;
    const logger = memoryLogger("trace");
    const client = new Client({ bootstrap, clientId, logger });
    const inFlight = new Set<RequestContext>();
    const requests = {
      start: (c: RequestContext) => {
        if (c.clientId === clientId && c.apiName === "Fetch") inFlight.add(c);
      },
      error: (c: RequestContext) => inFlight.delete(c),
      asyncEnd: (c: RequestContext) => inFlight.delete(c),
    };
    tracing.request.subscribe(requests as never);
    try {
      const producer = client.producer();
      await producer.send([1, 2, 3].map((i) => ({ topic, value: `v${i}` })));
      await producer.close();
      // A long poll that cannot end by itself before the close.
      const consumer = client.consumer({
        groupId: `g-${randomUUID()}`,
        autoOffsetReset: "earliest",
        maxWaitMs: 30_000,
      });
      consumer.subscribe(topic);
      let read = 0;
      for await (const _m of consumer.messages({ signal: AbortSignal.timeout(30_000) })) if (++read === 3) break;
      const deadline = Date.now() + 10_000;
      while (inFlight.size === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(inFlight.size).toBeGreaterThan(0);
      await consumer.close();

      expect(client.stats().requestErrors).toBe(0);
      const lines = logger.lines.filter(([, f]) => f.event === "network:request");
      const aborted = lines.filter(([, f]) => f.aborted === true);
      expect(aborted.some(([l, f, m]) => l === "trace" && f.apiName === "Fetch" && / aborted after /.test(m))).toBe(
        true,
      );
      expect(aborted.every(([, f]) => f.err === undefined)).toBe(true);
      expect(lines.filter(([, , m]) => m.includes(" failed: "))).toEqual([]);
      // Durations to the microsecond.
      expect(lines.every(([, f]) => Math.round((f.durationMs as number) * 1000) / 1000 === f.durationMs)).toBe(true);
      expect(logger.lines.filter(([l]) => l === "warn" || l === "error")).toEqual([]);
    } finally {
      tracing.request.unsubscribe(requests as never);
      client.close();
    }
  });

  it("send and process spans: headers a send subscriber hands back reach the consumed records; propagateTraceContext false keeps them out", async () => {
    const topic = `spans-${randomUUID()}`;
    await createTopic(admin, topic, 1);
    const clientId = `spans-${randomUUID().slice(0, 8)}`;
    const client = new Client({ bootstrap, clientId });
    let sends = 0;
    const ended: SendContext[] = [];
    const processed: ProcessContext[] = [];
    let openProcess = 0;
    let maxOpen = 0;
    const sendSub = {
      start: (c: SendContext) => {
        if (c.clientId !== clientId) return;
        sends++;
        c.traceHeaders = [{ key: "trace-test", value: `call-${sends}` }];
      },
      asyncEnd: (c: SendContext) => {
        if (c.clientId === clientId) ended.push(c);
      },
    };
    const processSub = {
      start: (c: ProcessContext) => {
        if (c.clientId !== clientId) return;
        processed.push(c);
        maxOpen = Math.max(maxOpen, ++openProcess);
      },
      end: (c: ProcessContext) => {
        if (c.clientId === clientId) openProcess--;
      },
    };
    tracing.send.subscribe(sendSub as never);
    tracing.process.subscribe(processSub as never);
    try {
      const producer = client.producer({ lingerMs: 0 });
      const own = { topic, value: "own headers", headers: { app: "x" } };
      await producer.send(own);
      await producer.send([
        { topic, value: "a" },
        { topic, value: "b" },
      ]);
      const quiet = client.producer({ lingerMs: 0, propagateTraceContext: false });
      await quiet.send({ topic, value: "no trace headers" });
      await Promise.all([producer.close(), quiet.close()]);
      expect(sends).toBe(3);
      expect(own.headers).toEqual({ app: "x" }); // the caller's record is not touched
      expect(ended.map((c) => [c.records, c.offset, c.error])).toEqual([
        [1, 0n, undefined],
        [2, undefined, undefined],
        [1, 3n, undefined],
      ]);

      const consumer = client.consumer();
      consumer.assign([{ topic, partition: 0, offset: 0n }]);
      const got: Message[] = [];
      for await (const m of consumer) {
        got.push(m);
        if (got.length === 4) break;
      }
      await consumer.close();
      const headers = got.map((m) => m.headers.map((h) => `${h.key}=${h.value?.toString()}`));
      expect(headers).toEqual([["app=x", "trace-test=call-1"], ["trace-test=call-2"], ["trace-test=call-2"], []]);
      // One process span per record handed out, each closed before the next opened.
      expect(processed.map((c) => c.record?.offset)).toEqual([0n, 1n, 2n, 3n]);
      expect(maxOpen).toBe(1);
      expect(openProcess).toBe(0);
    } finally {
      tracing.send.unsubscribe(sendSub as never);
      tracing.process.unsubscribe(processSub as never);
      client.close();
    }
  });

  it("records that fail before a batch (no such topic within maxBlockMs) are counted and reported as producer:records-failed", async () => {
    const clientId = `failed-${randomUUID().slice(0, 8)}`;
    const rec = new Recorder(clientId);
    const client = new Client({ bootstrap, clientId, logger: memoryLogger("error") });
    try {
      const producer = client.producer({ maxBlockMs: 500, allowAutoTopicCreation: false });
      const topic = `missing-${randomUUID()}`;
      const errors = await Promise.all(
        [1, 2, 3].map((i) => producer.send({ topic, value: `v${i}` }).catch((e: unknown) => e)),
      );
      expect(errors.map((e) => (e as Error).name)).toEqual(["TimeoutError", "TimeoutError", "TimeoutError"]);
      const failed = rec.of("producer:records-failed");
      expect(failed.map((e) => [e.topic, e.records, e.error.name])).toEqual([
        [topic, 1, "TimeoutError"],
        [topic, 1, "TimeoutError"],
        [topic, 1, "TimeoutError"],
      ]);
      expect(producer.stats()).toMatchObject({ recordsFailed: 3, recordsAcknowledged: 0 });
      await producer.close();
    } finally {
      client.close();
      rec.close();
    }
  });

  it("NODE_DEBUG=samsa turns on debug lines on stderr without code changes; by default a healthy run prints nothing", () => {
    const script = join(REPO_ROOT, "test/integration/observability/fixtures/metadata-once.mts");
    const run = (env: Record<string, string>) =>
      spawnSync(process.execPath, ["--import", "tsx", script, bootstrap], {
        cwd: REPO_ROOT,
        env: { ...process.env, ...env },
        encoding: "utf8",
        timeout: 60_000,
      });
    const quiet = run({ NODE_DEBUG: "" });
    expect(quiet.status).toBe(0);
    expect(quiet.stdout.trim()).toBe("brokers=1");
    expect(quiet.stderr).toBe("");
    const debug = run({ NODE_DEBUG: "samsa" });
    expect(debug.status).toBe(0);
    expect(debug.stderr).toMatch(/^samsa DEBUG connected to 127\.0\.0\.1:\d+ address=127\.0\.0\.1:\d+ tls=false/m);
    expect(debug.stderr).toMatch(/^samsa DEBUG metadata refreshed: 1 brokers/m);
  });
});
