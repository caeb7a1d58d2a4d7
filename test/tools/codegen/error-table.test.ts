import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ERROR_TABLE } from "../../../src/protocol/error-table.js";
import {
  ERROR_TABLE_PATH,
  generateErrorTable,
  type KafkaErrorRow,
  readKafkaErrors,
  renderErrorTable,
} from "../../../tools/codegen/errors.js";
import { REPO_ROOT } from "../../../tools/kafka/paths.js";

describe("error table generator", () => {
  let rows: KafkaErrorRow[];
  beforeAll(async () => {
    rows = await readKafkaErrors();
  });

  it("reads every Errors constant from the kafka-clients jar, NONE and UNKNOWN_SERVER_ERROR included", () => {
    expect(rows.length).toBe(ERROR_TABLE.size);
    expect(rows.find((r) => r.code === 0)).toEqual({
      code: 0,
      name: "NONE",
      retriable: false,
      invalidMetadata: false,
      coordinatorMoved: false,
      message: "",
      exception: "",
    });
    expect(rows.find((r) => r.code === -1)).toMatchObject({
      name: "UNKNOWN_SERVER_ERROR",
      retriable: false,
      exception: "UnknownServerException",
    });
    expect(rows.find((r) => r.code === 6)).toMatchObject({
      name: "NOT_LEADER_OR_FOLLOWER",
      retriable: true,
      invalidMetadata: true,
      coordinatorMoved: false,
      exception: "NotLeaderOrFollowerException",
    });
    expect(rows.find((r) => r.code === 16)).toMatchObject({
      name: "NOT_COORDINATOR",
      retriable: true,
      invalidMetadata: false,
      coordinatorMoved: true,
    });
    // Retriable but not a routing problem: resend to the same broker.
    expect(rows.find((r) => r.code === 7)).toMatchObject({
      name: "REQUEST_TIMED_OUT",
      invalidMetadata: false,
      coordinatorMoved: false,
    });
  });

  it("matches the committed table entry for entry", () => {
    for (const row of rows) {
      const { exception: _, invalidMetadata, coordinatorMoved, ...info } = row;
      expect(ERROR_TABLE.get(row.code), row.name).toEqual({
        ...info,
        ...(invalidMetadata ? { invalidMetadata } : {}),
        ...(coordinatorMoved ? { coordinatorMoved } : {}),
      });
    }
  });

  // The committed file must be exactly what the generator produces from the pinned Kafka
  // jars: a stale table fails here, not in production.
  it("committed src/protocol/error-table.ts equals the generator's output", async () => {
    const committed = await readFile(join(REPO_ROOT, ERROR_TABLE_PATH), "utf8");
    expect(committed).toBe(await generateErrorTable());
  });

  it("refuses a code Kafka reports twice", () => {
    const row: KafkaErrorRow = {
      code: 1,
      name: "A",
      retriable: false,
      invalidMetadata: false,
      coordinatorMoved: false,
      message: "m",
      exception: "E",
    };
    expect(() => renderErrorTable([row, { ...row, name: "B" }], "0.0.0")).toThrow("error code 1 twice");
  });
});
