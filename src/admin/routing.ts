/**
 * How an admin call reaches the right broker and survives the cluster moving under it: one
 * `AdminCall` per method invocation holds the deadline, the AbortSignal and the backoff, finds
 * connections (any broker, the controller, a coordinator, each partition leader) and retries
 * retriable errors, per item for batch calls, until the deadline.
 */

import { type BackoffOptions, backoffDelay, sleep } from "../network/backoff.js";
import type { Cluster } from "../network/cluster.js";
import type { Connection, RequestOptions } from "../network/connection.js";
import type { ConnectionRoute } from "../network/connection-classes.js";
import type { CoordinatorType } from "../network/coordinators.js";
import { AbortedError } from "../network/errors.js";
import type { ClusterMetadata } from "../network/metadata.js";
import { isRetriable, needsCoordinatorLookup, needsMetadataRefresh } from "../network/retry.js";
import type { ApiDefinition } from "../protocol/api.js";
import { ErrorCode } from "../protocol/error-table.js";
import { InvalidArgumentError, ProtocolError, SamsaError } from "../protocol/errors.js";
import { KafkaError, kafkaError } from "../protocol/kafka-error.js";
import { type AdminItemFailure, AdminOperationError, AdminTimeoutError } from "./errors.js";
import { partitionLabel } from "./outcomes.js";
import { checkInt } from "./validate.js";

/** Options every admin method accepts. */
export interface AdminCallOptions {
  /**
   * Time budget of the whole call, retries included, in ms. Default: the admin's
   * `defaultTimeoutMs` (60,000, Kafka's `default.api.timeout.ms`).
   */
  timeoutMs?: number;
  /** Aborts the call: it rejects with `AbortedError` and stops retrying. */
  signal?: AbortSignal;
}

/** Settings an `Admin` passes to each call. */
export interface AdminSettings {
  defaultTimeoutMs: number;
  retryBackoff: BackoffOptions;
}

/** The outcome of one item in one attempt: a value, or an error and whether to try again. */
export type ItemOutcome<R> = { value: R } | { error: SamsaError; retry?: boolean };

/**
 * KRaft brokers learn of a new topic from the metadata log some milliseconds after the
 * controller commits it, so UNKNOWN_TOPIC_OR_PARTITION right after `createTopics` can be a
 * broker that is a little behind. Kafka marks the code retriable for that reason, but an
 * admin call naming a topic that really does not exist should not spin until its deadline:
 * the code is retried only during this first part of a call.
 */
const UNKNOWN_TOPIC_GRACE_MS = 1000;

/** Slack between a broker-side `timeoutMs` and our socket timeout, so the broker's answer wins. */
const SERVER_TIMEOUT_MARGIN_MS = 1000;

/**
 * The API a request sends, named when its connection is picked: the network layer's class
 * table (connection-classes.ts) puts APIs the broker holds up to their `timeoutMs`
 * (CreateTopics, DeleteRecords, ElectLeaders…) on the `slow` socket, so they never queue in
 * front of a quick describe or Metadata call on the `control` one.
 */
export type AdminApi = Extract<ConnectionRoute, { api: unknown }>["api"];

/** A `fanOut` group key meaning "any broker will do". Broker ids are never negative. */
export const ANY_BROKER = -1;

/** What `fanOut` runs per broker: one request for the input positions that broker owns. */
export type BrokerSend<R> = (
  connection: Connection,
  nodeId: number,
  indices: number[],
) => Promise<Map<number, ItemOutcome<R>>>;

/** One invocation of an admin method; see the module comment. */
export class AdminCall {
  readonly client: Cluster;
  /** The admin method, for errors. */
  readonly operation: string;
  /**
   * Fires when the caller aborts or the deadline passes; every request, lookup and backoff of
   * the call listens to it, so a deadline holds even inside the client's own retry loops.
   */
  readonly signal: AbortSignal;
  readonly timeoutMs: number;
  readonly startedAt: number;
  readonly deadline: number;
  readonly #userSignal: AbortSignal | undefined;
  readonly #backoff: BackoffOptions;
  #attempt = 0;
  /** The last retriable error, the cause of an `AdminTimeoutError`. */
  #lastError: unknown;

