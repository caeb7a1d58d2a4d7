/**
 * Consumers of one Client used to share one "control" socket per broker for every group
 * request and one "fetch" socket for every Fetch. A broker answers a socket's requests in
 * order, so one consumer's held JoinGroup stalled another's heartbeats (until its session
 * expired), and one consumer's Fetch long-poll delayed another's first record by up to its
 * maxWaitMs. Each consumer now has its own group and fetch sockets. Timing is observed on
 * the wire: every request's send and answer times, recorded by wrapping Connection.request.
 */
import { randomUUID } from "node:crypto";
import * as diagnostics from "node:diagnostics_channel";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from "vitest";
import { Client } from "../../../src/client.js";
import type { Consumer } from "../../../src/consumer/consumer.js";
import { Connection } from "../../../src/network/connection.js";
import { newConnectionOwner } from "../../../src/network/connection-classes.js";
import { ioThreadOnline } from "../../../src/network/io-thread.js";
import {
  ConsumerGroupHeartbeat,
  type ConsumerGroupHeartbeatResponse,
  encodeConsumerProtocolSubscription,
  Fetch,
  Heartbeat,
  JoinGroup,
  OffsetFetch,
  SyncGroup,
} from "../../../src/protocol/messages/index.js";
import { Writer } from "../../../src/protocol/primitives/writer.js";
import { createTopic } from "../../helpers/topics.js";
import { produceNumbered, take } from "./helpers.js";
import { until } from "./member.js";

/** One request as the wire saw it. */
interface Sent {
  apiKey: number;
  groupId: string | undefined;
  request: unknown;
  connection: Connection;
  sentAt: number;
  doneAt?: number;
  response?: unknown;
}

const sent: Sent[] = [];
const original = Connection.prototype.request;

function record(): void {
  vi.spyOn(Connection.prototype, "request").mockImplementation(function (this: Connection, api, request, options) {
    const entry: Sent = {
      apiKey: api.apiKey,
      groupId: (request as { groupId?: string }).groupId,
      request,
      connection: this,
      sentAt: Date.now(),
    };
    sent.push(entry);
    const answer = original.call(this, api, request, options);
    answer.then(
      (response) => {
        entry.doneAt = Date.now();
        entry.response = response;
      },
      () => {
        entry.doneAt = Date.now();
      },
    );
    return answer;
  } as typeof Connection.prototype.request);
}

/** A classic subscription, as a consumer writes it (version 3). */
function subscription(topic: string): Buffer {
  const w = new Writer(64);
  w.int16(3);
  encodeConsumerProtocolSubscription(
    w,
    { topics: [topic], userData: null, ownedPartitions: [], generationId: -1, rackId: null },
    3,
  );
  return w.finish();
}

/**
 * Joins `groupId` as a raw classic member (join, sync as leader) and then goes silent: it
 * never rejoins, so the next member's JoinGroup is held until `rebalanceTimeoutMs` ends.
 */
async function silentMember(raw: Client, groupId: string, topic: string, rebalanceTimeoutMs: number): Promise<void> {
  const node = await raw.coordinator("group", groupId);
  const connection = await raw.connection(node.nodeId, { api: JoinGroup, owner: newConnectionOwner("raw") });
  const request = (memberId: string) => ({
    groupId,
    // Longer than the hold: the member is dropped for not rejoining, not for a lost session.
    sessionTimeoutMs: rebalanceTimeoutMs * 2,
    rebalanceTimeoutMs,
    memberId,
    groupInstanceId: null,
    protocolType: "consumer",
    protocols: [{ name: "cooperative-sticky", metadata: subscription(topic) }],
    reason: null,
  });
  const first = await connection.request(JoinGroup, request(""), { timeoutMs: 30_000 });
  const join = await connection.request(JoinGroup, request(first.memberId), { timeoutMs: 30_000 });
  expect(join.errorCode).toBe(0);
  const sync = await connection.request(
    SyncGroup,
    {
      groupId,
      generationId: join.generationId,
      memberId: join.memberId,
      groupInstanceId: null,
      protocolType: "consumer",
      protocolName: join.protocolName,
      assignments: [],
    },
    { timeoutMs: 30_000 },
  );
  expect(sync.errorCode).toBe(0);
}

/** Runs a consumer's loop in the background until it is closed. */
function drain(consumer: Consumer): Promise<void> {
  return (async () => {
    for await (const _ of consumer) {
      // records are not the point here
    }
  })();
}

