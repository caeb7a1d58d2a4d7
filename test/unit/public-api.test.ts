import { describe, expect, it } from "vitest";
import * as root from "../../src/index.js";
import * as protocol from "../../src/protocol/index.js";

describe("public API", () => {
  it("the package root exports the clients, errors and types users need, not the ~1,600 protocol symbols", () => {
    const names = Object.keys(root);
    for (const name of [
      "Client",
      "Producer",
      "Consumer",
      "Admin",
      "KafkaError",
      "ErrorCode",
      "SamsaError",
      "ClosedError",
    ]) {
      expect(names, name).toContain(name);
    }
    expect(names).not.toContain("Produce");
    expect(names).not.toContain("RecordBatchBuilder");
    expect(names.length).toBeLessThan(80);
    // The protocol layer is still whole at samsa/protocol.
    expect(Object.keys(protocol)).toEqual(expect.arrayContaining(["Produce", "Fetch", "RecordBatchBuilder", "ApiKey"]));
  });
});
