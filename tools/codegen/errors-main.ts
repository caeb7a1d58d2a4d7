/**
 * Writes src/protocol/error-table.ts from the pinned Kafka: `npx tsx tools/codegen/errors-main.ts`.
 * A stand-in until every generator runs from one `npm run generate` entry.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { REPO_ROOT } from "../kafka/paths.js";
import { ERROR_TABLE_PATH, generateErrorTable } from "./errors.js";

const path = join(REPO_ROOT, ERROR_TABLE_PATH);
await writeFile(path, await generateErrorTable());
console.log(`wrote ${ERROR_TABLE_PATH}`);
