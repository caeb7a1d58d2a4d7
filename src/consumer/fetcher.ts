/**
 * The fetcher: one loop per broker that leads an assigned partition, each with its own
 * KIP-227 fetch session, on the consumer's own "fetch" connection to that broker (one per
 * consumer: another consumer's long-poll never holds this one's Fetch up). A loop sends one Fetch at a
 * time, queues what comes back in the fetch buffer without decoding it, and sends the next
 * one in the same turn; it waits while the buffer is at `maxBufferedBytes`. Leaders are read
 * from the client's metadata on each round, so a leader change (a refresh or a KIP-951 hint)
 * moves a partition to another loop.
 *
 * Nothing fails silently for ever: each partition counts its consecutive failures (an error
 * code, a request or response that failed, no leader), backs off exponentially, and every
 * FETCH_ATTEMPTS failures in a row the application gets a FetchError naming it, through the
 * iterator, while fetching goes on trying. Request failures are also reported to the client's
 * `error` event as they happen.
 */
import { backoffDelay, sleep } from "../network/backoff.js";
import type { Cluster } from "../network/cluster.js";
import type { ConnectionRoute } from "../network/connection-classes.js";
import { isRetriable, needsMetadataRefresh } from "../network/retry.js";
import { ZERO_UUID } from "../protocol/api.js";
import { ErrorCode } from "../protocol/error-table.js";
import { ProtocolError } from "../protocol/errors.js";
import { kafkaError } from "../protocol/kafka-error.js";
import { Fetch, type FetchResponse } from "../protocol/messages/index.js";
import { scanBatchHeaders } from "../protocol/records/index.js";
import { FetchError } from "./errors.js";
import type { FetchBuffer } from "./fetch-buffer.js";
import { FetchSession, type SessionPartition, type SessionRequest, sessionKey } from "./fetch-session.js";
import type { ResolvedConsumerOptions } from "./options.js";
import type { PartitionState } from "./partition.js";
import { type ValidationHost, validatePosition } from "./validation.js";

/**
 * Failures in a row after which a partition's FetchError reaches the application. With the
 * backoff below (retryBackoffMs doubling to 1 s) ten take about 7 s at the default 100 ms:
 * longer than a leader election or a broker restart takes to show in metadata, short enough
 * that a stuck partition is noticed.
 */
export const FETCH_ATTEMPTS = 10;
const FAILURE_BACKOFF_CEILING_MS = 1_000;

/**
 * Counts a failed attempt for `state`: pushes its next fetch back, and every FETCH_ATTEMPTS
 * in a row hands a FetchError to `report`.
 */
export function noteFailure(
  state: PartitionState,
  cause: unknown,
  retryBackoffMs: number,
  report: (state: PartitionState, error: FetchError) => void,
): void {
  const n = state.attemptFailed();
  const floorMs = Math.max(1, retryBackoffMs);
  const delay = backoffDelay(n - 1, { floorMs, ceilingMs: Math.max(floorMs, FAILURE_BACKOFF_CEILING_MS) });
  state.backOffUntil(Date.now() + delay);
  if (n % FETCH_ATTEMPTS === 0) report(state, new FetchError(state.topic, state.partition, n, cause));
}

/** What the fetcher needs from its consumer. */
export interface FetcherHost {
  readonly client: Cluster;
  /** The consumer's connection owner: its Fetches go on its own sockets. */
  readonly owner: string;
  readonly options: ResolvedConsumerOptions;
  readonly buffer: FetchBuffer;
  /** The assigned partitions. */
  partitions(): Iterable<PartitionState>;
  /** A fetch got OFFSET_OUT_OF_RANGE: reset per autoOffsetReset, or fail the partition. */
  outOfRange(state: PartitionState): void;
  /** An error that stops a partition until the application seeks. */
  failPartition(state: PartitionState, error: Error): void;
  /** A partition keeps failing (see {@link noteFailure}): tell the application; fetching goes on. */
  fetchFailed(state: PartitionState, error: FetchError): void;
  /** A new leader's log ends at `endOffset`, before the fetch position (KIP-320). */
  truncated(state: PartitionState, endOffset: bigint): void;
}

