/**
 * Test helper of the fault suite: runs test/fault/group-member.ts as a child process and
 * counts the ids it reports into a shared {@link SeenIds}. `kill()` crashes it (SIGKILL),
 * `stop()` asks it to leave the group cleanly (SIGTERM), then kills it if it lingers.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { REPO_ROOT } from "../../tools/kafka/paths.js";
import type { SeenIds } from "./fault-ledger.js";

const SCRIPT = join(REPO_ROOT, "test", "fault", "group-member.ts");

/** One member process; see the module comment. */
export class MemberProcess {
  readonly child: ChildProcess;
  /** Assignments reported, newest last. */
  readonly assignments: number[][] = [];
  /** Records reported by this process. */
  received = 0;
  stderr = "";
  readonly exited: Promise<number | string>;
  #partial = "";

  constructor(bootstrap: string, topic: string, groupId: string, protocol: "consumer" | "classic", seen: SeenIds) {
    this.child = spawn(process.execPath, ["--import", "tsx", SCRIPT, bootstrap, topic, groupId, protocol], {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child.stdout?.setEncoding("utf8");
    this.child.stdout?.on("data", (chunk: string) => {
      const lines = (this.#partial + chunk).split("\n");
      this.#partial = lines.pop() ?? "";
      for (const line of lines) {
        if (line.startsWith("R ")) {
          for (const id of line.slice(2).split(",")) {
            seen.add(id);
            this.received++;
          }
        } else if (line.startsWith("A ")) {
          this.assignments.push(line.length > 2 ? line.slice(2).split(",").map(Number) : []);
        }
      }
    });
    this.child.stderr?.setEncoding("utf8");
    this.child.stderr?.on("data", (chunk: string) => {
      if (this.stderr.length < 20_000) this.stderr += chunk;
    });
    this.exited = new Promise((resolve) => {
      this.child.once("exit", (code, signal) => resolve(code ?? signal ?? "?"));
    });
  }

  /** A crash: SIGKILL, and wait for the exit. */
  async kill(): Promise<void> {
    this.child.kill("SIGKILL");
    await this.exited;
  }

  /** A clean leave (SIGTERM); SIGKILL after `graceMs`. Resolves with the exit code or signal. */
  async stop(graceMs = 20_000): Promise<number | string> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.exited;
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
    const result = await this.exited;
    clearTimeout(timer);
    return result;
  }
}
