import { randomUUID } from "node:crypto";
import { Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { Client } from "../../../src/client.js";
import { TimeoutError } from "../../../src/network/errors.js";
import type { RecordMetadata } from "../../../src/producer/delivery.js";
import { BufferFullError, RecordTooLargeError } from "../../../src/producer/errors.js";
import { ClosedError, InvalidArgumentError } from "../../../src/protocol/errors.js";
import type { CompressionCodec } from "../../../src/protocol/records/index.js";
import { Oracle } from "../../conformance/oracle.js";
import { javaConsume } from "../../helpers/java-consume.js";
import { readBack } from "../../helpers/read-back.js";
import { createTopic } from "../../helpers/topics.js";

const CODECS: CompressionCodec[] = ["none", "gzip", "snappy", "lz4", "zstd"];
const ACKS = [0, 1, "all"] as const;

function records(topic: string, n: number) {
  return Array.from({ length: n }, (_, i) => ({
    topic,
    key: `key-${i % 37}`,
    value: `value-${i}-${"é".repeat(i % 5)}`,
    headers: [
      { key: "index", value: String(i) },
      { key: "empty", value: null },
    ],
    timestamp: 1_700_000_000_000 + i,
  }));
}

describe("Producer against a real broker", () => {
  const bootstrap = inject("kafkaBootstrap");
  let client: Client;
  beforeAll(() => {
    client = new Client({ bootstrap });
  });
  afterAll(() => client.close());

  for (const compression of CODECS) {
    for (const acks of ACKS) {
      it(`${compression}, acks=${acks}: every record reads back with its key, value, headers, timestamp and order`, async () => {
        const topic = `produce-${compression}-${acks}-${randomUUID()}`;
        await createTopic(client, topic, 3);
        const producer = client.producer({ compression, acks, idempotent: acks === "all" });
        const sent = records(topic, 300);
        const reports = await producer.send(sent);
        await producer.close();
        let back = await readBack(client, topic);
        // acks=0: the broker says nothing, so the records may still be on their way.
        for (let i = 0; i < 100 && back.length < sent.length; i++) {
          await new Promise((r) => setTimeout(r, 100));
          back = await readBack(client, topic);
        }
        expect(back).toHaveLength(sent.length);
        // Same key → same partition, and per partition the send order.
        const byValue = new Map(back.map((r) => [r.value?.toString(), r]));
        for (let i = 0; i < sent.length; i++) {
          const s = sent[i] as (typeof sent)[number];
          const r = byValue.get(s.value);
          expect(r, s.value).toBeDefined();
          expect(r?.key?.toString()).toBe(s.key);
          expect(r?.timestamp).toBe(s.timestamp);
          expect(r?.headers.map((h) => [h.key, h.value?.toString() ?? null])).toEqual([
            ["index", String(i)],
            ["empty", null],
          ]);
          expect(r?.compression).toBe(compression);
          const report = reports[i] as RecordMetadata;
          expect(report.partition).toBe(r?.partition);
          expect(report.offset).toBe(acks === 0 ? -1n : r?.offset);
        }
        for (const p of [0, 1, 2]) {
          const indices = back.filter((r) => r.partition === p).map((r) => Number(r.headers[0]?.value?.toString()));
          expect(indices).toEqual([...indices].sort((a, b) => a - b));
        }
        if (acks === "all") expect(back.every((r) => r.producerId >= 0n)).toBe(true);
      });
    }
  }

  it("Kafka's Java console consumer reads what samsa wrote, for every codec", async () => {
    const topic = `produce-java-${randomUUID()}`;
    await createTopic(client, topic, 1);
    const expected: string[] = [];
    for (const compression of CODECS) {
      const producer = client.producer({ compression });
      const batch = Array.from({ length: 20 }, (_, i) => ({
        topic,
        key: `${compression}-k${i}`,
        value: `${compression}-v${i}`,
        headers: { codec: compression },
        timestamp: 1_700_000_000_000 + expected.length,
      }));
      for (const r of batch) expected.push(`${r.timestamp}\t${r.key}\t${r.value}\tcodec:${compression}`);
      await producer.send(batch);
      await producer.close();
    }
    const java = await javaConsume(bootstrap, topic, expected.length);
    expect(java.map((r) => `${r.timestamp}\t${r.key}\t${r.value}\t${r.headers}`)).toEqual(expected);
    expect(java.map((r) => r.offset)).toEqual(expected.map((_, i) => BigInt(i)));
  });

  it("puts keyed records on the partition the Java client computes (1,000 keys)", async () => {
    const topic = `produce-keys-${randomUUID()}`;
    await createTopic(client, topic, 7);
    const keys = Array.from({ length: 1000 }, (_, i) => Buffer.from(`user-${i}-${randomUUID().slice(0, i % 9)}`));
    const producer = client.producer();
    const reports = await producer.send(keys.map((key) => ({ topic, key, value: "x" })));
    await producer.close();
    const oracle = await Oracle.start();
    try {
      const [reply] = await oracle.send([{ op: "partitions", keys, partitionCount: 7 }]);
      expect(reply?.error).toBeUndefined();
      expect(reports.map((r) => r.partition)).toEqual(reply?.partitions);
    } finally {
      await oracle.close();
    }
  });

  it("spreads keyless records over partitions in sticky batches", async () => {
    const topic = `produce-sticky-${randomUUID()}`;
    await createTopic(client, topic, 4);
    const producer = client.producer({ batchBytes: 4096, lingerMs: 0 });
    const value = Buffer.alloc(100, 7);
    const reports = await producer.send(Array.from({ length: 2000 }, () => ({ topic, value })));
    await producer.close();
    const perPartition = [0, 1, 2, 3].map((p) => reports.filter((r) => r.partition === p).length);
    for (const n of perPartition) expect(n).toBeGreaterThan(100);
    // Sticky: consecutive records mostly share a partition.
    let switches = 0;
    for (let i = 1; i < reports.length; i++) if (reports[i]?.partition !== reports[i - 1]?.partition) switches++;
    expect(switches).toBeLessThan(200);
  });

  it("a Produce request goes out as one gathered socket write, its record batches not copied, and reads back whole", async () => {
    const topic = `produce-gather-${randomUUID()}`;
    await createTopic(client, topic, 3);
    // Each 40 KB record fills its batch (batchBytes 32 KiB), so all three are ready before the
    // sender's next turn; under the default batchBytes they would linger, and batches opened in
    // different milliseconds (a busy machine) would go out in separate requests.
    const producer = client.producer({ lingerMs: 50, batchBytes: 32 * 1024 });
    await producer.send({ topic, partition: 0, value: "warm-up" }); // connections and metadata first
    // Count the socket writes while one request of three 40 KB batches goes out.
    const proto = Socket.prototype as unknown as Record<"_write" | "_writev", (...args: unknown[]) => unknown>;
    const { _write, _writev } = proto;
    const calls = { write: 0, writev: 0, chunks: 0 };
    proto._write = function (this: Socket, ...args: unknown[]) {
      calls.write++;
      return _write.apply(this, args);
    };
    proto._writev = function (this: Socket, ...args: unknown[]) {
      calls.writev++;
      calls.chunks += (args[0] as unknown[]).length;
      return _writev.apply(this, args);
    };
    const before = producer.stats().requests;
    try {
      const values = [0, 1, 2].map((p) => Buffer.alloc(40_000, 65 + p));
      await producer.send(values.map((value, partition) => ({ topic, partition, value })));
    } finally {
      proto._write = _write;
      proto._writev = _writev;
    }
    expect(producer.stats().requests - before).toBe(1);
    // Header and topic name, then each batch by reference between the bytes that frame them.
    expect([calls.write, calls.writev]).toEqual([0, 1]);
    expect(calls.chunks).toBeGreaterThanOrEqual(4);
    await producer.close();
    const got = (await readBack(client, topic)).filter((r) => r.value?.length === 40_000);
    expect(got.map((r) => [r.partition, r.value?.equals(Buffer.alloc(40_000, 65 + r.partition))])).toEqual([
      [0, true],
      [1, true],
      [2, true],
    ]);
  });

  it("array sends keep their own records: back to back, one sent from inside another's partitioner, and ones that wait for metadata", async () => {
    const [a, b, late] = [`pool-a-${randomUUID()}`, `pool-b-${randomUUID()}`, `pool-late-${randomUUID()}`];
    await createTopic(client, a, 3);
    await createTopic(client, b, 1);
    let inner: Promise<RecordMetadata[]> | undefined;
    const producer = client.producer({
      maxBlockMs: 30_000,
      // The first record of `a` sends an array to `b` from inside the outer array's send.
      partitioner: ({ topic, partitionCount }) => {
        if (topic === a && inner === undefined) {
          inner = producer.send(Array.from({ length: 50 }, (_, i) => ({ topic: b, value: `inner-${i}` })));
        }
        return topic === a ? 1 % partitionCount : 0;
      },
    });
    const values = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
    const first = producer.send(values("first", 700).map((value) => ({ topic: a, value })));
    const second = producer.send(values("second", 700).map((value) => ({ topic: a, value })));
    // `late` does not exist yet: its records wait for metadata after the call returned (the
    // broker may create it on the producer's metadata request; else the test does).
    const waiting = producer.send(values("late", 300).map((value) => ({ topic: late, value })));
    expect(producer.stats().waitingRecords).toBe(300);
    await createTopic(client, late, 1).catch((err: Error) => {
      if (!/already exists/.test(err.message)) throw err;
    });
    const reports = await Promise.all([first, second, waiting]);
    expect(reports.map((r) => r.length)).toEqual([700, 700, 300]);
    expect((await inner)?.length).toBe(50);
    await producer.close();
    const read = async (topic: string) => (await readBack(client, topic)).map((r) => r.value?.toString());
    expect(await read(a)).toEqual([...values("first", 700), ...values("second", 700)]);
    expect(await read(b)).toEqual(values("inner", 50));
    expect(await read(late)).toEqual(values("late", 300));
  });

  it("delivers through the callback form with no promise", async () => {
    const topic = `produce-cb-${randomUUID()}`;
    await createTopic(client, topic, 1);
    const producer = client.producer();
    const results = await new Promise<(RecordMetadata | undefined)[]>((resolve, reject) => {
      const out: (RecordMetadata | undefined)[] = [];
      for (let i = 0; i < 100; i++) {
        const ret = producer.send({ topic, value: String(i) }, (err, md) => {
          if (err) reject(err);
          out[i] = md;
          if (out.filter(Boolean).length === 100) resolve(out);
        });
        expect(ret).toBe(true); // far below the high-water mark
      }
    });
    expect(results.map((r) => r?.offset)).toEqual(Array.from({ length: 100 }, (_, i) => BigInt(i)));
    await producer.close();
  });

  it("rejects bad input with typed errors and sends nothing", async () => {
    const topic = `produce-bad-${randomUUID()}`;
    await createTopic(client, topic, 1);
    expect(() => client.producer({ acks: 1 })).toThrow(InvalidArgumentError); // idempotence needs acks=all
    expect(() => client.producer({ lingerMs: -1 })).toThrow(/lingerMs/);
    expect(() => client.producer({ compression: "brotli" as never })).toThrow(/compression/);
    const producer = client.producer({ maxRequestBytes: 10_000 });
    await expect(producer.send({ topic, value: Buffer.alloc(20_000) })).rejects.toBeInstanceOf(RecordTooLargeError);
    await expect(producer.send({ topic: "bad topic!", value: "x" })).rejects.toMatchObject({ argument: "topic" });
    await expect(producer.send({ topic, value: 42 as never })).rejects.toMatchObject({ argument: "value" });
    // One bad record in an array: nothing of the array is sent.
    await expect(
      producer.send([
        { topic, value: "ok" },
        { topic, value: Buffer.alloc(20_000) },
      ]),
    ).rejects.toBeInstanceOf(RecordTooLargeError);
    await producer.close();
    expect(await readBack(client, topic)).toHaveLength(0);
    await expect(producer.send({ topic, value: "late" })).rejects.toBeInstanceOf(ClosedError);
  });

  it("fails records for an unknown topic after maxBlockMs instead of hanging", async () => {
    const producer = client.producer({ allowAutoTopicCreation: false, maxBlockMs: 1500 });
    const started = Date.now();
    const err = await producer.send({ topic: `missing-${randomUUID()}`, value: "x" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as Error).message).toMatch(/not present in metadata/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    await producer.close();
  });

  it("bounds memory when records cannot go anywhere: the overflow fails at once with BufferFullError", async () => {
    const producer = client.producer({ allowAutoTopicCreation: false, maxBlockMs: 1000, bufferMemory: 20_000 });
    const topic = `nowhere-${randomUUID()}`;
    const outcomes = await Promise.all(
      Array.from({ length: 1000 }, () => producer.send({ topic, value: Buffer.alloc(100) }).catch((e: unknown) => e)),
    );
    const full = outcomes.filter((e) => e instanceof BufferFullError).length;
    const timedOut = outcomes.filter((e) => e instanceof TimeoutError).length;
    // About 20,000 bytes' worth (~150 records of ~136 accounted bytes) wait; the rest fail at once.
    expect(full + timedOut).toBe(1000);
    expect(timedOut).toBeGreaterThan(100);
    expect(timedOut).toBeLessThan(200);
    await producer.close();
  });

  it("keeps a broker's requests in drain order when compression finishes out of order (no OUT_OF_ORDER retries)", async () => {
    // Regression: batches compressed in parallel once reached the socket in completion order,
    // so the broker saw sequence gaps and the producer looped on OUT_OF_ORDER_SEQUENCE_NUMBER.
    const topic = `produce-order-${randomUUID()}`;
    await createTopic(client, topic, 6);
    const producer = client.producer({ compression: "zstd", batchBytes: 16 * 1024 });
    const values = Array.from({ length: 64 }, (_, i) => Buffer.alloc(100, i));
    const sends = [];
    for (let i = 0; i < 100_000; i += 1000) {
      sends.push(
        producer.send(Array.from({ length: 1000 }, (_, j) => ({ topic, value: values[(i + j) % 64] as Buffer }))),
      );
    }
    await Promise.all(sends);
    expect(producer.stats().retries).toBe(0);
    expect(producer.stats().requests).toBeGreaterThan(20);
    await producer.close();
    expect(await readBack(client, topic)).toHaveLength(100_000);
  });
});
