import { describe, expect, it } from "vitest";
import { resolveConsumerOptions } from "../../../src/consumer/options.js";
import { InvalidArgumentError } from "../../../src/protocol/errors.js";

describe("resolveConsumerOptions", () => {
  it("applies the documented defaults", () => {
    expect(resolveConsumerOptions({}, 30_000)).toMatchObject({
      groupId: undefined,
      groupProtocol: undefined,
      autoOffsetReset: "latest",
      autoCommit: true,
      autoCommitIntervalMs: 5000,
      isolationLevel: "read_committed",
      sessionTimeoutMs: 45_000,
      heartbeatIntervalMs: 3000,
      rebalanceTimeoutMs: 300_000,
      assignors: ["cooperative-sticky"],
      minBytes: 1,
      maxBytes: 50 * 1024 * 1024,
      maxWaitMs: 500,
      maxPartitionBytes: 1024 * 1024,
      maxBufferedBytes: 64 * 1024 * 1024,
      // 16 × max(maxBytes 50 MiB, maxPartitionBytes 1 MiB)
      maxDecompressedBytes: 256 * 1024 * 1024,
      requestTimeoutMs: 30_000,
      checkCrcs: true,
      maxBatchMessages: 500,
    });
  });

  it.each([
    [{ groupId: "" }, "groupId"],
    [{ groupId: 5 }, "groupId"],
    [{ autoOffsetReset: "earliest " }, "autoOffsetReset"],
    [{ minBytes: 1.5 }, "minBytes"],
    [{ maxBytes: 0 }, "maxBytes"],
    [{ maxPartitionBytes: 2 ** 31 }, "maxPartitionBytes"],
    [{ sessionTimeoutMs: 100, heartbeatIntervalMs: 100 }, "heartbeatIntervalMs"],
    [{ assignors: [] }, "assignors"],
    [{ assignors: [{ name: "x" }] }, "assignors"],
    [{ checkCrcs: 1 }, "checkCrcs"],
    [{ maxBatchMessages: 0 }, "maxBatchMessages"],
    [{ maxBatchMessages: 2.5 }, "maxBatchMessages"],
    [{ maxDecompressedBytes: 0 }, "maxDecompressedBytes"],
    [{ maxDecompressedBytes: 1.5 }, "maxDecompressedBytes"],
    [{ maxDecompressedBytes: "1MiB" }, "maxDecompressedBytes"],
    [{ keyDeserializer: {} }, "keyDeserializer"],
  ])("%o → InvalidArgumentError(%s)", (options, argument) => {
    let error: unknown;
    try {
      resolveConsumerOptions(options as never);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).argument).toBe(argument);
  });

  it("maxDecompressedBytes follows maxPartitionBytes, with a 256 MiB floor; an explicit value wins", () => {
    const MiB = 1024 * 1024;
    expect(resolveConsumerOptions({ maxBytes: 100 * MiB, maxPartitionBytes: MiB / 2 }).maxDecompressedBytes).toBe(
      256 * MiB,
    );
    expect(resolveConsumerOptions({ maxBytes: 2 * MiB, maxPartitionBytes: 8 * MiB }).maxDecompressedBytes).toBe(
      512 * MiB,
    );
    expect(resolveConsumerOptions({ maxDecompressedBytes: 4096 }).maxDecompressedBytes).toBe(4096);
  });

  it("accepts a custom assignor object", () => {
    const custom = { name: "mine", assign: () => new Map() };
    expect(resolveConsumerOptions({ assignors: [custom, "range"] }).assignors).toEqual([custom, "range"]);
  });
});

describe("unknown consumer options", () => {
  it("are a typed error naming the option, with the nearest known one (they were ignored)", () => {
    expect(() => resolveConsumerOptions({ groupID: "g" } as never)).toThrow(
      expect.objectContaining({ code: "SAMSA_ERR_INVALID_ARGUMENT", argument: "groupID" }),
    );
    expect(() => resolveConsumerOptions({ autoComit: false } as never)).toThrow(/did you mean autoCommit\?/);
  });
});