/**
 * Whether a partition error means "what we know of the leader is wrong": find it again (or
 * take the KIP-951 hint) and retry. Kafka's InvalidMetadataException family, plus the one
 * code Java's FetchCollector also answers with a metadata update although its exception is
 * not in that family.
 */
function leadershipError(error: unknown, code: number): boolean {
  if (needsMetadataRefresh(error)) return true;
  // OFFSET_NOT_AVAILABLE: the leader is new and its high watermark not yet known; Java
  // refreshes metadata here too, in case the leadership moved again meanwhile.
  // (UNKNOWN_LEADER_EPOCH is deliberately not here: the broker is behind our epoch, so our
  // metadata is newer than its; Java only retries, and so does the generic retriable path.)
  return code === ErrorCode.OFFSET_NOT_AVAILABLE;
}

/** Counters for tests and metrics. */
export interface FetcherStats {
  /** Fetch requests sent. */
  requests: number;
  /** Of which full (session-less or session-creating). */
  fullRequests: number;
  /** Top-level fetch session errors answered. */
  sessionErrors: number;
  /** Partitions that hit a leadership error. */
  leaderErrors: number;
  /** KIP-951 leader hints applied (no metadata round trip needed). */
  leaderHints: number;
  /** Positions checked against a new leader's log with OffsetForLeaderEpoch (KIP-320). */
  validations: number;
  /** Fetch requests that failed (connection dropped, timed out). */
  requestErrors: number;
  /** Records and bytes fetched (from batch headers, before filtering aborted or control records). */
  records: number;
  bytes: number;
}

