/**
 * Group and transaction coordinators: looked up with FindCoordinator, cached, and forgotten
 * when a broker says NOT_COORDINATOR or COORDINATOR_NOT_AVAILABLE. Lookups asked for in the
 * same tick go out as one batched request (FindCoordinator v4+, KIP-699).
 */

import { kafkaError } from "../protocol/kafka-error.js";
import { backoffDelay, sleep } from "./backoff.js";
import type { BrokerNode } from "./broker.js";
import { isRetriable } from "./retry.js";

/** Which coordinator: of a consumer group or of a transactional id. */
export type CoordinatorType = "group" | "transaction";

/** One key's answer. */
export interface CoordinatorAnswer {
  node?: BrokerNode;
  errorCode: number;
  errorMessage: string | null;
}

/** Sends one FindCoordinator for several keys of one type. */
export type FindCoordinators = (
  type: CoordinatorType,
  keys: string[],
  signal?: AbortSignal,
) => Promise<Map<string, CoordinatorAnswer>>;

interface Waiter {
  resolve(answer: CoordinatorAnswer): void;
  reject(err: unknown): void;
}

/** The cache; see the module comment. */
export class CoordinatorCache {
  readonly #find: FindCoordinators;
  readonly #cache = new Map<string, BrokerNode>();
  readonly #batch = new Map<CoordinatorType, Map<string, Waiter[]>>();

  constructor(find: FindCoordinators) {
    this.#find = find;
  }

  /** The coordinator for `key`, retrying retriable errors with backoff until `timeoutMs`. */
  async lookup(type: CoordinatorType, key: string, timeoutMs: number, signal?: AbortSignal): Promise<BrokerNode> {
    const cached = this.#cache.get(`${type}:${key}`);
    if (cached) return cached;
    const deadline = Date.now() + timeoutMs;
    for (let attempt = 0; ; attempt++) {
      let error: unknown;
      try {
        const answer = await this.#enqueue(type, key);
        if (answer.node) {
          this.#cache.set(`${type}:${key}`, answer.node);
          return answer.node;
        }
        error = kafkaError(answer.errorCode, answer.errorMessage);
      } catch (err) {
        error = err;
      }
      // COORDINATOR_NOT_AVAILABLE while the coordinator loads is normal right after a group
      // or __consumer_offsets partition moves; Kafka's table marks it retriable.
      if (!isRetriable(error) || Date.now() >= deadline) throw error;
      await sleep(Math.min(backoffDelay(attempt, { floorMs: 100, ceilingMs: 1000 }), deadline - Date.now()), signal);
    }
  }

  /** Forgets a cached coordinator. */
  invalidate(type: CoordinatorType, key: string): void {
    this.#cache.delete(`${type}:${key}`);
  }

  #enqueue(type: CoordinatorType, key: string): Promise<CoordinatorAnswer> {
    return new Promise((resolve, reject) => {
      let keys = this.#batch.get(type);
      if (!keys) {
        keys = new Map();
        this.#batch.set(type, keys);
        // Everything asked for in this tick rides in one request.
        queueMicrotask(() => this.#flush(type));
      }
      const waiters = keys.get(key) ?? [];
      waiters.push({ resolve, reject });
      keys.set(key, waiters);
    });
  }

  #flush(type: CoordinatorType): void {
    const keys = this.#batch.get(type);
    this.#batch.delete(type);
    if (!keys) return;
    this.#find(type, [...keys.keys()]).then(
      (answers) => {
        for (const [key, waiters] of keys) {
          const answer = answers.get(key) ?? { errorCode: 15, errorMessage: "no answer for this key" };
          for (const w of waiters) w.resolve(answer);
        }
      },
      (err) => {
        for (const waiters of keys.values()) for (const w of waiters) w.reject(err);
      },
    );
  }
}
