import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { Client } from "../../../src/client.js";
import type { ConsumerOptions } from "../../../src/consumer/options.js";
import { InvalidArgumentError } from "../../../src/protocol/errors.js";
import { KafkaError } from "../../../src/protocol/kafka-error.js";
import { ConsumerGroupHeartbeat, LeaveGroup } from "../../../src/protocol/messages/index.js";
import { createTopic } from "../../helpers/topics.js";
import { committedOffsets, produceNumbered } from "./helpers.js";
import { handedOut, Member, ordered, until } from "./member.js";

/** Log end per partition of a topic filled by produceNumbered(count) over `partitions`. */
function logEnds(count: number, partitions: number): bigint[] {
  return Array.from({ length: partitions }, (_, p) =>
    BigInt(Math.floor(count / partitions) + (p < count % partitions ? 1 : 0)),
  );
}

const PROTOCOLS: { name: string; options: ConsumerOptions }[] = [
  { name: "KIP-848 (groupProtocol consumer)", options: { groupProtocol: "consumer" } },
  {
    name: "classic, cooperative-sticky",
    options: { groupProtocol: "classic", heartbeatIntervalMs: 500, sessionTimeoutMs: 10_000 },
  },
];

for (const protocol of PROTOCOLS) {
  describe(`Consumer group: ${protocol.name}`, () => {
    const bootstrap = inject("kafkaBootstrap");
    let client: Client;
    const members: Member[] = [];
    const member = (name: string, groupId: string, extra: ConsumerOptions = {}) => {
      const m = new Member(bootstrap, name, { groupId, ...protocol.options, ...extra });
      members.push(m);
      return m;
    };
    beforeAll(() => {
      client = new Client({ bootstrap });
    });
    afterAll(async () => {
      await Promise.all(members.map((m) => m.close().catch(() => {})));
      client.close();
    });

    it("3 members split 12 partitions; 100,000 records are each handed out exactly once; commits reach the log end", async () => {
      const topic = `g-once-${randomUUID()}`;
      const groupId = `g-${randomUUID()}`;
      await createTopic(client, topic, 12);
      const group = [member("a", groupId), member("b", groupId), member("c", groupId)];
      for (const m of group) m.start(topic, { every: 1000, sleepMs: 1 });
      await until("4 partitions each", () => group.every((m) => m.partitions.length === 4));
      expect(group.flatMap((m) => m.partitions).sort((x, y) => x - y)).toEqual([...Array(12).keys()]);
      const protocolInUse = group[0]?.consumer.groupProtocol;
      expect(protocolInUse).toBe(protocol.options.groupProtocol);
      await produceNumbered(client, topic, 100_000, 12);
      await until("100k handed out", () => handedOut(group).size === 100_000);
      const counts = handedOut(group);
      expect([...counts.values()].every((n) => n === 1)).toBe(true);
      for (const m of group) {
        expect(m.error).toBeUndefined();
        expect(ordered(m)).toBe(true);
        // Each member read only its own partitions.
        const own = new Set(m.partitions);
        expect(m.seen.every((s) => own.has(s.partition))).toBe(true);
      }
      await Promise.all(group.map((m) => m.close()));
      expect(await committedOffsets(client, groupId, topic, 12)).toEqual(logEnds(100_000, 12));
    });

    it("a 4th member joins and one leaves mid-stream: nothing lost, order kept, only moved partitions are revoked", async () => {
      const topic = `g-churn-${randomUUID()}`;
      const groupId = `g-${randomUUID()}`;
      await createTopic(client, topic, 12);
      const [a, b, c] = [member("a", groupId), member("b", groupId), member("c", groupId)];
      for (const m of [a, b, c]) m.start(topic);
      await until("4 partitions each", () => [a, b, c].every((m) => m.partitions.length === 4));
      const revokedBefore = new Map([b, c].map((m) => [m, m.revoked.length]));
      await produceNumbered(client, topic, 30_000, 12);
      await until("5k handed out", () => handedOut([a, b, c]).size >= 5_000);
      const d = member("d", groupId).start(topic);
      await until("d owns partitions", () => d.partitions.length > 0);
      await until("15k handed out", () => handedOut([a, b, c, d]).size >= 15_000);
      await a.close();
      await until("30k handed out", () => handedOut([a, b, c, d]).size === 30_000);
      const all = [a, b, c, d];
      for (const m of all) {
        expect(m.error, m.name).toBeUndefined();
        expect(ordered(m), m.name).toBe(true);
      }
      // Incremental: b and c each gave up one partition for d, and nothing else.
      for (const m of [b, c]) {
        const revokedSince = m.revoked.slice(revokedBefore.get(m));
        expect(revokedSince.length, m.name).toBeLessThanOrEqual(1);
        for (const r of revokedSince) expect(r.length, m.name).toBe(1);
      }
      await Promise.all([b, c, d].map((m) => m.close()));
      expect(await committedOffsets(client, groupId, topic, 12)).toEqual(logEnds(30_000, 12));
      const counts = handedOut(all);
      const duplicates = [...counts.values()].filter((n) => n > 1).length;
      // At least once; commit-on-revoke after the held record makes it exactly once here.
      expect(duplicates).toBe(0);
    });

    it("close() commits and leaves; a new member resumes from the commits; listeners (async) see each step", async () => {
      const topic = `g-resume-${randomUUID()}`;
      const groupId = `g-${randomUUID()}`;
      await createTopic(client, topic, 3);
      await produceNumbered(client, topic, 300, 3);
      const first = member("first", groupId, { autoCommit: false }).start(topic, { every: 1, sleepMs: 1 });
      await until("100 handed out", () => first.seen.length >= 100);
      // An explicit commit of everything consumed, then close without auto-commit.
      await first.consumer.commit();
      const committed = await committedOffsets(client, groupId, topic, 3);
      await first.close();
      expect(
        first.assigned
          .flat()
          .map((tp) => tp.partition)
          .sort(),
      ).toEqual([0, 1, 2]);
      expect(
        first.revoked
          .flat()
          .map((tp) => tp.partition)
          .sort(),
      ).toEqual([0, 1, 2]);
      // Consumed beyond the commit: those are handed out again (at least once), nothing skipped.
      const second = member("second", groupId).start(topic);
      const expectedSecond = 300 - committed.reduce((s, o) => s + Number(o), 0);
      await until("the rest handed out", () => second.seen.length >= expectedSecond);
      const byPartition = new Map<number, bigint[]>();
      for (const s of second.seen) byPartition.set(s.partition, [...(byPartition.get(s.partition) ?? []), s.offset]);
      for (const p of [0, 1, 2]) {
        const start = committed[p] as bigint;
        expect(byPartition.get(p)?.[0] ?? 100n, `partition ${p}`).toBe(start);
        expect(byPartition.get(p)?.length ?? 0).toBe(100 - Number(start));
      }
      await second.close();
      expect(await committedOffsets(client, groupId, topic, 3)).toEqual([100n, 100n, 100n]);
    });

    it("commit() inside an async revoked listener stores the revoked partitions' positions (autoCommit off)", async () => {
      const topic = `g-listener-${randomUUID()}`;
      const groupId = `g-${randomUUID()}`;
      await createTopic(client, topic, 2);
      await produceNumbered(client, topic, 100, 2);
      const own = new Client({ bootstrap });
      const consumer = own.consumer({ groupId, autoOffsetReset: "earliest", autoCommit: false, ...protocol.options });
      const revoked: number[] = [];
      consumer.subscribe(topic, {
        revoked: async (partitions) => {
          await new Promise((r) => setTimeout(r, 20));
          await consumer.commit();
          revoked.push(...partitions.map((p) => p.partition));
        },
      });
      let seen = 0;
      const loop = (async () => {
        for await (const _ of consumer) seen++;
      })();
      try {
        await until("100 handed out", () => seen === 100);
        expect(await committedOffsets(client, groupId, topic, 2)).toEqual([-1n, -1n]);
        const other = member("other", groupId).start(topic);
        await until("one partition revoked", () => revoked.length === 1);
        const moved = revoked[0] as number;
        const committed = await committedOffsets(client, groupId, topic, 2);
        expect(committed[moved]).toBe(50n);
        await until("other owns it", () => other.partitions.includes(moved));
        // The new owner starts after what was committed: it is handed nothing.
        await new Promise((r) => setTimeout(r, 500));
        expect(other.seen).toEqual([]);
      } finally {
        await consumer.close();
        await loop;
        own.close();
      }
    });

    it("subscribes by pattern: matching topics only", async () => {
      const prefix = `g-re-${randomUUID().slice(0, 8)}`;
      const groupId = `g-${randomUUID()}`;
      await createTopic(client, `${prefix}-a`, 2);
      await createTopic(client, `${prefix}-b`, 1);
      await createTopic(client, `${prefix}x-c`, 1);
      for (const t of [`${prefix}-a`, `${prefix}-b`, `${prefix}x-c`]) await produceNumbered(client, t, 10, 1);
      const m = member("re", groupId).start(new RegExp(`${prefix}-.*`));
      await until("20 handed out", () => m.seen.length >= 20);
      await new Promise((r) => setTimeout(r, 300));
      expect(m.seen).toHaveLength(20);
      expect(
        m.consumer
          .assignment()
          .map((tp) => `${tp.topic.slice(prefix.length)}/${tp.partition}`)
          .sort(),
      ).toEqual(["-a/0", "-a/1", "-b/0"]);
      await m.close();
    });

    it("bad subscriptions → typed errors", async () => {
      const groupId = `g-${randomUUID()}`;
      const m = member("bad", groupId);
      expect(() => m.consumer.subscribe(/orders/i)).toThrow(InvalidArgumentError);
      expect(() => m.consumer.subscribe([])).toThrow(expect.objectContaining({ argument: "topics" }));
      expect(() => m.consumer.subscribe(["ok", "not ok"])).toThrow(expect.objectContaining({ argument: "topics" }));
      if (protocol.options.groupProtocol === "consumer") {
        // The broker checks patterns (RE2): a JavaScript-only lookahead is refused.
        m.consumer.subscribe(/orders(?=-eu)/);
        const error = await (async () => {
          for await (const _ of m.consumer.messages({ signal: AbortSignal.timeout(20_000) })) break;
        })().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(KafkaError);
        expect(error).toMatchObject({ errorName: "INVALID_REGULAR_EXPRESSION" });
      }
      await m.close();
    });

    it("static membership: a member that closes and restarts with the same groupInstanceId gets its partitions back; the other member sees no rebalance", async () => {
      const topic = `g-static-${randomUUID()}`;
      const groupId = `g-${randomUUID()}`;
      await createTopic(client, topic, 4);
      const a = member("a", groupId, { groupInstanceId: "instance-a" }).start(topic);
      const b = member("b", groupId, { groupInstanceId: "instance-b" }).start(topic);
      await until("2 partitions each", () => a.partitions.length === 2 && b.partitions.length === 2);
      const aPartitions = a.partitions;
      const bCallbacks = b.assigned.length + b.revoked.length;
      await a.close();
      const again = member("a2", groupId, { groupInstanceId: "instance-a" }).start(topic);
      await until("a2 owns partitions", () => again.partitions.length === 2);
      expect(again.partitions).toEqual(aPartitions);
      await new Promise((r) => setTimeout(r, 1_000));
      expect(b.assigned.length + b.revoked.length).toBe(bCallbacks);
      expect(b.partitions).toHaveLength(2);
      await Promise.all([again.close(), b.close()]);
    });

    it("removed from the group by someone else: partitions lost (listener), the member rejoins and goes on, nothing lost", async () => {
      const topic = `g-removed-${randomUUID()}`;
      const groupId = `g-${randomUUID()}`;
      await createTopic(client, topic, 2);
      const m = member("m", groupId, { autoCommitIntervalMs: 100 }).start(topic);
      await until("2 partitions", () => m.partitions.length === 2);
      await produceNumbered(client, topic, 200, 2);
      await until("200 handed out", () => handedOut([m]).size === 200);
      // Leave on the member's behalf (KIP-848: its id with epoch -1; classic: LeaveGroup).
      const node = await client.coordinator("group", groupId);
      const connection = await client.connection(node.nodeId, "control");
      if (protocol.options.groupProtocol === "consumer") {
        const r = await connection.request(ConsumerGroupHeartbeat, {
          groupId,
          memberId: m.consumer.memberId,
          memberEpoch: -1,
          instanceId: null,
          rackId: null,
          rebalanceTimeoutMs: -1,
          subscribedTopicNames: null,
          subscribedTopicRegex: null,
          serverAssignor: null,
          topicPartitions: null,
        });
        expect(r.errorCode).toBe(0);
      } else {
        const r = await connection.request(LeaveGroup, {
          groupId,
          memberId: "",
          members: [{ memberId: m.consumer.memberId, groupInstanceId: null, reason: "test" }],
        });
        expect(r.errorCode).toBe(0);
      }
      await until("partitions lost", () => m.lost.length > 0, 30_000);
      expect(m.lost[0]?.map((tp) => tp.partition).sort()).toEqual([0, 1]);
      await until("2 partitions again", () => m.partitions.length === 2, 30_000);
      await produceNumbered(client, topic, 200, 2, 200);
      await until("400 handed out", () => handedOut([m]).size === 400, 30_000);
      expect(m.error).toBeUndefined();
      await m.close();
      expect(await committedOffsets(client, groupId, topic, 2)).toEqual([200n, 200n]);
    });

    it("a member killed without leaving: its partitions move after the session timeout, nothing lost", async () => {
      const topic = `g-kill-${randomUUID()}`;
      const groupId = `g-${randomUUID()}`;
      await createTopic(client, topic, 4);
      const a = member("a", groupId, { autoCommitIntervalMs: 200 }).start(topic);
      const b = member("b", groupId).start(topic);
      await until("2 partitions each", () => a.partitions.length === 2 && b.partitions.length === 2);
      await produceNumbered(client, topic, 400, 4);
      await until("400 handed out", () => handedOut([a, b]).size === 400);
      await new Promise((r) => setTimeout(r, 500)); // an auto-commit round
      const killedAt = Date.now();
      await a.kill();
      await produceNumbered(client, topic, 400, 4, 400);
      await until("b owns all 4", () => b.partitions.length === 4, 30_000);
      expect(Date.now() - killedAt).toBeGreaterThan(3_000);
      await until("800 handed out", () => handedOut([a, b]).size === 800, 30_000);
      await b.close();
      expect(await committedOffsets(client, groupId, topic, 4)).toEqual(logEnds(800, 4));
    });
  });
}

