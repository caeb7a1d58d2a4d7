import { describe, expect, it } from "vitest";
import {
  type AssignmentInput,
  type AssignorMember,
  cooperativeStickyAssignor,
  rangeAssignor,
  roundRobinAssignor,
  stickyAssign,
} from "../../../src/consumer/group/assignors.js";
import type { TopicPartition } from "../../../src/consumer/partition.js";

function member(memberId: string, topics: string[], owned: TopicPartition[] = [], generationId = 1): AssignorMember {
  return { memberId, groupInstanceId: null, topics, ownedPartitions: owned, generationId, rackId: null };
}

function names(result: Map<string, TopicPartition[]>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [id, list] of result) out[id] = list.map((tp) => `${tp.topic}${tp.partition}`).sort();
  return out;
}

const counts = (entries: [string, number][]) => new Map(entries);

describe("rangeAssignor (Kafka's RangeAssignor)", () => {
  it("gives consecutive ranges per topic, extras to the first members (Java's documented example)", () => {
    const input: AssignmentInput = {
      members: [member("C1", ["t0", "t1"]), member("C0", ["t0", "t1"])],
      partitionsPerTopic: counts([
        ["t0", 3],
        ["t1", 3],
      ]),
    };
    expect(names(rangeAssignor.assign(input))).toEqual({ C0: ["t00", "t01", "t10", "t11"], C1: ["t02", "t12"] });
  });

  it("only members subscribed to a topic share it; static members sort first by instance id", () => {
    const input: AssignmentInput = {
      members: [member("a", ["t"]), { ...member("z", ["t"]), groupInstanceId: "i1" }, member("b", ["u"])],
      partitionsPerTopic: counts([
        ["t", 5],
        ["u", 2],
      ]),
    };
    expect(names(rangeAssignor.assign(input))).toEqual({ z: ["t0", "t1", "t2"], a: ["t3", "t4"], b: ["u0", "u1"] });
  });
});

describe("roundRobinAssignor (Kafka's RoundRobinAssignor)", () => {
  it("deals partitions in turn (Java's documented example, equal subscriptions)", () => {
    const input: AssignmentInput = {
      members: [member("C0", ["t0", "t1"]), member("C1", ["t0", "t1"])],
      partitionsPerTopic: counts([
        ["t0", 3],
        ["t1", 3],
      ]),
    };
    expect(names(roundRobinAssignor.assign(input))).toEqual({ C0: ["t00", "t02", "t11"], C1: ["t01", "t10", "t12"] });
  });

  it("skips members not subscribed (Java's documented example, unequal subscriptions)", () => {
    const input: AssignmentInput = {
      members: [member("C0", ["t0"]), member("C1", ["t0", "t1"]), member("C2", ["t0", "t1", "t2"])],
      partitionsPerTopic: counts([
        ["t0", 1],
        ["t1", 2],
        ["t2", 3],
      ]),
    };
    expect(names(roundRobinAssignor.assign(input))).toEqual({
      C0: ["t00"],
      C1: ["t10"],
      C2: ["t11", "t20", "t21", "t22"],
    });
  });
});

/** Runs cooperative rounds as a real group would: owners revoke what they lost, then rejoin. */
function converge(
  members: string[],
  partitions: number,
  owned: Map<string, TopicPartition[]>,
): { rounds: number; result: Map<string, TopicPartition[]>; moved: number } {
  let moved = 0;
  for (let round = 1; round <= 5; round++) {
    const input: AssignmentInput = {
      members: members.map((id) => member(id, ["t"], owned.get(id) ?? [], round)),
      partitionsPerTopic: counts([["t", partitions]]),
    };
    const result = cooperativeStickyAssignor.assign(input);
    let changed = false;
    for (const id of members) {
      const before = new Set((owned.get(id) ?? []).map((tp) => tp.partition));
      const after = new Set((result.get(id) ?? []).map((tp) => tp.partition));
      for (const p of before) if (!after.has(p)) moved++;
      if (before.size !== after.size || [...before].some((p) => !after.has(p))) changed = true;
    }
    owned = result;
    if (!changed) return { rounds: round, result, moved };
  }
  throw new Error("did not converge");
}

