/**
 * The one contract by which errors that no caller is waiting for (an auto-commit that failed,
 * a leave-group that timed out, a member that cannot join, a metadata refresh behind a
 * producer) reach the application. A `Cluster` (and so the user's `Client`) is the hub: every producer, consumer and admin
 * made from it reports here, and the application listens with `client.on("error", …)`.
 *
 * Unlike a plain EventEmitter, an `error` nobody listens for never throws (so never crashes
 * the process): it is written as one line to stderr instead, at most once per distinct
 * message every 30 s, so a broker outage cannot flood the log.
 */
import { EventEmitter } from "node:events";

/** Where a background error happened. */
export interface BackgroundErrorContext {
  /** The client that hit it. */
  source: "network" | "producer" | "consumer" | "admin";
  /** What it was doing, e.g. `autoCommit`, `leaveGroup`, `refreshMetadata`, `join`. */
  operation: string;
  topic?: string;
  partition?: number;
  groupId?: string;
  /** Broker node id, when one was involved. */
  nodeId?: number;
}

/** Events of a {@link BackgroundErrors} hub. */
export interface BackgroundErrorEvents {
  error: [error: Error, context: BackgroundErrorContext];
}

const QUIET_MS = 30_000;
const MAX_REMEMBERED = 256;

/** The hub; see the module comment. `Cluster` extends it. */
export class BackgroundErrors extends EventEmitter<BackgroundErrorEvents> {
  /** Errors reported so far (listened to or not). */
  backgroundErrors = 0;
  readonly #lastPrinted = new Map<string, number>();

  /** Reports an error no caller awaits: to `error` listeners, or one stderr line when there are none. */
  reportError(error: Error, context: BackgroundErrorContext): void {
    this.backgroundErrors++;
    if (this.listenerCount("error") > 0) {
      this.emit("error", error, context);
      return;
    }
    const where = [context.groupId, context.topic, context.partition].filter((x) => x !== undefined).join(" ");
    const line = `samsa ${context.source} ${context.operation}${where ? ` (${where})` : ""}: ${error.message}`;
    const now = Date.now();
    const last = this.#lastPrinted.get(line);
    if (last !== undefined && now - last < QUIET_MS) return;
    if (this.#lastPrinted.size >= MAX_REMEMBERED) this.#lastPrinted.clear();
    this.#lastPrinted.set(line, now);
    process.stderr.write(`${line}\n`);
  }
}
