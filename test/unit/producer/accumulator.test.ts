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
    for (let i = 3; i < 8; i++) b.addOwner(d, undefined, i, 42);
    expect(b.runOwners[0]).toBe(d);
    expect([b.runOwners.length, b.runStarts, b.runCounts, b.runTimestamps]).toEqual([1, [3], [5], [42]]);
  });

  it("another send, a gap in the results, or another timestamp starts a new run", () => {
    const b = new ProducerBatch(queue, 0, 1000, 1024);
    const [d1, d2] = [delivery(), delivery()];
    b.addOwner(d1, undefined, 0, 1);
    b.addOwner(d1, undefined, 1, 1);
    b.addOwner(d2, undefined, 2, 1); // another delivery
    b.addOwner(d2, undefined, 4, 1); // index 3 went to another partition
    b.addOwner(d2, undefined, 5, 7); // its own timestamp
    expect(b.runOwners.map((d) => (d === d1 ? "d1" : d === d2 ? "d2" : "?"))).toEqual(["d1", "d2", "d2", "d2"]);
    expect(b.runStarts).toEqual([0, 2, 4, 5]);
    expect(b.runCounts).toEqual([2, 1, 1, 1]);
    expect(b.runTimestamps).toEqual([1, 1, 1, 7]);
  });

  it("one-record sends sharing a callback and a millisecond make one run, whatever their index", () => {
    const b = new ProducerBatch(queue, 0, 1000, 1024);
    const cb = () => {};
    const other = () => {};
    for (let i = 0; i < 4; i++) b.addOwner(cb, undefined, 0, 9);
    b.addOwner(other, undefined, 0, 9);
    b.addOwner(cb, undefined, 0, 10);
    expect(b.runOwners.map((o) => (o === cb ? "cb" : o === other ? "other" : "?"))).toEqual(["cb", "other", "cb"]);
    expect(b.runCounts).toEqual([4, 1, 1]);
  });

  it("one-record promises never share a run: each has its own resolve and reject", () => {
    const b = new ProducerBatch(queue, 0, 1000, 1024);
    const resolve = () => {};
    const reject = () => {};
    b.addOwner(resolve, reject, 0, 9);
    b.addOwner(resolve, reject, 0, 9);
    expect(b.runCounts).toEqual([1, 1]);
    expect(b.runRejects).toEqual([reject, reject]);
  });
});