describe("cooperativeStickyAssignor", () => {
  it("first assignment is balanced and covers every partition once", () => {
    const { result } = converge(["a", "b", "c"], 12, new Map());
    const all = [...result.values()].flat().map((tp) => tp.partition);
    expect(all.sort((x, y) => x - y)).toEqual([...Array(12).keys()]);
    expect([...result.values()].map((l) => l.length)).toEqual([4, 4, 4]);
  });

  it("a joining member: owners keep all but what moves, which is withheld one round, then assigned", () => {
    const { result: start } = converge(["a", "b", "c"], 12, new Map());
    const input: AssignmentInput = {
      members: ["a", "b", "c", "d"].map((id) => member(id, ["t"], start.get(id) ?? [], 2)),
      partitionsPerTopic: counts([["t", 12]]),
    };
    const first = cooperativeStickyAssignor.assign(input);
    // Round 1: d gets nothing yet (every partition still has an owner); each owner keeps 3 of its 4.
    expect(first.get("d")).toEqual([]);
    for (const id of ["a", "b", "c"]) {
      const kept = first.get(id) ?? [];
      expect(kept).toHaveLength(3);
      const before = new Set((start.get(id) ?? []).map((tp) => tp.partition));
      expect(kept.every((tp) => before.has(tp.partition))).toBe(true);
    }
    const { result, moved } = converge(["a", "b", "c", "d"], 12, first);
    expect([...result.values()].map((l) => l.length).sort()).toEqual([3, 3, 3, 3]);
    expect(moved).toBe(0); // the second round only adds
    expect((result.get("d") ?? []).map((tp) => tp.partition).sort((x, y) => x - y)).toEqual(
      ["a", "b", "c"]
        .flatMap((id) =>
          (start.get(id) ?? []).filter((tp) => !(first.get(id) ?? []).some((k) => k.partition === tp.partition)),
        )
        .map((tp) => tp.partition)
        .sort((x, y) => x - y),
    );
  });

  it("a leaving member: its partitions spread over the others, nobody else loses any", () => {
    const { result: start } = converge(["a", "b", "c", "d"], 12, new Map());
    const next = new Map(start);
    next.delete("d");
    const { result, moved } = converge(["a", "b", "c"], 12, next);
    expect(moved).toBe(0);
    for (const id of ["a", "b", "c"]) {
      const kept = new Set((result.get(id) ?? []).map((tp) => tp.partition));
      expect((start.get(id) ?? []).every((tp) => kept.has(tp.partition))).toBe(true);
      expect(kept.size).toBe(4);
    }
  });

  it("random groups converge to a balanced, complete assignment, and stay put when nothing changes", () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    let owned = new Map<string, TopicPartition[]>();
    let members = ["m0", "m1"];
    for (let step = 0; step < 30; step++) {
      const partitions = 10 + Math.floor(random() * 20);
      if (random() < 0.5 && members.length < 8) members = [...members, `m${step + 2}`];
      else if (members.length > 1) members = members.filter((_, i) => i !== Math.floor(random() * members.length));
      // Partitions beyond the count (the topic shrank in this model) are dropped by the assignor.
      const { result } = converge(members, partitions, owned);
      const all = [...result.values()].flat().map((tp) => tp.partition);
      expect(all.sort((x, y) => x - y)).toEqual([...Array(partitions).keys()]);
      const sizes = [...result.values()].map((l) => l.length);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      const again = converge(members, partitions, result);
      expect(again.rounds).toBe(1);
      owned = result;
    }
  });

  it("stickyAssign balances unequal subscriptions where it can", () => {
    const input: AssignmentInput = {
      members: [member("a", ["t", "u"]), member("b", ["t"]), member("c", ["u"])],
      partitionsPerTopic: counts([
        ["t", 4],
        ["u", 2],
      ]),
    };
    const result = stickyAssign(input);
    expect([...result.values()].map((l) => l.length)).toEqual([2, 2, 2]);
    expect(result.get("b")?.every((tp) => tp.topic === "t")).toBe(true);
    expect(result.get("c")?.every((tp) => tp.topic === "u")).toBe(true);
  });
});
