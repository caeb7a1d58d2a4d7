/**
 * Regression tests of the consumer's reliability defects: each error that used to be
 * swallowed, or a wait that never ended, now reaches the application as a typed error.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { Client } from "../../../src/client.js";
import {
  DeserializationError,
  FetchError,
  NoOffsetForPartitionError,
  OffsetOutOfRangeError,
  UnknownTopicError,
} from "../../../src/consumer/errors.js";
import type { BackgroundErrorContext } from "../../../src/network/background-errors.js";
import { ClosedError, DecompressionLimitError, InvalidArgumentError } from "../../../src/protocol/errors.js";
import { KafkaError } from "../../../src/protocol/kafka-error.js";
import { createTopic } from "../../helpers/topics.js";
import { committedOffsets, produceNumbered, take } from "./helpers.js";
import { Member, until } from "./member.js";

/** Everything reported on a client's `error` event. */
function listen(client: Client): { error: Error; context: BackgroundErrorContext }[] {
  const seen: { error: Error; context: BackgroundErrorContext }[] = [];
  client.on("error", (error, context) => seen.push({ error, context }));
  return seen;
}

describe("Consumer reliability", () => {
  const bootstrap = inject("kafkaBootstrap");
  let client: Client;
  beforeAll(() => {
    client = new Client({ bootstrap });
  });
  afterAll(() => client.close());

  it("a deserializer that throws no longer skips the record: DeserializationError with topic, partition, offset; the retry gets the same record; commit does not pass it", async () => {
    const topic = `r-deser-${randomUUID()}`;
    const groupId = `g-${randomUUID()}`;
    await createTopic(client, topic, 1);
    await produceNumbered(client, topic, 10, 1);
    let poison = true;
    const consumer = client.consumer<Buffer | null, number>({
      groupId,
      autoOffsetReset: "earliest",
      autoCommit: false,
      valueDeserializer: (v) => {
        const n = Number(v?.toString());
        if (n === 4 && poison) throw new RangeError("four is not allowed");
        return n;
      },
    });
    consumer.assign([{ topic, partition: 0 }]);
    const seen: number[] = [];
    let error: unknown;
    try {
      for await (const m of consumer.messages({ signal: AbortSignal.timeout(20_000) })) seen.push(m.value);
    } catch (err) {
      error = err;
    }
    expect(seen).toEqual([0, 1, 2, 3]);
    expect(error).toBeInstanceOf(DeserializationError);
    expect(error).toMatchObject({ code: "SAMSA_ERR_DESERIALIZATION", topic, partition: 0, offset: 4n, field: "value" });
    expect((error as Error).cause).toBeInstanceOf(RangeError);
    expect(consumer.position({ topic, partition: 0 })).toBe(4n);
    await consumer.commit();
    expect(await committedOffsets(client, groupId, topic, 1)).toEqual([4n]);
    // The next loop starts at that same record.
    const again = await consumer
      .messages()
      .next()
      .catch((e: unknown) => e);
    expect(again).toMatchObject({ offset: 4n });
    poison = false;
    const rest = (await take(consumer as never, 6)).map((m) => m.value);
    expect(rest).toEqual([4, 5, 6, 7, 8, 9]);
    await consumer.close();
  });

  it("iterating a consumer that was never subscribed or assigned throws InvalidArgumentError at once (it used to wait for ever)", async () => {
    const consumer = client.consumer();
    expect(() => consumer.messages()).toThrow(InvalidArgumentError);
    expect(() => consumer.batches()).toThrow(expect.objectContaining({ code: "SAMSA_ERR_INVALID_ARGUMENT" }));
    await consumer.close();
  });

  it("assign to a topic that does not exist: the loop throws a FetchError naming UNKNOWN_TOPIC_OR_PARTITION after bounded retries (it used to wait silently)", async () => {
    const topic = `r-missing-${randomUUID()}`;
    for (const offset of [undefined, 0n]) {
      const consumer = client.consumer({ autoOffsetReset: "earliest", retryBackoffMs: 10 });
      consumer.assign([offset === undefined ? { topic, partition: 0 } : { topic, partition: 0, offset }]);
      const started = Date.now();
      const error = await take(consumer, 1, 60_000).catch((e: unknown) => e);
      expect(error, `offset ${offset}`).toBeInstanceOf(FetchError);
      expect(error).toMatchObject({ code: "SAMSA_ERR_FETCH", topic, partition: 0, attempts: 10 });
      expect((error as Error).message).toContain("UNKNOWN_TOPIC_OR_PARTITION");
      expect(((error as Error).cause as KafkaError).errorCode).toBe(3);
      expect(Date.now() - started).toBeLessThan(30_000);
      await consumer.close();
    }
  });

  it("subscribe to a topic that does not exist: an UnknownTopicError on the client's error event names UNKNOWN_TOPIC_OR_PARTITION (it used to wait silently)", async () => {
    const topic = `r-later-${randomUUID()}`;
    const own = new Client({ bootstrap });
    const reported = listen(own);
    const consumer = own.consumer({ groupId: `g-${randomUUID()}`, autoOffsetReset: "earliest" });
    try {
      consumer.subscribe(topic);
      await until("reported", () => reported.some((r) => r.error instanceof UnknownTopicError), 15_000);
      const r = reported.find((x) => x.error instanceof UnknownTopicError);
      expect(r?.context).toMatchObject({ source: "consumer", operation: "subscribe", topic });
      expect(r?.error).toMatchObject({ topic, errorCode: 3 });
      expect(r?.error.message).toContain("UNKNOWN_TOPIC_OR_PARTITION");
      expect(r?.error.cause).toMatchObject({ errorName: "UNKNOWN_TOPIC_OR_PARTITION" });
    } finally {
      await consumer.close();
      own.close();
    }
  });

  it("close(): a loop already running ends quietly; a new loop, batches(), commit, seek after it throw ClosedError (docs promised it, loops ended quietly)", async () => {
    const topic = `r-close-${randomUUID()}`;
    await createTopic(client, topic, 1);
    await produceNumbered(client, topic, 5, 1);
    const consumer = client.consumer({ groupId: `g-${randomUUID()}`, autoOffsetReset: "earliest" });
    consumer.assign([{ topic, partition: 0 }]);
    let seen = 0;
    const loop = (async () => {
      for await (const _ of consumer) seen++;
      return "ended";
    })();
    await until("5 read", () => seen === 5);
    await consumer.close();
    await expect(loop).resolves.toBe("ended");
    expect(() => consumer.messages()).toThrow(ClosedError);
    expect(() => consumer.batches()).toThrow(expect.objectContaining({ code: "SAMSA_ERR_CLOSED" }));
    expect(() => consumer[Symbol.asyncIterator]()).toThrow(ClosedError);
    await expect(consumer.commit()).rejects.toBeInstanceOf(ClosedError);
    expect(() => consumer.seek({ topic, partition: 0, offset: 0n })).toThrow(ClosedError);
  });

  it("auto-commit errors reach the client's error event with their context and count in commitErrors (they were swallowed)", async () => {
    const topic = `r-autocommit-${randomUUID()}`;
    const groupId = `g-${randomUUID()}`;
    await createTopic(client, topic, 1);
    await produceNumbered(client, topic, 10, 1);
    // An active member owns the group: a commit without membership (epoch -1) is refused.
    const member = new Member(bootstrap, "owner", { groupId }).start(topic);
    const own = new Client({ bootstrap });
    const reported = listen(own);
    const outsider = own.consumer({ groupId, autoOffsetReset: "earliest", autoCommitIntervalMs: 100 });
    try {
      await until("the member reads", () => member.seen.length === 10);
      outsider.assign([{ topic, partition: 0, offset: 0n }]);
      expect((await take(outsider, 3)).length).toBe(3);
      await until("an autoCommit error reported", () => reported.some((r) => r.context.operation === "autoCommit"));
      const r = reported.find((x) => x.context.operation === "autoCommit");
      expect(r?.context).toMatchObject({ source: "consumer", groupId });
      expect(r?.error).toBeInstanceOf(KafkaError);
      expect(outsider.stats().commitErrors).toBeGreaterThan(0);
    } finally {
      await outsider.close();
      own.close();
      await member.close();
    }
  });

  it("close() when the client is gone: the final commit and the leave fail, each reported with its operation (they were swallowed)", async () => {
    const topic = `r-leave-${randomUUID()}`;
    await createTopic(client, topic, 1);
    await produceNumbered(client, topic, 5, 1);
    const own = new Client({ bootstrap });
    const reported = listen(own);
    const consumer = own.consumer({ groupId: `g-${randomUUID()}`, autoOffsetReset: "earliest" });
    consumer.subscribe(topic);
    expect((await take(consumer, 5)).length).toBe(5);
    own.close();
    await consumer.close();
    const operations = reported.map((r) => r.context.operation);
    expect(operations).toContain("commitOnClose");
    expect(operations).toContain("leaveGroup");
    expect(consumer.stats().commitErrors).toBe(1);
  });

  it("pending errors stay bounded when nobody iterates: one per partition, 64 in all, the rest to the error event", async () => {
    const topic = `r-errors-${randomUUID()}`;
    await createTopic(client, topic, 70);
    await produceNumbered(client, topic, 1, 1);
    const own = new Client({ bootstrap });
    const reported = listen(own);
    const consumer = own.consumer({ autoOffsetReset: "none" });
    try {
      // The same partition failing again and again keeps one error.
      consumer.assign([{ topic, partition: 0, offset: 1_000n }]);
      let most = 0;
      for (let i = 0; i < 10; i++) {
        const before = own.backgroundErrors;
        await until("out of range", () => consumer.stats().pendingErrors === 1);
        most = Math.max(most, consumer.stats().pendingErrors);
        consumer.seek({ topic, partition: 0, offset: BigInt(1_001 + i) });
        await new Promise((r) => setTimeout(r, 200));
        most = Math.max(most, consumer.stats().pendingErrors);
        expect(own.backgroundErrors).toBe(before);
      }
      expect(most).toBe(1);
      // 70 partitions without a committed offset: 64 wait for the loop, 6 are reported.
      consumer.assign(Array.from({ length: 70 }, (_, partition) => ({ topic, partition })));
      await until("all reported", () => consumer.stats().pendingErrors + reported.length >= 70, 30_000);
      expect(consumer.stats().pendingErrors).toBe(64);
      expect(
        reported.every((r) => r.error instanceof NoOffsetForPartitionError && r.context.operation === "read"),
      ).toBe(true);
      let thrown = 0;
      for (let i = 0; i < 64; i++) {
        const e = await consumer
          .messages()
          .next()
          .catch((x: unknown) => x);
        if (e instanceof NoOffsetForPartitionError || e instanceof OffsetOutOfRangeError) thrown++;
      }
      expect(thrown).toBe(64);
      expect(consumer.stats().pendingErrors).toBe(0);
    } finally {
      await consumer.close();
      own.close();
    }
  });

  it("a gzip batch of zeros expanding past maxDecompressedBytes: the loop throws DecompressionLimitError naming topic and partition; the partition stops, later ones go on", async () => {
    const topic = `r-bomb-${randomUUID()}`;
    await createTopic(client, topic, 2);
    const producer = client.producer({ compression: "gzip", maxRequestBytes: 16 * 1024 * 1024, lingerMs: 1 });
    // 4 MiB of zeros: a few KiB on the wire.
    await producer.send([{ topic, partition: 1, value: Buffer.alloc(4 * 1024 * 1024) }]);
    await producer.send([{ topic, partition: 0, value: "small" }]);
    await producer.close();
    const limit = 256 * 1024;
    const consumer = client.consumer({ maxDecompressedBytes: limit, autoOffsetReset: "earliest" });
    consumer.assign([
      { topic, partition: 0 },
      { topic, partition: 1 },
    ]);
    const seen: { partition: number; value: string | undefined }[] = [];
    let error: unknown;
    try {
      for await (const m of consumer.messages({ signal: AbortSignal.timeout(20_000) })) {
        seen.push({ partition: m.partition, value: m.value?.toString() });
      }
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(DecompressionLimitError);
    expect(error).toMatchObject({
      code: "SAMSA_ERR_DECOMPRESSION_LIMIT",
      topic,
      partition: 1,
      baseOffset: 0n,
      codec: "gzip",
      limit,
    });
    expect((error as Error).message).toContain(`${topic}-1`);
    // The small record of partition 0 is still handed out (before or after the error).
    const rest =
      seen.length > 0
        ? seen
        : (await take(consumer, 1, 10_000)).map((m) => ({ partition: m.partition, value: m.value?.toString() }));
    expect(rest).toEqual([{ partition: 0, value: "small" }]);
    // Partition 1 stays where the batch starts: nothing past the limit was handed out.
    expect(consumer.position({ topic, partition: 1 })).toBe(0n);
    await consumer.close();
  });
});
