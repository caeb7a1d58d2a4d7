import { expect, it } from "vitest";
import { randomClusterId } from "../../../tools/kafka/harness.js";

// Regression: an id starting with "-" made StorageTool read `-t -abc…` as an option.
it("makes Kafka-style cluster ids that never start with '-'", () => {
  for (let i = 0; i < 20_000; i++) {
    const id = randomClusterId();
    expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
  }
});
