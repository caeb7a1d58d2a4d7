/**
 * Test helper of the fault suite: drives a producer at a steady rate with one `send` per
 * record (callback form, no promise per record), each record's value its ledger id, with a
 * cap on records outstanding. Remembers how each failure happened and how long after its
 * send, so a test can tell a delivery timeout from an early give-up.
 */
import type { Producer } from "../../src/producer/producer.js";
import type { Ledger } from "./fault-ledger.js";

/** Options of {@link ProducerLoad}. */
export interface ProducerLoadOptions {
  topic: string;
  /** Records per second while running. */
  ratePerSec: number;
  /** No new sends while this many are outstanding. */
  maxOutstanding: number;
  /** Keys cycle over this many values (per-key order); default 64. */
  keys?: number;
}

/** One failed send. */
export interface SendFailure {
  id: number;
  /** Milliseconds from send to failure. */
  elapsedMs: number;
  error: string;
}

/** See the module comment. */
export class ProducerLoad {
  readonly failures: SendFailure[] = [];
  /** Error name/code → count. */
  readonly errors = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #carry = 0;
  #last = 0;

  constructor(
    readonly producer: Producer,
    readonly ledger: Ledger,
    readonly options: ProducerLoadOptions,
  ) {}

  /** Starts sending at the configured rate. */
  start(): this {
    this.#last = Date.now();
    this.#timer = setInterval(() => this.#tick(), 20);
    return this;
  }

  /** Stops issuing new sends (outstanding ones go on). */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Sends `n` records now, ignoring rate and cap; returns their ids' range [from, to). */
  burst(n: number): { from: number; to: number } {
    let from = -1;
    let to = -1;
    for (let i = 0; i < n; i++) {
      const id = this.sendOne();
      if (from < 0) from = id;
      to = id + 1;
    }
    return { from, to };
  }

  /** Sends one record; returns its id. */
  sendOne(): number {
    const id = this.ledger.send();
    const sentAt = Date.now();
    const keys = this.options.keys ?? 64;
    try {
      this.producer.send({ topic: this.options.topic, key: `k${id % keys}`, value: String(id) }, (err) => {
        if (err) this.#failed(id, sentAt, err);
        else this.ledger.ack(id);
      });
    } catch (err) {
      this.#failed(id, sentAt, err as Error);
    }
    return id;
  }

  #failed(id: number, sentAt: number, err: Error): void {
    this.ledger.fail(id);
    // A broker error by its name (NOT_ENOUGH_REPLICAS), a client error by its class and code.
    const e = err as { code?: string; errorName?: string };
    const name = e.errorName ?? `${err.name}${e.code ? `:${e.code}` : ""}`;
    this.errors.set(name, (this.errors.get(name) ?? 0) + 1);
    if (this.failures.length < 200_000) this.failures.push({ id, elapsedMs: Date.now() - sentAt, error: name });
  }

  #tick(): void {
    const now = Date.now();
    this.#carry += ((now - this.#last) * this.options.ratePerSec) / 1000;
    this.#last = now;
    let n = Math.floor(this.#carry);
    this.#carry -= n;
    while (n-- > 0 && this.ledger.outstanding < this.options.maxOutstanding) this.sendOne();
  }

  /** "name=count,…" of the errors seen. */
  errorSummary(): string {
    return [...this.errors].map(([k, v]) => `${k}=${v}`).join(",") || "none";
  }
}
