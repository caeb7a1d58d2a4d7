/**
 * `Cluster`: the cluster as one client process sees it, and what the user's `Client`
 * (src/client.ts) extends. It holds the
 * connections to all brokers (shared by all clients made from it), the metadata cache and
 * the coordinator cache, and routes a request to the broker that must answer it.
 */

import { Instrumentation } from "../observability/instrumentation.js";
import { isLogger, type Logger } from "../observability/logger.js";
import { ErrorCode } from "../protocol/error-table.js";
import { ClosedError, InvalidArgumentError, type SamsaError } from "../protocol/errors.js";
import { kafkaError } from "../protocol/kafka-error.js";
import { FindCoordinator, Metadata, type MetadataResponse } from "../protocol/messages/index.js";
import { boolOption, checkOptionsObject, intOption, type OptionKeys } from "../util/options.js";
import { BackgroundErrors } from "./background-errors.js";
import { backoffDelay, sleep } from "./backoff.js";
import { Broker, type BrokerNode, type BrokerOptions } from "./broker.js";
import type { Connection, ConnectionOptions } from "./connection.js";
import { type ConnectionRoute, slotKey } from "./connection-classes.js";
import { CoordinatorCache, type CoordinatorType } from "./coordinators.js";
import { AuthenticationError, ConnectionError } from "./errors.js";
import { startIoThread } from "./io-thread.js";
import { applyLeaderHint, type ClusterMetadata, EMPTY_METADATA, mergeMetadata } from "./metadata.js";
import { isRetriable } from "./retry.js";
import { saslMechanism } from "./sasl/index.js";

/**
 * Options of {@link Cluster} (and so of the user's `Client`). Times are milliseconds. The per-connection settings (clientId,
 * tls, sasl, timeouts, maxInFlight, maxFrameBytes) are those of {@link ConnectionOptions}.
 */
export interface ClientOptions extends Omit<ConnectionOptions, "host" | "port" | "instrumentation" | "ioThread"> {
  /** Bootstrap brokers: `"host:port,host:port"` or an array of `host:port` (IPv6 as `[::1]:9092`). */
  bootstrap: string | readonly string[];
  /** Metadata older than this is refreshed before use; default 300,000 (Kafka's). */
  metadataMaxAgeMs?: number;
  /** Retry backoff floor and ceiling; default 100 and 1,000 (Kafka's). */
  retryBackoffMs?: number;
  retryBackoffMaxMs?: number;
  /** Reconnect backoff floor and ceiling; default 50 and 1,000 (Kafka's). */
  reconnectBackoffMs?: number;
  reconnectBackoffMaxMs?: number;
  /** Idle connections close after this; default 540,000 (Kafka's). */
  connectionsMaxIdleMs?: number;
  /**
   * A pino-compatible logger for this client and every producer, consumer and admin made from
   * it (docs/observability.md). Default: warnings and errors as one line each on stderr, debug
   * lines too with `NODE_DEBUG=samsa`.
   */
  logger?: Logger;
  /**
   * Read consumers' fetch connections (plain TCP) on a second thread, so a Fetch response
   * streams in while the previous one is decoded (network/io-thread.ts). Default true; false
   * keeps every socket on the main thread. TLS connections always stay on the main thread.
   */
  ioThread?: boolean;
}

const CLIENT_OPTION_KEYS = {
  bootstrap: true,
  clientId: true,
  tls: true,
  sasl: true,
  connectTimeoutMs: true,
  requestTimeoutMs: true,
  maxInFlight: true,
  maxFrameBytes: true,
  clientSoftwareName: true,
  clientSoftwareVersion: true,
  metadataMaxAgeMs: true,
  retryBackoffMs: true,
  retryBackoffMaxMs: true,
  reconnectBackoffMs: true,
  reconnectBackoffMaxMs: true,
  connectionsMaxIdleMs: true,
  logger: true,
  ioThread: true,
} satisfies OptionKeys<ClientOptions>;