/** All broker loops of one consumer; see the module comment. */
export class Fetcher {
  readonly #host: FetcherHost;
  readonly #loops = new Map<number, BrokerFetcher>();
  readonly #controller = new AbortController();
  #waiters: (() => void)[] = [];
  #metadataRefresh: Promise<void> | undefined;
  /** Refreshes in a row after which some partition still had no leader: grows their backoff. */
  #leaderless = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  readonly stats: FetcherStats = {
    requests: 0,
    fullRequests: 0,
    sessionErrors: 0,
    leaderErrors: 0,
    leaderHints: 0,
    validations: 0,
    requestErrors: 0,
    records: 0,
    bytes: 0,
  };
  /** What position validations (KIP-320) need. */
  readonly validation: ValidationHost;

  constructor(host: FetcherHost) {
    this.#host = host;
    this.validation = {
      client: host.client,
      retryBackoffMs: host.options.retryBackoffMs,
      signal: this.#controller.signal,
      truncated: (state, endOffset) => host.truncated(state, endOffset),
      outOfRange: (state) => host.outOfRange(state),
      refreshMetadata: () => this.refreshMetadata(),
      done: () => this.wake(),
      count: () => {
        this.stats.validations++;
      },
    };
  }

  /** Aborted when the fetcher stops. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** True once {@link stop} ran: loops end. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /**
   * Something changed (assignment, position, pause, leader, buffer space): idle loops look
   * again, and loops are started for leaders that have none.
   */
  wake(): void {
    if (this.#stopped) return;
    const metadata = this.#host.client.cachedMetadata;
    let missing = false;
    for (const state of this.#host.partitions()) {
      if (state.fetchOffset === undefined || state.revoked) continue;
      const leader = metadata.topics.get(state.topic)?.partitions[state.partition]?.leaderId ?? -1;
      if (leader < 0) {
        missing = true;
        continue;
      }
      if (!this.#loops.has(leader)) {
        const loop = new BrokerFetcher(leader, this, this.#host);
        this.#loops.set(leader, loop);
        loop.run().catch(() => {
          // A loop only ends by stopping; an unexpected throw restarts it on the next wake.
          this.#loops.delete(leader);
        });
      }
    }
    if (missing) this.refreshMetadata();
    const waiters = this.#waiters.splice(0);
    for (const w of waiters) w();
  }

  /**
   * Opens this consumer's fetch connection to each broker leading a partition of `topics`, so
   * the first Fetch after the group assigns them does not wait for a connection and its
   * ApiVersions round trip (the join takes several round trips; this overlaps with them).
   * Failures are left to the fetch loop, which reports and retries them.
   */
  preconnect(topics: readonly string[]): void {
    if (this.#stopped) return;
    const { client, owner } = this.#host;
    const metadata = client.cachedMetadata;
    const leaders = new Set<number>();
    for (const topic of topics) {
      for (const p of metadata.topics.get(topic)?.partitions ?? []) if (p.leaderId >= 0) leaders.add(p.leaderId);
    }
    const route: ConnectionRoute = { api: Fetch, owner };
    for (const leader of leaders) {
      if (client.readyConnection(leader, route) !== undefined) continue;
      client.connection(leader, route, this.signal).catch(() => {});
    }
  }

  /** Resolves on the next {@link wake}, or after `ms`. */
  waitForWake(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Wakes everyone once `ms` from now (a partition's backoff ends). */
  wakeAfter(ms: number): void {
    if (this.#timer || this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.wake();
    }, ms);
  }

  /** Refreshes metadata once at a time (leaders unknown or moved), then wakes the loops. */
  refreshMetadata(): void {
    if (this.#metadataRefresh || this.#stopped) return;
    const topics = new Set<string>();
    for (const s of this.#host.partitions()) topics.add(s.topic);
    const client = this.#host.client;
    client.invalidateLeader();
    const { retryBackoffMs } = this.#host.options;
    this.#metadataRefresh = (async () => {
      let failure: unknown;
      try {
        const floorMs = Math.max(1, retryBackoffMs);
        const ceilingMs = Math.max(floorMs, FAILURE_BACKOFF_CEILING_MS);
        await sleep(
          this.#leaderless === 0 ? retryBackoffMs : backoffDelay(this.#leaderless, { floorMs, ceilingMs }),
          this.signal,
        );
        await client.metadata([...topics], { maxAgeMs: 0, signal: this.signal });
      } catch (err) {
        // Retried by the next wake that finds a leader missing.
        failure = err;
        if (!this.#stopped) client.reportError(err as Error, { source: "consumer", operation: "refreshMetadata" });
      } finally {
        this.#metadataRefresh = undefined;
      }
      if (this.#stopped) return;
      this.#countLeaderless(failure);
      this.wake();
    })();
  }

  /**
   * After a refresh: each fetchable partition still without a leader counts a failure, with
   * the reason (the topic's error code, e.g. UNKNOWN_TOPIC_OR_PARTITION for a deleted topic).
   */
  #countLeaderless(failure: unknown): void {
    const metadata = this.#host.client.cachedMetadata;
    let missing = false;
    for (const state of this.#host.partitions()) {
      if (state.fetchOffset === undefined || state.revoked || state.paused || state.error !== undefined) continue;
      const topic = metadata.topics.get(state.topic);
      if ((topic?.partitions[state.partition]?.leaderId ?? -1) >= 0) continue;
      missing = true;
      const cause =
        failure ??
        kafkaError(
          topic === undefined || topic.errorCode !== ErrorCode.NONE
            ? (topic?.errorCode ?? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
            : topic.partitions.length > 0 && state.partition >= topic.partitions.length
              ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
              : ErrorCode.LEADER_NOT_AVAILABLE,
        );
      noteFailure(state, cause, this.#host.options.retryBackoffMs, (s, e) => this.#host.fetchFailed(s, e));
    }
    this.#leaderless = missing ? this.#leaderless + 1 : 0;
  }

  /** Stops every loop and aborts fetches in flight. */
  stop(): void {
    this.#stopped = true;
    this.#controller.abort();
    if (this.#timer) clearTimeout(this.#timer);
    const waiters = this.#waiters.splice(0);
    for (const w of waiters) w();
  }
}

/** One broker's loop. */
class BrokerFetcher {
  readonly #nodeId: number;
  readonly #fetcher: Fetcher;
  readonly #host: FetcherHost;
  readonly #session = new FetchSession();
  readonly #route: ConnectionRoute;
  #rotation = 0;

  constructor(nodeId: number, fetcher: Fetcher, host: FetcherHost) {
    this.#nodeId = nodeId;
    this.#fetcher = fetcher;
    this.#host = host;
    this.#route = { api: Fetch, owner: host.owner };
  }

  /** Fetches until the fetcher stops. */
  async run(): Promise<void> {
    let failures = 0;
    while (!this.#fetcher.stopped) {
      try {
        failures = await this.#rounds(failures);
      } catch {
        // A bug must not stop fetching for good: start the session over after a pause.
        this.#session.handleError();
        await sleep(this.#backoff(failures++));
      }
    }
  }

  #backoff(failures: number): number {
    return backoffDelay(failures, { floorMs: Math.max(1, this.#host.options.retryBackoffMs), ceilingMs: 1000 });
  }

  /**
   * Fetch rounds, back to back while they succeed; returns the updated count of consecutive
   * failures when a round fails or there is nothing to fetch. After a response is handled the
   * next request goes out in the same turn, with no await in between (the connection is taken
   * synchronously when open): it is on the wire before the application starts on the records
   * just queued, so the broker's transfer overlaps the application's work.
   */
  async #rounds(failures: number): Promise<number> {
    for (;;) {
      const { options, buffer, client } = this.#host;
      const available = buffer.available;
      const next = available > 0 ? this.#partitions() : [];
      if (next.length === 0) {
        await this.#fetcher.waitForWake(available > 0 ? 5_000 : 1_000);
        return failures;
      }
      for (const p of next) p.state.fetchStarted();
      const request = this.#session.build(next);
      const maxBytes = Math.min(options.maxBytes, available);
      const reserve = Math.min(maxBytes, next.length * options.maxPartitionBytes);
      buffer.reservedBytes += reserve;
      this.#fetcher.stats.requests++;
      if (request.full) this.#fetcher.stats.fullRequests++;
      let response: FetchResponse | undefined;
      let requestError: unknown;
      let version = 0;
      const started = Date.now();
      try {
        const connection =
          client.readyConnection(this.#nodeId, this.#route) ??
          (await client.connection(this.#nodeId, this.#route, this.#fetcher.signal));
        version = connection.versionFor(Fetch);
        response = await connection.request(
          Fetch,
          {
            clusterId: null,
            replicaId: -1,
            replicaState: { replicaId: -1, replicaEpoch: -1n },
            maxWaitMs: options.maxWaitMs,
            minBytes: options.minBytes,
            maxBytes,
            isolationLevel: options.isolationLevel === "read_committed" ? 1 : 0,
            sessionId: request.sessionId,
            sessionEpoch: request.sessionEpoch,
            topics: request.topics,
            forgottenTopicsData: request.forgottenTopicsData,
            rackId: "",
          },
          { timeoutMs: client.requestTimeoutMs + options.maxWaitMs, signal: this.#fetcher.signal },
        );
      } catch (err) {
        requestError = err;
        this.#session.handleError();
      } finally {
        for (const p of next) p.state.fetchEnded();
        buffer.reservedBytes -= reserve;
      }
      if (this.#fetcher.stopped) return failures;
      if (!response) {
        this.#fetcher.stats.requestErrors++;
        // A dropped connection or a response that does not decode: said now, and counted per
        // partition so a failure that never clears reaches the iterator.
        client.reportError(requestError as Error, { source: "consumer", operation: "fetch", nodeId: this.#nodeId });
        for (const p of next) this.#failed(p.state, requestError);
        // The broker may be gone: find the leaders again before the next round.
        this.#fetcher.refreshMetadata();
        await sleep(this.#backoff(failures));
        return failures + 1;
      }
      if (!this.#session.handleResponse(request, response.errorCode, response.sessionId)) {
        this.#fetcher.stats.sessionErrors++;
        // A session error is answered at once with a full request; anything else backs off.
        if (
          response.errorCode !== ErrorCode.FETCH_SESSION_ID_NOT_FOUND &&
          response.errorCode !== ErrorCode.INVALID_FETCH_SESSION_EPOCH
        ) {
          const error = kafkaError(response.errorCode);
          client.reportError(error, { source: "consumer", operation: "fetch", nodeId: this.#nodeId });
          for (const p of next) this.#failed(p.state, error);
          await sleep(this.#backoff(failures));
          return failures + 1;
        }
        return failures;
      }
      this.#handle(request, response, version, started);
      if (response.throttleTimeMs > 0) await sleep(response.throttleTimeMs);
      failures = 0;
    }
  }

  #failed(state: PartitionState, cause: unknown): void {
    noteFailure(state, cause, this.#host.options.retryBackoffMs, (s, e) => this.#host.fetchFailed(s, e));
  }

  /** The partitions this broker leads that may be fetched now, rotated so full requests are fair. */
  #partitions(): SessionPartition[] {
    const { client, options } = this.#host;
    const metadata = client.cachedMetadata;
    const now = Date.now();
    const out: SessionPartition[] = [];
    let soonest = Number.POSITIVE_INFINITY;
    for (const state of this.#host.partitions()) {
      if (!state.fetchable) continue;
      if (state.notBefore > now) {
        soonest = Math.min(soonest, state.notBefore);
        continue;
      }
      const topic = metadata.topics.get(state.topic);
      const meta = topic?.partitions[state.partition];
      if (!topic || !meta || meta.leaderId !== this.#nodeId || topic.topicId === ZERO_UUID) continue;
      if (meta.leaderEpoch > state.leaderEpoch && state.leaderEpoch >= 0 && state.fetchedEpoch >= 0) {
        // A new leader: check its log still holds what was fetched before fetching on (KIP-320).
        void validatePosition(this.#fetcher.validation, state, meta.leaderId, meta.leaderEpoch);
        continue;
      }
      state.acceptLeader(meta.leaderEpoch);
      out.push({
        state,
        topicId: topic.topicId,
        fetchOffset: state.fetchOffset as bigint,
        currentLeaderEpoch: meta.leaderEpoch,
        maxBytes: options.maxPartitionBytes,
        generation: state.generation,
      });
    }
    if (soonest !== Number.POSITIVE_INFINITY) this.#fetcher.wakeAfter(soonest - now);
    if (out.length > 1) {
      const shift = this.#rotation++ % out.length;
      return [...out.slice(shift), ...out.slice(0, shift)];
    }
    return out;
  }

  #handle(request: SessionRequest, response: FetchResponse, version: number, started: number): void {
    const { client, buffer, options } = this.#host;
    const inst = client.instrumentation;
    const report = inst.wants("consumer:fetch-answered");
    const readCommitted = options.isolationLevel === "read_committed";
    let idByName: Map<string, string> | undefined;
    if (version < 13) {
      idByName = new Map();
      for (const p of request.partitions.values()) idByName.set(p.state.topic, p.topicId);
    }
    let leaderMoved = false;
    for (const topic of response.responses) {
      const topicId = idByName ? (idByName.get(topic.topic) ?? "") : topic.topicId;
      for (const part of topic.partitions) {
        const entry = request.partitions.get(sessionKey(topicId, part.partitionIndex));
        if (!entry) continue;
        const state = entry.state;
        // Data for a position the partition has left (seek, pause, reset, revoke) is dropped.
        if (state.revoked || state.generation !== entry.generation || state.fetchOffset !== entry.fetchOffset) continue;
        const code = part.errorCode;
        if (code === ErrorCode.NONE) {
          state.answered(part.highWatermark, part.lastStableOffset, part.logStartOffset);
          const records = part.records;
          if (records === null || records.length === 0) {
            if (report) this.#report(state, entry.fetchOffset, part, 0, 0, readCommitted, started);
            continue;
          }
          const scan = scanBatchHeaders(records);
          const stats = this.#fetcher.stats;
          stats.records += scan.records;
          stats.bytes += records.length;
          if (report) {
            const next = scan.nextOffset ?? entry.fetchOffset;
            this.#report(state, next, part, scan.records, records.length, readCommitted, started);
          }
          if (scan.nextOffset === undefined && scan.problem !== undefined) {
            // Not one readable batch: fetching the same offset again would bring the same bytes
            // for ever, so the partition stops with the reason (until the application seeks).
            this.#host.failPartition(
              state,
              new ProtocolError(`${state.topic}-${state.partition} at offset ${entry.fetchOffset}: ${scan.problem}`),
            );
            continue;
          }
          if (scan.nextOffset === undefined || scan.nextOffset <= entry.fetchOffset) continue;
          state.fetched(scan.nextOffset, scan.lastEpoch);
          buffer.push({
            state,
            generation: entry.generation,
            records,
            fromOffset: entry.fetchOffset,
            nextOffset: scan.nextOffset,
            compressed: scan.compressed,
            abortedTransactions: readCommitted ? part.abortedTransactions : null,
            highWatermark: part.highWatermark,
            lastStableOffset: part.lastStableOffset,
          });
          continue;
        }
        const error = kafkaError(code);
        if (code === ErrorCode.OFFSET_OUT_OF_RANGE) {
          this.#host.outOfRange(state);
        } else if (leadershipError(error, code)) {
          this.#fetcher.stats.leaderErrors++;
          this.#failed(state, error);
          const hint = part.currentLeader;
          if (hint.leaderId >= 0 && hint.leaderEpoch >= 0) {
            // KIP-951: the new leader rides in the response; no metadata round trip needed.
            const endpoints = response.nodeEndpoints.map((e) => ({
              nodeId: e.nodeId,
              host: e.host,
              port: e.port,
              rack: e.rack,
            }));
            client.applyLeaderHint(state.topic, state.partition, hint.leaderId, hint.leaderEpoch, endpoints);
            this.#fetcher.stats.leaderHints++;
            state.retryNow();
          } else {
            leaderMoved = true;
          }
        } else if (isRetriable(error)) {
          this.#failed(state, error);
        } else {
          this.#host.failPartition(state, error);
        }
      }
    }
    if (leaderMoved) this.#fetcher.refreshMetadata();
    this.#fetcher.wake();
  }

  /** The `consumer:fetch-answered` event of one partition (callers check `wants`). */
  #report(
    state: PartitionState,
    fetchOffset: bigint,
    part: { highWatermark: bigint; lastStableOffset: bigint },
    records: number,
    bytes: number,
    readCommitted: boolean,
    started: number,
  ): void {
    const inst = this.#host.client.instrumentation;
    const end = readCommitted && part.lastStableOffset >= 0n ? part.lastStableOffset : part.highWatermark;
    const lag = end - fetchOffset;
    const node = this.#host.client.cachedMetadata.brokers.get(this.#nodeId);
    inst.emit("consumer:fetch-answered", {
      clientId: inst.clientId,
      groupId: this.#host.options.groupId ?? null,
      nodeId: this.#nodeId,
      address: node ? `${node.host}:${node.port}` : "",
      topic: state.topic,
      partition: state.partition,
      records,
      bytes,
      highWatermark: part.highWatermark,
      lastStableOffset: part.lastStableOffset,
      fetchOffset,
      lag: lag > 0n ? lag : 0n,
      durationMs: Date.now() - started,
    });
  }
}
