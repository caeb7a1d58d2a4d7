/**
 * The fake broker (tools/fault/fake-broker.ts) driven by samsa's own Client: its defaults
 * serve a client and a producer, and each kind of hostile reply reaches the client as the
 * error it should.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Client } from "../../../src/client.js";
import { ConnectionClosedError, RequestTimeoutError } from "../../../src/network/errors.js";
import { ProtocolError } from "../../../src/protocol/errors.js";
import {
  createMetadataRequest,
  createProduceResponse,
  createProduceResponsePartitionProduceResponse,
  Metadata,
  Produce,
} from "../../../src/protocol/index.js";
import { decodeRecordBatchesSync } from "../../../src/protocol/records/index.js";
import { FakeBroker } from "../../../tools/fault/fake-broker.js";

describe("FakeBroker with samsa's Client", () => {
  let broker: FakeBroker;
  let client: Client;
  beforeEach(async () => {
    broker = await FakeBroker.start({ nodeId: 7, topics: [{ name: "t", partitions: 2 }] });
    client = new Client({ bootstrap: broker.bootstrap, requestTimeoutMs: 1_000, retryBackoffMs: 20 });
  });
  afterEach(async () => {
    client.close();
    await broker.close();
  });

  const metadataRequest = () => createMetadataRequest({ topics: [] });

  it("serves ApiVersions and a Metadata that names itself and its topics", async () => {
    const md = await client.metadata(["t"], { maxAgeMs: 0 });
    expect([...md.brokers.values()]).toEqual([
      expect.objectContaining({ nodeId: 7, host: "127.0.0.1", port: broker.port }),
    ]);
    expect(md.topics.get("t")?.partitions.map((p) => p.leaderId)).toEqual([7, 7]);
    expect(broker.received(Metadata).length).toBeGreaterThan(0);
  });

  it("takes a producer's records into its in-memory log", async () => {
    const producer = client.producer({ lingerMs: 0 });
    const reports = await producer.send(
      Array.from({ length: 10 }, (_, i) => ({ topic: "t", partition: 1, value: `v${i}` })),
    );
    await producer.close();
    expect(reports.map((r) => r.offset)).toEqual(Array.from({ length: 10 }, (_, i) => BigInt(i)));
    const values = broker
      .log("t", 1)
      .flatMap((b) =>
        decodeRecordBatchesSync(b.records).flatMap((batch) => batch.records.map((r) => r.value?.toString())),
      );
    expect(values).toEqual(Array.from({ length: 10 }, (_, i) => `v${i}`));
  });

  it("a once() handler's error is retried by the producer, then the default answers", async () => {
    broker.once(Produce, (request) =>
      createProduceResponse({
        responses: request.topicData.map((t) => ({
          name: t.name,
          topicId: t.topicId,
          partitionResponses: t.partitionData.map((p) =>
            // NOT_LEADER_OR_FOLLOWER: retriable.
            createProduceResponsePartitionProduceResponse({ index: p.index, errorCode: 6, baseOffset: -1n }),
          ),
        })),
      }),
    );
    const producer = client.producer({ lingerMs: 0 });
    const report = await producer.send({ topic: "t", partition: 0, value: "x" });
    await producer.close();
    expect(report.offset).toBe(0n);
    expect(broker.received(Produce).length).toBe(2);
    expect(broker.log("t", 0).length).toBe(1);
  });

  it("close() drops the connection: the request fails with ConnectionClosedError", async () => {
    await client.metadata([], { maxAgeMs: 0 });
    broker.on(Metadata, () => FakeBroker.close());
    const connection = await client.connection(7, "control");
    const err = await connection.request(Metadata, metadataRequest()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionClosedError);
    expect(connection.closed).toBe(true);
  });

  it("never() holds the answer: the request times out", async () => {
    await client.metadata([], { maxAgeMs: 0 });
    broker.on(Metadata, () => FakeBroker.never());
    const connection = await client.connection(7, "control");
    const err = await connection.request(Metadata, metadataRequest(), { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RequestTimeoutError);
    expect((err as RequestTimeoutError).code).toBe("SAMSA_ERR_REQUEST_TIMEOUT");
  });

  it("rawFrame() with a wrong correlation id is a ProtocolError", async () => {
    await client.metadata([], { maxAgeMs: 0 });
    const frame = Buffer.alloc(12);
    frame.writeInt32BE(8, 0);
    frame.writeInt32BE(0x7fff_0000, 4);
    broker.on(Metadata, () => FakeBroker.rawFrame(frame));
    const connection = await client.connection(7, "control");
    const err = await connection.request(Metadata, metadataRequest()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as Error).message).toMatch(/correlation id 2147418112/);
  });

  it("rawBody() with a truncated body fails the decode, and async handlers answer in order", async () => {
    await client.metadata([], { maxAgeMs: 0 });
    let n = 0;
    broker.on(Metadata, async (_request, _version, _header, context) => {
      const mine = ++n;
      // The first answer is the slowest; it must still leave first.
      await new Promise((r) => setTimeout(r, mine === 1 ? 100 : 0));
      return mine === 1 ? FakeBroker.rawBody(Buffer.from([0, 0, 0, 0, 0])) : context.fallback();
    });
    const connection = await client.connection(7, "control");
    const [first, second] = await Promise.allSettled([
      connection.request(Metadata, metadataRequest()),
      connection.request(Metadata, metadataRequest()),
    ]);
    expect(first.status).toBe("rejected");
    expect(second.status).toBe("fulfilled");
  });

  it("answers an ApiVersions above its range with UNSUPPORTED_VERSION, and the client falls back", async () => {
    // The client's first ApiVersions is at its newest version, which the codec knows; a
    // broker advertising only v0-2 of ApiVersions makes the client use v2 next time.
    const narrow = await FakeBroker.start({
      apiVersions: new Map([
        [18, [0, 2] as const],
        [3, [0, 12] as const],
      ]),
    });
    const other = new Client({ bootstrap: narrow.bootstrap, requestTimeoutMs: 1_000 });
    try {
      const md = await other.metadata([], { maxAgeMs: 0 });
      expect(md.brokers.size).toBe(1);
      expect(narrow.received(Metadata)[0]?.version).toBe(12);
    } finally {
      other.close();
      await narrow.close();
    }
  });
});
