import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { expect, it } from "vitest";
import { generateMessages, MESSAGES_DIR } from "../../../tools/codegen/main.js";

// The committed generated code must be exactly what `npm run generate` produces from the
// pinned Kafka jars: a stale file fails here, not in production.
it("committed src/protocol/messages equals the generator's output", async () => {
  const expected = await generateMessages();
  const committed = (await readdir(MESSAGES_DIR)).sort();
  expect(committed).toEqual([...expected.keys()].sort());
  for (const [name, text] of expected) {
    expect(await readFile(join(MESSAGES_DIR, name), "utf8"), name).toBe(text);
  }
});
