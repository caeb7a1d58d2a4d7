// Cleans up after a harness whose process died without calling stop(): the harness holds
// the write end of this process's stdin, so end-of-file means the harness is gone (even
// after SIGKILL). Then it stops the broker JVMs and removes their data folders.
// Plain JavaScript so that it starts without a TypeScript loader.
import { rmSync } from "node:fs";

const initial = JSON.parse(process.argv[2] ?? "{}");
let pids = initial.pids ?? [];
const dirs = initial.dirs ?? [];

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function signal(pid, sig) {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

let cleaning = false;
async function cleanUp() {
  if (cleaning) return;
  cleaning = true;
  for (const pid of pids) signal(pid, "SIGTERM");
  const deadline = Date.now() + 5000;
  while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  for (const pid of pids) if (alive(pid)) signal(pid, "SIGKILL");
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}

// A normal stop() ends this process with SIGTERM after doing the cleaning itself.
process.on("SIGTERM", () => process.exit(0));
process.on("SIGINT", () => {});
// The harness writes a line {"pids": [...]} whenever a node restarts with a new pid.
let pending = "";
process.stdin.on("data", (chunk) => {
  pending += chunk.toString();
  let newline = pending.indexOf("\n");
  while (newline >= 0) {
    const line = pending.slice(0, newline);
    pending = pending.slice(newline + 1);
    try {
      pids = JSON.parse(line).pids ?? pids;
    } catch {
      // Ignore a malformed line: the old pids stay.
    }
    newline = pending.indexOf("\n");
  }
});
process.stdin.on("end", cleanUp);
process.stdin.on("close", cleanUp);
process.stdin.on("error", cleanUp);
process.stdin.resume();
