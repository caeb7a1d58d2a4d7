import { afterAll, describe, expect, it } from "vitest";
import { decodeAclOperations } from "../../../src/admin/acls.js";
import { AdminOperationError, AdminTimeoutError } from "../../../src/admin/errors.js";
import { AdminCall, type ItemOutcome } from "../../../src/admin/routing.js";
import { Client } from "../../../src/client.js";
import { AbortedError, ConnectionError } from "../../../src/network/errors.js";
import { ProtocolError } from "../../../src/protocol/errors.js";
import { ErrorCode, kafkaError } from "../../../src/protocol/index.js";

// Never connects: these tests drive AdminCall's retry logic with synthetic attempts.
const client = new Client({ bootstrap: "127.0.0.1:1" });
afterAll(() => client.close());
const settings = { defaultTimeoutMs: 60_000, retryBackoff: { floorMs: 1, ceilingMs: 5 } };
const call = (options: { timeoutMs?: number; signal?: AbortSignal } = {}) =>
  new AdminCall(client, settings, "testOperation", options);

describe("AdminCall.retryItems", () => {
  it("retries only the items with retriable errors and returns every result in input order", async () => {
    const attempts: number[][] = [];
    const results = await call().retryItems(["a", "b", "c"], async (pending) => {
      attempts.push(pending);
      const out = new Map<number, ItemOutcome<string>>();
      for (const i of pending) {
        // b fails twice with NOT_CONTROLLER (retriable), then works.
        if (i === 1 && attempts.length < 3) out.set(i, { error: kafkaError(ErrorCode.NOT_CONTROLLER) });
        else out.set(i, { value: `ok ${i}` });
      }
      return out;
    });
    expect(results).toEqual(["ok 0", "ok 1", "ok 2"]);
    expect(attempts).toEqual([[0, 1, 2], [1], [1]]);
  });

  it("throws AdminOperationError naming each failed item, with the others' results", async () => {
    const err = await call()
      .retryItems(["topic a", "topic b", "topic c"], async (pending) => {
        const out = new Map<number, ItemOutcome<number>>();
        for (const i of pending) {
          out.set(i, i === 1 ? { error: kafkaError(ErrorCode.TOPIC_ALREADY_EXISTS, "exists") } : { value: i * 10 });
        }
        return out;
      })
      .catch((e) => e);
    expect(err).toBeInstanceOf(AdminOperationError);
    expect(err.code).toBe("SAMSA_ERR_ADMIN_OPERATION");
    expect(err.operation).toBe("testOperation");
    expect(err.failures).toHaveLength(1);
    expect(err.failures[0]).toMatchObject({ index: 1, item: "topic b" });
    expect(err.failures[0].error.errorCode).toBe(ErrorCode.TOPIC_ALREADY_EXISTS);
    expect(err.results).toEqual([0, undefined, 20]);
    expect(err.message).toBe("testOperation: 1 of 3 items failed: topic b: TOPIC_ALREADY_EXISTS (36): exists");
  });

  it("reports an item the response left out as a protocol error", async () => {
    const err = await call()
      .retryItems(["x", "y"], async () => new Map([[0, { value: 1 }]]))
      .catch((e) => e);
    expect(err.failures[0].index).toBe(1);
    expect(err.failures[0].error).toBeInstanceOf(ProtocolError);
  });

  it("keeps a retriable item error that outlasts the deadline as that item's failure", async () => {
    const err = await call({ timeoutMs: 50 })
      .retryItems(["p"], async () => new Map([[0, { error: kafkaError(ErrorCode.LEADER_NOT_AVAILABLE) }]]))
      .catch((e) => e);
    expect(err).toBeInstanceOf(AdminOperationError);
    expect(err.failures[0].error.errorCode).toBe(ErrorCode.LEADER_NOT_AVAILABLE);
  });

  it("retries UNKNOWN_TOPIC_OR_PARTITION only for a short grace period", async () => {
    const started = Date.now();
    let attempts = 0;
    const err = await call()
      .retryItems(["t"], async () => {
        attempts++;
        return new Map([[0, { error: kafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) }]]);
      })
      .catch((e) => e);
    expect(err.failures[0].error.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    expect(attempts).toBeGreaterThan(1);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("retries a whole-request transport error, and times out with it as the cause", async () => {
    const err = await call({ timeoutMs: 60 })
      .retryItems(["a"], async () => {
        throw new ConnectionError("127.0.0.1:1", "refused");
      })
      .catch((e) => e);
    expect(err).toBeInstanceOf(AdminTimeoutError);
    expect(err.code).toBe("SAMSA_ERR_ADMIN_TIMEOUT");
    expect(err.cause).toBeInstanceOf(ConnectionError);
  });

  it("throws a non-retriable whole-request error as is", async () => {
    const err = await call()
      .retryItems(["a"], async () => {
        throw kafkaError(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
      })
      .catch((e) => e);
    expect(err.errorCode).toBe(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
  });
});

describe("AdminCall.retry", () => {
  it("retries retriable errors, then returns", async () => {
    let n = 0;
    const value = await call().retry(async () => {
      if (++n < 3) throw kafkaError(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
      return "done";
    });
    expect([value, n]).toEqual(["done", 3]);
  });

  it("stops with AbortedError when the caller aborts during the backoff", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    const err = await new AdminCall(client, { ...settings, retryBackoff: { floorMs: 1000, ceilingMs: 1000 } }, "op", {
      signal: controller.signal,
    })
      .retry(async () => {
        throw kafkaError(ErrorCode.NOT_COORDINATOR);
      })
      .catch((e) => e);
    expect(err).toBeInstanceOf(AbortedError);
  });

  it("refuses to start on an aborted signal", () => {
    expect(() => call({ signal: AbortSignal.abort() })).toThrow(AbortedError);
  });
});

describe("AdminCall.forget", () => {
  /** What `forget(err)` drops on a client whose invalidation methods only record. */
  function dropped(err: unknown): string[] {
    const seen: string[] = [];
    const recording = Object.create(client) as Client;
    recording.invalidateLeader = () => seen.push("metadata");
    recording.invalidateCoordinator = (type, key) => seen.push(`coordinator ${type} ${key}`);
    new AdminCall(recording, settings, "op").forget(err, { type: "group", key: "g" });
    return seen;
  }

  it("refreshes metadata on Kafka's invalid-metadata family, the coordinator on its own codes", () => {
    // The generated table's invalidMetadata flag, including codes a hand-written set had missed.
    for (const code of [
      ErrorCode.NOT_LEADER_OR_FOLLOWER,
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      ErrorCode.FENCED_LEADER_EPOCH,
      ErrorCode.UNKNOWN_TOPIC_ID,
      ErrorCode.KAFKA_STORAGE_ERROR,
    ]) {
      expect(dropped(kafkaError(code)), String(code)).toEqual(["metadata"]);
    }
    expect(dropped(kafkaError(ErrorCode.NOT_CONTROLLER))).toEqual(["metadata"]);
    expect(dropped(kafkaError(ErrorCode.NOT_COORDINATOR))).toEqual(["coordinator group g"]);
    expect(dropped(kafkaError(ErrorCode.COORDINATOR_NOT_AVAILABLE))).toEqual(["coordinator group g"]);
  });

  it("keeps routing for errors that say nothing about it, drops both for a lost broker", () => {
    expect(dropped(kafkaError(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS))).toEqual([]);
    expect(dropped(kafkaError(ErrorCode.REQUEST_TIMED_OUT))).toEqual([]);
    expect(dropped(new ConnectionError("127.0.0.1:1", "refused"))).toEqual(["metadata", "coordinator group g"]);
  });
});

describe("decodeAclOperations", () => {
  it("reads Kafka's authorized-operations bit field", () => {
    // Bits 3 (READ), 4 (WRITE) and 8 (DESCRIBE).
    expect(decodeAclOperations((1 << 3) | (1 << 4) | (1 << 8))).toEqual(["read", "write", "describe"]);
    expect(decodeAclOperations(0)).toEqual([]);
    expect(decodeAclOperations(-2147483648)).toBeUndefined(); // not requested
  });
});
