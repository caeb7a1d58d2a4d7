/**
 * Test helper of the fault suite: runs test/fault/group-member.ts as a child process and
 * counts the ids it reports into a shared {@link SeenIds}.
 */
import type { SeenIds } from "./fault-ledger.js";
import { ScriptProcess } from "./script-process.js";

/** One member process; see the module comment. */
export class MemberProcess extends ScriptProcess {
  /** Assignments reported, newest last. */
  readonly assignments: number[][] = [];
  /** Records reported by this process. */
  received = 0;

  constructor(bootstrap: string, topic: string, groupId: string, protocol: "consumer" | "classic", seen: SeenIds) {
    super("test/fault/group-member.ts", [bootstrap, topic, groupId, protocol], (line) => {
      if (line.startsWith("R ")) {
        for (const id of line.slice(2).split(",")) {
          seen.add(id);
          this.received++;
        }
      } else if (line.startsWith("A ")) {
        this.assignments.push(line.length > 2 ? line.slice(2).split(",").map(Number) : []);
      }
    });
  }
}
