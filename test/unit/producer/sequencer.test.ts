import { describe, expect, it } from "vitest";
import { addSequence, PartitionSequencer } from "../../../src/producer/sequencer.js";

describe("PartitionSequencer", () => {
  it("assigns consecutive base sequences and knows which batch the broker expects next", () => {
    const s = new PartitionSequencer();
    expect([s.assign(10), s.assign(5), s.assign(1)]).toEqual([0, 10, 15]);
    expect(s.next).toBe(16);
    expect(s.isNextExpected(0)).toBe(true);
    s.acknowledged(0, 10);
    expect(s.lastAcked).toBe(9);
    expect(s.isNextExpected(10)).toBe(true);
    expect(s.isNextExpected(15)).toBe(false);
  });

  it("wraps from INT32_MAX to 0 as the broker does", () => {
    expect(addSequence(2_147_483_647, 1)).toBe(0);
    expect(addSequence(2_147_483_640, 10)).toBe(2);
    const s = new PartitionSequencer();
    s.acknowledged(2_147_483_638, 10); // last acked = INT32_MAX
    expect(s.isNextExpected(0)).toBe(true);
  });

  it("a batch lost after its sequence was assigned needs an epoch reset (regression: one delivery timeout wedged the partition)", () => {
    const s = new PartitionSequencer();
    s.assign(1000);
    s.acknowledged(0, 1000);
    s.assign(1000); // 1000..1999: times out
    s.assign(1000); // 2000..2999
    expect(s.needsReset).toBe(false);
    s.lost();
    expect(s.needsReset).toBe(true);
    s.reset();
    expect([s.needsReset, s.next, s.lastAcked, s.draining]).toEqual([false, 0, -1, false]);
    expect(s.assign(7)).toBe(0);
  });

  it("drains after a requeue until told nothing is in flight", () => {
    const s = new PartitionSequencer();
    s.requeued();
    expect(s.draining).toBe(true);
    s.drained();
    expect(s.draining).toBe(false);
  });

  it("treats an out-of-sync broker (UNKNOWN_PRODUCER_ID) like a lost batch", () => {
    const s = new PartitionSequencer();
    s.outOfSync();
    expect(s.needsReset).toBe(true);
  });
});
