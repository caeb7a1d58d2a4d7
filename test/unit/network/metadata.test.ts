import { describe, expect, it } from "vitest";
import { applyLeaderHint, EMPTY_METADATA, mergeMetadata } from "../../../src/network/metadata.js";
import { createMetadataResponse } from "../../../src/protocol/index.js";

const response = (leaderId: number, leaderEpoch: number, topic = "t") =>
  createMetadataResponse({
    clusterId: "c",
    controllerId: 1,
    brokers: [
      { nodeId: 1, host: "a", port: 1, rack: null },
      { nodeId: 2, host: "b", port: 2, rack: "r" },
    ],
    topics: [
      {
        errorCode: 0,
        name: topic,
        topicId: "AQIDBAUGBwgJCgsMDQ4PEA",
        isInternal: false,
        topicAuthorizedOperations: 0,
        partitions: [
          {
            errorCode: 0,
            partitionIndex: 0,
            leaderId,
            leaderEpoch,
            replicaNodes: [1, 2],
            isrNodes: [1, 2],
            offlineReplicas: [],
          },
        ],
      },
    ],
  });

describe("metadata snapshots", () => {
  it("merges topics, keeps ones the response did not name, and maps ids to names", () => {
    const first = mergeMetadata(EMPTY_METADATA, response(1, 5), 100);
    const second = mergeMetadata(first, response(2, 6, "u"), 200);
    expect([...second.topics.keys()].sort()).toEqual(["t", "u"]);
    expect(second.brokers.get(2)?.rack).toBe("r");
    expect(second.fetchedAt).toBe(200);
    expect(first.topics.has("u")).toBe(false); // snapshots are not mutated
  });

  it("applies a newer KIP-951 leader hint and ignores an older one", () => {
    const m = mergeMetadata(EMPTY_METADATA, response(1, 5), 100);
    const moved = applyLeaderHint(m, "t", 0, 2, 6, []);
    expect(moved.topics.get("t")?.partitions[0]?.leaderId).toBe(2);
    expect(applyLeaderHint(moved, "t", 0, 1, 5, [])).toBe(moved);
    // An unknown leader needs its endpoint in the hint.
    expect(applyLeaderHint(m, "t", 0, 9, 7, [])).toBe(m);
    const withEndpoint = applyLeaderHint(m, "t", 0, 9, 7, [{ nodeId: 9, host: "z", port: 9, rack: null }]);
    expect(withEndpoint.brokers.get(9)?.host).toBe("z");
    expect(withEndpoint.topics.get("t")?.partitions[0]?.leaderId).toBe(9);
  });
});
