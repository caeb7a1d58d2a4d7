/**
 * Turns a docs code block into a program that runs against the test broker (the prelude, the
 * rewrites), and runs it in its own node process with bounds on how long it may take and on
 * whether it exits by itself. The convention is described in examples.test.ts.
 */
import { execFile, spawn } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { Client } from "../../src/index.js";
import type { CodeBlock } from "./markdown.js";
import { DONE_MARKER } from "./marker.js";

/** The repository root (this file is test/docs/examples.ts). */
export const REPO_ROOT = join(import.meta.dirname, "..", "..");

/** Where the generated programs are written (git-ignored), kept so a failure can be rerun by hand. */
export const EXAMPLES_DIR = join(REPO_ROOT, ".cache", "docs-examples");

const RUNTIME = join(REPO_ROOT, "test", "docs", "runtime.ts");
const PROTOCOL = join(REPO_ROOT, "src", "protocol", "index.ts");
const OTEL = join(REPO_ROOT, "src", "otel", "index.ts");
const PROMETHEUS = join(REPO_ROOT, "src", "prometheus", "index.ts");

/** Names a block may use without defining them; the prelude then defines them. */
export const PRELUDE_NAMES = ["client", "producer", "admin", "topic", "signal"] as const;

/** Drops comments and string literals, so `"admin"` or `// the client` do not count as uses. */
function codeOnly(code: string): string {
  return code
    .replace(/\/\*[\s\S]*?\*\//g, " ")
    .replace(/\/\/[^\n]*/g, " ")
    .replace(/"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`/g, '""');
}

/** True when `code` declares `name` at any level (const/let/var/function/class, destructuring, import). */
function declares(code: string, name: string): boolean {
  const n = `\\b${name}\\b`;
  return (
    new RegExp(`\\b(?:const|let|var|function|class)\\s+${n}`).test(code) ||
    new RegExp(`\\b(?:const|let|var)\\s*[[{][^=;]*${n}[^=;]*[\\]}]\\s*=`).test(code) ||
    new RegExp(`\\bimport\\s[^;]*${n}[^;]*\\sfrom\\b`).test(code)
  );
}

/** True when `code` reads `name` as a variable (not as `x.name` or as an object key `name:`). */
function uses(code: string, name: string): boolean {
  return new RegExp(`(?<![.\\w$])${name}\\b(?!\\s*:(?!:))`).test(code);
}

/** The prelude names `code` uses without declaring. */
export function preludeNamesOf(code: string): string[] {
  const plain = codeOnly(code);
  return PRELUDE_NAMES.filter((name) => uses(plain, name) && !declares(plain, name));
}

/** `"host:port"` and `"host:port,host:port"` string literals: the addresses examples name. */
const ADDRESS_LITERAL = /(["'`])((?:[\w.-]+|\[[\da-fA-F:]+\]):\d+(?:\s*,\s*(?:[\w.-]+|\[[\da-fA-F:]+\]):\d+)*)\1/g;

/**
 * The program for `block`: one prelude line (so line N of the block is line N + 1 of the
 * program), the block with `samsa` imports pointed at the source and addresses replaced by
 * `bootstrap`, and a last line that closes what the prelude made and prints the done marker.
 */
export function programOf(block: CodeBlock, bootstrap: string): string {
  const b = JSON.stringify(bootstrap);
  const prelude = [`import * as __docs from ${JSON.stringify(RUNTIME)};`];
  for (const name of preludeNamesOf(block.code)) {
    if (name === "client") prelude.push(`const client = __docs.preludeClient(${b});`);
    if (name === "producer") prelude.push(`const producer = __docs.preludeProducer(${b});`);
    if (name === "admin") prelude.push(`const admin = __docs.preludeAdmin(${b});`);
    if (name === "topic") prelude.push(`const topic = await __docs.preludeTopic(${b}, 3, 30);`);
    if (name === "signal") prelude.push("const signal = AbortSignal.timeout(5_000);");
  }
  const body = block.code
    .replace(/(\bfrom\s*)(["'])samsa\2/g, (_, from: string) => `${from}${JSON.stringify(RUNTIME)}`)
    .replace(/(\bfrom\s*)(["'])samsa\/protocol\2/g, (_, from: string) => `${from}${JSON.stringify(PROTOCOL)}`)
    .replace(/(\bfrom\s*)(["'])samsa\/otel\2/g, (_, from: string) => `${from}${JSON.stringify(OTEL)}`)
    .replace(/(\bfrom\s*)(["'])samsa\/prometheus\2/g, (_, from: string) => `${from}${JSON.stringify(PROMETHEUS)}`)
    .replace(ADDRESS_LITERAL, () => b);
  return `${prelude.join(" ")}\n${body}\n;await __docs.end();\n`;
}

/**
 * Topics the examples read without creating them (docs/consumer.md subscribes to `invoices`
 * and `refunds`, assigns `invoices` partition 1, reads `events`), with the partition count
 * they need at least.
 */
export const DOCS_TOPICS: Readonly<Record<string, number>> = { invoices: 3, refunds: 1, events: 2 };

/**
 * Makes sure every DOCS_TOPICS topic exists with at least its partition count (a reused
 * broker may hold one from an earlier run, or one an admin example made with fewer), and
 * writes `records` records to `invoices` so the consumer examples have something to print.
 */
export async function ensureDocsTopics(bootstrap: string, records: number): Promise<void> {
  const client = new Client({ bootstrap, clientId: "docs-fixture" });
  try {
    const admin = client.admin();
    const existing = new Map((await admin.listTopics()).map((t) => [t.name, t.partitionCount]));
    const missing = Object.entries(DOCS_TOPICS).filter(([name]) => !existing.has(name));
    if (missing.length > 0) await admin.createTopics(missing.map(([name, numPartitions]) => ({ name, numPartitions })));
    const grow = Object.entries(DOCS_TOPICS).filter(([name, n]) => (existing.get(name) ?? n) < n);
    if (grow.length > 0) await admin.createPartitions(grow.map(([topic, count]) => ({ topic, count })));
    const producer = client.producer();
    await producer.send(
      Array.from({ length: records }, (_, i) => ({ topic: "invoices", key: `invoice-${i}`, value: `invoice ${i}` })),
    );
    await producer.close();
  } finally {
    client.close();
  }
}

/** The file name for a block's program: its id, made safe. */
function programName(block: CodeBlock): string {
  return `${block.id.replace(/[^\w]+/g, "-").replace(/^-|-$/g, "")}.ts`;
}

/**
 * Type-checks the programs of `blocks` (run or not) in one tsc run, strict but without
 * `noUncheckedIndexedAccess` (examples write `const [topic] = await admin.createTopics(…)`).
 * Returns tsc's messages with each position turned into the Markdown file's line, or "".
 */
export async function typecheckExamples(blocks: readonly CodeBlock[], bootstrap: string): Promise<string> {
  const dir = join(EXAMPLES_DIR, "typecheck");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const byName = new Map<string, CodeBlock>();
  for (const block of blocks) {
    byName.set(programName(block), block);
    writeFileSync(join(dir, programName(block)), programOf(block, bootstrap));
  }
  const compilerOptions = {
    target: "ES2023",
    module: "NodeNext",
    moduleResolution: "NodeNext",
    lib: ["ES2023"],
    types: ["node"],
    typeRoots: [join(REPO_ROOT, "node_modules", "@types")],
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    allowImportingTsExtensions: true,
    isolatedModules: true,
  };
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions, include: ["*.ts"] }));
  const tsc = join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc");
  try {
    await promisify(execFile)(process.execPath, [tsc, "-p", join(dir, "tsconfig.json"), "--pretty", "false"], {
      cwd: dir,
      maxBuffer: 16 << 20,
    });
    return "";
  } catch (err) {
    const out = String((err as { stdout?: string }).stdout ?? err);
    // "name.ts(12,5): error TS…" → "docs/admin.md:140:5 (docs/admin.md#Configs): error TS…"
    return out.replace(/^([\w.-]+\.ts)\((\d+),(\d+)\)/gm, (whole, name: string, line: string, col: string) => {
      const block = byName.get(name);
      return block ? `${block.file}:${block.line + Number(line) - 1}:${col} (${block.id})` : whole;
    });
  }
}

/** How a program run ended. */
export interface RunResult {
  /** `exited`: on its own; `hung`: still running at the deadline; `left-alive`: its code ended but the process did not. */
  outcome: "exited" | "hung" | "left-alive";
  /** Exit code (null when killed). */
  code: number | null;
  /** Whether the last line (the done marker) was reached. */
  done: boolean;
  stdout: string;
  stderr: string;
  /** The program file, for rerunning by hand. */
  file: string;
  ms: number;
}

/** Run bounds. */
export interface RunLimits {
  /** Longest a program may run (ms). */
  deadlineMs: number;
  /** How long after its last line the process may take to exit (ms). */
  exitGraceMs: number;
  /** When the runtime closes consumers still open (ms after each was made). */
  stopConsumersMs: number;
}

/** Writes the program for `block` and runs it with `node --import tsx`. */
export async function runExample(block: CodeBlock, bootstrap: string, limits: RunLimits): Promise<RunResult> {
  mkdirSync(EXAMPLES_DIR, { recursive: true });
  const file = join(EXAMPLES_DIR, programName(block));
  writeFileSync(file, programOf(block, bootstrap));
  const started = Date.now();
  const child = spawn(process.execPath, ["--import", "tsx", file], {
    cwd: REPO_ROOT,
    env: { ...process.env, KAFKA_BOOTSTRAP: bootstrap, DOCS_STOP_CONSUMERS_MS: String(limits.stopConsumersMs) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  let done = false;
  let outcome: RunResult["outcome"] = "exited";
  const kill = (why: RunResult["outcome"]) => {
    outcome = why;
    child.kill("SIGKILL");
  };
  const deadline = setTimeout(() => kill("hung"), limits.deadlineMs);
  let grace: NodeJS.Timeout | undefined;
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
    if (!done && stdout.includes(DONE_MARKER)) {
      done = true;
      clearTimeout(deadline);
      grace = setTimeout(() => kill("left-alive"), limits.exitGraceMs);
    }
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const code = await new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
  clearTimeout(deadline);
  clearTimeout(grace);
  return {
    outcome,
    code,
    done,
    stdout: stdout.replace(`\n${DONE_MARKER}\n`, ""),
    stderr,
    file,
    ms: Date.now() - started,
  };
}
