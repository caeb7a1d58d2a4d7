import { describe, expect, it } from "vitest";
import { connectionClassOf, newConnectionOwner, slotClass, slotKey } from "../../../src/network/connection-classes.js";
import {
  ConsumerGroupHeartbeat,
  CreateTopics,
  DeleteRecords,
  Fetch,
  Heartbeat,
  JoinGroup,
  Metadata,
  OffsetCommit,
  Produce,
  SyncGroup,
} from "../../../src/protocol/messages/index.js";

describe("connection classes", () => {
  it("puts the requests a broker may hold on their own classes, apart from quick ones", () => {
    expect(connectionClassOf(Produce.apiKey)).toBe("produce");
    expect(connectionClassOf(Fetch.apiKey)).toBe("fetch");
    expect([JoinGroup, SyncGroup, Heartbeat, ConsumerGroupHeartbeat].map((a) => connectionClassOf(a.apiKey))).toEqual([
      "group",
      "group",
      "group",
      "group",
    ]);
    expect([CreateTopics, DeleteRecords].map((a) => connectionClassOf(a.apiKey))).toEqual(["slow", "slow"]);
    expect([Metadata, OffsetCommit].map((a) => connectionClassOf(a.apiKey))).toEqual(["control", "control"]);
  });

  it("gives each owner its own fetch and group socket, and shares the other classes", () => {
    const a = newConnectionOwner("consumer");
    const b = newConnectionOwner("consumer");
    expect(a).not.toBe(b);
    expect(slotKey({ api: Fetch, owner: a })).toBe(`fetch:${a}`);
    expect(slotKey({ api: Fetch, owner: a })).not.toBe(slotKey({ api: Fetch, owner: b }));
    expect(slotKey({ api: JoinGroup, owner: a })).toBe(slotKey({ api: Heartbeat, owner: a }));
    expect(slotKey({ api: Metadata, owner: a })).toBe("control");
    expect(slotKey({ api: Produce, owner: a })).toBe("produce");
    expect(slotKey({ api: Fetch })).toBe("fetch");
    expect(slotKey("slow")).toBe("slow");
    expect(slotClass(`group:${a}`)).toBe("group");
  });
});
