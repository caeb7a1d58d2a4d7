import { describe, expect, it, vi } from "vitest";
import { BackgroundErrors } from "../../../src/network/background-errors.js";
import { TimeoutError } from "../../../src/network/errors.js";

describe("BackgroundErrors", () => {
  it("hands a background error and its context to every error listener, and counts it", () => {
    const hub = new BackgroundErrors();
    const seen: [string, string][] = [];
    hub.on("error", (err, ctx) => seen.push([err.message, `${ctx.source}/${ctx.operation}/${ctx.groupId}`]));
    hub.reportError(new TimeoutError("commit timed out"), {
      source: "consumer",
      operation: "autoCommit",
      groupId: "g",
    });
    expect(seen).toEqual([["commit timed out", "consumer/autoCommit/g"]]);
    expect(hub.backgroundErrors).toBe(1);
  });

  it("never throws without a listener (a plain EventEmitter would crash the process): one stderr line, repeats muted", () => {
    const hub = new BackgroundErrors();
    const write = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      for (let i = 0; i < 5; i++)
        hub.reportError(new Error("broker gone"), { source: "producer", operation: "refreshMetadata" });
      hub.reportError(new Error("other"), {
        source: "consumer",
        operation: "leaveGroup",
        groupId: "g",
        topic: "t",
        partition: 2,
      });
      expect(write.mock.calls.map((c) => String(c[0]))).toEqual([
        "samsa producer refreshMetadata: broker gone\n",
        "samsa consumer leaveGroup (g t 2): other\n",
      ]);
      expect(hub.backgroundErrors).toBe(6);
    } finally {
      write.mockRestore();
    }
  });
});
