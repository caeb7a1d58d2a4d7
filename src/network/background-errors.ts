/**
 * The one contract by which errors that no caller is waiting for (an auto-commit that failed,
 * a leave-group that timed out, a member that cannot join, a metadata refresh behind a
 * producer) reach the application. A `Cluster` (and so the user's `Client`) is the hub: every
 * producer, consumer and admin made from it reports here. Each error reaches all three: the
 * `error` event (`client.on("error", …)`), the client's logger at level error, and the
 * `samsa:client:error` diagnostics channel.
 *
 * Unlike a plain EventEmitter, an `error` nobody listens for never throws (so never crashes
 * the process); the default logger writes it as one line to stderr, an identical line at most
 * once every 30 s, so a broker outage cannot flood the log.
 */
import { EventEmitter } from "node:events";
import type { EventPayloads } from "../observability/events.js";
import { Instrumentation } from "../observability/instrumentation.js";

/** Where a background error happened. */
export type BackgroundErrorContext = Omit<EventPayloads["client:error"], "clientId" | "error">;

/** Events of a {@link BackgroundErrors} hub. */
export interface BackgroundErrorEvents {
  error: [error: Error, context: BackgroundErrorContext];
}

/** The hub; see the module comment. `Cluster` extends it. */
export class BackgroundErrors extends EventEmitter<BackgroundErrorEvents> {
  /** Errors reported so far. */
  backgroundErrors = 0;
  /** The client's event outlets (logger, diagnostics channels). */
  readonly instrumentation: Instrumentation;

  constructor(instrumentation: Instrumentation = new Instrumentation("samsa")) {
    super();
    this.instrumentation = instrumentation;
  }

  /** Reports an error no caller awaits: to the logger and the channel, and to `error` listeners if any. */
  reportError(error: Error, context: BackgroundErrorContext): void {
    this.backgroundErrors++;
    this.instrumentation.emit("client:error", { clientId: this.instrumentation.clientId, error, ...context });
    if (this.listenerCount("error") > 0) this.emit("error", error, context);
  }
}
