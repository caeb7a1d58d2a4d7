import { describe, expect, it } from "vitest";
import { Fifo } from "../../../src/util/fifo.js";

describe("Fifo", () => {
  it("keeps order across compactions", () => {
    const q = new Fifo<number>();
    const out: number[] = [];
    for (let i = 0; i < 10_000; i++) {
      q.push(i);
      if (i % 3 === 0) out.push(q.shift() as number);
    }
    while (q.length > 0) out.push(q.shift() as number);
    expect(out).toEqual(Array.from({ length: 10_000 }, (_, i) => i));
    expect(q.shift()).toBeUndefined();
  });

  it("removes matching items in place and drains", () => {
    const q = new Fifo<number>();
    for (let i = 0; i < 10; i++) q.push(i);
    q.shift();
    expect(q.removeWhere((n) => n % 2 === 0)).toEqual([2, 4, 6, 8]);
    expect(q.peek()).toBe(1);
    expect(q.drain()).toEqual([1, 3, 5, 7, 9]);
    expect(q.length).toBe(0);
  });
});
