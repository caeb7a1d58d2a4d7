import * as diagnostics from "node:diagnostics_channel";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Client } from "../../../src/client.js";
import { AbortedError, ConnectionError, TimeoutError } from "../../../src/network/errors.js";
import { EVENT_LEVELS, EVENT_NAMES, TRACING_NAMES } from "../../../src/observability/events.js";
import { Instrumentation } from "../../../src/observability/instrumentation.js";
import { DefaultLogger, type Logger, levelEnabled } from "../../../src/observability/logger.js";
import { InvalidArgumentError } from "../../../src/protocol/errors.js";
import { REPO_ROOT } from "../../../tools/kafka/paths.js";

function recording(level: string): Logger & { calls: [string, Record<string, unknown>, string][] } {
  const calls: [string, Record<string, unknown>, string][] = [];
  const order = ["trace", "debug", "info", "warn", "error"];
  const at = (l: string) => (f: Record<string, unknown>, m: string) => void calls.push([l, f, m]);
  return {
    calls,
    level,
    trace: at("trace"),
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    isLevelEnabled: (l) => order.indexOf(l) >= order.indexOf(level),
  };
}

describe("event catalogue", () => {
  it("names every event samsa:<area>:<event> with a level, and docs/observability.md lists each one", () => {
    const doc = readFileSync(join(REPO_ROOT, "docs/observability.md"), "utf8");
    for (const name of EVENT_NAMES) {
      expect(name).toMatch(/^(network|client|producer|consumer):[a-z-]+$/);
      expect(["trace", "debug", "info", "warn", "error"]).toContain(EVENT_LEVELS[name]);
      expect(doc, name).toContain(`samsa:${name}`);
    }
    for (const name of TRACING_NAMES) expect(doc, name).toContain(name);
  });
});

