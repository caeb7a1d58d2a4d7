/**
 * The fault proxy's address rewriting where a real single broker cannot show it: fake
 * brokers answer with KIP-951 NodeEndpoints (Produce, Fetch) and a Metadata naming a broker
 * the proxy has not seen, so the proxy must open a listener for it on the fly.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Client } from "../../../src/client.js";
import {
  createFetchRequest,
  createFetchResponse,
  createMetadataRequest,
  createProduceResponse,
  Fetch,
  Metadata,
  Produce,
} from "../../../src/protocol/index.js";
import { FakeBroker } from "../../../tools/fault/fake-broker.js";
import { FaultProxy } from "../../../tools/fault/proxy.js";

describe("FaultProxy address rewriting (fake brokers)", () => {
  let a: FakeBroker;
  let b: FakeBroker;
  let proxy: FaultProxy;
  let client: Client;
  beforeEach(async () => {
    b = await FakeBroker.start({ nodeId: 2 });
    a = await FakeBroker.start({ nodeId: 1, brokers: () => [a.node, b.node], topics: [{ name: "t" }] });
    proxy = await FaultProxy.start({ upstream: a.bootstrap });
    client = new Client({ bootstrap: proxy.bootstrap, requestTimeoutMs: 2_000 });
  });
  afterEach(async () => {
    client.close();
    await proxy.close();
    await a.close();
    await b.close();
  });

  const localPort = (upstream: FakeBroker) => Number(proxy.addresses.get(upstream.bootstrap)?.split(":")[1]);

  it("opens a listener for a broker first named in Metadata, and the client reaches it through the proxy", async () => {
    const md = await client.metadata([], { maxAgeMs: 0 });
    expect(proxy.addresses.size).toBe(2);
    expect([...md.brokers.values()].map((n) => n.port).sort()).toEqual([localPort(a), localPort(b)].sort());
    const connection = await client.connection(2, "control");
    await connection.request(Metadata, createMetadataRequest({ topics: [] }));
    expect(b.received(Metadata).length).toBe(1);
  });

  it("rewrites Produce and Fetch NodeEndpoints (KIP-951)", async () => {
    const endpoints = () => [{ nodeId: 2, host: "127.0.0.1", port: b.port, rack: null }];
    a.on(Produce, () => createProduceResponse({ nodeEndpoints: endpoints() }));
    a.on(Fetch, () => createFetchResponse({ nodeEndpoints: endpoints() }));
    await client.metadata([], { maxAgeMs: 0 });
    const connection = await client.connection(1, "control");
    const produced = await connection.request(
      Produce,
      { transactionalId: null, acks: -1, timeoutMs: 1_000, topicData: [] },
      { version: 12 },
    );
    expect(produced.nodeEndpoints.map((e) => e.port)).toEqual([localPort(b)]);
    const fetched = await connection.request(Fetch, createFetchRequest({ replicaId: -1, maxWaitMs: 0 }), {
      version: 17,
    });
    expect(fetched.nodeEndpoints.map((e) => [e.host, e.port])).toEqual([["127.0.0.1", localPort(b)]]);
    expect(proxy.stats.rewritten).toBeGreaterThanOrEqual(3);
  });
});
