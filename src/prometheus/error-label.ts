/**
 * The `error` label: one short, bounded name per kind of failure, so a dashboard can group by
 * it without the series count growing with error messages (which carry offsets, addresses and
 * topic names).
 */
import { errorInfo } from "../protocol/error-table.js";

/**
 * Kafka's name for a broker error (`KafkaError.errorName`, e.g. `NOT_LEADER_OR_FOLLOWER`),
 * else samsa's stable code (`SAMSA_ERR_TIMEOUT`), else the error's class name (`TypeError`).
 * The outer error names it: a TimeoutError after retries of NOT_ENOUGH_REPLICAS is
 * `SAMSA_ERR_TIMEOUT` (the retries already counted each NOT_ENOUGH_REPLICAS).
 *
 * Duck-typed rather than `instanceof`, so errors from a second copy of samsa in the same
 * process (a dependency bundling its own) are named the same way.
 */
export function errorLabel(error: unknown): string {
  if (error === null || typeof error !== "object") return "UNKNOWN";
  const e = error as { errorName?: unknown; code?: unknown; name?: unknown };
  if (typeof e.errorName === "string" && e.errorName !== "") return e.errorName;
  if (typeof e.code === "string" && e.code.startsWith("SAMSA_ERR_")) return e.code;
  if (typeof e.name === "string" && /^\w{1,64}$/.test(e.name)) return e.name;
  return "UNKNOWN";
}

/** Kafka's name for a response's error code, e.g. 16 → `NOT_COORDINATOR`. */
export function errorCodeLabel(code: number): string {
  return errorInfo(code).name;
}
