import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { Client } from "../../../src/client.js";
import { NoOffsetForPartitionError, OffsetOutOfRangeError } from "../../../src/consumer/errors.js";
import type { MessageBatch } from "../../../src/consumer/message.js";
import { ClosedError, InvalidArgumentError } from "../../../src/protocol/errors.js";
import type { CompressionCodec } from "../../../src/protocol/records/index.js";
import { createTopic } from "../../helpers/topics.js";
import { committedOffsets, offsetsByPartition, produceNumbered, range, take } from "./helpers.js";

describe("Consumer, assigned partitions (no group membership)", () => {
  const bootstrap = inject("kafkaBootstrap");
  let client: Client;
  beforeAll(() => {
    client = new Client({ bootstrap });
  });
  afterAll(() => client.close());

  it("reads every record of 3 partitions once, in offset order, with key, value, headers, timestamp, leader epoch", async () => {
    const topic = `c-assign-${randomUUID()}`;
    await createTopic(client, topic, 3);
    await produceNumbered(client, topic, 600, 3);
    const consumer = client.consumer({ autoOffsetReset: "earliest" });
    consumer.assign([0, 1, 2].map((partition) => ({ topic, partition })));
    const messages = await take(consumer, 600);
    expect(messages).toHaveLength(600);
    const byPartition = offsetsByPartition(messages);
    for (const p of [0, 1, 2]) expect(byPartition.get(p)).toEqual(range(200));
    for (const m of messages) {
      const i = Number(m.value?.toString());
      expect(m.topic).toBe(topic);
      expect(m.partition).toBe(i % 3);
      expect(m.offset).toBe(BigInt(Math.floor(i / 3)));
      expect(m.key?.toString()).toBe(`k${i}`);
      expect(m.headers.map((h) => [h.key, h.value?.toString()])).toEqual([["i", String(i)]]);
      expect(m.timestamp).toBe(1_700_000_000_000 + i);
      expect(m.leaderEpoch).toBe(0);
    }
    // Nothing more arrives; the positions sit at the log end.
    expect(consumer.lag().map((l) => [l.partition, l.position, l.endOffset, l.lag])).toEqual([
      [0, 200n, 200n, 0n],
      [1, 200n, 200n, 0n],
      [2, 200n, 200n, 0n],
    ]);
    await consumer.close();
  });

  it("batches(): one batch per partition per fetch, contiguous offsets, lag counts what is left", async () => {
    const topic = `c-batches-${randomUUID()}`;
    await createTopic(client, topic, 2);
    // Small record batches, so that 4 KiB per partition per fetch takes many fetches.
    const producer = client.producer({ batchBytes: 1024 });
    await producer.send(
      Array.from({ length: 2000 }, (_, i) => ({ topic, partition: i % 2, value: `value-${i}-${"y".repeat(20)}` })),
    );
    await producer.close();
    const consumer = client.consumer({ autoOffsetReset: "earliest", maxPartitionBytes: 4096 });
    consumer.assign([
      { topic, partition: 0 },
      { topic, partition: 1 },
    ]);
    const batches: MessageBatch[] = [];
    let total = 0;
    for await (const batch of consumer.batches({ signal: AbortSignal.timeout(30_000) })) {
      batches.push(batch);
      total += batch.messages.length;
      if (total >= 2000) break;
    }
    expect(total).toBe(2000);
    expect(batches.length).toBeGreaterThan(10);
    const next = new Map<number, bigint>([
      [0, 0n],
      [1, 0n],
    ]);
    for (const b of batches) {
      expect(b.messages.length).toBeGreaterThan(0);
      for (const m of b.messages) {
        expect(m.partition).toBe(b.partition);
        expect(m.offset).toBe(next.get(b.partition));
        next.set(b.partition, m.offset + 1n);
      }
      expect(b.highWatermark).toBe(1000n);
      expect(b.lag).toBe(1000n - ((b.messages.at(-1)?.offset ?? 0n) + 1n));
    }
    await consumer.close();
  });

  it("starts at an explicit offset; seek to an offset, to earliest and to latest", async () => {
    const topic = `c-seek-${randomUUID()}`;
    await createTopic(client, topic, 1);
    await produceNumbered(client, topic, 100, 1);
    const consumer = client.consumer({ autoOffsetReset: "earliest" });
    consumer.assign([{ topic, partition: 0, offset: 90n }]);
    expect((await take(consumer, 10)).map((m) => m.offset)).toEqual(range(10, 90));
    consumer.seek({ topic, partition: 0, offset: 42n });
    expect(consumer.position({ topic, partition: 0 })).toBe(42n);
    expect((await take(consumer, 3)).map((m) => m.offset)).toEqual([42n, 43n, 44n]);
    consumer.seek({ topic, partition: 0, offset: "earliest" });
    expect((await take(consumer, 2)).map((m) => m.offset)).toEqual([0n, 1n]);
    consumer.seek({ topic, partition: 0, offset: "latest" });
    // The log end is looked up in the background.
    for (let i = 0; i < 200 && consumer.position({ topic, partition: 0 }) === undefined; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(consumer.position({ topic, partition: 0 })).toBe(100n);
    await produceNumbered(client, topic, 1, 1, 100);
    const [m] = await take(consumer, 1);
    expect(m?.offset).toBe(100n);
    expect(m?.value?.toString()).toBe("100");
    await consumer.close();
  });

  it('autoOffsetReset "latest" hands out only records produced after the start', async () => {
    const topic = `c-latest-${randomUUID()}`;
    await createTopic(client, topic, 1);
    await produceNumbered(client, topic, 50, 1);
    const consumer = client.consumer({ autoOffsetReset: "latest" });
    consumer.assign([{ topic, partition: 0 }]);
    for (let i = 0; i < 100 && consumer.position({ topic, partition: 0 }) === undefined; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(consumer.position({ topic, partition: 0 })).toBe(50n);
    await produceNumbered(client, topic, 5, 1, 50);
    const got = await take(consumer, 5);
    expect(got.map((m) => m.offset)).toEqual(range(5, 50));
    await consumer.close();
  });

  it('autoOffsetReset "none": NoOffsetForPartitionError without a committed offset; a seek recovers', async () => {
    const topic = `c-none-${randomUUID()}`;
    await createTopic(client, topic, 1);
    await produceNumbered(client, topic, 10, 1);
    const consumer = client.consumer({ autoOffsetReset: "none", groupId: `g-${randomUUID()}` });
    consumer.assign([{ topic, partition: 0 }]);
    const error = await take(consumer, 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NoOffsetForPartitionError);
    expect(error).toMatchObject({ topic, partition: 0, errorName: "OFFSET_OUT_OF_RANGE", code: "SAMSA_ERR_KAFKA" });
    consumer.seek({ topic, partition: 0, offset: 7n });
    expect((await take(consumer, 3)).map((m) => m.offset)).toEqual([7n, 8n, 9n]);
    await consumer.close();
  });

  it("OFFSET_OUT_OF_RANGE: resets per autoOffsetReset, or OffsetOutOfRangeError with none", async () => {
    const topic = `c-oor-${randomUUID()}`;
    await createTopic(client, topic, 1);
    await produceNumbered(client, topic, 20, 1);
    const resetting = client.consumer({ autoOffsetReset: "earliest" });
    resetting.assign([{ topic, partition: 0, offset: 1000n }]);
    expect((await take(resetting, 3)).map((m) => m.offset)).toEqual([0n, 1n, 2n]);
    await resetting.close();

    const strict = client.consumer({ autoOffsetReset: "none" });
    strict.assign([{ topic, partition: 0, offset: 1000n }]);
    const error = await take(strict, 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OffsetOutOfRangeError);
    expect(error).toMatchObject({ topic, partition: 0, offset: 1000n });
    strict.seek({ topic, partition: 0, offset: 19n });
    expect((await take(strict, 1)).map((m) => m.offset)).toEqual([19n]);
    await strict.close();
  });

  it("pause stops a partition at once; resume continues where the application stopped (no gap, no repeat)", async () => {
    const topic = `c-pause-${randomUUID()}`;
    await createTopic(client, topic, 2);
    await produceNumbered(client, topic, 400, 2);
    const consumer = client.consumer({ autoOffsetReset: "earliest" });
    consumer.assign([
      { topic, partition: 0 },
      { topic, partition: 1 },
    ]);
    const seen: { p: number; o: bigint }[] = [];
    let paused = false;
    for await (const m of consumer.messages({ signal: AbortSignal.timeout(30_000) })) {
      seen.push({ p: m.partition, o: m.offset });
      if (!paused && m.partition === 0 && m.offset === 50n) {
        consumer.pause([{ topic, partition: 0 }]);
        expect(consumer.paused()).toEqual([{ topic, partition: 0 }]);
        paused = true;
      }
      if (paused && seen.filter((s) => s.p === 1).length === 200) break;
    }
    // Nothing of partition 0 after the pause.
    const afterPause = seen.slice(seen.findIndex((s) => s.p === 0 && s.o === 50n) + 1);
    expect(afterPause.every((s) => s.p === 1)).toBe(true);
    consumer.resume([{ topic, partition: 0 }]);
    const rest = await take(consumer, 149);
    expect(rest.map((m) => [m.partition, m.offset])).toEqual(range(149, 51).map((o) => [0, o]));
    await consumer.close();
  });

  it("a record held while its partition is paused still counts as consumed: the commit stores the offset after it", async () => {
    const topic = `c-pause-commit-${randomUUID()}`;
    const groupId = `g-${randomUUID()}`;
    await createTopic(client, topic, 2);
    await produceNumbered(client, topic, 200, 2);
    const consumer = client.consumer({ groupId, autoOffsetReset: "earliest", autoCommit: false });
    consumer.assign([
      { topic, partition: 0 },
      { topic, partition: 1 },
    ]);
    let last1 = -1n;
    for await (const m of consumer.messages({ signal: AbortSignal.timeout(30_000) })) {
      if (m.partition === 1) last1 = m.offset;
      // Paused while the loop holds partition 0's record 40; leaving the loop is the
      // application saying it is done with that record.
      if (m.partition === 0 && m.offset === 40n) {
        consumer.pause([{ topic, partition: 0 }]);
        break;
      }
    }
    await consumer.commit();
    expect(await committedOffsets(client, groupId, topic, 2)).toEqual([41n, last1 + 1n]);
    await consumer.close();
  });

  it("an AbortSignal ends iteration cleanly, also while waiting for records", async () => {
    const topic = `c-abort-${randomUUID()}`;
    await createTopic(client, topic, 1);
    await produceNumbered(client, topic, 3, 1);
    const consumer = client.consumer({ autoOffsetReset: "earliest" });
    consumer.assign([{ topic, partition: 0 }]);
    const controller = new AbortController();
    const got: bigint[] = [];
    setTimeout(() => controller.abort(), 1_000);
    const started = Date.now();
    for await (const m of consumer.messages({ signal: controller.signal })) got.push(m.offset);
    expect(got).toEqual([0n, 1n, 2n]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    // The consumer stays usable: a new loop continues after what was handed out.
    await produceNumbered(client, topic, 1, 1, 3);
    expect((await take(consumer, 1)).map((m) => m.offset)).toEqual([3n]);
    await consumer.close();
    // After close, a new iteration throws ClosedError (a loop already running ends quietly:
    // see reliability.test.ts).
    await expect(
      (async () => {
        for await (const _ of consumer) break;
      })(),
    ).rejects.toBeInstanceOf(ClosedError);
  });

  it("maxBufferedBytes bounds prefetch while the application is not reading", async () => {
    const topic = `c-bound-${randomUUID()}`;
    await createTopic(client, topic, 1);
    const producer = client.producer({ batchBytes: 8192 });
    const big = "x".repeat(1000);
    await producer.send(Array.from({ length: 1000 }, (_, i) => ({ topic, value: `${i}:${big}` })));
    await producer.close();
    const bound = 32 * 1024;
    const consumer = client.consumer({ autoOffsetReset: "earliest", maxBufferedBytes: bound, maxPartitionBytes: 8192 });
    consumer.assign([{ topic, partition: 0 }]);
    const first = await take(consumer, 1);
    expect(first[0]?.offset).toBe(0n);
    // Prefetch fills the buffer up to the bound, then stops.
    for (let i = 0; i < 100 && consumer.stats().bufferedBytes < bound - 8192; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 200));
    const stats = consumer.stats();
    // ~1 MB waits in the log; at most the bound (plus one batch a response may add) is held.
    expect(stats.bufferedBytes).toBeLessThanOrEqual(bound + 8192);
    expect(stats.bufferedBytes).toBeGreaterThan(0);
    const requestsWhileIdle = stats.fetch.requests;
    await new Promise((r) => setTimeout(r, 500));
    expect(consumer.stats().fetch.requests).toBe(requestsWhileIdle);
    const rest = await take(consumer, 999);
    expect(rest.map((m) => m.offset)).toEqual(range(999, 1));
    await consumer.close();
  });

  it("fetch sessions: one full request, then incremental ones for the partitions that changed", async () => {
    const topic = `c-session-${randomUUID()}`;
    await createTopic(client, topic, 4);
    await produceNumbered(client, topic, 40, 4);
    const consumer = client.consumer({ autoOffsetReset: "earliest", maxWaitMs: 100 });
    consumer.assign([0, 1, 2, 3].map((partition) => ({ topic, partition })));
    expect(await take(consumer, 40)).toHaveLength(40);
    for (let round = 0; round < 3; round++) {
      await produceNumbered(client, topic, 1, 4, 40 + round * 4);
      expect(await take(consumer, 1)).toHaveLength(1);
    }
    const { fetch } = consumer.stats();
    expect(fetch.requests).toBeGreaterThan(4);
    expect(fetch.fullRequests).toBe(1);
    expect(fetch.sessionErrors).toBe(0);
    await consumer.close();
  });

  const CODECS: CompressionCodec[] = ["none", "gzip", "snappy", "lz4", "zstd"];
  it("reads batches of every compression codec", async () => {
    const topic = `c-codecs-${randomUUID()}`;
    await createTopic(client, topic, 1);
    for (const compression of CODECS) {
      const producer = client.producer({ compression });
      await producer.send(
        Array.from({ length: 50 }, (_, i) => ({ topic, key: compression, value: `${compression}-${i}` })),
      );
      await producer.close();
    }
    const consumer = client.consumer({ autoOffsetReset: "earliest" });
    consumer.assign([{ topic, partition: 0 }]);
    const got = await take(consumer, 250);
    expect(got.map((m) => m.offset)).toEqual(range(250));
    expect(got.map((m) => m.value?.toString())).toEqual(CODECS.flatMap((c) => range(50).map((i) => `${c}-${i}`)));
    await consumer.close();
  });

  it("deserializers turn keys and values into application types", async () => {
    const topic = `c-deser-${randomUUID()}`;
    await createTopic(client, topic, 1);
    await produceNumbered(client, topic, 5, 1);
    const consumer = client.consumer({
      autoOffsetReset: "earliest",
      keyDeserializer: (b) => b?.toString() ?? "",
      valueDeserializer: (b, t) => ({ n: Number(b?.toString()), t }),
    });
    consumer.assign([{ topic, partition: 0 }]);
    const got: { key: string; value: { n: number; t: string } }[] = [];
    for await (const m of consumer.messages({ signal: AbortSignal.timeout(10_000) })) {
      got.push({ key: m.key, value: m.value });
      if (got.length === 5) break;
    }
    expect(got).toEqual(range(5).map((i) => ({ key: `k${i}`, value: { n: Number(i), t: topic } })));
    await consumer.close();
  });

  it("with a groupId: commit() stores what was consumed (as OffsetFetch returns it); a new consumer resumes there", async () => {
    const topic = `c-commit-${randomUUID()}`;
    const groupId = `g-${randomUUID()}`;
    await createTopic(client, topic, 2);
    await produceNumbered(client, topic, 100, 2);
    const consumer = client.consumer({ groupId, autoOffsetReset: "earliest", autoCommit: false });
    consumer.assign([
      { topic, partition: 0 },
      { topic, partition: 1 },
    ]);
    const first = await take(consumer, 30);
    const last = new Map<number, bigint>();
    for (const m of first) last.set(m.partition, m.offset);
    // The loop was left after the 30th message: all 30 count as consumed.
    await consumer.commit();
    expect(await committedOffsets(client, groupId, topic, 2)).toEqual([0, 1].map((p) => (last.get(p) ?? -1n) + 1n));
    await consumer.commit([{ topic, partition: 1, offset: 45n, metadata: "explicit" }]);
    expect((await committedOffsets(client, groupId, topic, 2))[1]).toBe(45n);
    await consumer.close();

    const again = client.consumer({ groupId, autoOffsetReset: "earliest" });
    again.assign([
      { topic, partition: 0 },
      { topic, partition: 1 },
    ]);
    const rest = await take(again, 100 - 30 - (45 - Number((last.get(1) ?? -1n) + 1n)));
    const byPartition = offsetsByPartition(rest);
    const start0 = Number((last.get(0) ?? -1n) + 1n);
    expect(byPartition.get(0)).toEqual(range(50 - start0, start0));
    expect(byPartition.get(1)).toEqual(range(5, 45));
    // Auto-commit on close stores the end.
    await again.close();
    expect(await committedOffsets(client, groupId, topic, 2)).toEqual([50n, 50n]);
  });

  it("bad input → InvalidArgumentError naming the option or argument; use after close → ClosedError", async () => {
    const bad: [object, string][] = [
      [{ autoOffsetReset: "smallest" }, "autoOffsetReset"],
      [{ isolationLevel: "committed" }, "isolationLevel"],
      [{ maxWaitMs: -1 }, "maxWaitMs"],
      [{ maxBufferedBytes: 0 }, "maxBufferedBytes"],
      [{ groupProtocol: "eager" }, "groupProtocol"],
      [{ groupInstanceId: "x" }, "groupInstanceId"],
      [{ assignors: ["sticky"] }, "assignors"],
      [{ heartbeatIntervalMs: 50_000 }, "heartbeatIntervalMs"],
      [{ autoCommit: "yes" }, "autoCommit"],
      [{ valueDeserializer: "utf8" }, "valueDeserializer"],
    ];
    for (const [options, argument] of bad) {
      const error = (() => {
        try {
          client.consumer(options as never);
        } catch (e) {
          return e;
        }
      })();
      expect(error, argument).toBeInstanceOf(InvalidArgumentError);
      expect(error).toMatchObject({ argument, code: "SAMSA_ERR_INVALID_ARGUMENT" });
    }
    const groupless = client.consumer();
    expect(() => groupless.subscribe("t")).toThrow(expect.objectContaining({ argument: "groupId" }));
    await expect(groupless.commit()).rejects.toMatchObject({ argument: "groupId" });
    expect(() => groupless.assign([{ topic: "bad topic!", partition: 0 }])).toThrow(
      expect.objectContaining({ argument: "partitions[0].topic" }),
    );
    expect(() => groupless.assign([{ topic: "t", partition: -1 }])).toThrow(
      expect.objectContaining({ argument: "partitions[0].partition" }),
    );
    expect(() => groupless.seek({ topic: "t", partition: 0, offset: 1n })).toThrow(
      expect.objectContaining({ argument: "target" }),
    );

    const topic = `c-bad-${randomUUID()}`;
    await createTopic(client, topic, 1);
    const grouped = client.consumer({ groupId: `g-${randomUUID()}`, autoOffsetReset: "earliest" });
    grouped.assign([{ topic, partition: 0 }]);
    await expect(grouped.commit([{ topic, partition: 1, offset: 1n }])).rejects.toMatchObject({
      argument: "offsets[0]",
      message: expect.stringContaining("not assigned"),
    });
    await expect(grouped.commit([{ topic, partition: 0, offset: -1n }])).rejects.toMatchObject({
      argument: "offsets[0].offset",
    });
    expect(() => grouped.subscribe([topic])).toThrow(expect.objectContaining({ argument: "topics" }));
    expect(() => grouped.seek({ topic, partition: 0, offset: -5n })).toThrow(
      expect.objectContaining({ argument: "target.offset" }),
    );
    // A partition the topic does not have surfaces through the iterator.
    grouped.assign([{ topic, partition: 7 }]);
    await expect(take(grouped, 1)).rejects.toMatchObject({ argument: "partition" });
    await grouped.close();
    expect(() => grouped.assign([])).toThrow(ClosedError);
    await expect(grouped.commit()).rejects.toBeInstanceOf(ClosedError);
    await groupless.close();
  });
});
