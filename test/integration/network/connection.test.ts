import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { Connection, type ConnectionOptions } from "../../../src/network/connection.js";
import {
  AbortedError,
  AuthenticationError,
  ConnectionClosedError,
  ConnectionError,
  RequestTimeoutError,
} from "../../../src/network/errors.js";
import { isRetriable } from "../../../src/network/retry.js";
import type { SaslOptions } from "../../../src/network/sasl/index.js";
import { UnsupportedVersionError } from "../../../src/protocol/errors.js";
import {
  ApiVersions,
  CreateTopics,
  createCreateTopicsRequest,
  createCreateTopicsRequestCreatableTopic,
  createFetchRequest,
  createFetchRequestFetchPartition,
  createMetadataRequest,
  Fetch,
  type FetchRequest,
  Metadata,
} from "../../../src/protocol/index.js";
import {
  createProduceRequest,
  createProduceRequestPartitionProduceData,
  createProduceRequestTopicProduceData,
  Produce,
} from "../../../src/protocol/messages/index.js";
import { FakeBroker } from "../../../tools/fault/fake-broker.js";
import { type KafkaCluster, startKafka } from "../../../tools/kafka/harness.js";
import { firstBroker } from "../protocol/wire.js";

async function open(options: ConnectionOptions): Promise<Connection> {
  const connection = new Connection(options);
  await connection.connect();
  return connection;
}

