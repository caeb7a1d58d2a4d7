/**
 * One low-resolution timer for all request timeouts of all connections, instead of a timer
 * per request: arming and clearing a timer per request costs more than the whole encode of
 * a small request. A sweep every 100 ms makes a timeout fire up to 100 ms late, which is
 * noise next to request timeouts of seconds.
 */

/** Anything with overdue requests to fail. */
export interface TimeoutTarget {
  checkTimeouts(now: number): void;
}

const SWEEP_MS = 100;

class TimeoutSweeper {
  readonly #targets = new Set<TimeoutTarget>();
  #timer: NodeJS.Timeout | undefined;

  watch(target: TimeoutTarget): void {
    this.#targets.add(target);
    if (!this.#timer) {
      this.#timer = setInterval(() => this.#sweep(), SWEEP_MS);
      // Timeouts alone must not keep a process alive.
      this.#timer.unref();
    }
  }

  unwatch(target: TimeoutTarget): void {
    this.#targets.delete(target);
    if (this.#targets.size === 0 && this.#timer) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  #sweep(): void {
    const now = Date.now();
    for (const target of this.#targets) target.checkTimeouts(now);
  }
}

/** The process-wide sweeper every connection registers with. */
export const timeouts = new TimeoutSweeper();
