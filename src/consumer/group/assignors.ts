/**
 * Classic-protocol partition assignors, run by the group leader: range and roundrobin (eager:
 * every member gives up everything before a rebalance), and cooperative-sticky (incremental:
 * members keep what they own, and a partition that must move is left unassigned for one
 * round while its owner revokes it). Pure functions of the group's subscriptions, with the
 * same names and results as Kafka's Java assignors for the same input.
 */
import type { TopicPartition } from "../partition.js";

/** One member as the leader sees it in JoinGroup. */
export interface AssignorMember {
  memberId: string;
  groupInstanceId: string | null;
  /** Subscribed topics. */
  topics: readonly string[];
  /** What the member owns now (cooperative protocol). */
  ownedPartitions: readonly TopicPartition[];
  /** The generation in which it owned them; -1 if unknown. */
  generationId: number;
  rackId: string | null;
}

/** What an assignor gets: the members and the partition counts of their topics. */
export interface AssignmentInput {
  members: readonly AssignorMember[];
  /** Partition count per subscribed topic that exists. */
  partitionsPerTopic: ReadonlyMap<string, number>;
}

/** A partition assignor: your own, or one of {@link rangeAssignor}, {@link roundRobinAssignor}, {@link cooperativeStickyAssignor}. */
export interface Assignor {
  /** The protocol name sent in JoinGroup; every member must offer the one the group uses. */
  name: string;
  /** "cooperative" assignors never move a partition in one step (see the module comment). Default "eager". */
  rebalanceProtocol?: "eager" | "cooperative";
  /** Partitions per member id. Members left out get nothing. */
  assign(input: AssignmentInput): Map<string, TopicPartition[]>;
}

