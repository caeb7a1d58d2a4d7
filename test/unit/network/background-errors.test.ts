import { describe, expect, it } from "vitest";
import { BackgroundErrors } from "../../../src/network/background-errors.js";
import { TimeoutError } from "../../../src/network/errors.js";
import { Instrumentation } from "../../../src/observability/instrumentation.js";
import { DefaultLogger } from "../../../src/observability/logger.js";

/** A hub whose default logger writes into `lines`. */
function hub(lines: string[]): BackgroundErrors {
  return new BackgroundErrors(new Instrumentation("app-1", new DefaultLogger((line) => lines.push(line))));
}

describe("BackgroundErrors", () => {
  it("hands a background error and its context to every error listener, logs it, and counts it", () => {
    const lines: string[] = [];
    const h = hub(lines);
    const seen: [string, string][] = [];
    h.on("error", (err, ctx) => seen.push([err.message, `${ctx.source}/${ctx.operation}/${ctx.groupId}`]));
    h.reportError(new TimeoutError("commit timed out"), { source: "consumer", operation: "autoCommit", groupId: "g" });
    expect(seen).toEqual([["commit timed out", "consumer/autoCommit/g"]]);
    expect(lines).toEqual([
      "samsa ERROR consumer autoCommit (group g) failed: commit timed out source=consumer operation=autoCommit groupId=g event=client:error\n",
    ]);
    expect(h.backgroundErrors).toBe(1);
  });

  it("never throws without a listener (a plain EventEmitter would crash the process): one stderr line, repeats muted", () => {
    const lines: string[] = [];
    const h = hub(lines);
    for (let i = 0; i < 5; i++)
      h.reportError(new Error("broker gone"), { source: "producer", operation: "refreshMetadata" });
    h.reportError(new Error("other"), {
      source: "consumer",
      operation: "leaveGroup",
      groupId: "g",
      topic: "t",
      partition: 2,
    });
    expect(lines).toEqual([
      "samsa ERROR producer refreshMetadata failed: broker gone source=producer operation=refreshMetadata event=client:error\n",
      "samsa ERROR consumer leaveGroup (group g) t-2 failed: other source=consumer operation=leaveGroup groupId=g topic=t partition=2 event=client:error\n",
    ]);
    expect(h.backgroundErrors).toBe(6);
  });
});
