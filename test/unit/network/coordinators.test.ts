import { describe, expect, it } from "vitest";
import { type CoordinatorAnswer, CoordinatorCache, type CoordinatorType } from "../../../src/network/coordinators.js";
import { KafkaError } from "../../../src/protocol/kafka-error.js";

const node = (nodeId: number) => ({ nodeId, host: "h", port: nodeId, rack: null });

describe("CoordinatorCache", () => {
  it("batches lookups made in one tick into one call, and caches the answers", async () => {
    const calls: [CoordinatorType, string[]][] = [];
    const cache = new CoordinatorCache(async (type, keys) => {
      calls.push([type, keys]);
      return new Map<string, CoordinatorAnswer>(
        keys.map((k, i) => [k, { node: node(i + 1), errorCode: 0, errorMessage: null }]),
      );
    });
    const [a, b, a2] = await Promise.all([
      cache.lookup("group", "a", 1000),
      cache.lookup("group", "b", 1000),
      cache.lookup("group", "a", 1000),
    ]);
    expect(calls).toEqual([["group", ["a", "b"]]]);
    expect(a?.nodeId).toBe(1);
    expect(b?.nodeId).toBe(2);
    expect(a2?.nodeId).toBe(1);
    await cache.lookup("group", "a", 1000);
    expect(calls).toHaveLength(1);
    cache.invalidate("group", "a");
    await cache.lookup("group", "a", 1000);
    expect(calls).toHaveLength(2);
  });

  it("retries COORDINATOR_NOT_AVAILABLE and gives up on non-retriable codes", async () => {
    let n = 0;
    const cache = new CoordinatorCache(async (_t, keys) => {
      n++;
      const answer: CoordinatorAnswer =
        keys[0] === "denied"
          ? { errorCode: 30, errorMessage: "denied" } // GROUP_AUTHORIZATION_FAILED
          : n < 3
            ? { errorCode: 15, errorMessage: null }
            : { node: node(7), errorCode: 0, errorMessage: null };
      return new Map([[keys[0] as string, answer]]);
    });
    expect((await cache.lookup("group", "g", 10_000)).nodeId).toBe(7);
    expect(n).toBe(3);
    const err = await cache.lookup("group", "denied", 10_000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KafkaError);
    expect((err as KafkaError).errorCode).toBe(30);
  });
});
