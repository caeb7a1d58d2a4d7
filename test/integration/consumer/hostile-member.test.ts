/**
 * One hostile classic-group member, joined by a raw client with subscription metadata that
 * does not decode, used to stop every samsa member of the group for good. Now samsa reports
 * it once and goes on.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { Client } from "../../../src/client.js";
import type { BackgroundErrorContext } from "../../../src/network/background-errors.js";
import { ProtocolError } from "../../../src/protocol/errors.js";
import { KafkaError } from "../../../src/protocol/kafka-error.js";
import { JoinGroup } from "../../../src/protocol/messages/index.js";
import { createTopic } from "../../helpers/topics.js";
import { produceNumbered } from "./helpers.js";
import { until } from "./member.js";

/** Joins `groupId` as a raw client with `metadata` as its subscription; returns its member id. */
async function hostileJoin(raw: Client, groupId: string, metadata: Buffer): Promise<string> {
  const node = await raw.coordinator("group", groupId);
  const connection = await raw.connection(node.nodeId, "control");
  const request = (memberId: string) => ({
    groupId,
    sessionTimeoutMs: 6_000,
    rebalanceTimeoutMs: 6_000,
    memberId,
    groupInstanceId: null,
    protocolType: "consumer",
    protocols: [{ name: "cooperative-sticky", metadata }],
    reason: null,
  });
  const first = await connection.request(JoinGroup, request(""), { timeoutMs: 20_000 });
  // The real join: its answer may never come (the coordinator fails the others'), so not awaited.
  void connection.request(JoinGroup, request(first.memberId), { timeoutMs: 20_000 }).catch(() => {});
  return first.memberId;
}

describe("Classic group with a member whose subscription does not decode", () => {
  const bootstrap = inject("kafkaBootstrap");
  let client: Client;
  beforeAll(() => {
    client = new Client({ bootstrap });
  });
  afterAll(() => client.close());

  async function start(topic: string, groupId: string) {
    const own = new Client({ bootstrap });
    const reported: { error: Error; context: BackgroundErrorContext }[] = [];
    own.on("error", (error, context) => reported.push({ error, context }));
    const consumer = own.consumer({ groupId, groupProtocol: "classic", autoOffsetReset: "earliest" });
    consumer.subscribe(topic);
    const state = { seen: 0, error: undefined as unknown };
    const loop = (async () => {
      try {
        for await (const _ of consumer) state.seen++;
      } catch (err) {
        state.error = err;
      }
    })();
    const stop = async () => {
      await consumer.close();
      await loop;
      own.close();
    };
    return { reported, state, stop };
  }

  it("UNKNOWN_SERVER_ERROR for every member no longer ends the loop: reported once, rejoined with backoff, all 1,000 later records read", async () => {
    const topic = `h-unknown-${randomUUID()}`;
    const groupId = `g-${randomUUID()}`;
    await createTopic(client, topic, 2);
    await produceNumbered(client, topic, 10, 2);
    const m = await start(topic, groupId);
    const raw = new Client({ bootstrap });
    try {
      await until("10 read", () => m.state.seen === 10);
      // Version 3, then a topic array length no decoder accepts.
      await hostileJoin(raw, groupId, Buffer.from("0003ffffff7f", "hex"));
      await until("the join error reported", () => m.reported.some((r) => r.context.operation === "join"), 30_000);
      // The hostile client goes away; its member expires with its session.
      raw.close();
      await produceNumbered(client, topic, 1_000, 2, 10);
      await until("1,010 read", () => m.state.seen === 1_010, 90_000);
      expect(m.state.error).toBeUndefined();
      const joins = m.reported.filter((r) => r.context.operation === "join");
      expect(joins).toHaveLength(1);
      expect(joins[0]?.context).toMatchObject({ source: "consumer", groupId });
      expect(joins[0]?.error).toBeInstanceOf(KafkaError);
      expect(joins[0]?.error).toMatchObject({ errorName: "UNKNOWN_SERVER_ERROR" });
    } finally {
      raw.close();
      await m.stop();
    }
  });

  it("a samsa leader skips and reports the member whose metadata does not decode; the group goes on", async () => {
    const topic = `h-leader-${randomUUID()}`;
    const groupId = `g-${randomUUID()}`;
    await createTopic(client, topic, 2);
    await produceNumbered(client, topic, 10, 2);
    const m = await start(topic, groupId);
    const raw = new Client({ bootstrap });
    try {
      await until("10 read", () => m.state.seen === 10);
      // Embedded version -1: the leader's decoder refuses it.
      const hostile = await hostileJoin(raw, groupId, Buffer.from("ffff010203", "hex"));
      await until("the member reported", () => m.reported.some((r) => r.context.operation === "assign"), 30_000);
      const r = m.reported.find((x) => x.context.operation === "assign");
      expect(r?.error).toBeInstanceOf(ProtocolError);
      expect(r?.error.message).toContain(hostile);
      expect(r?.context).toMatchObject({ source: "consumer", groupId });
      raw.close();
      await produceNumbered(client, topic, 1_000, 2, 10);
      await until("1,010 read", () => m.state.seen === 1_010, 90_000);
      expect(m.state.error).toBeUndefined();
    } finally {
      raw.close();
      await m.stop();
    }
  });
});
