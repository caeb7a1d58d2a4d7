import { describe, expect, it } from "vitest";
import { Client, Client as UserClient } from "../../../src/client.js";
import { backoffDelay } from "../../../src/network/backoff.js";
import { parseBootstrap } from "../../../src/network/cluster.js";
import { InvalidArgumentError } from "../../../src/protocol/errors.js";
import { Metadata } from "../../../src/protocol/messages/index.js";
import { FakeBroker } from "../../../tools/fault/fake-broker.js";

function invalid(fn: () => unknown): InvalidArgumentError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidArgumentError);
    return err as InvalidArgumentError;
  }
  throw new Error("expected InvalidArgumentError");
}

describe("Client options", () => {
  it("parses bootstrap lists, including IPv6", () => {
    expect(parseBootstrap("a:1, b:2")).toEqual([
      { host: "a", port: 1 },
      { host: "b", port: 2 },
    ]);
    expect(parseBootstrap(["[::1]:9092"])).toEqual([{ host: "::1", port: 9092 }]);
  });

  it("refuses bad bootstrap entries and bad numbers, naming the option", () => {
    expect(invalid(() => parseBootstrap("")).argument).toBe("bootstrap");
    expect(invalid(() => parseBootstrap("nohost")).argument).toBe("bootstrap");
    expect(invalid(() => parseBootstrap("h:70000")).argument).toBe("bootstrap");
    const err = invalid(() => new Client({ bootstrap: "h:1", maxInFlight: 0 }));
    expect(err.argument).toBe("maxInFlight");
    expect(err.message).toContain("from 1 to 2147483647, got 0");
    expect(invalid(() => new Client({ bootstrap: "h:1", requestTimeoutMs: 1.5 })).argument).toBe("requestTimeoutMs");
    expect(
      invalid(() => new Client({ bootstrap: "h:1", sasl: { mechanism: "PLAIN", username: "", password: "x" } }))
        .argument,
    ).toBe("sasl.username");
  });
});

describe("backoffDelay", () => {
  it("doubles from the floor up to the ceiling, within the jitter", () => {
    const opts = { floorMs: 100, ceilingMs: 1000, jitter: 0.2 };
    expect(backoffDelay(0, opts, () => 0.5)).toBe(100);
    expect(backoffDelay(1, opts, () => 0.5)).toBe(200);
    expect(backoffDelay(3, opts, () => 0.5)).toBe(800);
    expect(backoffDelay(10, opts, () => 0.5)).toBe(1000);
    expect(backoffDelay(0, opts, () => 0)).toBe(80);
    expect(backoffDelay(0, opts, () => 1)).toBe(120);
    expect(backoffDelay(50, opts, () => 1)).toBe(1000);
  });
});

describe("one option shape everywhere", () => {
  it("client and producer name an unknown option the same way, with the nearest known one", () => {
    const client = new UserClient({ bootstrap: "127.0.0.1:9" });
    const messages: string[] = [];
    for (const make of [
      () => new UserClient({ bootstrap: "127.0.0.1:9", clientid: "x" } as never),
      () => client.producer({ lingerMS: 5 } as never),
    ]) {
      try {
        make();
      } catch (err) {
        expect(err).toBeInstanceOf(InvalidArgumentError);
        messages.push((err as Error).message.replace(/; known:.*/, ""));
      }
    }
    expect(messages).toEqual([
      "clientid: is not a client option (did you mean clientId?)",
      "lingerMS: is not a producer option (did you mean lingerMs?)",
    ]);
    client.close();
  });
});

describe("metadata freshness", () => {
  it("maxAgeMs 0 asks the broker every time, even within one millisecond of the last answer", async () => {
    const broker = await FakeBroker.start({ topics: [{ name: "t", partitions: 1 }] });
    const client = new Client({ bootstrap: broker.bootstrap });
    try {
      await client.metadata(["t"]);
      const before = broker.received(Metadata).length;
      const realNow = Date.now;
      const frozen = realNow();
      Date.now = () => frozen; // the same millisecond for the whole check
      try {
        await client.metadata(["t"], { maxAgeMs: 0 });
        await client.metadata(["t"], { maxAgeMs: 0 });
      } finally {
        Date.now = realNow;
      }
      expect(broker.received(Metadata).length - before).toBe(2);
      // The default age is honoured: a cached answer serves the next plain lookup.
      const cached = broker.received(Metadata).length;
      await client.metadata(["t"]);
      expect(broker.received(Metadata).length).toBe(cached);
    } finally {
      client.close();
      await broker.close();
    }
  });
});
