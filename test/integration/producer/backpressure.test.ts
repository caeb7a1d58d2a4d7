/**
 * The one-record forms of `send` as applications write them: a plain loop of callback sends
 * that follows the `Writable.write`-style signal (false, then `"drain"`), promise sends, and
 * bad records. Each counts what was sent, acknowledged, failed and read back.
 */
import { randomUUID } from "node:crypto";
import * as diagnostics from "node:diagnostics_channel";
import { once } from "node:events";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { Client } from "../../../src/client.js";
import type { RecordMetadata } from "../../../src/producer/delivery.js";
import { BufferFullError, RecordTooLargeError } from "../../../src/producer/errors.js";
import { InvalidArgumentError } from "../../../src/protocol/errors.js";
import { readBack } from "../../helpers/read-back.js";
import { ScriptProcess } from "../../helpers/script-process.js";
import { createTopic } from "../../helpers/topics.js";

describe("one-record sends against a real broker", () => {
  const bootstrap = inject("kafkaBootstrap");
  let client: Client;
  beforeAll(() => {
    client = new Client({ bootstrap });
  });
  afterAll(() => client.close());

  it("a loop of 100,000 callback sends that waits for drain: all acknowledged, none refused, memory under the mark", async () => {
    const topic = `bp-loop-${randomUUID()}`;
    await createTopic(client, topic, 3);
    // A small buffer, so the loop meets the mark many times.
    const producer = client.producer({ bufferMemory: 256 * 1024 });
    expect(producer.options.highWaterMark).toBe(128 * 1024);
    const n = 100_000;
    let acked = 0;
    let failed = 0;
    let falses = 0;
    let maxBuffered = 0;
    const offsets = new Map<number, bigint[]>();
    const done = new Promise<void>((resolve) => {
      // One callback for every record, as applications often pass.
      const onDelivery = (err: Error | null, m: RecordMetadata) => {
        if (err) failed++;
        else {
          acked++;
          const list = offsets.get(m.partition) ?? [];
          list.push(m.offset);
          offsets.set(m.partition, list);
        }
        if (acked + failed === n) resolve();
      };
      void (async () => {
        for (let i = 0; i < n; i++) {
          if (!producer.send({ topic, value: `v${i}` }, onDelivery)) {
            falses++;
            const s = producer.stats();
            maxBuffered = Math.max(maxBuffered, s.bufferedBytes);
            expect(producer.needsDrain).toBe(true);
            await once(producer, "drain");
            expect(producer.needsDrain).toBe(false);
          }
        }
      })();
    });
    await done;
    await producer.close();
    expect({ acked, failed }).toEqual({ acked: n, failed: 0 });
    expect(falses).toBeGreaterThan(10);
    // Stopping at the mark keeps the loop away from the buffer's limit (and from BufferFullError).
    expect(maxBuffered).toBeLessThan(256 * 1024);
    expect(producer.stats()).toMatchObject({ recordsAcknowledged: n, recordsFailed: 0, waitingRecords: 0 });
    // Each partition's reports are its offsets 0… in send order: merged callback runs keep their places.
    let total = 0;
    for (const list of offsets.values()) {
      expect(list).toEqual(list.map((_, i) => BigInt(i)));
      total += list.length;
    }
    expect(total).toBe(n);
    const back = await readBack(client, topic);
    expect(back).toHaveLength(n);
    expect(new Set(back.map((r) => r.value?.toString())).size).toBe(n);
  });

  it("a naive loop past the buffer: overflow fails with BufferFullError on a microtask, never inside send", async () => {
    const topic = `bp-naive-${randomUUID()}`;
    await createTopic(client, topic, 1);
    const producer = client.producer({ bufferMemory: 64 * 1024 });
    await producer.send({ topic, value: "warm" });
    const failedEvents: { records: number; error: Error }[] = [];
    const onFailed = (e: unknown) => {
      const event = e as { topic: string; records: number; error: Error };
      if (event.topic === topic) failedEvents.push(event);
    };
    diagnostics.subscribe("samsa:producer:records-failed", onFailed);
    let inside = true;
    let full = 0;
    let acked = 0;
    let insideCalls = 0;
    const errors = new Set<Error>();
    const n = 5000;
    const done = new Promise<void>((resolve) => {
      const cb = (err: Error | null) => {
        if (inside) insideCalls++;
        if (err instanceof BufferFullError) {
          full++;
          errors.add(err);
        } else if (!err) acked++;
        if (full + acked === n) resolve();
      };
      for (let i = 0; i < n; i++) producer.send({ topic, value: Buffer.alloc(100) }, cb);
      inside = false;
    });
    await done;
    await producer.close();
    diagnostics.unsubscribe("samsa:producer:records-failed", onFailed);
    expect(insideCalls).toBe(0);
    // About 64 KiB batched and as much waiting (~136 accounted bytes a record): the rest overflow.
    expect(full).toBeGreaterThan(3000);
    expect(acked).toBeGreaterThan(500);
    expect(producer.stats().recordsFailed).toBe(full);
    // Refused in one synchronous loop: one shared error (no stack captured per record) and one
    // records-failed event (one warning) for all of them.
    expect(errors.size).toBe(1);
    expect(failedEvents.map((e) => e.records)).toEqual([full]);
    expect(failedEvents[0]?.error).toBe([...errors][0]);
  });

  it("promise sends in a bounded window resolve with each record's own offset", async () => {
    const topic = `bp-promise-${randomUUID()}`;
    await createTopic(client, topic, 1);
    const producer = client.producer();
    const reports: RecordMetadata[] = [];
    const window: Promise<void>[] = [];
    for (let i = 0; i < 5000; i++) {
      window.push(
        producer.send({ topic, value: String(i) }).then((m) => {
          reports[i] = m;
        }),
      );
      if (window.length === 500) await Promise.all(window.splice(0));
    }
    await Promise.all(window);
    await producer.close();
    expect(reports.map((m) => m.offset)).toEqual(Array.from({ length: 5000 }, (_, i) => BigInt(i)));
    const back = await readBack(client, topic);
    expect(back.map((r) => r.value?.toString())).toEqual(Array.from({ length: 5000 }, (_, i) => String(i)));
  });

  it("a bad record fails its own callback, never inside send, and counts as failed; the good ones land", async () => {
    const topic = `bp-bad-${randomUUID()}`;
    await createTopic(client, topic, 1);
    const producer = client.producer({ maxRequestBytes: 10_000 });
    const errors: Error[] = [];
    let inside = true;
    const onBad = (err: Error | null) => {
      expect(inside).toBe(false);
      if (err) errors.push(err);
    };
    producer.send({ topic: "bad topic", value: "x" }, onBad);
    producer.send({ topic, value: 42 as never }, onBad);
    producer.send({ topic, partition: -1, value: "x" }, onBad);
    producer.send({ topic, value: Buffer.alloc(20_000) }, onBad);
    inside = false;
    // Known metadata, a partition beyond the topic's count: found in send, still told later.
    await producer.send({ topic, value: "warm" });
    inside = true;
    producer.send({ topic, partition: 99, value: "x" }, onBad);
    inside = false;
    const good = await producer.send({ topic, value: "good" });
    await producer.close();
    expect(errors.map((e) => e.constructor)).toEqual([
      InvalidArgumentError,
      InvalidArgumentError,
      InvalidArgumentError,
      RecordTooLargeError,
      InvalidArgumentError,
    ]);
    expect(errors.map((e) => (e as InvalidArgumentError).argument)).toEqual([
      "topic",
      "value",
      "partition",
      undefined,
      "partition",
    ]);
    expect(errors[3]?.message).toMatch(/maxRequestBytes 10000/);
    expect(producer.stats()).toMatchObject({ recordsFailed: 5, recordsAcknowledged: 2 });
    expect(good.offset).toBe(1n);
    expect((await readBack(client, topic)).map((r) => r.value?.toString())).toEqual(["warm", "good"]);
  });

  it("a callback that throws surfaces as an uncaught exception on its own tick; every other record is still reported", async () => {
    const topic = `bp-throw-${randomUUID()}`;
    await createTopic(client, topic, 1);
    const lines: string[] = [];
    const child = new ScriptProcess(
      "test/integration/producer/fixtures/throwing-callback.mts",
      [bootstrap, topic],
      (line) => lines.push(line),
    );
    expect(await child.exited, child.stderr).toBe(0);
    const result = JSON.parse(lines.at(-1) ?? "{}");
    expect(result).toMatchObject({ reports: 200, uncaught: 1, message: "the application's callback threw" });
    expect(result.stats).toMatchObject({ recordsAcknowledged: 200, recordsFailed: 0, retries: 0 });
    // Nothing was sent twice: the exception did not reach the Produce answer's handling.
    expect(await readBack(client, topic)).toHaveLength(200);
  });
});
