import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { Delivery, RecordMetadata } from "../../../src/producer/delivery.js";

describe("RecordMetadata", () => {
  it("offset is the batch's base offset plus the record's place in it", () => {
    const m = new RecordMetadata("t", 3, 9_007_199_254_740_993n, 7, 1_700_000_000_000);
    expect(m.offset).toBe(9_007_199_254_741_000n);
    expect(m.topic).toBe("t");
    expect(m.partition).toBe(3);
    expect(m.timestamp).toBe(1_700_000_000_000);
  });

  it("offset is -1n when the broker gave none (acks=0), whatever the place", () => {
    expect(new RecordMetadata("t", 0, -1n, 5, 0).offset).toBe(-1n);
  });

  it("shows the offset in JSON (as a string) and in console.log", () => {
    const m = new RecordMetadata("t", 1, 40n, 2, 5);
    expect(JSON.parse(JSON.stringify(m))).toEqual({ topic: "t", partition: 1, offset: "42", timestamp: 5 });
    expect(inspect(m)).toContain("offset: 42n");
  });
});

describe("Delivery", () => {
  it("resolves once, in input order, when the last record's report arrives", () => {
    const seen: RecordMetadata[][] = [];
    const d = new Delivery(
      2,
      (r) => seen.push(r),
      () => {},
    );
    d.complete(1, new RecordMetadata("t", 0, 10n, 1, 0));
    expect(seen).toEqual([]);
    d.complete(0, new RecordMetadata("t", 0, 10n, 0, 0));
    expect(seen.length).toBe(1);
    expect(seen[0]?.map((m) => m.offset)).toEqual([10n, 11n]);
    d.fail(new Error("late"));
    expect(d.settled).toBe(true);
  });
});