describe("Consumer group: classic, eager range assignor", () => {
  const bootstrap = inject("kafkaBootstrap");
  let client: Client;
  beforeAll(() => {
    client = new Client({ bootstrap });
  });
  afterAll(() => client.close());

  it("a third member joining revokes everything (eager), then ranges split 6 partitions 2/2/2; nothing lost", async () => {
    const topic = `g-range-${randomUUID()}`;
    const groupId = `g-${randomUUID()}`;
    await createTopic(client, topic, 6);
    const options: ConsumerOptions = {
      groupId,
      groupProtocol: "classic",
      assignors: ["range"],
      heartbeatIntervalMs: 300,
      sessionTimeoutMs: 10_000,
    };
    const a = new Member(bootstrap, "a", options).start(topic);
    const b = new Member(bootstrap, "b", options).start(topic);
    try {
      await until("3 partitions each", () => a.partitions.length === 3 && b.partitions.length === 3);
      await produceNumbered(client, topic, 6_000, 6);
      await until("1k handed out", () => handedOut([a, b]).size >= 1_000);
      const revokedBefore = a.revoked.length;
      const c = new Member(bootstrap, "c", options).start(topic);
      try {
        await until("2 partitions each", () => [a, b, c].every((m) => m.partitions.length === 2));
        // Eager: a gave up all three of its partitions, not just the one that moved.
        expect(a.revoked.slice(revokedBefore).some((r) => r.length === 3)).toBe(true);
        // Range: consecutive partitions per member.
        for (const m of [a, b, c]) expect((m.partitions[1] ?? 0) - (m.partitions[0] ?? 0)).toBe(1);
        await until("6k handed out", () => handedOut([a, b, c]).size === 6_000);
        for (const m of [a, b, c]) expect(ordered(m), m.name).toBe(true);
      } finally {
        await c.close();
      }
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
    expect(await committedOffsets(client, groupId, topic, 6)).toEqual(logEnds(6_000, 6));
  });
});
