/**
 * A consumer partition's state machine (consumer/partition.ts): each transition from a
 * scripted starting point, checked by the fields it must change and those it must keep, and
 * the transitions the state refuses (IllegalTransitionError names the partition).
 */
import { describe, expect, it } from "vitest";
import { IllegalTransitionError } from "../../../src/consumer/errors.js";
import { PartitionState } from "../../../src/consumer/partition.js";

/** The fields a transition may touch, in one comparable object. */
function snapshot(s: PartitionState) {
  return {
    generation: s.generation,
    fetchOffset: s.fetchOffset,
    position: s.position,
    consumed: s.consumed,
    resetTo: s.resetTo,
    paused: s.paused,
    revoked: s.revoked,
    error: s.error?.message,
    inFlight: s.inFlight,
    validating: s.validating,
    fetchable: s.fetchable,
    leaderEpoch: s.leaderEpoch,
    fetchedEpoch: s.fetchedEpoch,
    recordLeaderEpoch: s.recordLeaderEpoch,
    committed: s.committed,
    fetchFailures: s.fetchFailures,
    notBefore: s.notBefore,
  };
}

/** A partition at offset 10 that fetched to 20 (epoch 4) and handed out 10..14, consumed up to 13. */
function reading(): PartitionState {
  const s = new PartitionState("t", 3);
  s.moveTo(10n);
  s.fetchStarted();
  s.fetchEnded();
  s.fetched(20n, 4);
  s.handed(10n, 5, 4);
  s.consumedUpTo(10n, 3);
  return s;
}

/** {@link reading}, then `step`. */
const readingThen = (step: (s: PartitionState) => unknown) => () => {
  const s = reading();
  step(s);
  return s;
};

/** A new partition, then `step`. */
const freshThen = (step: (s: PartitionState) => unknown) => () => {
  const s = new PartitionState("t", 3);
  step(s);
  return s;
};

type Case = [name: string, start: () => PartitionState, act: (s: PartitionState) => unknown, changes: object];

const transitions: Case[] = [
  [
    "moveTo: both marks and the fetch offset move, data is invalidated, error and reset cleared",
    readingThen((s) => s.fail(new Error("bad bytes"))),
    (s) => s.moveTo(50n),
    {
      generation: 3,
      fetchOffset: 50n,
      position: 50n,
      consumed: 50n,
      error: undefined,
      fetchedEpoch: -1,
      fetchable: true,
    },
  ],
  [
    "startAtCommitted: starts at the committed offset, remembered as committed with its leader epoch",
    () => new PartitionState("t", 3),
    (s) => s.startAtCommitted(7n, 2),
    {
      generation: 1,
      fetchOffset: 7n,
      position: 7n,
      consumed: 7n,
      committed: 7n,
      recordLeaderEpoch: 2,
      fetchable: true,
    },
  ],
  [
    "useResetPolicy: waits for ListOffsets; nothing to invalidate (generation kept)",
    () => new PartitionState("t", 3),
    (s) => s.useResetPolicy("earliest"),
    { resetTo: "earliest" },
  ],
  [
    "startReset: position unknown until ListOffsets answers, consumed stays committable",
    reading,
    (s) => s.startReset("latest"),
    { generation: 2, fetchOffset: undefined, position: undefined, resetTo: "latest", fetchable: false },
  ],
  [
    "pause: not fetchable, data invalidated, fetching will resume from the position",
    reading,
    (s) => expect(s.pause()).toBe(true),
    { paused: true, generation: 2, fetchOffset: 15n, fetchable: false },
  ],
  ["pause twice: the second changes nothing", readingThen((s) => s.pause()), (s) => expect(s.pause()).toBe(false), {}],
  [
    "resume: fetchable again from where pause left it",
    readingThen((s) => s.pause()),
    (s) => s.resume(),
    { paused: false, fetchable: true },
  ],
  [
    "revoke: stops fetching; the generation stays so a held record still becomes consumed",
    reading,
    (s) => s.revoke(),
    { revoked: true, fetchable: false },
  ],
  [
    "fail: stops with the error, data invalidated",
    reading,
    (s) => s.fail(new Error("x")),
    { error: "x", generation: 2, fetchable: false },
  ],
  ["markCommitted", reading, (s) => s.markCommitted(13n), { committed: 13n }],
  [
    "handed: the position and the record's epoch",
    reading,
    (s) => s.handed(10n, 8, 5),
    { position: 18n, recordLeaderEpoch: 5 },
  ],
  ["consumedUpTo", reading, (s) => s.consumedUpTo(10n, 5), { consumed: 15n }],
  ["setPosition: a drained chunk's end", reading, (s) => s.setPosition(20n), { position: 20n }],
  [
    "rewind: refetch from the position, data invalidated",
    reading,
    (s) => s.rewind(),
    { generation: 2, fetchOffset: 15n },
  ],
  [
    "fetchStarted: in a request, not fetchable by another loop",
    reading,
    (s) => s.fetchStarted(),
    { inFlight: true, fetchable: false },
  ],
  ["fetchEnded", readingThen((s) => s.fetchStarted()), (s) => s.fetchEnded(), { inFlight: false, fetchable: true }],
  [
    "fetched: the fetch offset and the fetched epoch move on",
    reading,
    (s) => s.fetched(30n, 6),
    { fetchOffset: 30n, fetchedEpoch: 6 },
  ],
  ["acceptLeader", reading, (s) => s.acceptLeader(9), { leaderEpoch: 9 }],
  [
    "attemptFailed: counted in a row",
    reading,
    (s) => expect([s.attemptFailed(), s.attemptFailed()]).toEqual([1, 2]),
    { fetchFailures: 2 },
  ],
  [
    "attemptSucceeded: the count starts over",
    readingThen((s) => s.attemptFailed()),
    (s) => s.attemptSucceeded(),
    { fetchFailures: 0 },
  ],
  ["backOffUntil: a later time wins", reading, (s) => [s.backOffUntil(500), s.backOffUntil(200)], { notBefore: 500 }],
  ["retryNow: the backoff is over", readingThen((s) => s.backOffUntil(500)), (s) => s.retryNow(), { notBefore: 0 }],
  [
    "validationStarted: not fetchable meanwhile",
    reading,
    (s) => s.validationStarted(),
    { validating: true, fetchable: false },
  ],
  [
    "validationEnded",
    readingThen((s) => s.validationStarted()),
    (s) => s.validationEnded(),
    { validating: false, fetchable: true },
  ],
];

