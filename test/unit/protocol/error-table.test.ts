import { describe, expect, it } from "vitest";
import { ERROR_TABLE, ErrorCode, errorInfo } from "../../../src/protocol/error-table.js";

// Kafka 4.3.1's `Errors` enum, checked against the kafka-clients jar: codes -1 to 133 with no gaps.
const LOWEST = -1;
const HIGHEST = 133;

describe("error table", () => {
  it("has every code Kafka 4.3.1 defines, once each, sorted", () => {
    const codes = [...ERROR_TABLE.keys()];
    expect(new Set(codes).size).toBe(codes.length);
    expect(codes).toEqual([...codes].sort((a, b) => a - b));
    expect(codes).toEqual(Array.from({ length: HIGHEST - LOWEST + 1 }, (_, i) => LOWEST + i));
    expect(ERROR_TABLE.size).toBe(135);
  });

  it("keys each entry by its own code, and ErrorCode names exactly the table's entries", () => {
    for (const [code, info] of ERROR_TABLE) expect(info.code).toBe(code);
    const fromTable = Object.fromEntries([...ERROR_TABLE.values()].map((info) => [info.name, info.code]));
    expect(ErrorCode).toEqual(fromTable);
    expect(Object.keys(ErrorCode)).toHaveLength(ERROR_TABLE.size);
  });

  it("has UNKNOWN_SERVER_ERROR (-1) and NONE (0)", () => {
    expect(ERROR_TABLE.get(-1)).toEqual({
      code: -1,
      name: "UNKNOWN_SERVER_ERROR",
      retriable: false,
      message: "The server experienced an unexpected error when processing the request.",
    });
    expect(ERROR_TABLE.get(0)).toEqual({ code: 0, name: "NONE", retriable: false, message: "" });
  });

  it.each([
    // [code, name, retriable] as Kafka 4.3.1's Errors enum defines them.
    [3, "UNKNOWN_TOPIC_OR_PARTITION", true],
    [6, "NOT_LEADER_OR_FOLLOWER", true],
    [14, "COORDINATOR_LOAD_IN_PROGRESS", true],
    [16, "NOT_COORDINATOR", true],
    [27, "REBALANCE_IN_PROGRESS", false],
    [29, "TOPIC_AUTHORIZATION_FAILED", false],
    [41, "NOT_CONTROLLER", true],
    [110, "FENCED_MEMBER_EPOCH", false],
    [113, "STALE_MEMBER_EPOCH", false],
    [120, "TRANSACTION_ABORTABLE", false],
    [129, "REBOOTSTRAP_REQUIRED", false],
    [133, "SHARE_SESSION_LIMIT_REACHED", true],
  ] as const)("code %i is %s, retriable %s", (code, name, retriable) => {
    const info = errorInfo(code);
    expect(info).toMatchObject({ code, name, retriable });
    expect(info.message).not.toBe("");
    expect(ErrorCode[name]).toBe(code);
  });

  it("gives every error but NONE a default message", () => {
    for (const info of ERROR_TABLE.values()) {
      if (info.code === ErrorCode.NONE) continue;
      expect(info.message, info.name).toMatch(/\S/);
    }
  });

  it("describes a code it does not know as a non-retriable UNKNOWN_ERROR_CODE", () => {
    expect(errorInfo(134)).toEqual({
      code: 134,
      name: "UNKNOWN_ERROR_CODE",
      retriable: false,
      message: "unknown error code 134 (Kafka 4.3.1 defines -1 to 133)",
    });
    expect(errorInfo(-2).name).toBe("UNKNOWN_ERROR_CODE");
    expect(ERROR_TABLE.has(134)).toBe(false);
  });

  it("freezes its entries so no caller can flip a code's retriability", () => {
    const info = errorInfo(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    expect(Object.isFrozen(info)).toBe(true);
    expect(() => {
      (info as { retriable: boolean }).retriable = true;
    }).toThrow(TypeError);
    expect(errorInfo(ErrorCode.TOPIC_AUTHORIZATION_FAILED).retriable).toBe(false);
  });
});
