/**
 * `npm run generate`: regenerates every generated file from the pinned Kafka jars: the
 * message modules and the broker error table.
 * Output is deterministic, so a test can compare it with what is committed.
 */
import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ensureKafkaJars, kafkaClientsJar } from "../kafka/jars.js";
import { REPO_ROOT } from "../kafka/paths.js";
import { ERROR_TABLE_PATH, generateErrorTable } from "./errors.js";
import { readJarEntries } from "./jar.js";
import { emitApi, emitData, emitIndex } from "./messages.js";
import { type MessageSpec, parseSpec } from "./spec.js";

/** Output folder of the message modules. */
export const MESSAGES_DIR = join(REPO_ROOT, "src", "protocol", "messages");

/** Reads every message spec from the pinned kafka-clients jar. */
export async function loadSpecs(): Promise<MessageSpec[]> {
  await ensureKafkaJars();
  const entries = readJarEntries(kafkaClientsJar(), (name) => /^common\/message\/[A-Za-z]+\.json$/.test(name));
  return [...entries.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([, text]) => parseSpec(text.toString("utf8")));
}

/** Generates the message modules in memory: file name → text. */
export async function generateMessages(): Promise<Map<string, string>> {
  const specs = await loadSpecs();
  const requests = new Map<number, MessageSpec>();
  const responses = new Map<number, MessageSpec>();
  const data: MessageSpec[] = [];
  for (const spec of specs) {
    if (spec.type === "request") requests.set(spec.apiKey as number, spec);
    else if (spec.type === "response") responses.set(spec.apiKey as number, spec);
    else data.push(spec);
  }
  const files = new Map<string, string>();
  const apis = [];
  for (const [key, request] of [...requests.entries()].sort(([a], [b]) => a - b)) {
    const response = responses.get(key);
    if (!response) throw new Error(`no response spec for API key ${key}`);
    if (request.validVersions === "none") continue;
    const api = emitApi(request, response);
    apis.push(api);
    files.set(api.file, api.text);
  }
  const dataModules = data.sort((a, b) => a.name.localeCompare(b.name)).map(emitData);
  for (const d of dataModules) files.set(d.file, d.text);
  files.set("index.ts", emitIndex(apis, dataModules));
  return files;
}

async function main(): Promise<void> {
  const files = await generateMessages();
  await mkdir(MESSAGES_DIR, { recursive: true });
  for (const name of await readdir(MESSAGES_DIR)) if (!files.has(name)) await rm(join(MESSAGES_DIR, name));
  for (const [name, text] of files) await writeFile(join(MESSAGES_DIR, name), text);
  console.log(`wrote ${files.size} files to ${MESSAGES_DIR}`);
  await writeFile(join(REPO_ROOT, ERROR_TABLE_PATH), await generateErrorTable());
  console.log(`wrote ${ERROR_TABLE_PATH}`);
}

if (process.argv[1] && import.meta.url === `file://${process.argv[1]}`) await main();