/** Parses and checks a `host:port` list. */
export function parseBootstrap(bootstrap: string | readonly string[]): { host: string; port: number }[] {
  if (bootstrap === undefined || bootstrap === null) {
    throw new InvalidArgumentError("bootstrap", 'is required: "host:port,host:port" or an array of "host:port"');
  }
  if (typeof bootstrap !== "string" && !Array.isArray(bootstrap)) {
    throw new InvalidArgumentError("bootstrap", `must be a string or an array of strings, got ${typeof bootstrap}`);
  }
  const list = typeof bootstrap === "string" ? bootstrap.split(",") : [...bootstrap];
  const out: { host: string; port: number }[] = [];
  for (const raw of list) {
    if (typeof raw !== "string")
      throw new InvalidArgumentError("bootstrap", `entries must be strings, got ${typeof raw}`);
    const entry = raw.trim();
    if (entry === "") continue;
    const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(entry);
    const port = Number(m?.[3]);
    if (!m || !(port > 0 && port < 65536)) {
      throw new InvalidArgumentError("bootstrap", `expected host:port, got ${JSON.stringify(entry)}`);
    }
    out.push({ host: (m[1] ?? m[2]) as string, port });
  }
  if (out.length === 0) throw new InvalidArgumentError("bootstrap", "needs at least one host:port");
  return out;
}

/** Options for one metadata lookup. */
export interface MetadataOptions {
  /** Let the broker create missing topics (if the broker allows it). Default false. */
  allowAutoTopicCreation?: boolean;
  /** Accept cached topics no older than this; default `metadataMaxAgeMs`. */
  maxAgeMs?: number;
  signal?: AbortSignal;
}

/** Counters for tests and metrics. */
export interface ClientStats {
  /** Metadata requests sent. */
  metadataRequests: number;
  /** Times the client went back to its bootstrap list (KIP-1102). */
  rebootstraps: number;
  /** Errors reported in the background (see `on("error")`). */
  backgroundErrors: number;
  /** Connections open now, to all brokers. */
  connections: number;
  /** Requests sent on this client's connections, by every client made from it. */
  requests: number;
  /** Requests that failed as a whole (timeout, connection lost), not counting error codes. */
  requestErrors: number;
  /** Bytes written to and read from brokers (request and response frames). */
  bytesSent: number;
  bytesReceived: number;
}

/** Same host and port: a broker object for `a` can serve `b`. */
function sameAddress(a: BrokerNode, b: BrokerNode): boolean {
  return a.host === b.host && a.port === b.port;
}

/** Connections, metadata and coordinators shared by the clients made from it. */
export class Cluster extends BackgroundErrors {
  readonly #bootstrap: { host: string; port: number }[];
  readonly #brokerOptions: BrokerOptions;
  readonly #metadataMaxAgeMs: number;
  readonly #requestTimeoutMs: number;
  readonly #retryBackoff: { floorMs: number; ceilingMs: number };
  /** By node id; bootstrap entries use negative ids, as Kafka's clients do. */
  readonly #brokers = new Map<number, Broker>();
  #metadata: ClusterMetadata = EMPTY_METADATA;
  /** Topics this client has asked about; a refresh asks for all of them. */
  readonly #topics = new Set<string>();
  #refresh: { promise: Promise<ClusterMetadata>; topics: Set<string> } | undefined;
  #closed = false;
  readonly #coordinators: CoordinatorCache;
  #metadataRequests = 0;
  #rebootstraps = 0;

