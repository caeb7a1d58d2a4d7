import { randomUUID } from "node:crypto";
import { describe, expect, inject, it } from "vitest";
import {
  API_BY_KEY,
  ApiVersions,
  CreateTopics,
  createApiVersionsRequest,
  createCreateTopicsRequest,
  createCreateTopicsRequestCreatableTopic,
  createMetadataRequest,
  createMetadataRequestMetadataRequestTopic,
  Metadata,
} from "../../../src/protocol/index.js";
import { call, firstBroker } from "./wire.js";

// The generated codec against a real broker: our requests are accepted and every byte of
// the broker's responses is consumed by our decoders.
describe("generated codec against Kafka", () => {
  const broker = firstBroker(inject("kafkaBootstrap"));

  it("ApiVersions at every version we have: the broker's APIs are all ours", async () => {
    for (let v = ApiVersions.minVersion; v <= ApiVersions.maxVersion; v++) {
      const response = await call(
        broker,
        ApiVersions,
        v,
        createApiVersionsRequest({ clientSoftwareName: "samsa", clientSoftwareVersion: "0.1.0" }),
      );
      expect(response.errorCode, `v${v}`).toBe(0);
      expect(response.apiKeys.length).toBeGreaterThan(40);
      for (const range of response.apiKeys) {
        const ours = API_BY_KEY[range.apiKey];
        expect(ours, `API key ${range.apiKey} advertised by the broker`).toBeDefined();
        // The broker's newest version is one our codec handles (the codec tracks the jar of
        // the same Kafka version).
        expect(range.maxVersion, `${ours?.name} max`).toBeLessThanOrEqual(ours?.maxCodecVersion ?? -1);
      }
      if (v >= 3) {
        // Finalized features (KIP-584) come as tagged fields from v3.
        expect(response.finalizedFeatures.map((f) => f.name)).toContain("metadata.version");
      }
    }
  });

  it("CreateTopics then Metadata at each version: the topic, its id and partitions come back", async () => {
    const name = `codec-${randomUUID()}`;
    const created = await call(
      broker,
      CreateTopics,
      CreateTopics.maxVersion,
      createCreateTopicsRequest({
        topics: [createCreateTopicsRequestCreatableTopic({ name, numPartitions: 3, replicationFactor: 1 })],
        timeoutMs: 30_000,
      }),
    );
    expect(created.topics[0]?.errorCode).toBe(0);
    expect(created.topics[0]?.numPartitions).toBe(3);
    const topicId = created.topics[0]?.topicId;
    expect(topicId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(topicId).not.toBe("AAAAAAAAAAAAAAAAAAAAAA");

    for (let v = Metadata.minVersion; v <= Metadata.maxVersion; v++) {
      const response = await call(
        broker,
        Metadata,
        v,
        createMetadataRequest({
          topics: [createMetadataRequestMetadataRequestTopic({ name })],
          allowAutoTopicCreation: v < 4,
        }),
      );
      expect(
        response.brokers.map((b) => b.port),
        `v${v}`,
      ).toContain(broker.port);
      const topic = response.topics.find((t) => t.name === name);
      expect(topic?.errorCode, `v${v}`).toBe(0);
      expect(topic?.partitions.map((p) => p.partitionIndex).sort()).toEqual([0, 1, 2]);
      if (v >= 10) expect(topic?.topicId, `v${v}`).toBe(topicId);
      if (v >= 2) expect(response.clusterId, `v${v}`).toMatch(/^[A-Za-z0-9_-]{22}$/);
    }
  });
});
