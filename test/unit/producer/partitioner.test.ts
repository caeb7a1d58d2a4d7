import { describe, expect, it } from "vitest";
import {
  murmur2,
  partitionForKey,
  roundRobinPartitioner,
  StickyPartitioner,
  toPositive,
} from "../../../src/producer/partitioner.js";

describe("murmur2", () => {
  it("matches Java's Utils.murmur2 on known vectors", () => {
    // Vectors from Kafka's own UtilsTest.
    expect(murmur2(Buffer.from("21"))).toBe(-973932308);
    expect(murmur2(Buffer.from("foobar"))).toBe(-790332482);
    expect(murmur2(Buffer.from("a-little-bit-long-string"))).toBe(-985981536);
    expect(murmur2(Buffer.from("a-little-bit-longer-string"))).toBe(-1486304829);
    expect(murmur2(Buffer.from("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8"))).toBe(-58897971);
    expect(murmur2(Buffer.from("abc"))).toBe(479470107);
  });

  it("keeps Integer.MIN_VALUE positive like Java's toPositive", () => {
    expect(toPositive(-2147483648)).toBe(0);
    expect(toPositive(-1)).toBe(2147483647);
    expect(partitionForKey(Buffer.from("foobar"), 6)).toBe(toPositive(-790332482) % 6);
  });
});

describe("StickyPartitioner (KIP-794)", () => {
  it("stays on one partition until batchBytes were produced, then switches", () => {
    let r = 0;
    const sticky = new StickyPartitioner(1000, () => (r = (r + 0.37) % 1));
    const picks = Array.from({ length: 30 }, () => sticky.partition("t", 100, [0, 1, 2, 3], { queuedBytes: () => 0 }));
    for (let i = 0; i < 30; i += 10) expect(new Set(picks.slice(i, i + 10)).size).toBe(1);
  });

  it("leans towards less loaded partitions", () => {
    const counts = [0, 0];
    const sticky = new StickyPartitioner(1, Math.random);
    for (let i = 0; i < 4000; i++)
      counts[sticky.partition("t", 1, [0, 1], { queuedBytes: (_t, p) => (p === 0 ? 9 : 0) })]! += 1;
    // Weights 1 and 10: partition 1 should get about 10/11 of the switches.
    expect((counts[1] as number) / 4000).toBeGreaterThan(0.85);
  });

  it("round-robin cycles through available partitions", () => {
    const rr = roundRobinPartitioner();
    const ctx = { topic: "t", key: null, partitionCount: 3, availablePartitions: [0, 2] };
    expect([rr(ctx), rr(ctx), rr(ctx)]).toEqual([0, 2, 0]);
  });
});
