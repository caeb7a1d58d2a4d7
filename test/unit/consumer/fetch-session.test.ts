import { describe, expect, it } from "vitest";
import { FetchSession, type SessionPartition } from "../../../src/consumer/fetch-session.js";
import { PartitionState } from "../../../src/consumer/partition.js";

const states = [0, 1, 2].map((p) => new PartitionState("t", p));
const TOPIC_ID = "AAAAAAAAAAAAAAAAAAAAAQ";

function wanted(offsets: Record<number, bigint>): SessionPartition[] {
  return Object.entries(offsets).map(([p, fetchOffset]) => ({
    state: states[Number(p)] as PartitionState,
    topicId: TOPIC_ID,
    fetchOffset,
    currentLeaderEpoch: 0,
    maxBytes: 1024,
    generation: 0,
  }));
}

const sent = (r: ReturnType<FetchSession["build"]>) =>
  r.topics.flatMap((t) => t.partitions.map((p) => `${p.partition}@${p.fetchOffset}`));
const forgotten = (r: ReturnType<FetchSession["build"]>) => r.forgottenTopicsData.flatMap((t) => t.partitions);

describe("FetchSession (KIP-227)", () => {
  it("starts full (session 0, epoch 0), then sends only new and moved partitions with a rising epoch", () => {
    const session = new FetchSession();
    const first = session.build(wanted({ 0: 0n, 1: 0n, 2: 0n }));
    expect([first.sessionId, first.sessionEpoch, first.full]).toEqual([0, 0, true]);
    expect(sent(first)).toEqual(["0@0", "1@0", "2@0"]);
    expect(first.topics[0]?.topicId).toBe(TOPIC_ID);
    expect(session.handleResponse(first, 0, 77)).toBe(true);

    const second = session.build(wanted({ 0: 10n, 1: 0n, 2: 0n }));
    expect([second.sessionId, second.sessionEpoch, second.full]).toEqual([77, 1, false]);
    expect(sent(second)).toEqual(["0@10"]);
    expect(forgotten(second)).toEqual([]);
    // The response refers to any session partition, sent or not.
    expect([...second.partitions.keys()]).toHaveLength(3);
    session.handleResponse(second, 0, 77);

    const third = session.build(wanted({ 0: 10n, 2: 5n }));
    expect(third.sessionEpoch).toBe(2);
    expect(sent(third)).toEqual(["2@5"]);
    expect(forgotten(third)).toEqual([1]);
    session.handleResponse(third, 0, 77);

    const fourth = session.build(wanted({ 0: 10n, 1: 3n, 2: 5n }));
    expect(sent(fourth)).toEqual(["1@3"]);
  });

  it("FETCH_SESSION_ID_NOT_FOUND: a fresh full request with session id 0", () => {
    const session = new FetchSession();
    session.handleResponse(session.build(wanted({ 0: 0n })), 0, 9);
    const r = session.build(wanted({ 0: 1n }));
    expect(session.handleResponse(r, 70, 0)).toBe(false);
    const again = session.build(wanted({ 0: 1n }));
    expect([again.sessionId, again.sessionEpoch, again.full]).toEqual([0, 0, true]);
    expect(sent(again)).toEqual(["0@1"]);
  });

  it("INVALID_FETCH_SESSION_EPOCH: a full request that closes the old session (same id, epoch 0)", () => {
    const session = new FetchSession();
    session.handleResponse(session.build(wanted({ 0: 0n, 1: 0n })), 0, 9);
    const r = session.build(wanted({ 0: 1n, 1: 0n }));
    expect(session.handleResponse(r, 71, 0)).toBe(false);
    const again = session.build(wanted({ 0: 1n, 1: 0n }));
    expect([again.sessionId, again.sessionEpoch, again.full]).toEqual([9, 0, true]);
    expect(sent(again)).toEqual(["0@1", "1@0"]);
    expect(forgotten(again)).toEqual([]);
  });

  it("a failed request (connection, timeout) starts over with a full request", () => {
    const session = new FetchSession();
    session.handleResponse(session.build(wanted({ 0: 0n })), 0, 9);
    session.build(wanted({ 0: 4n }));
    session.handleError();
    const again = session.build(wanted({ 0: 4n }));
    expect(again.full).toBe(true);
    expect(sent(again)).toEqual(["0@4"]);
  });

  it("a broker that keeps no session (id 0) gets full requests every time", () => {
    const session = new FetchSession();
    session.handleResponse(session.build(wanted({ 0: 0n })), 0, 0);
    const next = session.build(wanted({ 0: 0n }));
    expect([next.sessionId, next.sessionEpoch, next.full]).toEqual([0, 0, true]);
    expect(sent(next)).toEqual(["0@0"]);
  });
});
