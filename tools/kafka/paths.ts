/**
 * Where the harness keeps what it fetches and writes. Everything lives under `.cache/` at
 * the repository root, which git ignores.
 */
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { KAFKA_VERSION } from "./version.js";

/** The repository root. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Git-ignored cache root. */
export const CACHE_DIR = join(REPO_ROOT, ".cache");

/** Classpath folder holding the pinned broker, its dependencies and Kafka's tools. */
export const KAFKA_LIB_DIR = join(CACHE_DIR, `kafka-${KAFKA_VERSION}`, "lib");

/** Broker logs of harness runs, kept after a run so failures can be read. */
export const KAFKA_LOGS_DIR = join(CACHE_DIR, "kafka-logs");

/** State of the broker started by the CLI (`npm run kafka -- start`). */
export const CLI_STATE_FILE = join(CACHE_DIR, "kafka-cli.json");
