import { describe, expect, it } from "vitest";
import { Accumulator, type PartitionQueue, ProducerBatch } from "../../../src/producer/accumulator.js";
import { Delivery } from "../../../src/producer/delivery.js";
import { newPrepared } from "../../../src/producer/prepare.js";
import { decodeRecordBatchesSync } from "../../../src/protocol/records/index.js";

const queue = {} as PartitionQueue;
const delivery = () =>
  new Delivery(
    10,
    () => {},
    () => {},
  );

/** A batch's runs as plain arrays. */
function runs(b: ProducerBatch) {
  const r = Array.from({ length: b.runCount }, (_, i) => i);
  return {
    owners: r.map((i) => b.runOwner(i)),
    rejects: r.map((i) => b.runReject(i)),
    starts: r.map((i) => b.runStart(i)),
    counts: r.map((i) => b.runLength(i)),
    timestamps: r.map((i) => b.runTimestamp(i)),
  };
}

describe("ProducerBatch owners (run-length coded)", () => {
  it("consecutive results of one send with one timestamp make one run", () => {
    const b = new ProducerBatch(queue, 0, 1000, 1024);
    const d = delivery();
    for (let i = 3; i < 8; i++) b.addOwner(d, undefined, i, 42);
    const { owners, starts, counts, timestamps } = runs(b);
    expect(owners[0]).toBe(d);
    expect([owners.length, starts, counts, timestamps]).toEqual([1, [3], [5], [42]]);
  });

  it("another send, a gap in the results, or another timestamp starts a new run", () => {
    const b = new ProducerBatch(queue, 0, 1000, 1024);
    const [d1, d2] = [delivery(), delivery()];
    b.addOwner(d1, undefined, 0, 1);
    b.addOwner(d1, undefined, 1, 1);
    b.addOwner(d2, undefined, 2, 1); // another delivery
    b.addOwner(d2, undefined, 4, 1); // index 3 went to another partition
    b.addOwner(d2, undefined, 5, 7); // its own timestamp
    const { owners, starts, counts, timestamps } = runs(b);
    expect(owners.map((d) => (d === d1 ? "d1" : d === d2 ? "d2" : "?"))).toEqual(["d1", "d2", "d2", "d2"]);
    expect(starts).toEqual([0, 2, 4, 5]);
    expect(counts).toEqual([2, 1, 1, 1]);
    expect(timestamps).toEqual([1, 1, 1, 7]);
  });

  it("one-record sends sharing a callback and a millisecond make one run, whatever their index", () => {
    const b = new ProducerBatch(queue, 0, 1000, 1024);
    const cb = () => {};
    const other = () => {};
    for (let i = 0; i < 4; i++) b.addOwner(cb, undefined, 0, 9);
    b.addOwner(other, undefined, 0, 9);
    b.addOwner(cb, undefined, 0, 10);
    const { owners, counts } = runs(b);
    expect(owners.map((o) => (o === cb ? "cb" : o === other ? "other" : "?"))).toEqual(["cb", "other", "cb"]);
    expect(counts).toEqual([4, 1, 1]);
  });

  it("one-record promises never share a run: each has its own resolve and reject", () => {
    const b = new ProducerBatch(queue, 0, 1000, 1024);
    const resolve = () => {};
    const reject = () => {};
    b.addOwner(resolve, reject, 0, 9);
    b.addOwner(resolve, reject, 0, 9);
    expect(runs(b).counts).toEqual([1, 1]);
    expect(runs(b).rejects).toEqual([reject, reject]);
  });

  it("runs beyond the room a batch was made with grow it and keep every earlier run", () => {
    const b = new ProducerBatch(queue, 0, 1000, 1024, 2);
    const callbacks = Array.from({ length: 37 }, () => () => {});
    const stamp = 1_733_000_000_000; // past 2^31: stored exactly
    callbacks.forEach((cb, i) => {
      b.addOwner(cb, undefined, 0, stamp + i);
      if (i % 3 === 0) b.addOwner(cb, undefined, 0, stamp + i);
    });
    const { owners, counts, timestamps } = runs(b);
    expect(owners.length).toBe(37);
    expect(owners.every((o, i) => o === callbacks[i])).toBe(true);
    expect(counts).toEqual(callbacks.map((_, i) => (i % 3 === 0 ? 2 : 1)));
    expect(timestamps).toEqual(callbacks.map((_, i) => stamp + i));
  });

  it("a grow keeps promise rejects and a Delivery's result indexes beside their owners", () => {
    const b = new ProducerBatch(queue, 0, 1000, 1024, 2);
    const d = delivery();
    const promises = Array.from({ length: 9 }, () => ({ resolve: () => {}, reject: () => {} }));
    // Runs alternate: a promise's record, then two results of the Delivery (indexes 2k, 2k+1).
    promises.forEach((p, k) => {
      b.addOwner(p.resolve, p.reject, 0, 5);
      b.addOwner(d, undefined, 2 * k, 5);
      b.addOwner(d, undefined, 2 * k + 1, 5);
    });
    const { owners, rejects, starts, counts } = runs(b);
    expect(owners.length).toBe(18);
    for (let k = 0; k < 9; k++) {
      expect([owners[2 * k], rejects[2 * k], counts[2 * k]]).toEqual([promises[k]?.resolve, promises[k]?.reject, 1]);
      expect([owners[2 * k + 1], rejects[2 * k + 1], starts[2 * k + 1], counts[2 * k + 1]]).toEqual([
        d,
        undefined,
        2 * k,
        2,
      ]);
    }
  });
});

describe("Accumulator batches", () => {
  it("a batch's base timestamp is its first record's; a later, earlier timestamp keeps its value", () => {
    const acc = new Accumulator(
      { batchBytes: 1 << 20, lingerMs: 5, deliveryTimeoutMs: 120_000, bufferMemory: 1 << 24 },
      () => {},
    );
    const q = acc.queue("t", 0);
    const first = 1_700_000_000_000;
    const stamps = [first, first - 86_400_000, first + 5, 0];
    stamps.forEach((timestamp, i) => {
      const p = newPrepared();
      p.value = Buffer.from(`v${i}`);
      p.timestamp = timestamp;
      p.topic = "t";
      p.size = 64;
      acc.append(q, p, () => {}, undefined, 0);
    });
    const built = q.open?.builder?.build() as Buffer;
    const [batch] = decodeRecordBatchesSync(Buffer.from(built));
    expect(batch?.baseTimestamp).toBe(first);
    expect(batch?.maxTimestamp).toBe(first + 5);
    expect(batch?.records.map((r) => (batch?.baseTimestamp ?? 0) + r.timestampDelta)).toEqual(stamps);
    expect(batch?.records.map((r) => r.value?.toString())).toEqual(["v0", "v1", "v2", "v3"]);
  });
});
