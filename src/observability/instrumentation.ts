/**
 * One client's side of the event catalogue (events.ts): it stamps the client id, publishes
 * to the diagnostics channel and writes the log line. Callers ask {@link Instrumentation.wants}
 * before building a payload, so an event nobody subscribes to and no logger level takes costs
 * one `hasSubscribers` check and one level check, and no allocation.
 */

import { AbortedError } from "../network/errors.js";
import { isRetriable } from "../network/retry.js";
import { channels, EVENT_LEVELS, type EventName, type EventPayloads, type LogLevel } from "./events.js";
import { DefaultLogger, type Logger, levelEnabled } from "./logger.js";

/** Log fields of a payload: `err` for the error (pino's key), bigints as strings, no clientId (the child has it). */
function fields(payload: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(payload)) {
    if (value === undefined) continue;
    if (key === "error") out.err = value;
    else if (typeof value === "bigint") out[key] = value.toString();
    else if (Array.isArray(value)) {
      out[key] = value.map((v: unknown) =>
        v !== null && typeof v === "object" && "offset" in v
          ? { ...v, offset: String((v as { offset: unknown }).offset) }
          : v,
      );
    } else out[key] = value;
  }
  return out;
}

const where = (p: { topic?: string; partition?: number }) =>
  p.topic === undefined ? "" : p.partition === undefined ? ` ${p.topic}` : ` ${p.topic}-${p.partition}`;
const errorText = (e: Error | undefined) => (e ? `: ${e.message}` : "");
const list = (ps: readonly { topic: string; partition: number }[]) =>
  ps.length <= 8 ? ps.map((p) => `${p.topic}-${p.partition}`).join(", ") : `${ps.length} partitions`;

/** The one-line message of each event. */
const MESSAGES: { [E in EventName]: (p: EventPayloads[E]) => string } = {
  "network:connection-opened": (p) => `connected to ${p.address}${p.tls ? " (TLS)" : ""}`,
  "network:connection-authenticated": (p) =>
    `${p.reauthentication ? "re-authenticated" : "authenticated"} to ${p.address} with ${p.mechanism}`,
  "network:connection-closed": (p) => `connection to ${p.address} closed${errorText(p.error)}`,
  "network:metadata-refreshed": (p) => `metadata refreshed: ${p.brokers} brokers, ${p.topics} topics`,
  "client:error": (p) =>
    `${p.source} ${p.operation}${p.groupId ? ` (group ${p.groupId})` : ""}${where(p)} failed${errorText(p.error)}`,
  "producer:batch-sent": (p) =>
    `batch of ${p.records} records sent to${where(p)}${p.attempt > 0 ? ` (retry ${p.attempt})` : ""}`,
  "producer:batch-acknowledged": (p) => `batch of ${p.records} records acknowledged by${where(p)}`,
  "producer:batch-retried": (p) => `batch of ${p.records} records to${where(p)} will be retried${errorText(p.error)}`,
  "producer:batch-failed": (p) => `batch of ${p.records} records to${where(p)} failed${errorText(p.error)}`,
  "producer:records-failed": (p) => `${p.records} records to${where(p)} failed before a batch${errorText(p.error)}`,
  "consumer:fetch-answered": (p) => `fetched ${p.records} records of${where(p)}, lag ${p.lag}`,
  "consumer:group-joined": (p) => `joined group ${p.groupId} as ${p.memberId} (generation ${p.generationId})`,
  "consumer:partitions-assigned": (p) => `group ${p.groupId} assigned ${list(p.partitions)}`,
  "consumer:partitions-revoked": (p) => `group ${p.groupId} revoked ${list(p.partitions)}`,
  "consumer:partitions-lost": (p) => `group ${p.groupId} lost ${list(p.partitions)}`,
  "consumer:member-fenced": (p) => `member ${p.memberId} of group ${p.groupId} fenced${errorText(p.error)}`,
  "consumer:offsets-committed": (p) => `group ${p.groupId} committed ${list(p.offsets)}`,
  "consumer:offsets-commit-failed": (p) =>
    `group ${p.groupId} commit of ${list(p.offsets)} failed${errorText(p.error)}`,
};

/** A client's instrumentation; see the module comment. */
export class Instrumentation {
  readonly clientId: string;
  /** The logger lines go to (a `child` of the one given, or the default). */
  readonly logger: Logger;
  /** Counters every connection of the client adds to (see `ClientStats`). */
  requests = 0;
  requestErrors = 0;
  bytesSent = 0;
  bytesReceived = 0;

  constructor(clientId: string, logger?: Logger) {
    this.clientId = clientId;
    this.logger = logger ? (logger.child?.({ lib: "samsa", clientId }) ?? logger) : new DefaultLogger();
  }

  /** Whether event `name` reaches anyone: a channel subscriber or the logger at its level. */
  wants(name: EventName): boolean {
    return channels[name].hasSubscribers || levelEnabled(this.logger, EVENT_LEVELS[name]);
  }

  /** Whether the logger writes `level`. */
  logs(level: LogLevel): boolean {
    return levelEnabled(this.logger, level);
  }

  /** Publishes `payload` on the event's channel and logs it (callers check {@link wants} first). */
  emit<E extends EventName>(name: E, payload: EventPayloads[E]): void {
    const channel = channels[name];
    if (channel.hasSubscribers) channel.publish(payload);
    let level = EVENT_LEVELS[name];
    if (name === "network:connection-closed" && (payload as { error?: Error }).error) level = "warn";
    // A background error that heals by itself (a broker restarting) is a warning; the rest need someone.
    if (name === "client:error" && isRetriable((payload as { error: Error }).error)) level = "warn";
    // Records the application itself aborted (close with an aborted signal, an aborted
    // transaction) are no news to it: their callers already hold the AbortedError.
    if (
      (name === "producer:batch-failed" || name === "producer:records-failed") &&
      (payload as { error: Error }).error instanceof AbortedError
    )
      level = "debug";
    if (!levelEnabled(this.logger, level)) return;
    const f = fields(payload);
    delete f.clientId;
    f.event = name;
    try {
      this.logger[level](f, MESSAGES[name](payload));
    } catch {
      // A logger that throws must not take the client's background work down with it.
    }
  }
}
