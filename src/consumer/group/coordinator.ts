/**
 * Requests to a group's coordinator, on the "control" connection (never behind a Fetch
 * long-poll): finds the coordinator, and retries with backoff when it moved, is loading,
 * or the connection dropped, until a deadline.
 */
import { TimeoutError } from "../../errors.js";
import { backoffDelay, sleep } from "../../network/backoff.js";
import type { Client } from "../../network/client.js";
import type { Connection } from "../../network/connection.js";
import { ErrorCode } from "../../protocol/error-table.js";
import { isRetriable, KafkaError } from "../../protocol/kafka-error.js";

/** Codes that mean "ask the coordinator again (elsewhere)". */
const COORDINATOR_MOVED = new Set<number>([ErrorCode.NOT_COORDINATOR, ErrorCode.COORDINATOR_NOT_AVAILABLE]);

/** Options of {@link GroupCoordinator.call}. */
export interface CoordinatorCallOptions {
  signal?: AbortSignal;
  /** Give up after this long; default the request timeout. */
  timeoutMs?: number;
  /** Extra error codes to retry (after backoff), e.g. STALE_MEMBER_EPOCH for commits. */
  retryCodes?: ReadonlySet<number>;
}

/** Calls to one group's coordinator; see the module comment. */
export class GroupCoordinator {
  readonly client: Client;
  readonly groupId: string;
  readonly requestTimeoutMs: number;
  readonly #backoff: { floorMs: number; ceilingMs: number };

  constructor(client: Client, groupId: string, requestTimeoutMs: number, retryBackoffMs: number) {
    this.client = client;
    this.groupId = groupId;
    this.requestTimeoutMs = requestTimeoutMs;
    this.#backoff = { floorMs: Math.max(1, retryBackoffMs), ceilingMs: Math.max(1000, retryBackoffMs) };
  }

  /** The control connection to the coordinator. */
  async connection(signal?: AbortSignal): Promise<Connection> {
    const node = await this.client.coordinator("group", this.groupId, signal);
    return this.client.connection(node.nodeId, "control", signal);
  }

  /** Forgets the coordinator, so the next call looks it up again. */
  invalidate(): void {
    this.client.invalidateCoordinator("group", this.groupId);
  }

  /**
   * Runs `fn` against the coordinator. `fn` throws a KafkaError for an error code in the
   * response; NOT_COORDINATOR and COORDINATOR_NOT_AVAILABLE look the coordinator up again,
   * other retriable errors (and `retryCodes`) back off and retry, until the timeout.
   */
  async call<T>(fn: (connection: Connection) => Promise<T>, options: CoordinatorCallOptions = {}): Promise<T> {
    const deadline = Date.now() + (options.timeoutMs ?? this.requestTimeoutMs);
    for (let attempt = 0; ; attempt++) {
      options.signal?.throwIfAborted();
      let error: unknown;
      try {
        const connection = await this.connection(options.signal);
        return await fn(connection);
      } catch (err) {
        error = err;
      }
      const code = error instanceof KafkaError ? error.errorCode : undefined;
      if (code !== undefined && COORDINATOR_MOVED.has(code)) this.invalidate();
      const retry = isRetriable(error) || (code !== undefined && options.retryCodes?.has(code) === true);
      if (!retry || options.signal?.aborted) throw error;
      // A dropped connection may mean the coordinator's broker died: look it up again too.
      if (code === undefined) this.invalidate();
      const wait = backoffDelay(attempt, this.#backoff);
      if (Date.now() + wait >= deadline) {
        throw new TimeoutError(`group ${this.groupId}: no answer from the coordinator in time`, { cause: error });
      }
      await sleep(wait, options.signal);
    }
  }
}
