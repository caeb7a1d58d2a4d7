/**
 * Test helper of the fault suite: runs a TypeScript script of the repo as a child process
 * (through tsx), hands each stdout line to `onLine`, keeps the start of stderr. `kill()`
 * crashes it (SIGKILL), `stop()` asks it to end cleanly (SIGTERM), then kills it if it lingers.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { REPO_ROOT } from "../../tools/kafka/paths.js";

/** One script process; see the module comment. */
export class ScriptProcess {
  readonly child: ChildProcess;
  stderr = "";
  /** Resolves with the exit code, or the signal that ended it. */
  readonly exited: Promise<number | string>;
  #partial = "";

  /** `script` is relative to the repo root, e.g. `test/fault/group-member.ts`. */
  constructor(script: string, args: readonly string[], onLine: (line: string) => void) {
    this.child = spawn(process.execPath, ["--import", "tsx", join(REPO_ROOT, script), ...args], {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child.stdout?.setEncoding("utf8");
    this.child.stdout?.on("data", (chunk: string) => {
      const lines = (this.#partial + chunk).split("\n");
      this.#partial = lines.pop() ?? "";
      for (const line of lines) onLine(line);
    });
    this.child.stderr?.setEncoding("utf8");
    this.child.stderr?.on("data", (chunk: string) => {
      if (this.stderr.length < 20_000) this.stderr += chunk;
    });
    this.exited = new Promise((resolve) => {
      this.child.once("exit", (code, signal) => resolve(code ?? signal ?? "?"));
    });
  }

  /** Whether the process has ended. */
  get ended(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /** A crash: SIGKILL, and wait for the exit. */
  async kill(): Promise<void> {
    this.child.kill("SIGKILL");
    await this.exited;
  }

  /** A clean end (SIGTERM); SIGKILL after `graceMs`. Resolves with the exit code or signal. */
  async stop(graceMs = 20_000): Promise<number | string> {
    if (this.ended) return this.exited;
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
    const result = await this.exited;
    clearTimeout(timer);
    return result;
  }
}
