/**
 * Every ```ts block of README.md and docs/*.md is a test: it runs as its own node process
 * against the integration broker and must exit 0, by itself, within a minute.
 *
 * The convention for writing examples (the same note is what contributors need):
 *
 * - A block is a whole ES module: it imports from "samsa" (or "samsa/protocol"), which here
 *   resolve to src/, and may use top-level await. Any `"host:port"` or `"host:port,host:port"`
 *   string literal (`"127.0.0.1:9092"`, `"broker-1:9093,broker-2:9093"`) is replaced by the
 *   test broker's address, which is also in `process.env.KAFKA_BOOTSTRAP`.
 * - Fragments may use these names without defining them; the prelude then defines them:
 *     `client`   a Client connected to the broker (closed after the block, with every
 *                consumer made from it);
 *     `producer` `client.producer()` (closed after the block);
 *     `admin`    `client.admin()`;
 *     `topic`    a fresh topic with 3 partitions holding 30 records (`key-i` / `value-i`);
 *     `signal`   an AbortSignal that aborts 5 s after the start.
 *   A block that defines one of these names itself gets no prelude for it, and closes what it
 *   made (a Client left open keeps the process alive, and the test fails).
 * - The broker holds the topics the examples read without making them (DOCS_TOPICS in
 *   examples.ts: `invoices` with 3 partitions and a few records, `refunds`, `events` with 2),
 *   made before the first block runs; the topics they make themselves are theirs.
 * - Endless loops end the documented way: a consumer still open 12 s after it was made is
 *   `close()`d by the test runtime (test/docs/runtime.ts), as another part of an application
 *   would, so `for await (const m of consumer)` returns; or pass `signal` to
 *   `consumer.messages({ signal })`.
 * - A block that cannot run against one plaintext broker (it needs TLS or SASL, or three
 *   brokers) has `<!-- not run: the reason -->` on the line before its fence. NOT_RUN below
 *   lists those blocks, so that adding one is a deliberate change to this file too.
 * - Every block, run or not, must also type-check against src/ (strict, without
 *   noUncheckedIndexedAccess): an option or method the library does not have fails here even
 *   where JavaScript would ignore it.
 *
 * The generated programs stay in .cache/docs-examples/ (line N + 1 there is line N of the
 * block); rerun one with `KAFKA_BOOTSTRAP=… node --import tsx .cache/docs-examples/<id>.ts`.
 */
import { readdirSync } from "node:fs";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { ensureDocsTopics, REPO_ROOT, runExample, typecheckExamples } from "./examples.js";
import { typeScriptBlocks } from "./markdown.js";

/** The blocks marked `<!-- not run: … -->`, by id (file#heading). */
const NOT_RUN = [
  "docs/admin.md#ACLs",
  "docs/admin.md#Partition management",
  "docs/admin.md#Delegation tokens",
  "docs/client.md#Client: connections, TLS, SASL, metadata",
];

const LIMITS = { deadlineMs: 60_000, exitGraceMs: 5_000, stopConsumersMs: 12_000 };

const files = [
  "README.md",
  ...readdirSync(`${REPO_ROOT}/docs`)
    .filter((f) => f.endsWith(".md"))
    .sort()
    .map((f) => `docs/${f}`),
];
const blocks = files.flatMap((file) => typeScriptBlocks(REPO_ROOT, file));

describe("docs examples", () => {
  beforeAll(() => ensureDocsTopics(inject("kafkaBootstrap"), 10));

  it("finds the examples, and exactly the expected ones are marked not run", () => {
    expect(blocks.length).toBeGreaterThanOrEqual(15);
    expect(new Set(blocks.map((b) => b.id)).size).toBe(blocks.length);
    const notRun = blocks.filter((b) => b.notRun !== undefined);
    console.log(`not run:\n${notRun.map((b) => `  ${b.file}:${b.line} ${b.id}: ${b.notRun}`).join("\n")}`);
    expect(notRun.map((b) => b.id)).toEqual(NOT_RUN);
  });

  it("every example type-checks against src/ (the not-run ones too)", { timeout: 120_000 }, async () => {
    expect(await typecheckExamples(blocks, inject("kafkaBootstrap"))).toBe("");
  });

  for (const block of blocks.filter((b) => b.notRun === undefined)) {
    it(`${block.id} (${block.file}:${block.line}) runs and exits by itself`, { timeout: 90_000 }, async () => {
      const result = await runExample(block, inject("kafkaBootstrap"), LIMITS);
      const what = {
        exited: `exited with code ${result.code}`,
        hung: `still running after ${LIMITS.deadlineMs} ms (killed)`,
        "left-alive": `ran to its last line but the process did not exit within ${LIMITS.exitGraceMs} ms (killed)`,
      }[result.outcome];
      const report = `${block.file}:${block.line} ${what}; program ${result.file}\n--- stderr\n${result.stderr.slice(-4000)}\n--- stdout\n${result.stdout.slice(-2000)}`;
      expect({ outcome: result.outcome, code: result.code, done: result.done }, report).toEqual({
        outcome: "exited",
        code: 0,
        done: true,
      });
    });
  }
});