/** Creates a one-partition topic and returns a Fetch at offset 0 that long-polls `maxWaitMs`. */
async function longPollFetch(target: { host: string; port: number }, maxWaitMs: number): Promise<FetchRequest> {
  const c = await open(target);
  const name = `conn-${Math.random().toString(36).slice(2)}`;
  const created = await c.request(
    CreateTopics,
    createCreateTopicsRequest({
      topics: [createCreateTopicsRequestCreatableTopic({ name, numPartitions: 1, replicationFactor: 1 })],
      timeoutMs: 30_000,
    }),
  );
  // A new topic's partition has no leader for a moment; a Fetch then fails at once instead
  // of waiting, so wait for the leader first.
  for (let i = 0; i < 100; i++) {
    const m = await c.request(
      Metadata,
      createMetadataRequest({ topics: [{ name, topicId: "AAAAAAAAAAAAAAAAAAAAAA" }] }),
    );
    if ((m.topics[0]?.partitions[0]?.leaderId ?? -1) >= 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const topicId = created.topics[0]?.topicId as string;
  const fetch = (wait: number) =>
    createFetchRequest({
      maxWaitMs: wait,
      minBytes: 1,
      maxBytes: 1024,
      replicaId: -1,
      sessionEpoch: -1,
      topics: [
        {
          topic: name,
          topicId,
          partitions: [createFetchRequestFetchPartition({ partition: 0, fetchOffset: 0n, partitionMaxBytes: 1024 })],
        },
      ],
    });
  // Metadata can name the leader before the leader itself serves the partition
  // (NOT_LEADER_OR_FOLLOWER): probe with non-waiting fetches until it does.
  for (let i = 0; i < 100; i++) {
    const r = await c.request(Fetch, fetch(0));
    if (r.responses[0]?.partitions[0]?.errorCode === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  c.close();
  return fetch(maxWaitMs);
}

function unsecuredJwt(sub: string): string {
  const now = Math.floor(Date.now() / 1000);
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${part({ alg: "none" })}.${part({ sub, iat: now, exp: now + 3600 })}.`;
}

describe("Connection (plaintext)", () => {
  const broker = firstBroker(inject("kafkaBootstrap"));

  it("negotiates versions with ApiVersions and keeps the broker's features", async () => {
    const c = await open(broker);
    expect(c.ready).toBe(true);
    expect(c.versionFor(Metadata)).toBe(Metadata.maxVersion);
    expect(c.versions?.features.get("metadata.version")).toBeGreaterThan(0);
    expect(c.apiVersions?.apiKeys.length).toBeGreaterThan(40);
    c.close();
    expect(c.closed).toBe(true);
  });

  it("answers 1,000 pipelined requests on one connection, each matched to its own request", async () => {
    const c = await open({ ...broker, maxInFlight: 16 });
    const topics = Array.from({ length: 1000 }, (_, i) => `pipelined-${i}`);
    const responses = await Promise.all(
      topics.map((name) =>
        c.request(
          Metadata,
          createMetadataRequest({
            topics: [{ name, topicId: "AAAAAAAAAAAAAAAAAAAAAA" }],
            allowAutoTopicCreation: false,
          }),
        ),
      ),
    );
    // Each response names the topic its own request asked for: no mix-ups under pipelining.
    expect(responses.map((r) => r.topics[0]?.name)).toEqual(topics);
    expect(responses.every((r) => r.topics[0]?.errorCode === 3)).toBe(true); // UNKNOWN_TOPIC_OR_PARTITION
    c.close();
  });

  it("times out a request with RequestTimeoutError and closes the connection", async () => {
    // A Fetch long-poll on an empty partition waits maxWaitMs; the request timeout is shorter.
    const fetch = await longPollFetch(broker, 5000);
    const c = await open(broker);
    const started = Date.now();
    const err = await c.request(Fetch, fetch, { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(
      err,
      JSON.stringify(err, (_k, v) => (typeof v === "bigint" ? v.toString() : v)),
    ).toBeInstanceOf(RequestTimeoutError);
    expect((err as RequestTimeoutError).code).toBe("SAMSA_ERR_REQUEST_TIMEOUT");
    expect(Date.now() - started).toBeLessThan(3000);
    expect(isRetriable(err)).toBe(true);
    expect(c.closed).toBe(true);
  });

  it("rejects a queued request whose signal aborts, and the connection stays usable", async () => {
    const c = await open({ ...broker, maxInFlight: 1 });
    const controller = new AbortController();
    const first = c.request(Metadata, createMetadataRequest({ topics: [] }));
    const second = c.request(Metadata, createMetadataRequest({ topics: [] }), { signal: controller.signal });
    controller.abort();
    await expect(second).rejects.toBeInstanceOf(AbortedError);
    expect((await first).brokers.length).toBe(1);
    expect((await c.request(Metadata, createMetadataRequest({ topics: [] }))).brokers.length).toBe(1);
    c.close();
  });

  it("refuses connections to a closed port with a retriable ConnectionError", async () => {
    const err = await open({ host: "127.0.0.1", port: 1, connectTimeoutMs: 2000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect(isRetriable(err)).toBe(true);
  });

  it("rejects a version the codec lacks with UnsupportedVersionError before sending", async () => {
    const c = await open(broker);
    await expect(
      c.request(ApiVersions, { clientSoftwareName: "x", clientSoftwareVersion: "1" }, { version: 99 }),
    ).rejects.toBeInstanceOf(UnsupportedVersionError);
    c.close();
  });
});

describe("Connection when the broker stops", () => {
  let kafka: KafkaCluster;
  beforeAll(async () => {
    kafka = await startKafka({ mode: "single" });
  });
  afterAll(() => kafka?.stop());

  it("rejects in-flight requests with ConnectionClosedError (may have reached the broker)", async () => {
    const fetch = await longPollFetch(firstBroker(kafka.bootstrap), 30_000);
    const c = await open({ ...firstBroker(kafka.bootstrap), requestTimeoutMs: 60_000 });
    const inFlight = c.request(Fetch, fetch).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 200));
    expect(c.inFlightCount).toBe(1);
    await kafka.stop();
    const err = await inFlight;
    expect(err).toBeInstanceOf(ConnectionClosedError);
    expect((err as ConnectionClosedError).mayHaveReachedBroker).toBe(true);
    expect(c.closed).toBe(true);
    await expect(c.request(Metadata, createMetadataRequest({ topics: [] }))).rejects.toBeInstanceOf(
      ConnectionClosedError,
    );
  });
});

describe("Connection with TLS and SASL", () => {
  let kafka: KafkaCluster;
  let ca: string;
  beforeAll(async () => {
    kafka = await startKafka({ mode: "secure" });
    ca = readFileSync(kafka.caFile as string, "utf8");
  });
  afterAll(() => kafka?.stop());

  const mechanisms = (user: { username: string; password: string }): SaslOptions[] => [
    { mechanism: "PLAIN", ...user },
    { mechanism: "SCRAM-SHA-256", ...user },
    { mechanism: "SCRAM-SHA-512", ...user },
    { mechanism: "OAUTHBEARER", token: () => ({ value: unsecuredJwt(user.username) }) },
  ];

  it("authenticates with every mechanism on SASL_PLAINTEXT and SASL_SSL", async () => {
    const alice = kafka.users?.alice as { username: string; password: string };
    for (const sasl of mechanisms(alice)) {
      for (const tls of [undefined, { ca }]) {
        const target = firstBroker(tls ? (kafka.sslBootstrap as string) : kafka.bootstrap);
        const c = await open({ ...target, sasl, ...(tls ? { tls } : {}) });
        const metadata = await c.request(Metadata, createMetadataRequest({ topics: [] }));
        expect(metadata.brokers.length, `${String(sasl.mechanism)} tls=${!!tls}`).toBe(1);
        c.close();
      }
    }
  });

  it("fails a wrong password with AuthenticationError that carries the broker's message, not the password", async () => {
    for (const mechanism of ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] as const) {
      const err = await open({
        ...firstBroker(kafka.bootstrap),
        sasl: { mechanism, username: "alice", password: "wrong-password-123" },
      }).catch((e: unknown) => e);
      expect(err, mechanism).toBeInstanceOf(AuthenticationError);
      expect((err as AuthenticationError).code).toBe("SAMSA_ERR_AUTHENTICATION");
      expect((err as Error).message).not.toContain("wrong-password-123");
      expect((err as Error).message.length).toBeGreaterThan(30);
      expect(isRetriable(err)).toBe(false);
    }
  });

  it("re-authenticates before the broker's session lifetime ends (KIP-368) and keeps serving", async () => {
    const alice = kafka.users?.alice as { username: string; password: string };
    for (const sasl of [
      { mechanism: "SCRAM-SHA-512", ...alice },
      { mechanism: "PLAIN", ...alice },
    ] as SaslOptions[]) {
      const c = await open({ ...firstBroker(kafka.bootstrap), sasl });
      // The secure broker sets connections.max.reauth.ms=5000: without re-authentication it
      // would close this connection at the first request after 5 s.
      const until = Date.now() + 11_000;
      while (Date.now() < until) {
        expect((await c.request(Metadata, createMetadataRequest({ topics: [] }))).brokers).toHaveLength(1);
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(c.closed).toBe(false);
      expect(c.authentications).toBeGreaterThanOrEqual(3);
      c.close();
    }
  });

  it("fails TLS against an untrusted CA with AuthenticationError", async () => {
    const err = await open({
      ...firstBroker(kafka.sslBootstrap as string),
      tls: true,
      sasl: { mechanism: "PLAIN", username: "alice", password: "alice-secret" },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthenticationError);
    expect((err as Error).message).toMatch(/TLS/);
  });
});

describe("Connection writes that expect no response (acks=0)", () => {
  it("settle when written, and time out with RequestTimeoutError when a broker that stopped reading lets the socket fill", async () => {
    const fake = await FakeBroker.start();
    try {
      const c = await open({ host: "127.0.0.1", port: fake.port, requestTimeoutMs: 500 });
      // The broker stops reading: its receive window and our send buffer fill, then nothing drains.
      for (const peer of fake.connections) peer.socket.pause();
      const records = Buffer.alloc(1024 * 1024);
      const produce = createProduceRequest({
        acks: 0,
        timeoutMs: 1000,
        topicData: [
          createProduceRequestTopicProduceData({
            name: "t",
            partitionData: [createProduceRequestPartitionProduceData({ index: 0, records })],
          }),
        ],
      });
      const outcomes = await Promise.all(
        Array.from({ length: 64 }, () =>
          c.request(Produce, produce, { noResponse: true }).then(
            () => "written",
            (e: unknown) => e,
          ),
        ),
      );
      // The first megabytes fit in the socket buffers and settle as written; the rest cannot.
      expect(outcomes[0]).toBe("written");
      const timedOut = outcomes.filter((o) => o instanceof RequestTimeoutError);
      expect(timedOut.length).toBeGreaterThanOrEqual(1);
      expect((timedOut[0] as RequestTimeoutError).code).toBe("SAMSA_ERR_REQUEST_TIMEOUT");
      expect((timedOut[0] as RequestTimeoutError).timeoutMs).toBe(500);
      const others = outcomes.filter((o) => o !== "written" && !(o instanceof RequestTimeoutError));
      expect(others.every((o) => o instanceof ConnectionClosedError)).toBe(true);
      expect(outcomes.filter((o) => o === "written").length).toBeLessThan(64);
      expect(c.closed).toBe(true);
    } finally {
      await fake.close();
    }
  });
});