/** Java's member order (MemberInfo.compareTo): static members first, by instance id; then the rest by member id. */
function memberOrder(a: AssignorMember, b: AssignorMember): number {
  const ka = a.groupInstanceId ?? a.memberId;
  const kb = b.groupInstanceId ?? b.memberId;
  if (a.groupInstanceId !== null && b.groupInstanceId === null) return -1;
  if (a.groupInstanceId === null && b.groupInstanceId !== null) return 1;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

function emptyResult(members: readonly AssignorMember[]): Map<string, TopicPartition[]> {
  return new Map(members.map((m) => [m.memberId, []]));
}

function sortedTopics(input: AssignmentInput): string[] {
  const topics = new Set<string>();
  for (const m of input.members) for (const t of m.topics) if (input.partitionsPerTopic.has(t)) topics.add(t);
  return [...topics].sort();
}

/**
 * Kafka's RangeAssignor: per topic, the members subscribed to it (in order) get consecutive
 * ranges; the first `partitions % members` get one extra.
 */
export const rangeAssignor: Assignor = {
  name: "range",
  rebalanceProtocol: "eager",
  assign(input) {
    const result = emptyResult(input.members);
    for (const topic of sortedTopics(input)) {
      const count = input.partitionsPerTopic.get(topic) ?? 0;
      const members = input.members.filter((m) => m.topics.includes(topic)).sort(memberOrder);
      const per = Math.floor(count / members.length);
      const extra = count % members.length;
      members.forEach((m, i) => {
        const start = per * i + Math.min(i, extra);
        const length = per + (i < extra ? 1 : 0);
        const list = result.get(m.memberId) as TopicPartition[];
        for (let p = start; p < start + length; p++) list.push({ topic, partition: p });
      });
    }
    return result;
  },
};

/**
 * Kafka's RoundRobinAssignor: every partition of every subscribed topic, sorted by topic and
 * partition, dealt in turn to the members (in order), skipping members not subscribed to it.
 */
export const roundRobinAssignor: Assignor = {
  name: "roundrobin",
  rebalanceProtocol: "eager",
  assign(input) {
    const result = emptyResult(input.members);
    const members = [...input.members].sort(memberOrder);
    if (members.length === 0) return result;
    let at = 0;
    for (const topic of sortedTopics(input)) {
      const count = input.partitionsPerTopic.get(topic) ?? 0;
      for (let p = 0; p < count; p++) {
        // Some member is subscribed (the topic came from a subscription), so this ends.
        while (!(members[at % members.length] as AssignorMember).topics.includes(topic)) at++;
        const m = members[at % members.length] as AssignorMember;
        (result.get(m.memberId) as TopicPartition[]).push({ topic, partition: p });
        at++;
      }
    }
    return result;
  },
};

const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/**
 * Balanced and sticky: members keep the valid partitions they own (up to their fair share),
 * the rest go to the least-loaded subscribed member, then partitions move from members with
 * two or more above another subscribed member until no such pair remains.
 */
export function stickyAssign(input: AssignmentInput): Map<string, TopicPartition[]> {
  const members = [...input.members].sort(memberOrder);
  const assigned = new Map<string, TopicPartition[]>(members.map((m) => [m.memberId, []]));
  if (members.length === 0) return assigned;
  const all: TopicPartition[] = [];
  for (const topic of sortedTopics(input)) {
    const count = input.partitionsPerTopic.get(topic) ?? 0;
    for (let p = 0; p < count; p++) all.push({ topic, partition: p });
  }
  const subscribed = new Map(members.map((m) => [m.memberId, new Set(m.topics)]));
  // A partition claimed by two members (a stale claim after a missed rebalance) goes to the
  // claim from the newest generation; equal claims are both dropped.
  const claims = new Map<string, { memberId: string; generation: number; tie: boolean }>();
  for (const m of members) {
    for (const tp of m.ownedPartitions) {
      const count = input.partitionsPerTopic.get(tp.topic);
      if (count === undefined || tp.partition >= count || !subscribed.get(m.memberId)?.has(tp.topic)) continue;
      const k = key(tp.topic, tp.partition);
      const old = claims.get(k);
      if (!old || m.generationId > old.generation)
        claims.set(k, { memberId: m.memberId, generation: m.generationId, tie: false });
      else if (m.generationId === old.generation) old.tie = true;
    }
  }
  const floor = Math.floor(all.length / members.length);
  let bonus = all.length % members.length;
  const owner = new Map<string, string>();
  // Members owning the most keep the extra slots first, so stickiness is maximal.
  const byOwned = [...members].sort((a, b) => b.ownedPartitions.length - a.ownedPartitions.length || memberOrder(a, b));
  for (const m of byOwned) {
    const keep = m.ownedPartitions
      .filter((tp) => {
        const c = claims.get(key(tp.topic, tp.partition));
        return c !== undefined && !c.tie && c.memberId === m.memberId;
      })
      .sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
    let quota = floor;
    if (keep.length > floor && bonus > 0) {
      quota = floor + 1;
      bonus--;
    }
    for (const tp of keep.slice(0, quota)) {
      (assigned.get(m.memberId) as TopicPartition[]).push(tp);
      owner.set(key(tp.topic, tp.partition), m.memberId);
    }
  }
  const load = (id: string) => (assigned.get(id) as TopicPartition[]).length;
  for (const tp of all) {
    if (owner.has(key(tp.topic, tp.partition))) continue;
    let best: AssignorMember | undefined;
    for (const m of members) {
      if (!subscribed.get(m.memberId)?.has(tp.topic)) continue;
      if (!best || load(m.memberId) < load(best.memberId)) best = m;
    }
    if (!best) continue;
    (assigned.get(best.memberId) as TopicPartition[]).push(tp);
    owner.set(key(tp.topic, tp.partition), best.memberId);
  }
  // Heterogeneous subscriptions can leave imbalance the fill did not fix: move one partition
  // at a time from the most to the least loaded member that can take it.
  for (let moved = true, rounds = 0; moved && rounds < all.length; rounds++) {
    moved = false;
    const order = [...members].sort((a, b) => load(b.memberId) - load(a.memberId) || memberOrder(a, b));
    for (const rich of order) {
      for (const poor of [...order].reverse()) {
        if (load(rich.memberId) - load(poor.memberId) < 2) break;
        const list = assigned.get(rich.memberId) as TopicPartition[];
        const at = list.findIndex((tp) => subscribed.get(poor.memberId)?.has(tp.topic));
        if (at < 0) continue;
        const [tp] = list.splice(at, 1) as [TopicPartition];
        (assigned.get(poor.memberId) as TopicPartition[]).push(tp);
        moved = true;
        break;
      }
      if (moved) break;
    }
  }
  return assigned;
}

/**
 * Kafka's CooperativeStickyAssignor contract: a sticky, balanced target, minus every
 * partition whose previous owner is someone else. That owner sees the partition missing,
 * revokes it and rejoins; the follow-up rebalance hands it to its new member.
 */
export const cooperativeStickyAssignor: Assignor = {
  name: "cooperative-sticky",
  rebalanceProtocol: "cooperative",
  assign(input) {
    const target = stickyAssign(input);
    const previousOwner = new Map<string, string>();
    for (const m of input.members) {
      for (const tp of m.ownedPartitions) previousOwner.set(key(tp.topic, tp.partition), m.memberId);
    }
    for (const [memberId, list] of target) {
      target.set(
        memberId,
        list.filter((tp) => {
          const prev = previousOwner.get(key(tp.topic, tp.partition));
          return prev === undefined || prev === memberId;
        }),
      );
    }
    return target;
  },
};

/** The built-in assignors by name. */
export const BUILTIN_ASSIGNORS: ReadonlyMap<string, Assignor> = new Map([
  ["range", rangeAssignor],
  ["roundrobin", roundRobinAssignor],
  ["cooperative-sticky", cooperativeStickyAssignor],
]);
