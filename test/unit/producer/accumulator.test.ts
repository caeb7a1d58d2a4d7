import { describe, expect, it } from "vitest";
import { type PartitionQueue, ProducerBatch } from "../../../src/producer/accumulator.js";
import { Delivery } from "../../../src/producer/delivery.js";

const queue = {} as PartitionQueue;
const delivery = () =>
  new Delivery(
    10,
    () => {},
    () => {},
  );

describe("ProducerBatch owners (run-length coded)", () => {
  it("consecutive results of one send with one timestamp make one run", () => {
    const b = new ProducerBatch(queue, 0, 1000, 1024);
    const d = delivery();
    for (let i = 3; i < 8; i++) b.addOwner(d, i, 42);
    expect(b.runDeliveries[0]).toBe(d);
    expect([b.runDeliveries.length, b.runStarts, b.runCounts, b.runTimestamps]).toEqual([1, [3], [5], [42]]);
  });

  it("another send, a gap in the results, or another timestamp starts a new run", () => {
    const b = new ProducerBatch(queue, 0, 1000, 1024);
    const [d1, d2] = [delivery(), delivery()];
    b.addOwner(d1, 0, 1);
    b.addOwner(d1, 1, 1);
    b.addOwner(d2, 2, 1); // another delivery
    b.addOwner(d2, 4, 1); // index 3 went to another partition
    b.addOwner(d2, 5, 7); // its own timestamp
    expect(b.runDeliveries.map((d) => (d === d1 ? "d1" : d === d2 ? "d2" : "?"))).toEqual(["d1", "d2", "d2", "d2"]);
    expect(b.runStarts).toEqual([0, 2, 4, 5]);
    expect(b.runCounts).toEqual([2, 1, 1, 1]);
    expect(b.runTimestamps).toEqual([1, 1, 1, 7]);
  });
});
