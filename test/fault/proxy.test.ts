/**
 * The fault proxy (tools/fault/proxy.ts) against a real broker: clients stay behind it, and
 * each fault does what it says. Then fault scenario (a): a producer and a consumer group
 * through the proxy while it resets connections at random and blackholes twice for 3 s.
 * SAMSA_FAULT_BOOTSTRAP names a running broker to use instead of starting one.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "../../src/client.js";
import { ErrorCode } from "../../src/protocol/error-table.js";
import { createMetadataRequest, Metadata, Produce, ZERO_UUID } from "../../src/protocol/index.js";
import { RecordBatchBuilder } from "../../src/protocol/records/index.js";
import { FaultProxy } from "../../tools/fault/proxy.js";
import { type KafkaCluster, startKafka } from "../../tools/kafka/harness.js";
import { Ledger, RssSampler, reportFigures, SeenIds, sleep, waitFor, within } from "../helpers/fault-ledger.js";
import { GroupReader } from "../helpers/group-reader.js";
import { ProducerLoad } from "../helpers/producer-load.js";
import { scanTopic } from "../helpers/scan-topic.js";
import { createTopic } from "../helpers/topics.js";

describe("FaultProxy against a real broker", () => {
  let kafka: KafkaCluster | undefined;
  let upstream: string;
  let proxy: FaultProxy;
  let client: Client;

  beforeAll(async () => {
    upstream = process.env.SAMSA_FAULT_BOOTSTRAP ?? "";
    if (upstream === "") {
      kafka = await startKafka({ mode: "single" });
      upstream = kafka.bootstrap;
    }
    proxy = await FaultProxy.start({ upstream });
    client = new Client({ bootstrap: proxy.bootstrap, requestTimeoutMs: 10_000, retryBackoffMs: 50 });
  });
  afterAll(async () => {
    client?.close();
    await proxy?.close();
    await kafka?.stop();
  });

  /** One Metadata round trip on a ready connection (the client's cache would answer from memory). */
  async function roundTrip(): Promise<void> {
    const md = await client.metadata([], { maxAgeMs: 0 });
    const connection = await client.connection([...md.brokers.keys()][0] as number, "control");
    await connection.request(Metadata, createMetadataRequest({ topics: [] }));
  }

  function proxyPorts(): Set<number> {
    return new Set([...proxy.addresses.values()].map((a) => Number(a.split(":")[1])));
  }

  it("rewrites Metadata, FindCoordinator and DescribeCluster so they name only proxy ports", async () => {
    const topic = `proxy-md-${randomUUID()}`;
    await createTopic(client, topic, 2, 1);
    const md = await client.metadata([topic], { maxAgeMs: 0 });
    const upstreamPorts = new Set(upstream.split(",").map((a) => Number(a.split(":")[1])));
    expect(md.brokers.size).toBeGreaterThan(0);
    for (const b of md.brokers.values()) {
      expect(b.host).toBe("127.0.0.1");
      expect(proxyPorts().has(b.port)).toBe(true);
      expect(upstreamPorts.has(b.port)).toBe(false);
    }
    const coordinator = await client.coordinator("group", `g-${randomUUID()}`);
    expect(proxyPorts().has(coordinator.port)).toBe(true);
    const admin = client.admin();
    const cluster = await admin.describeCluster();
    for (const b of cluster.brokers) expect(proxyPorts().has(b.port)).toBe(true);
    expect(proxy.stats.rewritten).toBeGreaterThanOrEqual(3);
    // Records still flow both ways through the proxy.
    const producer = client.producer();
    await producer.send(Array.from({ length: 100 }, (_, i) => ({ topic, value: String(i) })));
    await producer.close();
  });

  it("resetAll closes the client's connections, and the client reconnects", async () => {
    const md = await client.metadata([], { maxAgeMs: 0 });
    const nodeId = [...md.brokers.keys()][0] as number;
    const connection = await client.connection(nodeId, "control");
    expect(connection.closed).toBe(false);
    const before = proxy.stats.resets;
    expect(proxy.resetAll()).toBeGreaterThan(0);
    await until(() => connection.closed, 5_000);
    expect(proxy.stats.resets).toBeGreaterThan(before);
    const again = await client.connection(nodeId, "control");
    expect(again).not.toBe(connection);
    expect(again.closed).toBe(false);
  });

  it("random per-frame resets close connections while they are on", async () => {
    proxy.setResets({ perFrame: 1 });
    const before = proxy.stats.resets;
    await expect(client.metadata([], { maxAgeMs: 0, signal: AbortSignal.timeout(1_000) })).rejects.toThrow();
    expect(proxy.stats.resets).toBeGreaterThan(before);
    proxy.setResets(null);
    await client.metadata([], { maxAgeMs: 0 });
  });

  it("a blackhole stalls requests until it ends, then they complete", async () => {
    await roundTrip();
    const started = Date.now();
    void proxy.blackhole(1_500);
    await roundTrip();
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_400);
    expect(proxy.blackholeEnds).toBeUndefined();
  });

  it("latency delays each direction", async () => {
    await roundTrip();
    proxy.setLatency({ toBroker: 200, toClient: 300 });
    const started = Date.now();
    await roundTrip();
    const took = Date.now() - started;
    proxy.setLatency({});
    expect(took).toBeGreaterThanOrEqual(480);
  });

  it("corrupting Produce makes the broker answer CORRUPT_MESSAGE; after the window the same bytes succeed", async () => {
    const topic = `proxy-crc-${randomUUID()}`;
    await createTopic(client, topic, 1, 1);
    const leader = await client.leader(topic, 0);
    const connection = await client.connection(leader.nodeId, "produce");
    const produce = async () => {
      const batch = new RecordBatchBuilder();
      for (let i = 0; i < 10; i++) batch.append({ value: `v${i}` });
      const response = await connection.request(
        Produce,
        {
          transactionalId: null,
          acks: -1,
          timeoutMs: 10_000,
          topicData: [{ name: topic, topicId: ZERO_UUID, partitionData: [{ index: 0, records: batch.build() }] }],
        },
        // v12 names topics; v13 would need the topic id.
        { version: 12 },
      );
      return response.responses[0]?.partitionResponses[0]?.errorCode;
    };
    proxy.corruptProduce(60_000);
    const before = proxy.stats.corruptedBatches;
    expect(await produce()).toBe(ErrorCode.CORRUPT_MESSAGE);
    expect(proxy.stats.corruptedBatches).toBe(before + 1);
    proxy.stopCorrupting();
    expect(await produce()).toBe(0);
  });

  it("scenario a: producer and group through random resets and two 3 s blackholes lose nothing", async () => {
    const topic = `fault-net-${randomUUID()}`;
    await createTopic(client, topic, 3, 1);
    const faulty = await FaultProxy.start({ upstream });
    const clientOptions = { bootstrap: faulty.bootstrap, requestTimeoutMs: 2_000, retryBackoffMs: 50 };
    const producerClient = new Client(clientOptions);
    const ledger = new Ledger();
    const seen = new SeenIds();
    const rss = new RssSampler(500).start();
    const reader = new GroupReader(clientOptions, { groupId: `fault-net-${randomUUID()}` }, seen).start(topic);
    try {
      const producer = producerClient.producer({ requestTimeoutMs: 2_000, deliveryTimeoutMs: 120_000 });
      const load = new ProducerLoad(producer, ledger, { topic, ratePerSec: 5_000, maxOutstanding: 50_000 }).start();
      await sleep(3_000);
      // About one reset per connection every 10 s, blackholes at 8 s and 16 s.
      faulty.setResets({ perSecond: 0.1 });
      await sleep(5_000);
      await faulty.blackhole(3_000);
      await sleep(5_000);
      await faulty.blackhole(3_000);
      await sleep(5_000);
      faulty.setResets(null);
      load.stop();
      const settled = await waitFor(() => ledger.outstanding === 0, 60_000);
      const caughtUp = await waitFor(() => seen.missing(ledger) === 0, 60_000);
      const closed = await within(producer.close(), 30_000);
      await reader.stop();
      const group = seen.figures(ledger);
      await scanTopic(client, topic, (value) => ledger.read(value));
      rss.stop();
      const figures = ledger.reconcile();
      reportFigures("a-network", figures, rss, {
        resets: faulty.stats.resets,
        groupSeen: group.seen,
        groupMissing: group.missing,
        groupRedelivered: group.redelivered,
        closeSettled: closed.ok,
        consumerError: reader.error === undefined ? "none" : String(reader.error),
        errors: load.errorSummary(),
      });
      expect(faulty.stats.resets).toBeGreaterThan(0);
      expect(settled).toBe(true);
      expect(figures.failed).toBe(0);
      expect(figures.lost).toBe(0);
      expect(figures.duplicated).toBe(0);
      expect(figures.unknown).toBe(0);
      expect(caughtUp).toBe(true);
      expect(group.missing).toBe(0);
      expect(reader.error).toBeUndefined();
      expect(closed.ok).toBe(true);
    } finally {
      rss.stop();
      await reader.stop(5_000);
      producerClient.close();
      await faulty.close();
    }
  }, 240_000);
});

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
}
