/**
 * Exponential backoff with jitter, for reconnects and retries. Jitter keeps many clients
 * (or many connections of one client) from retrying in lockstep after a broker restart.
 */

/** Floor and ceiling of a backoff, in milliseconds. */
export interface BackoffOptions {
  /** First delay. */
  floorMs: number;
  /** Largest delay. */
  ceilingMs: number;
  /** Relative jitter, e.g. 0.2 for ±20% (Kafka's own choice). */
  jitter?: number;
}

/** Delay before attempt `attempt` (0 for the first retry): floor·2^attempt, capped, ±jitter. */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const base = Math.min(options.ceilingMs, options.floorMs * 2 ** Math.min(attempt, 30));
  const jitter = options.jitter ?? 0.2;
  const factor = 1 - jitter + random() * 2 * jitter;
  return Math.max(0, Math.round(Math.min(options.ceilingMs, base * factor)));
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
