/**
 * Requests to a group's coordinator, each on the socket its API's latency class picks: the
 * member's own "group" socket for JoinGroup/SyncGroup/Heartbeat/LeaveGroup and KIP-848
 * heartbeats (so one consumer's held JoinGroup never delays another's heartbeat), "control"
 * for commits and offset fetches. Finds the coordinator, and retries with backoff when it
 * moved, is loading, or the connection dropped, until a deadline.
 */

import { backoffDelay, sleep } from "../../network/backoff.js";
import type { Cluster } from "../../network/cluster.js";
import type { Connection } from "../../network/connection.js";
import { TimeoutError } from "../../network/errors.js";
import { isRetriable, needsCoordinatorLookup } from "../../network/retry.js";
import type { ApiDefinition } from "../../protocol/api.js";
import { KafkaError } from "../../protocol/kafka-error.js";

/** An API sent to the coordinator: it picks the connection (see connection-classes.ts). */
// biome-ignore lint/suspicious/noExplicitAny: any API definition routes the same way.
export type CoordinatorApi = ApiDefinition<any, any>;

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
  readonly client: Cluster;
  readonly groupId: string;
  readonly requestTimeoutMs: number;
  /** The consumer's connection owner: its group requests get their own sockets. */
  readonly owner: string;
  readonly #backoff: { floorMs: number; ceilingMs: number };

  constructor(client: Cluster, groupId: string, owner: string, requestTimeoutMs: number, retryBackoffMs: number) {
    this.client = client;
    this.groupId = groupId;
    this.owner = owner;
    this.requestTimeoutMs = requestTimeoutMs;
    this.#backoff = { floorMs: Math.max(1, retryBackoffMs), ceilingMs: Math.max(1000, retryBackoffMs) };
  }

  /**
   * The connection to the coordinator for `api`: the owner's "group" socket for membership
   * APIs, the shared "control" one for the rest (the owner only splits per-owner classes).
   */
  async connection(api: CoordinatorApi, signal?: AbortSignal): Promise<Connection> {
    const node = await this.client.coordinator("group", this.groupId, signal);
    return this.client.connection(node.nodeId, { api, owner: this.owner }, signal);
  }

  /** Forgets the coordinator, so the next call looks it up again. */
  invalidate(): void {
    this.client.invalidateCoordinator("group", this.groupId);
  }

  /**
   * Runs `fn` against the coordinator, on the connection for `api`. `fn` throws a KafkaError for an error code in the
   * response; NOT_COORDINATOR and COORDINATOR_NOT_AVAILABLE look the coordinator up again,
   * other retriable errors (and `retryCodes`) back off and retry, until the timeout.
   */
  async call<T>(
    api: CoordinatorApi,
    fn: (connection: Connection) => Promise<T>,
    options: CoordinatorCallOptions = {},
  ): Promise<T> {
    const deadline = Date.now() + (options.timeoutMs ?? this.requestTimeoutMs);
    for (let attempt = 0; ; attempt++) {
      options.signal?.throwIfAborted();
      let error: unknown;
      try {
        const connection = await this.connection(api, options.signal);
        return await fn(connection);
      } catch (err) {
        error = err;
      }
      const code = error instanceof KafkaError ? error.errorCode : undefined;
      if (needsCoordinatorLookup(error)) this.invalidate();
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
