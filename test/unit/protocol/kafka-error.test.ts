import { describe, expect, it } from "vitest";
import { ConnectionError } from "../../../src/network/errors.js";
import { isRetriable, needsCoordinatorLookup, needsMetadataRefresh } from "../../../src/network/retry.js";
import { ERROR_TABLE, ErrorCode } from "../../../src/protocol/error-table.js";
import { SamsaError } from "../../../src/protocol/errors.js";
import { KafkaError, kafkaError } from "../../../src/protocol/kafka-error.js";

describe("KafkaError", () => {
  it("carries the code, Kafka's name, retriability and default message", () => {
    const err = kafkaError(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    expect(err).toBeInstanceOf(KafkaError);
    expect(err).toBeInstanceOf(SamsaError);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe("KafkaError");
    expect(err.code).toBe("SAMSA_ERR_KAFKA");
    expect(err.errorCode).toBe(6);
    expect(err.errorName).toBe("NOT_LEADER_OR_FOLLOWER");
    expect(err.retriable).toBe(true);
    const defaultMessage = ERROR_TABLE.get(6)?.message;
    expect(err.errorMessage).toBe(defaultMessage);
    expect(err.message).toBe(`NOT_LEADER_OR_FOLLOWER (6): ${defaultMessage}`);
  });

  it("prefers the broker's own message to the default", () => {
    const err = kafkaError(ErrorCode.TOPIC_AUTHORIZATION_FAILED, "Not authorized to access topics: [orders]");
    expect(err.errorMessage).toBe("Not authorized to access topics: [orders]");
    expect(err.message).toBe("TOPIC_AUTHORIZATION_FAILED (29): Not authorized to access topics: [orders]");
    expect(err.retriable).toBe(false);
  });

  it("falls back to the default message when the broker sent null or an empty string", () => {
    const fallback = ERROR_TABLE.get(ErrorCode.INVALID_CONFIG)?.message;
    expect(kafkaError(ErrorCode.INVALID_CONFIG, null).errorMessage).toBe(fallback);
    expect(kafkaError(ErrorCode.INVALID_CONFIG, "").errorMessage).toBe(fallback);
  });

  it("names a code newer than the table UNKNOWN_ERROR_CODE and does not retry it", () => {
    const err = kafkaError(500, "from a future broker");
    expect(err.errorCode).toBe(500);
    expect(err.errorName).toBe("UNKNOWN_ERROR_CODE");
    expect(err.retriable).toBe(false);
    expect(err.message).toBe("UNKNOWN_ERROR_CODE (500): from a future broker");
    expect(isRetriable(err)).toBe(false);
  });

  it("keeps a cause", () => {
    const cause = new Error("socket said so");
    expect(new KafkaError(ErrorCode.NETWORK_EXCEPTION, null, { cause }).cause).toBe(cause);
  });
});

describe("isRetriable", () => {
  it("follows Kafka's table for every broker error code", () => {
    for (const info of ERROR_TABLE.values()) {
      expect(isRetriable(kafkaError(info.code)), info.name).toBe(info.retriable);
    }
    const retriable = [...ERROR_TABLE.values()].filter((info) => info.retriable).length;
    // Kafka 4.3.1: 32 of its 135 codes map to a RetriableException.
    expect(retriable).toBe(32);
  });

  it("retries metadata, coordinator and controller moves, which Kafka itself marks retriable", () => {
    for (const code of [
      ErrorCode.NOT_LEADER_OR_FOLLOWER,
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      ErrorCode.LEADER_NOT_AVAILABLE,
      ErrorCode.FENCED_LEADER_EPOCH,
      ErrorCode.NOT_COORDINATOR,
      ErrorCode.COORDINATOR_NOT_AVAILABLE,
      ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
      ErrorCode.NOT_CONTROLLER,
      ErrorCode.REQUEST_TIMED_OUT,
    ]) {
      expect(isRetriable(kafkaError(code)), String(code)).toBe(true);
    }
  });

  it("leaves errors that need an action by their owning layer to that layer", () => {
    for (const code of [
      ErrorCode.REBALANCE_IN_PROGRESS,
      ErrorCode.UNKNOWN_MEMBER_ID,
      ErrorCode.ILLEGAL_GENERATION,
      ErrorCode.MEMBER_ID_REQUIRED,
      ErrorCode.FENCED_MEMBER_EPOCH,
      ErrorCode.STALE_MEMBER_EPOCH,
      ErrorCode.UNKNOWN_PRODUCER_ID,
      ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
      ErrorCode.INVALID_PRODUCER_EPOCH,
      ErrorCode.TRANSACTION_ABORTABLE,
      ErrorCode.REBOOTSTRAP_REQUIRED,
    ]) {
      expect(isRetriable(kafkaError(code)), String(code)).toBe(false);
    }
  });

  it("does not retry anything that is not a KafkaError", () => {
    expect(isRetriable(new Error("boom"))).toBe(false);
    expect(isRetriable(new SamsaError("SAMSA_ERR_PROTOCOL", "bad bytes"))).toBe(false);
    // A lookalike object is not trusted: only the table sets `retriable`.
    expect(isRetriable({ retriable: true, errorCode: 6 })).toBe(false);
    expect(isRetriable(undefined)).toBe(false);
    expect(isRetriable(null)).toBe(false);
    expect(isRetriable("NOT_LEADER_OR_FOLLOWER")).toBe(false);
  });
});

describe("routing classification from the generated table", () => {
  it("marks Kafka's InvalidMetadataException family for a metadata refresh, and the coordinator pair for a lookup", () => {
    expect([3, 5, 6, 74, 100].map((c) => needsMetadataRefresh(kafkaError(c)))).toEqual([true, true, true, true, true]);
    expect([7, 16, 15, 1].map((c) => needsMetadataRefresh(kafkaError(c)))).toEqual([false, false, false, false]);
    expect([15, 16].map((c) => needsCoordinatorLookup(kafkaError(c)))).toEqual([true, true]);
    expect([14, 6].map((c) => needsCoordinatorLookup(kafkaError(c)))).toEqual([false, false]);
    expect(needsMetadataRefresh(new ConnectionError("b:1", "refused"))).toBe(true);
    expect(needsMetadataRefresh(new Error("x"))).toBe(false);
  });
});