  constructor(client: Cluster, settings: AdminSettings, operation: string, options: AdminCallOptions = {}) {
    if (options === null || typeof options !== "object") throw new InvalidArgumentError("options", "must be an object");
    this.timeoutMs = checkInt("timeoutMs", options.timeoutMs ?? settings.defaultTimeoutMs, 1);
    if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
      throw new InvalidArgumentError("signal", "must be an AbortSignal");
    }
    this.client = client;
    this.operation = operation;
    this.#userSignal = options.signal;
    // AbortSignal.timeout's timer is unref'd: a finished call leaves nothing keeping Node alive.
    const deadline = AbortSignal.timeout(this.timeoutMs);
    this.signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline;
    this.#backoff = settings.retryBackoff;
    this.startedAt = Date.now();
    this.deadline = this.startedAt + this.timeoutMs;
    this.throwIfAborted();
  }

  #throwIfCallerAborted(): void {
    if (this.#userSignal?.aborted) {
      throw new AbortedError(`${this.operation} aborted`, { cause: this.#userSignal.reason });
    }
  }

  /** Milliseconds left before the deadline (≤ 0 once it passed). */
  remainingMs(): number {
    return this.deadline - Date.now();
  }

  /**
   * Throws once the call must stop: `AbortedError` when the caller's signal fired,
   * `AdminTimeoutError` (cause: the last retriable error) when the deadline passed.
   */
  throwIfAborted(): void {
    this.#throwIfCallerAborted();
    if (this.signal.aborted || this.remainingMs() <= 0) {
      throw new AdminTimeoutError(this.operation, this.timeoutMs, this.#lastError);
    }
  }

  /**
   * The broker-side wait for APIs that carry a `timeoutMs` field (CreateTopics, DeleteRecords,
   * ElectLeaders…): what is left of the call, capped by the client's request timeout.
   */
  serverTimeoutMs(): number {
    return Math.max(1, Math.min(this.remainingMs(), this.client.requestTimeoutMs));
  }

  /**
   * Options for one request. With `serverWait`, the socket waits a little longer than the
   * broker was told to, so a broker-side REQUEST_TIMED_OUT arrives instead of our own timeout
   * closing the connection (which would also fail every other request queued on it).
   */
  requestOptions(serverWait = false): RequestOptions {
    const timeoutMs = serverWait
      ? this.serverTimeoutMs() + SERVER_TIMEOUT_MARGIN_MS
      : Math.max(1, Math.min(this.remainingMs(), this.client.requestTimeoutMs));
    return { timeoutMs, signal: this.signal };
  }

  /** Sends one request on `connection` with this call's timeout and signal. */
  send<Req, Res>(connection: Connection, api: ApiDefinition<Req, Res>, body: Req, serverWait = false): Promise<Res> {
    return connection.request(api, body, this.requestOptions(serverWait));
  }

  /** Sends `api` to any broker (a request every broker answers), on `api`'s socket. */
  async sendToAny<Req, Res>(api: ApiDefinition<Req, Res>, body: Req, serverWait = false): Promise<Res> {
    return this.send(await this.anyBroker(api), api, body, serverWait);
  }

  /**
   * {@link retry} around one request to any broker whose answer carries a top-level error
   * code: a non-zero code fails the attempt (retried when retriable); `answer` reads the rest.
   */
  retryAny<Req, Res extends { errorCode: number; errorMessage?: string | null }, T>(
    api: ApiDefinition<Req, Res>,
    body: Req,
    answer: (response: Res) => T,
  ): Promise<T> {
    return this.retry(async () => {
      const response = await this.sendToAny(api, body);
      if (response.errorCode !== 0) throw kafkaError(response.errorCode, response.errorMessage);
      return answer(response);
    });
  }

  /** Sends `api` to the controller (see {@link controller}), on `api`'s socket. */
  async sendToController<Req, Res>(api: ApiDefinition<Req, Res>, body: Req, serverWait = false): Promise<Res> {
    return this.send(await this.controller(api), api, body, serverWait);
  }

  /**
   * A connection to any broker, for requests every broker answers (describe calls), on the
   * socket of `api`'s latency class (see {@link AdminApi}).
   */
  anyBroker(api: AdminApi): Promise<Connection> {
    return this.client.anyConnection({ api }, this.signal);
  }

  /** A connection to broker `nodeId`, on the socket of `api`'s latency class. */
  broker(nodeId: number, api: AdminApi): Promise<Connection> {
    return this.client.connection(nodeId, { api }, this.signal);
  }

  /**
   * A connection to the controller as metadata names it. In KRaft clients never reach the
   * controller quorum itself: Metadata and DescribeCluster name a broker, which forwards
   * controller requests (KIP-590) and answers NOT_CONTROLLER if it cannot; that error marks
   * the metadata stale so the retry asks again.
   */
  async controller(api: AdminApi): Promise<Connection> {
    const metadata = await this.metadata();
    if (metadata.controllerId >= 0 && metadata.brokers.has(metadata.controllerId)) {
      return this.broker(metadata.controllerId, api);
    }
    return this.anyBroker(api);
  }

  /** The coordinator of a group or transactional id, and a connection to it for `api`. */
  async coordinator(
    type: CoordinatorType,
    key: string,
    api: AdminApi,
  ): Promise<{ nodeId: number; connection: Connection }> {
    const node = await this.client.coordinator(type, key, this.signal);
    return { nodeId: node.nodeId, connection: await this.broker(node.nodeId, api) };
  }

  /**
   * Metadata covering `topics`. A snapshot taken before this call began that reports an error
   * for one of them is refreshed once, so a topic created a moment ago is not reported missing
   * from a stale cache.
   */
  async metadata(topics: readonly string[] = []): Promise<ClusterMetadata> {
    const options = { signal: this.signal };
    let metadata = await this.client.metadata(topics, options);
    const stale = topics.some((t) => (metadata.topics.get(t)?.errorCode ?? 0) !== 0);
    if (stale && metadata.fetchedAt < this.startedAt) metadata = await this.client.refreshMetadata(options);
    return metadata;
  }

  /**
   * Whether an item that failed with `err` is tried again. Kafka's retriable table decides
   * (through `isRetriable`), except UNKNOWN_TOPIC_OR_PARTITION, which is retried only within
   * the grace period explained at {@link UNKNOWN_TOPIC_GRACE_MS}.
   */
  shouldRetry(err: unknown): boolean {
    if (err instanceof KafkaError && err.errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) {
      return Date.now() - this.startedAt < UNKNOWN_TOPIC_GRACE_MS;
    }
    return isRetriable(err);
  }

  /**
   * Drops cached routing that `err` shows to be wrong, before a retry: metadata when
   * `needsMetadataRefresh` says so (Kafka's InvalidMetadataException family, a dropped
   * connection), the coordinator when `needsCoordinatorLookup` does. Two cases on top:
   *
   * - NOT_CONTROLLER: not in Kafka's metadata family, but it says the controller id in our
   *   snapshot is wrong; Java's admin client likewise clears the controller and refreshes.
   * - any other non-broker error (a request that timed out on a silent broker): the broker may
   *   be dead, and when a broker dies its partitions and groups move elsewhere, so both the
   *   metadata and the coordinator go.
   */
  forget(err: unknown, coordinator?: { type: CoordinatorType; key: string }): void {
    const transport = !(err instanceof KafkaError);
    const controllerMoved = err instanceof KafkaError && err.errorCode === ErrorCode.NOT_CONTROLLER;
    if (transport || controllerMoved || needsMetadataRefresh(err)) this.client.invalidateLeader();
    if (coordinator && (transport || needsCoordinatorLookup(err))) {
      this.client.invalidateCoordinator(coordinator.type, coordinator.key);
    }
  }

  /**
   * Waits out the next backoff. Returns false, without waiting, when the wait would reach the
   * deadline: the caller gives up with what it has.
   */
  async backoff(): Promise<boolean> {
    const wait = backoffDelay(this.#attempt++, this.#backoff);
    if (this.remainingMs() <= wait) return false;
    try {
      await sleep(wait, this.signal);
    } catch {
      // The caller's abort ends the call; the deadline firing during the wait only ends retrying.
      this.#throwIfCallerAborted();
      return false;
    }
    return this.remainingMs() > 0;
  }

  /**
   * Runs `attempt` until it succeeds, retrying errors `shouldRetry` accepts with backoff.
   * Throws non-retriable errors as they are, and `AdminTimeoutError` (cause: the last error)
   * when the deadline comes first.
   */
  async retry<T>(attempt: () => Promise<T>, coordinator?: { type: CoordinatorType; key: string }): Promise<T> {
    for (;;) {
      this.throwIfAborted();
      try {
        return await attempt();
      } catch (err) {
        // Recorded first: when this error raced the deadline it is the timeout's best cause.
        if (this.shouldRetry(err)) this.#lastError = err;
        this.throwIfAborted();
        if (!this.shouldRetry(err)) throw err;
        this.forget(err, coordinator);
        if (!(await this.backoff())) throw new AdminTimeoutError(this.operation, this.timeoutMs, err);
      }
    }
  }

  /**
   * Runs a batch call item by item. `attempt` gets the input positions still pending and
   * returns an outcome for each; items whose error is retriable go round again (after the
   * routing they used is forgotten: metadata, or the coordinator `coordinatorOf` names) until
   * the deadline. An error thrown by `attempt` itself concerns the whole request: retried like
   * {@link retry}. Returns the results in input order, or throws `AdminOperationError` listing
   * every item that failed, retriable errors that outlasted the retries included. A deadline
   * that passes while a request is in flight throws `AdminTimeoutError` instead: the items of
   * that request have no answer to report.
   */
  async retryItems<R>(
    labels: readonly string[],
    attempt: (pending: number[]) => Promise<Map<number, ItemOutcome<R>>>,
    coordinatorOf?: (index: number) => { type: CoordinatorType; key: string },
  ): Promise<R[]> {
    const results: (R | undefined)[] = new Array(labels.length).fill(undefined);
    const errors = new Map<number, SamsaError>();
    let pending = labels.map((_, i) => i);
    while (pending.length > 0) {
      this.#throwIfCallerAborted();
      // Out of time with an error for every pending item: report those rather than a timeout.
      if (this.remainingMs() <= 0 && pending.every((i) => errors.has(i))) break;
      let outcomes: Map<number, ItemOutcome<R>>;
      try {
        outcomes = await attempt(pending);
      } catch (err) {
        if (this.shouldRetry(err)) this.#lastError = err;
        this.throwIfAborted();
        if (!this.shouldRetry(err)) throw err;
        for (const i of pending) this.forget(err, coordinatorOf?.(i));
        if (!(await this.backoff())) throw new AdminTimeoutError(this.operation, this.timeoutMs, err);
        continue;
      }
      const next: number[] = [];
      for (const i of pending) {
        const outcome = outcomes.get(i) ?? {
          error: new ProtocolError(`${this.operation}: the broker's response left out ${labels[i]}`),
        };
        if ("value" in outcome) {
          results[i] = outcome.value;
          errors.delete(i);
          continue;
        }
        errors.set(i, outcome.error);
        if (outcome.retry ?? this.shouldRetry(outcome.error)) {
          this.#lastError = outcome.error;
          this.forget(outcome.error, coordinatorOf?.(i));
          next.push(i);
        }
      }
      pending = next;
      if (pending.length > 0 && !(await this.backoff())) break;
    }
    if (errors.size > 0) {
      const failures: AdminItemFailure[] = [...errors]
        .sort((a, b) => a[0] - b[0])
        .map(([index, error]) => ({ index, item: labels[index] ?? String(index), error }));
      throw new AdminOperationError(this.operation, failures, results);
    }
    return results as R[];
  }

  /**
   * Sends one `api` request per broker in parallel and merges the outcomes. `groups` maps a broker
   * (or {@link ANY_BROKER}) to the input positions it owns. A broker that cannot be reached, or whose request fails
   * as a whole, fails only its own items (retriable when the error is), so one dead broker
   * does not sink the items of the others.
   */
  async fanOut<R>(
    api: AdminApi,
    groups: ReadonlyMap<number, number[]>,
    send: BrokerSend<R>,
    into: Map<number, ItemOutcome<R>> = new Map(),
  ): Promise<Map<number, ItemOutcome<R>>> {
    await Promise.all(
      [...groups].map(async ([nodeId, indices]) => {
        try {
          const connection = nodeId === ANY_BROKER ? await this.anyBroker(api) : await this.broker(nodeId, api);
          for (const [i, outcome] of await send(connection, nodeId, indices)) into.set(i, outcome);
        } catch (err) {
          this.throwIfAborted();
          // An option this broker's API version cannot carry is the caller's to fix, not an item's.
          if (!(err instanceof SamsaError) || err instanceof InvalidArgumentError) throw err;
          const retry = this.shouldRetry(err);
          for (const i of indices) into.set(i, { error: err, retry });
        }
      }),
    );
    return into;
  }

  /**
   * A batch call over partitions, each sent to its current leader (see {@link leaders}); `send`
   * makes one request per leader for the positions it leads. Items are labelled `topic-partition`.
   */
  toLeaders<R>(
    api: AdminApi,
    partitions: readonly { topic: string; partition: number }[],
    send: BrokerSend<R>,
  ): Promise<R[]> {
    return this.retryItems(
      partitions.map((p) => partitionLabel(p.topic, p.partition)),
      async (pending) => {
        const { groups, failed } = await this.leaders(new Map(pending.map((i) => [i, partitions[i]!])));
        return this.fanOut(api, groups, send, failed);
      },
    );
  }

  /**
   * A batch call over group or transactional ids, each sent to its coordinator (see
   * {@link coordinators}); a retriable error forgets the coordinator of the item it hit.
   */
  toCoordinators<R>(type: CoordinatorType, api: AdminApi, keys: readonly string[], send: BrokerSend<R>): Promise<R[]> {
    return this.retryItems(
      keys,
      async (pending) => {
        const { groups, failed } = await this.coordinators(type, new Map(pending.map((i) => [i, keys[i]!])));
        return this.fanOut(api, groups, send, failed);
      },
      (i) => ({ type, key: keys[i]! }),
    );
  }

  /**
   * One request to each of `brokers`, for calls every broker answers for its own share
   * (ListGroups, ListTransactions, DescribeLogDirs): the brokers' answers in that order, or
   * `AdminOperationError` naming the brokers that failed.
   */
  toEachBroker<R>(
    api: AdminApi,
    brokers: readonly number[],
    ask: (connection: Connection, nodeId: number) => Promise<ItemOutcome<R>>,
  ): Promise<R[]> {
    return this.retryItems(
      brokers.map((b) => `broker ${b}`),
      (pending) =>
        this.fanOut(api, new Map(pending.map((i) => [brokers[i]!, [i]])), async (connection, nodeId, indices) => {
          const outcome = await ask(connection, nodeId);
          return new Map(indices.map((i) => [i, outcome]));
        }),
    );
  }

  /** The ids of every broker in the metadata, ascending. */
  async brokerIds(): Promise<number[]> {
    return [...(await this.metadata()).brokers.keys()].sort((a, b) => a - b);
  }

  /**
   * Groups keys (group ids, transactional ids) by their coordinator. Keys whose coordinator
   * cannot be found get an error outcome; the lookups of one call go out in one batched
   * FindCoordinator (KIP-699).
   */
  async coordinators(
    type: CoordinatorType,
    keys: ReadonlyMap<number, string>,
  ): Promise<{ groups: Map<number, number[]>; failed: Map<number, ItemOutcome<never>> }> {
    const groups = new Map<number, number[]>();
    const failed = new Map<number, ItemOutcome<never>>();
    await Promise.all(
      [...keys].map(async ([i, key]) => {
        try {
          const node = await this.client.coordinator(type, key, this.signal);
          groups.set(node.nodeId, [...(groups.get(node.nodeId) ?? []), i]);
        } catch (err) {
          this.throwIfAborted();
          if (!(err instanceof SamsaError)) throw err;
          failed.set(i, { error: err });
        }
      }),
    );
    return { groups, failed };
  }

  /**
   * Groups partitions by their current leader. Partitions whose topic metadata reports an
   * error, that do not exist, or that have no leader right now get an error outcome instead
   * (retriable for a missing leader: an election is under way).
   */
  async leaders(
    items: ReadonlyMap<number, { topic: string; partition: number }>,
  ): Promise<{ groups: Map<number, number[]>; failed: Map<number, ItemOutcome<never>> }> {
    const topics = [...new Set([...items.values()].map((p) => p.topic))];
    const metadata = await this.metadata(topics);
    const groups = new Map<number, number[]>();
    const failed = new Map<number, ItemOutcome<never>>();
    for (const [i, { topic, partition }] of items) {
      const t = metadata.topics.get(topic);
      if (t?.errorCode !== 0) {
        failed.set(i, { error: kafkaError(t?.errorCode ?? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) });
        continue;
      }
      const p = t.partitions[partition];
      if (!p) {
        failed.set(i, {
          error: kafkaError(
            ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            `${topic} has ${t.partitions.length} partitions; there is no partition ${partition}`,
          ),
        });
        continue;
      }
      if (p.leaderId < 0 || !metadata.brokers.has(p.leaderId)) {
        failed.set(i, { error: kafkaError(ErrorCode.LEADER_NOT_AVAILABLE), retry: true });
        continue;
      }
      const list = groups.get(p.leaderId) ?? [];
      list.push(i);
      groups.set(p.leaderId, list);
    }
    return { groups, failed };
  }
}
