/**
 * The client half of a KIP-227 fetch session with one broker. The first request is full
 * (every partition); the broker answers with a session id, and from then on a request lists
 * only partitions that are new or whose fetch position changed, plus the ones to forget, and
 * the broker answers only for partitions with news. Any session error falls back to a full
 * request. Topics travel by id (Fetch v13+, KIP-516).
 */
import { ErrorCode } from "../protocol/error-table.js";
import type { FetchRequestFetchTopic, FetchRequestForgottenTopic } from "../protocol/messages/index.js";
import type { PartitionState } from "./partition.js";

/** What one partition asks the broker for. */
export interface SessionPartition {
  state: PartitionState;
  topicId: string;
  fetchOffset: bigint;
  currentLeaderEpoch: number;
  maxBytes: number;
  /** The partition's generation when the request was built. */
  generation: number;
}

/** A request's session fields and the partitions it covers. */
export interface SessionRequest {
  sessionId: number;
  sessionEpoch: number;
  topics: FetchRequestFetchTopic[];
  forgottenTopicsData: FetchRequestForgottenTopic[];
  /** Every partition of the session after this request, by `topicId:partition`: what responses refer to. */
  partitions: Map<string, SessionPartition>;
  full: boolean;
}

const INITIAL_EPOCH = 0;
const INT32_MAX = 2_147_483_647;

/** Key of a session partition: responses name topics by id. */
export function sessionKey(topicId: string, partition: number): string {
  return `${topicId}:${partition}`;
}

/** One broker's fetch session; see the module comment. */
export class FetchSession {
  #sessionId = 0;
  #epoch = INITIAL_EPOCH;
  /** What the broker's session holds, as of the last successful response. */
  #partitions = new Map<string, SessionPartition>();
  /** Requests sent, full requests among them: for tests and metrics. */
  readonly stats = { requests: 0, fullRequests: 0, sessionErrors: 0 };

  /** The broker-assigned session id; 0 while there is none. */
  get sessionId(): number {
    return this.#sessionId;
  }

  /** Builds the next request from the partitions that should be fetched now. */
  build(next: readonly SessionPartition[]): SessionRequest {
    const full = this.#epoch === INITIAL_EPOCH;
    const partitions = new Map<string, SessionPartition>();
    const byTopic = new Map<string, FetchRequestFetchTopic>();
    for (const p of next) {
      const key = sessionKey(p.topicId, p.state.partition);
      partitions.set(key, p);
      if (!full) {
        const old = this.#partitions.get(key);
        if (
          old &&
          old.fetchOffset === p.fetchOffset &&
          old.maxBytes === p.maxBytes &&
          old.currentLeaderEpoch === p.currentLeaderEpoch
        ) {
          continue;
        }
      }
      let topic = byTopic.get(p.topicId);
      if (!topic) {
        topic = { topic: p.state.topic, topicId: p.topicId, partitions: [] };
        byTopic.set(p.topicId, topic);
      }
      topic.partitions.push({
        partition: p.state.partition,
        currentLeaderEpoch: p.currentLeaderEpoch,
        fetchOffset: p.fetchOffset,
        lastFetchedEpoch: -1,
        logStartOffset: -1n,
        partitionMaxBytes: p.maxBytes,
        replicaDirectoryId: "AAAAAAAAAAAAAAAAAAAAAA",
        highWatermark: 9223372036854775807n,
      });
    }
    const forgotten = new Map<string, FetchRequestForgottenTopic>();
    if (!full) {
      for (const [key, old] of this.#partitions) {
        if (partitions.has(key)) continue;
        let topic = forgotten.get(old.topicId);
        if (!topic) {
          topic = { topic: old.state.topic, topicId: old.topicId, partitions: [] };
          forgotten.set(old.topicId, topic);
        }
        topic.partitions.push(old.state.partition);
      }
    }
    this.stats.requests++;
    if (full) this.stats.fullRequests++;
    return {
      sessionId: this.#sessionId,
      sessionEpoch: this.#epoch,
      topics: [...byTopic.values()],
      forgottenTopicsData: [...forgotten.values()],
      partitions,
      full,
    };
  }

  /**
   * Takes a response's top-level session fields. Returns false when the response carries a
   * session error: its partition data must be ignored and the next request is full.
   */
  handleResponse(request: SessionRequest, errorCode: number, sessionId: number): boolean {
    if (errorCode !== ErrorCode.NONE) {
      this.stats.sessionErrors++;
      // FETCH_SESSION_ID_NOT_FOUND: the broker evicted the session; start a new one. Any other
      // top-level error (INVALID_FETCH_SESSION_EPOCH, FETCH_SESSION_TOPIC_ID_ERROR, …): close
      // the session we have and open a fresh one with a full request (epoch 0, same id).
      if (errorCode === ErrorCode.FETCH_SESSION_ID_NOT_FOUND) this.#sessionId = 0;
      this.#epoch = INITIAL_EPOCH;
      this.#partitions = new Map();
      return false;
    }
    this.#partitions = request.partitions;
    if (request.full) {
      // Session id 0 means the broker keeps no session (its cache is full): full requests again.
      this.#sessionId = sessionId;
      this.#epoch = sessionId === 0 ? INITIAL_EPOCH : 1;
    } else {
      this.#epoch = this.#epoch === INT32_MAX ? 1 : this.#epoch + 1;
    }
    return true;
  }

  /** The request failed (connection, timeout): the broker's session state is unknown, so start over. */
  handleError(): void {
    this.#epoch = INITIAL_EPOCH;
    this.#partitions = new Map();
  }
}