describe("PartitionState transitions", () => {
  it.each(transitions)("%s", (_name, start, act, changes) => {
    const s = start();
    const before = snapshot(s);
    act(s);
    const after = snapshot(s);
    expect(after).toEqual({ ...before, ...changes });
  });

  it("a newly assigned partition has no position and is not fetchable", () => {
    const s = new PartitionState("t", 3);
    expect(s.key).toBe("t\u00003");
    expect(snapshot(s)).toMatchObject({
      fetchOffset: undefined,
      position: undefined,
      consumed: undefined,
      fetchable: false,
    });
  });

  it("attemptSucceeded and answered clear the failure count; answered keeps a known log start when given -1", () => {
    const s = reading();
    s.attemptFailed();
    s.answered(100n, 90n, 5n);
    expect([s.fetchFailures, s.highWatermark, s.lastStableOffset, s.logStartOffset]).toEqual([0, 100n, 90n, 5n]);
    s.answered(101n, 91n, -1n);
    expect([s.highWatermark, s.lastStableOffset, s.logStartOffset]).toEqual([101n, 91n, 5n]);
  });
});

const refused: [name: string, start: () => PartitionState, act: (s: PartitionState) => void, why: RegExp][] = [
  ["fetchStarted before a fetch offset", () => new PartitionState("t", 3), (s) => s.fetchStarted(), /not fetchable/],
  ["fetchStarted while paused", readingThen((s) => s.pause()), (s) => s.fetchStarted(), /not fetchable/],
  [
    "fetchStarted twice (a second loop would fetch the same offsets)",
    readingThen((s) => s.fetchStarted()),
    (s) => s.fetchStarted(),
    /not fetchable/,
  ],
  ["fetchEnded with no request", reading, (s) => s.fetchEnded(), /no fetch request/],
  ["fetched backwards", reading, (s) => s.fetched(20n, 4), /at 20/],
  ["fetched while resetting", readingThen((s) => s.startReset("earliest")), (s) => s.fetched(30n, 4), /at undefined/],
  ["fetched after revoke", readingThen((s) => s.revoke()), (s) => s.fetched(30n, 4), /revoked/],
  ["startAtCommitted after a seek", reading, (s) => s.startAtCommitted(3n, 0), /already has a fetch offset/],
  ["startAtCommitted after revoke", freshThen((s) => s.revoke()), (s) => s.startAtCommitted(3n, 0), /revoked/],
  ["useResetPolicy with a fetch offset", reading, (s) => s.useResetPolicy("latest"), /already has a fetch offset/],
  [
    "validationStarted twice",
    readingThen((s) => s.validationStarted()),
    (s) => s.validationStarted(),
    /a validation is running/,
  ],
  ["validationEnded with none running", reading, (s) => s.validationEnded(), /no validation/],
];

describe("PartitionState refuses illegal transitions", () => {
  it.each(refused)("%s", (_name, start, act, why) => {
    const s = start();
    const before = snapshot(s);
    let error: unknown;
    try {
      act(s);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(IllegalTransitionError);
    expect((error as Error).message).toMatch(/^t-3: /);
    expect((error as Error).message).toMatch(why);
    // A refused transition changes nothing.
    expect(snapshot(s)).toEqual(before);
  });
});
