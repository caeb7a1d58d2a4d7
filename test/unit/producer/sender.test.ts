/**
 * The sender's idempotence and retry state machine, driven by scripted broker answers from
 * the fake broker (tools/fault/fake-broker.ts): the answers a real broker gives only under
 * faults. The real broker stays the judge in the integration and fault tests.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Client } from "../../../src/client.js";
import { TimeoutError } from "../../../src/network/errors.js";
import {
  createProduceResponse,
  createProduceResponsePartitionProduceResponse,
  InitProducerId,
  Metadata,
  Produce,
  type ProduceRequest,
} from "../../../src/protocol/index.js";
import { KafkaError } from "../../../src/protocol/kafka-error.js";
import { decodeRecordBatchesSync } from "../../../src/protocol/records/index.js";
import { FakeBroker } from "../../../tools/fault/fake-broker.js";

/** A Produce answer with `errorCode` for every partition of the request. */
function failAll(request: ProduceRequest, errorCode: number) {
  return createProduceResponse({
    responses: request.topicData.map((t) => ({
      name: t.name,
      topicId: t.topicId,
      partitionResponses: t.partitionData.map((p) =>
        createProduceResponsePartitionProduceResponse({ index: p.index, errorCode, baseOffset: -1n }),
      ),
    })),
  });
}

/** (producerId, epoch, baseSequence, records) of every batch the broker received, in order. */
function producedBatches(broker: FakeBroker): [bigint, number, number, number][] {
  return broker
    .received(Produce)
    .flatMap(({ request }) =>
      request.topicData.flatMap((t) =>
        t.partitionData.flatMap((p) =>
          decodeRecordBatchesSync(p.records as Buffer).map((b): [bigint, number, number, number] => [
            b.producerId,
            b.producerEpoch,
            b.baseSequence,
            b.records.length,
          ]),
        ),
      ),
    );
}

/** The fake broker's first producer id. */
const ID = 1000n;
const UNKNOWN_PRODUCER_ID = 59;
const OUT_OF_ORDER_SEQUENCE_NUMBER = 45;
const NOT_LEADER_OR_FOLLOWER = 6;

describe("Sender against scripted broker answers", () => {
  let broker: FakeBroker;
  let client: Client;
  beforeEach(async () => {
    broker = await FakeBroker.start({ nodeId: 1, topics: [{ name: "t", partitions: 1 }] });
    client = new Client({ bootstrap: broker.bootstrap, retryBackoffMs: 10, retryBackoffMaxMs: 20 });
  });
  afterEach(async () => {
    client.close();
    await broker.close();
  });

  it("UNKNOWN_PRODUCER_ID: bumps the epoch (InitProducerId with the current id) and resends from sequence 0", async () => {
    const producer = client.producer({ lingerMs: 0, retryBackoffMs: 10 });
    await producer.send({ topic: "t", value: "a" });
    broker.once(Produce, (request) => failAll(request, UNKNOWN_PRODUCER_ID));
    const report = await producer.send({ topic: "t", value: "b" });
    await producer.close();
    expect(report.offset).toBe(1n);
    const inits = broker.received(InitProducerId).map((r) => [r.request.producerId, r.request.producerEpoch]);
    expect(inits).toEqual([
      [-1n, -1],
      [ID, 0],
    ]);
    // a: seq 0; b: seq 1 (refused); b again under the new identity from sequence 0.
    expect(producedBatches(broker)).toEqual([
      [ID, 0, 0, 1],
      [ID, 0, 1, 1],
      [ID + 1n, 0, 0, 1],
    ]);
  });

  it("OUT_OF_ORDER_SEQUENCE_NUMBER on the batch the broker expects next: a real gap, so the epoch is bumped", async () => {
    const producer = client.producer({ lingerMs: 0 });
    await producer.send({ topic: "t", value: "a" });
    broker.once(Produce, (request) => failAll(request, OUT_OF_ORDER_SEQUENCE_NUMBER));
    await producer.send({ topic: "t", value: "b" });
    await producer.close();
    expect(broker.received(InitProducerId)).toHaveLength(2);
    expect(producedBatches(broker).at(-1)).toEqual([ID + 1n, 0, 0, 1]);
  });

  it("NOT_LEADER_OR_FOLLOWER without a hint: refreshes metadata and resends the same bytes (same sequence)", async () => {
    const producer = client.producer({ lingerMs: 0 });
    await producer.send({ topic: "t", value: "a" });
    const metadataBefore = broker.received(Metadata).length;
    broker.once(Produce, (request) => failAll(request, NOT_LEADER_OR_FOLLOWER));
    await producer.send({ topic: "t", value: "b" });
    await producer.close();
    expect(broker.received(Metadata).length).toBeGreaterThan(metadataBefore);
    const batches = producedBatches(broker);
    expect(batches.slice(1)).toEqual([
      [ID, 0, 1, 1],
      [ID, 0, 1, 1],
    ]);
    expect(broker.received(InitProducerId)).toHaveLength(1);
  });

  it("a retried batch still fails at its delivery deadline (it was never expired), and the next send bumps the epoch past the gap", async () => {
    const producer = client.producer({ lingerMs: 0, requestTimeoutMs: 200, deliveryTimeoutMs: 600 });
    await producer.send({ topic: "t", value: "a" });
    broker.on(Produce, (request) => failAll(request, NOT_LEADER_OR_FOLLOWER));
    const started = Date.now();
    const err = await producer.send({ topic: "t", value: "lost" }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err?.cause).toBeInstanceOf(KafkaError);
    expect((err?.cause as KafkaError | undefined)?.errorName).toBe("NOT_LEADER_OR_FOLLOWER");
    expect(Date.now() - started).toBeLessThan(3_000);
    broker.off(Produce);
    const report = await producer.send({ topic: "t", value: "after" });
    await producer.close();
    expect(report.offset).toBe(1n);
    // The lost batch held sequence 1: the next batch goes out under a new epoch from 0, not as 2.
    expect(producedBatches(broker).at(-1)).toEqual([ID + 1n, 0, 0, 1]);
  });

  it("requests take turns among partitions: with every partition full, none waits behind the others", async () => {
    const six = await FakeBroker.start({ nodeId: 1, topics: [{ name: "six", partitions: 6 }] });
    const c = new Client({ bootstrap: six.bootstrap });
    try {
      // ~2 KiB batches, requests of at most two of them: each request serves 2 of the 6 partitions.
      const producer = c.producer({ lingerMs: 60_000, batchBytes: 2048, maxRequestBytes: 5000, maxInFlight: 1 });
      const value = Buffer.alloc(200, 1);
      const sends: Promise<unknown>[] = [];
      // Four full batches per partition, queued before the sender runs.
      for (let i = 0; i < 40; i++)
        for (let p = 0; p < 6; p++) sends.push(producer.send({ topic: "six", partition: p, value }));
      // Flush: the open batches go too, without their linger.
      await producer.flush();
      await Promise.all(sends);
      await producer.close();
      const requests = six
        .received(Produce)
        .map(({ request }) => request.topicData.flatMap((t) => t.partitionData.map((d) => d.index)));
      // A partition's first batch goes out within the first three requests (6 partitions, 2 per request).
      for (let p = 0; p < 6; p++)
        expect(
          requests.findIndex((r) => r.includes(p)),
          `partition ${p}`,
        ).toBeLessThan(3);
      expect(requests.flat().length).toBeGreaterThanOrEqual(24);
    } finally {
      c.close();
      await six.close();
    }
  });
});