describe("Consumers of one Client do not wait behind each other's held requests", () => {
  const bootstrap = inject("kafkaBootstrap");
  let raw: Client;
  beforeAll(() => {
    raw = new Client({ bootstrap });
  });
  afterAll(() => raw.close());
  afterEach(() => {
    vi.restoreAllMocks();
    sent.length = 0;
  });

  const HOLD_MS = 15_000;

  for (const protocol of ["classic", "consumer"] as const) {
    it(`${protocol} member: heartbeats keep their interval while another consumer of the Client sits in a ${HOLD_MS / 1000} s JoinGroup`, async () => {
      const client = new Client({ bootstrap });
      const topicA = `iso-a-${randomUUID()}`;
      const topicB = `iso-b-${randomUUID()}`;
      const groupA = `iso-ga-${randomUUID()}`;
      const groupB = `iso-gb-${randomUUID()}`;
      await createTopic(client, topicA, 1);
      await createTopic(client, topicB, 1);
      record();
      const a = client.consumer({
        groupId: groupA,
        groupProtocol: protocol,
        heartbeatIntervalMs: 200,
        sessionTimeoutMs: 10_000,
      });
      a.subscribe(topicA);
      const loopA = drain(a);
      await until("A owns its partition", () => a.assignment().length === 1, 30_000);

      await silentMember(raw, groupB, topicB, HOLD_MS);
      const bStarted = Date.now();
      const b = client.consumer({ groupId: groupB, groupProtocol: "classic", rebalanceTimeoutMs: HOLD_MS });
      b.subscribe(topicB);
      const loopB = drain(b);
      const held = () =>
        sent.find(
          (s) =>
            s.apiKey === JoinGroup.apiKey &&
            s.groupId === groupB &&
            s.sentAt >= bStarted &&
            s.doneAt !== undefined &&
            s.doneAt - s.sentAt >= HOLD_MS - 3_000,
        );
      await until("B's JoinGroup was held and answered", () => held() !== undefined, HOLD_MS + 30_000);
      const join = held() as Sent;

      const beatApi = protocol === "classic" ? Heartbeat.apiKey : ConsumerGroupHeartbeat.apiKey;
      const beats = sent.filter((s) => s.apiKey === beatApi && s.groupId === groupA && s.doneAt !== undefined);
      // The interval the member is asked to keep: its own (classic), or the broker's (KIP-848).
      const intervalMs =
        protocol === "classic"
          ? 200
          : Math.max(...beats.map((s) => (s.response as ConsumerGroupHeartbeatResponse).heartbeatIntervalMs));
      const answers = beats.map((s) => s.doneAt as number);
      // The answers around the hold: the last before it starts up to the first after it ends.
      const from = answers.filter((t) => t <= join.sentAt).at(-1) ?? join.sentAt;
      const to = answers.find((t) => t >= (join.doneAt as number)) ?? (join.doneAt as number);
      const during = answers.filter((t) => t >= from && t <= to);
      const gaps = during.slice(1).map((t, i) => t - (during[i] as number));
      expect(Math.max(...gaps)).toBeLessThan(intervalMs + 1_000);
      expect(during.length).toBeGreaterThanOrEqual(
        Math.floor(((join.doneAt as number) - join.sentAt) / (intervalMs + 1_000)),
      );
      // Observably on another socket than the held JoinGroup.
      const beatSockets = new Set(beats.map((s) => s.connection));
      expect(beatSockets.has(join.connection)).toBe(false);
      expect(a.stats().rebalances).toBe(1);

      await Promise.all([a.close(), b.close()]);
      await Promise.all([loopA, loopB]);
      client.close();
    }, 120_000);
  }

  for (const protocol of ["classic", "consumer"] as const) {
    it(`${protocol} member: the fetch connection is opened while the group assigns, so the first Fetch opens none`, async () => {
      const clientId = `iso-pre-${randomUUID()}`;
      // Main-thread sockets only: with the I/O thread the fetch socket moves onto it once the
      // thread runs, which opens one more connection (the next test).
      const client = new Client({ bootstrap, clientId, ioThread: false });
      const topic = `iso-pre-${randomUUID()}`;
      await createTopic(client, topic, 2);
      await produceNumbered(client, topic, 10, 2);
      const opened: number[] = [];
      const onOpened = (event: unknown) => {
        if ((event as { clientId: string }).clientId === clientId) opened.push(Date.now());
      };
      diagnostics.subscribe("samsa:network:connection-opened", onOpened);
      try {
        record();
        const consumer = client.consumer({
          groupId: `iso-pre-${randomUUID()}`,
          groupProtocol: protocol,
          autoOffsetReset: "earliest",
        });
        consumer.subscribe(topic);
        const [first] = await take(consumer, 1, 30_000);
        expect(first?.offset).toBe(0n);
        // The committed offsets are asked for once the group has assigned: from then until the
        // first record, no connection is opened (before, the fetch socket was opened here).
        const offsetFetch = sent.find((s) => s.apiKey === OffsetFetch.apiKey) as Sent;
        const fetch = sent.find((s) => s.apiKey === Fetch.apiKey) as Sent;
        expect(offsetFetch).toBeDefined();
        expect(fetch).toBeDefined();
        expect(opened.filter((t) => t >= offsetFetch.sentAt)).toEqual([]);
        // And the Fetch went on its own socket, not the group's.
        expect(fetch.connection).not.toBe(offsetFetch.connection);
        await consumer.close();
      } finally {
        diagnostics.unsubscribe("samsa:network:connection-opened", onOpened);
        client.close();
      }
    }, 60_000);
  }

  it("with the I/O thread: Fetches start on a main-thread socket while the thread starts (when it has not yet), then move to one it reads; every record once, in order", async () => {
    const client = new Client({ bootstrap, ioThread: true });
    const topic = `iso-thread-${randomUUID()}`;
    await createTopic(client, topic, 3);
    await produceNumbered(client, topic, 3_000, 3);
    record();
    // Another test of this process may have started the thread already: then there is no move.
    const threadRan = ioThreadOnline();
    const consumer = client.consumer({ groupId: `iso-thread-${randomUUID()}`, autoOffsetReset: "earliest" });
    consumer.subscribe(topic);
    const messages = await take(consumer, 3_000, 30_000);
    const seen = new Set(messages.map((m) => `${m.partition}:${m.offset}`));
    expect(seen.size).toBe(3_000);
    for (const p of [0, 1, 2]) {
      const offsets = messages.filter((m) => m.partition === p).map((m) => m.offset);
      expect(offsets).toEqual(Array.from({ length: 1_000 }, (_, i) => BigInt(i)));
    }
    // Long-polls go on after the records: wait until one has gone out on the thread's socket.
    await until(
      "a Fetch on the I/O thread's socket",
      () => sent.some((s) => s.apiKey === Fetch.apiKey && s.connection.onIoThread),
      10_000,
    );
    const fetches = sent.filter((s) => s.apiKey === Fetch.apiKey);
    const sockets = [...new Set(fetches.map((s) => s.connection))];
    // One socket at a time: the first (main thread) carries the first Fetches, then only the thread's.
    expect(sockets.map((c) => c.onIoThread)).toEqual(threadRan ? [true] : [false, true]);
    const firstOnThread = fetches.findIndex((s) => s.connection.onIoThread);
    expect(fetches.slice(firstOnThread).every((s) => s.connection.onIoThread)).toBe(true);
    // The replaced socket is closed once its last Fetch was answered.
    if (!threadRan) await until("the main-thread fetch socket closed", () => sockets[0]?.closed === true, 5_000);
    await consumer.close();
    client.close();
  }, 60_000);

  it("one consumer's 10 s Fetch long-poll on an empty topic does not delay another's first record", async () => {
    const client = new Client({ bootstrap });
    const empty = `iso-empty-${randomUUID()}`;
    const full = `iso-full-${randomUUID()}`;
    await createTopic(client, empty, 1);
    await createTopic(client, full, 1);
    await produceNumbered(client, full, 10, 1);
    record();
    const waiting = client.consumer({ groupId: `iso-gx-${randomUUID()}`, maxWaitMs: 10_000 });
    waiting.assign([{ topic: empty, partition: 0, offset: 0n }]);
    const loop = drain(waiting);
    const longPoll = () =>
      sent.find((s) => s.apiKey === Fetch.apiKey && (s.request as { maxWaitMs: number }).maxWaitMs === 10_000);
    await until("the long-poll is on the wire", () => longPoll() !== undefined, 10_000);
    const poll = longPoll() as Sent;
    await new Promise((r) => setTimeout(r, 200));

    const started = Date.now();
    const reader = client.consumer({ groupId: `iso-gy-${randomUUID()}`, autoOffsetReset: "earliest" });
    reader.assign([{ topic: full, partition: 0 }]);
    const [first] = await take(reader, 1, 20_000);
    const elapsed = Date.now() - started;
    expect(first?.offset).toBe(0n);
    expect(elapsed).toBeLessThan(3_000);
    // The long-poll was still held when the record arrived: the two really overlapped.
    expect(poll.doneAt === undefined || poll.doneAt > started + elapsed).toBe(true);
    const readerFetch = sent.find(
      (s) => s.apiKey === Fetch.apiKey && (s.request as { maxWaitMs: number }).maxWaitMs !== 10_000,
    );
    expect(readerFetch?.connection).not.toBe(poll.connection);

    await Promise.all([waiting.close(), reader.close()]);
    await loop;
    client.close();
  }, 60_000);
});