  constructor(options: ClientOptions) {
    checkOptionsObject(options, CLIENT_OPTION_KEYS, "client");
    const clientId = options.clientId ?? "samsa";
    if (typeof clientId !== "string") throw new InvalidArgumentError("clientId", "must be a string");
    if (options.logger !== undefined && !isLogger(options.logger)) {
      throw new InvalidArgumentError("logger", "must have trace, debug, info, warn and error methods (pino's shape)");
    }
    super(new Instrumentation(clientId, options.logger));
    this.#bootstrap = parseBootstrap(options.bootstrap);
    this.#requestTimeoutMs = intOption(options, "requestTimeoutMs", 30_000, 1);
    this.#metadataMaxAgeMs = intOption(options, "metadataMaxAgeMs", 300_000, 1);
    const retryFloor = intOption(options, "retryBackoffMs", 100, 0);
    this.#retryBackoff = {
      floorMs: retryFloor,
      ceilingMs: Math.max(retryFloor, intOption(options, "retryBackoffMaxMs", 1000, 0)),
    };
    const reconnectFloor = intOption(options, "reconnectBackoffMs", 50, 0);
    // Checked now, so bad SASL options fail here rather than at the first connection.
    if (options.sasl !== undefined) saslMechanism(options.sasl);
    this.#brokerOptions = {
      clientId,
      instrumentation: this.instrumentation,
      ...(options.tls !== undefined ? { tls: options.tls } : {}),
      ...(options.sasl !== undefined ? { sasl: options.sasl } : {}),
      connectTimeoutMs: intOption(options, "connectTimeoutMs", 10_000, 1),
      requestTimeoutMs: this.#requestTimeoutMs,
      maxInFlight: intOption(options, "maxInFlight", 5, 1),
      maxFrameBytes: intOption(options, "maxFrameBytes", 100 * 1024 * 1024, 1024),
      reconnectBackoff: {
        floorMs: reconnectFloor,
        ceilingMs: Math.max(reconnectFloor, intOption(options, "reconnectBackoffMaxMs", 1000, 0)),
      },
      connectionsMaxIdleMs: intOption(options, "connectionsMaxIdleMs", 540_000, 1),
      fetchIoThread: boolOption(options, "ioThread", true),
    };
    this.#coordinators = new CoordinatorCache((type, keys, signal) => this.#findCoordinators(type, keys, signal));
  }

  /** A snapshot of this client's counters (a new object each call). */
  stats(): ClientStats {
    const i = this.instrumentation;
    let connections = 0;
    for (const broker of this.#brokers.values()) connections += broker.openConnections;
    return {
      metadataRequests: this.#metadataRequests,
      rebootstraps: this.#rebootstraps,
      backgroundErrors: this.backgroundErrors,
      connections,
      requests: i.requests,
      requestErrors: i.requestErrors,
      bytesSent: i.bytesSent,
      bytesReceived: i.bytesReceived,
    };
  }

  /** Starts the I/O thread ahead of the first fetch connection, if fetch connections use it (ClientOptions.ioThread). */
  prepareFetchThread(): void {
    const o = this.#brokerOptions;
    if (o.fetchIoThread === true && (o.tls === undefined || o.tls === false)) startIoThread();
  }

  /** The latest metadata snapshot (possibly empty or stale). */
  get cachedMetadata(): ClusterMetadata {
    return this.#metadata;
  }

  /** Default request timeout, for layers above. */
  get requestTimeoutMs(): number {
    return this.#requestTimeoutMs;
  }

  /**
   * Metadata that covers `topics` and is fresh enough, refreshing when it is not. Topics the
   * cluster does not know come back with their error code (e.g. 3, UNKNOWN_TOPIC_OR_PARTITION).
   */
  async metadata(topics: readonly string[] = [], options: MetadataOptions = {}): Promise<ClusterMetadata> {
    this.#checkOpen();
    for (const t of topics) this.#topics.add(t);
    const maxAge = options.maxAgeMs ?? this.#metadataMaxAgeMs;
    const current = this.#metadata;
    // Strictly younger: maxAgeMs 0 must refresh even when the last answer came this millisecond.
    const fresh = Date.now() - current.fetchedAt < maxAge && current.brokers.size > 0;
    if (fresh && topics.every((t) => current.topics.has(t))) return current;
    return this.refreshMetadata(options);
  }

  /**
   * Fetches metadata for every topic this client tracks. Concurrent calls share one request
   * when it covers what they need; otherwise they chain one more after it.
   */
  refreshMetadata(options: MetadataOptions = {}): Promise<ClusterMetadata> {
    if (this.#closed) return Promise.reject(new ClosedError("client"));
    const running = this.#refresh;
    if (running && [...this.#topics].every((t) => running.topics.has(t))) return running.promise;
    const previous = running?.promise.catch(() => undefined);
    const topics = new Set(this.#topics);
    const promise = (async () => {
      await previous;
      const started = Date.now();
      const response = await this.#fetchMetadata([...topics], options);
      this.#metadata = mergeMetadata(this.#metadata, response, Date.now());
      this.#syncBrokers();
      const m = this.#metadata;
      if (this.instrumentation.wants("network:metadata-refreshed")) {
        this.instrumentation.emit("network:metadata-refreshed", {
          clientId: this.instrumentation.clientId,
          brokers: m.brokers.size,
          topics: m.topics.size,
          durationMs: Date.now() - started,
        });
      }
      return m;
    })();
    const entry = { promise, topics };
    this.#refresh = entry;
    const clear = () => {
      if (this.#refresh === entry) this.#refresh = undefined;
    };
    promise.then(clear, clear);
    return promise;
  }

  /** Sends Metadata to some broker, retrying others and the bootstrap list (KIP-1102). */
  async #fetchMetadata(topics: string[], options: MetadataOptions): Promise<MetadataResponse> {
    const deadline = Date.now() + this.#requestTimeoutMs;
    let lastError: unknown;
    for (let attempt = 0; Date.now() < deadline; attempt++) {
      options.signal?.throwIfAborted();
      this.#checkOpen();
      const candidates = this.#candidates();
      for (const broker of candidates) {
        try {
          const connection = await broker.connection("control", options.signal);
          this.#metadataRequests++;
          const response = await connection.request(
            Metadata,
            {
              topics: topics.map((name) => ({ name, topicId: "AAAAAAAAAAAAAAAAAAAAAA" })),
              allowAutoTopicCreation: options.allowAutoTopicCreation ?? false,
              includeClusterAuthorizedOperations: false,
              includeTopicAuthorizedOperations: false,
            },
            { ...(options.signal ? { signal: options.signal } : {}) },
          );
          if (response.errorCode === ErrorCode.REBOOTSTRAP_REQUIRED) {
            this.#rebootstrap();
            lastError = kafkaError(response.errorCode);
            break;
          }
          return response;
        } catch (err) {
          if (err instanceof AuthenticationError || !isRetriable(err)) throw err;
          lastError = err;
        }
      }
      // Every known broker failed: forget them and start over from the bootstrap list.
      if (candidates.every((b) => b.node.nodeId >= 0) && candidates.length > 0) this.#rebootstrap();
      await sleep(
        Math.min(backoffDelay(attempt, this.#retryBackoff), Math.max(0, deadline - Date.now())),
        options.signal,
      );
    }
    // A ConnectionError, so retriable: no broker answering now says nothing about a minute
    // from now, and callers (a producer waiting out a restart) bound the wait by their own
    // deadlines. (As a TimeoutError it failed every batch behind an InitProducerId at once.)
    throw new ConnectionError(
      this.#bootstrap.map((b) => `${b.host}:${b.port}`).join(","),
      `no broker answered Metadata within requestTimeoutMs (${this.#requestTimeoutMs} ms)${
        lastError instanceof Error ? `: ${lastError.message}` : ""
      }`,
      lastError !== undefined ? { cause: lastError } : undefined,
    );
  }

  /** Brokers to try for a metadata request: connected ones first, then the rest, else bootstrap. */
  #candidates(): Broker[] {
    const known = [...this.#metadata.brokers.values()].map((node) => this.#broker(node));
    if (known.length === 0) {
      return this.#bootstrap.map((b, i) => this.#broker({ nodeId: -1 - i, host: b.host, port: b.port, rack: null }));
    }
    return known.sort((a, b) => b.openConnections - a.openConnections);
  }

  #rebootstrap(): void {
    this.#rebootstraps++;
    this.#metadata = { ...EMPTY_METADATA, topics: this.#metadata.topics, topicNames: this.#metadata.topicNames };
  }

  #broker(node: BrokerNode): Broker {
    // A closed client never opens a socket again (nothing would close it: the process would stay alive).
    this.#checkOpen();
    const existing = this.#brokers.get(node.nodeId);
    if (existing && sameAddress(existing.node, node)) {
      existing.node = node;
      return existing;
    }
    existing?.close();
    // The first metadata names the bootstrap address as a broker (always so with one broker):
    // that bootstrap broker becomes the node's, so its open, negotiated connection serves the
    // node's next request (a consumer's FindCoordinator) instead of a new connection and its
    // ApiVersions round trip. Same host and port: the same listener.
    if (node.nodeId >= 0) {
      for (const [id, bootstrap] of this.#brokers) {
        if (id >= 0 || !sameAddress(bootstrap.node, node)) continue;
        this.#brokers.delete(id);
        bootstrap.node = node;
        this.#brokers.set(node.nodeId, bootstrap);
        return bootstrap;
      }
    }
    const broker = new Broker(node, this.#brokerOptions);
    this.#brokers.set(node.nodeId, broker);
    return broker;
  }

  /** After a refresh: open brokers for new nodes, close those that left, and the bootstrap ones. */
  #syncBrokers(): void {
    if (this.#closed) return;
    for (const node of this.#metadata.brokers.values()) this.#broker(node);
    for (const [id, broker] of this.#brokers) {
      if (!this.#metadata.brokers.has(id)) {
        broker.close();
        this.#brokers.delete(id);
      }
    }
  }

  /**
   * The connection to broker `nodeId` (which metadata must know) for `route`: name the API
   * (and the owner, for fetch and group requests) and the latency class follows from it.
   */
  async connection(nodeId: number, route: ConnectionRoute, signal?: AbortSignal): Promise<Connection> {
    this.#checkOpen();
    let node = this.#metadata.brokers.get(nodeId);
    if (!node) node = (await this.refreshMetadata(signal ? { signal } : {})).brokers.get(nodeId);
    // Retriable, and a routing problem: after a rebootstrap (every broker failed) the metadata
    // knows no broker until one answers again, and a leader that left comes back or moves.
    // Kafka's BROKER_NOT_AVAILABLE code is not retriable in its table, so it would have failed
    // a producer's batches at once during an outage.
    if (!node) throw new ConnectionError(`node ${nodeId}`, "not in the cluster metadata (yet)");
    return this.#broker(node).connection(slotKey(route), signal);
  }

  /**
   * The open connection for `route` to broker `nodeId`, or undefined when there is none yet
   * (then use {@link connection}). Synchronous, so a loop can send its next request in the
   * same turn as it handled the last response.
   */
  readyConnection(nodeId: number, route: ConnectionRoute): Connection | undefined {
    if (this.#closed) return undefined;
    const broker = this.#brokers.get(nodeId);
    const node = this.#metadata.brokers.get(nodeId);
    // A broker that moved (new host or port in metadata) is replaced by connection().
    if (!broker || !node || !sameAddress(broker.node, node)) return undefined;
    return broker.readyConnection(slotKey(route));
  }

  /** A connection to any broker (for requests any broker answers, e.g. admin describe calls). */
  async anyConnection(route: ConnectionRoute = "control", signal?: AbortSignal): Promise<Connection> {
    this.#checkOpen();
    const metadata =
      this.#metadata.brokers.size > 0 ? this.#metadata : await this.refreshMetadata(signal ? { signal } : {});
    const brokers = [...metadata.brokers.values()].map((n) => this.#broker(n));
    brokers.sort((a, b) => b.openConnections - a.openConnections);
    let lastError: unknown;
    for (const broker of brokers) {
      try {
        return await broker.connection(slotKey(route), signal);
      } catch (err) {
        if (!isRetriable(err)) throw err;
        lastError = err;
      }
    }
    throw lastError;
  }

  /**
   * The leader of a partition, refreshing metadata (with backoff) while it is unknown or has
   * no leader, until the request timeout.
   */
  async leader(topic: string, partition: number, signal?: AbortSignal): Promise<BrokerNode> {
    const deadline = Date.now() + this.#requestTimeoutMs;
    let metadata = await this.metadata([topic], signal ? { signal } : {});
    for (let attempt = 0; ; attempt++) {
      const t = metadata.topics.get(topic);
      const p = t?.partitions[partition];
      const node = p && p.leaderId >= 0 ? metadata.brokers.get(p.leaderId) : undefined;
      if (node) return node;
      const error = t && t.errorCode !== 0 ? kafkaError(t.errorCode) : kafkaError(5); // LEADER_NOT_AVAILABLE
      if (t && t.errorCode !== 0 && !error.retriable) throw error;
      if (t && t.errorCode === 0 && t.partitions.length > 0 && partition >= t.partitions.length) {
        throw new InvalidArgumentError("partition", `${topic} has ${t.partitions.length} partitions; got ${partition}`);
      }
      if (Date.now() >= deadline) throw error;
      await sleep(backoffDelay(attempt, this.#retryBackoff), signal);
      metadata = await this.refreshMetadata(signal ? { signal } : {});
    }
  }

  /** Marks a partition's leader stale after a leadership error, so the next lookup refreshes. */
  invalidateLeader(): void {
    this.#metadata = { ...this.#metadata, fetchedAt: 0 };
  }

  /** Applies a KIP-951 new-leader hint from a Produce or Fetch response. */
  applyLeaderHint(
    topic: string,
    partition: number,
    leaderId: number,
    leaderEpoch: number,
    endpoints: readonly BrokerNode[] = [],
  ): void {
    this.#metadata = applyLeaderHint(this.#metadata, topic, partition, leaderId, leaderEpoch, endpoints);
    this.#syncBrokers();
  }

  /** The group or transaction coordinator for `key`, cached until invalidated. */
  coordinator(type: CoordinatorType, key: string, signal?: AbortSignal): Promise<BrokerNode> {
    if (this.#closed) return Promise.reject(new ClosedError("client"));
    return this.#coordinators.lookup(type, key, this.#requestTimeoutMs, signal);
  }

  /** Forgets a coordinator after NOT_COORDINATOR / COORDINATOR_NOT_AVAILABLE. */
  invalidateCoordinator(type: CoordinatorType, key: string): void {
    this.#coordinators.invalidate(type, key);
  }

  async #findCoordinators(
    type: CoordinatorType,
    keys: string[],
    signal?: AbortSignal,
  ): Promise<Map<string, { node?: BrokerNode; errorCode: number; errorMessage: string | null }>> {
    const connection = await this.anyConnection("control", signal);
    const keyType = type === "group" ? 0 : 1;
    const version = connection.versionFor(FindCoordinator);
    const result = new Map<string, { node?: BrokerNode; errorCode: number; errorMessage: string | null }>();
    if (version >= 4) {
      // v4+ looks up many keys in one request (KIP-699).
      const response = await connection.request(
        FindCoordinator,
        { key: "", keyType, coordinatorKeys: keys },
        signal ? { signal } : {},
      );
      for (const c of response.coordinators) {
        result.set(c.key, {
          ...(c.errorCode === 0 ? { node: { nodeId: c.nodeId, host: c.host, port: c.port, rack: null } } : {}),
          errorCode: c.errorCode,
          errorMessage: c.errorMessage,
        });
      }
      return result;
    }
    for (const key of keys) {
      const r = await connection.request(
        FindCoordinator,
        { key, keyType, coordinatorKeys: [] },
        signal ? { signal } : {},
      );
      result.set(key, {
        ...(r.errorCode === 0 ? { node: { nodeId: r.nodeId, host: r.host, port: r.port, rack: null } } : {}),
        errorCode: r.errorCode,
        errorMessage: r.errorMessage,
      });
    }
    return result;
  }

  /** Closes the per-owner sockets (fetch, group) of a consumer or member that is done. */
  releaseConnections(owner: string): void {
    for (const broker of this.#brokers.values()) broker.releaseOwner(owner);
  }

  /** True once {@link close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  #checkOpen(): void {
    if (this.#closed) throw new ClosedError("client");
  }

  /**
   * Closes every connection. Requests in flight reject with ConnectionClosedError; every
   * later call that needs the network fails at once with ClosedError, and nothing reconnects.
   */
  close(reason?: SamsaError): void {
    this.#closed = true;
    for (const broker of this.#brokers.values()) broker.close(reason);
    this.#brokers.clear();
  }
}