describe("Instrumentation", () => {
  it("wants an event only when its channel has a subscriber or the logger takes its level", () => {
    const inst = new Instrumentation("c", recording("info"));
    expect(inst.wants("producer:batch-acknowledged")).toBe(false); // trace
    expect(inst.wants("consumer:group-joined")).toBe(true); // info
    const fn = () => {};
    diagnostics.subscribe("samsa:producer:batch-acknowledged", fn);
    try {
      expect(inst.wants("producer:batch-acknowledged")).toBe(true);
    } finally {
      diagnostics.unsubscribe("samsa:producer:batch-acknowledged", fn);
    }
    expect(inst.wants("producer:batch-acknowledged")).toBe(false);
  });

  it("logs structured fields (err for the error, bigints as strings, the event name) and publishes the payload as given", () => {
    const logger = recording("trace");
    const inst = new Instrumentation("app", logger);
    const published: unknown[] = [];
    const fn = (m: unknown) => published.push(m);
    diagnostics.subscribe("samsa:consumer:offsets-commit-failed", fn);
    const error = new Error("coordinator moved");
    const payload = {
      clientId: "app",
      groupId: "g",
      offsets: [{ topic: "t", partition: 1, offset: 42n }],
      error,
    };
    try {
      inst.emit("consumer:offsets-commit-failed", payload);
    } finally {
      diagnostics.unsubscribe("samsa:consumer:offsets-commit-failed", fn);
    }
    expect(published).toEqual([payload]);
    expect(logger.calls).toEqual([
      [
        "warn",
        {
          groupId: "g",
          offsets: [{ topic: "t", partition: 1, offset: "42" }],
          err: error,
          event: "consumer:offsets-commit-failed",
        },
        "group g commit of t-1 failed: coordinator moved",
      ],
    ]);
  });

  it("raises connection-closed with an error to warn; a clean close stays at debug", () => {
    const logger = recording("debug");
    const inst = new Instrumentation("app", logger);
    inst.emit("network:connection-closed", { clientId: "app", address: "h:1" });
    inst.emit("network:connection-closed", { clientId: "app", address: "h:1", error: new Error("reset") });
    expect(logger.calls.map(([l, , m]) => `${l} ${m}`)).toEqual([
      "debug connection to h:1 closed",
      "warn connection to h:1 closed: reset",
    ]);
  });

  it("logs a background error that heals by itself (retriable) at warn, the others at error", () => {
    const logger = recording("trace");
    const inst = new Instrumentation("app", logger);
    const base = { clientId: "app", source: "consumer", operation: "fetch" } as const;
    inst.emit("client:error", { ...base, error: new ConnectionError("h:1", "refused") });
    inst.emit("client:error", { ...base, error: new InvalidArgumentError("x", "bad") });
    expect(logger.calls.map(([l]) => l)).toEqual(["warn", "error"]);
  });

  it("logs failed records at warn, and at debug when the application aborted them (its callers hold the error)", () => {
    const logger = recording("trace");
    const inst = new Instrumentation("app", logger);
    inst.emit("producer:records-failed", { clientId: "app", topic: "t", records: 3, error: new TimeoutError("late") });
    inst.emit("producer:records-failed", {
      clientId: "app",
      topic: "t",
      records: 2,
      error: new AbortedError("closed"),
    });
    expect(logger.calls.map(([l, , m]) => [l, m])).toEqual([
      ["warn", "3 records to t failed before a batch: late"],
      ["debug", "2 records to t failed before a batch: closed"],
    ]);
  });

  it("uses the logger's child({ lib, clientId }) when it has one, and survives a logger that throws", () => {
    const bindings: unknown[] = [];
    const throwing = recording("trace");
    throwing.error = () => {
      throw new Error("logger broke");
    };
    const parent = {
      ...recording("trace"),
      child: (b: Record<string, unknown>) => {
        bindings.push(b);
        return throwing;
      },
    };
    const inst = new Instrumentation("app-7", parent);
    expect(bindings).toEqual([{ lib: "samsa", clientId: "app-7" }]);
    expect(() =>
      inst.emit("client:error", { clientId: "app-7", error: new Error("x"), source: "producer", operation: "send" }),
    ).not.toThrow();
  });

  it("levelEnabled: isLevelEnabled first, then the level name, else every level", () => {
    const base = recording("warn");
    expect(levelEnabled(base, "info")).toBe(false);
    const { isLevelEnabled: _, ...byName } = base;
    expect(levelEnabled({ ...byName, level: "debug" }, "debug")).toBe(true);
    expect(levelEnabled({ ...byName, level: "debug" }, "trace")).toBe(false);
    expect(levelEnabled({ ...byName, level: "silent" }, "error")).toBe(false);
    const { level: __, ...bare } = byName;
    expect(levelEnabled(bare, "trace")).toBe(true);
  });

  it("the default logger writes warn and error as one line each, mutes a repeat for 30 s, and skips debug unless NODE_DEBUG names samsa", () => {
    const lines: string[] = [];
    const logger = new DefaultLogger((l) => lines.push(l));
    expect(logger.level).toBe(process.env.NODE_DEBUG?.includes("samsa") ? "debug" : "warn");
    logger.debug({ a: 1 }, "not shown");
    logger.warn({ topic: "t", n: 5n, text: "two words" }, "slow");
    logger.warn({ topic: "t", n: 5n, text: "two words" }, "slow");
    logger.error({ err: new Error("e") }, "failed");
    expect(lines).toEqual(['samsa WARN slow topic=t n=5 text="two words"\n', "samsa ERROR failed\n"]);
  });

  it("a Client refuses a logger without the five level methods, naming the option", () => {
    expect(() => new Client({ bootstrap: "127.0.0.1:9", logger: { info() {} } as never })).toThrow(
      InvalidArgumentError,
    );
    expect(() => new Client({ bootstrap: "127.0.0.1:9", logger: { info() {} } as never })).toThrow(/logger/);
  });
});
