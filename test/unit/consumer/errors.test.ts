import { describe, expect, it } from "vitest";
import { UnknownTopicError } from "../../../src/consumer/errors.js";
import { ErrorCode } from "../../../src/protocol/error-table.js";
import { KafkaError, kafkaError } from "../../../src/protocol/kafka-error.js";

describe("UnknownTopicError", () => {
  it("names UNKNOWN_TOPIC_OR_PARTITION once in its message (it said it twice, and the cause a third time)", () => {
    const error = new UnknownTopicError("orders", kafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
    expect(error.message).toBe(
      'UNKNOWN_TOPIC_OR_PARTITION (3): subscribed topic "orders" does not exist; waiting for it to be created',
    );
    expect(error.message.split("UNKNOWN_TOPIC_OR_PARTITION")).toHaveLength(2);
    expect(error).toBeInstanceOf(KafkaError);
    expect(error).toMatchObject({ topic: "orders", errorCode: 3, errorName: "UNKNOWN_TOPIC_OR_PARTITION" });
    expect(error.cause).toMatchObject({ errorName: "UNKNOWN_TOPIC_OR_PARTITION" });
  });
});
