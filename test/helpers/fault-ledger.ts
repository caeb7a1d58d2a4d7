/**
 * Test helper of the fault suite: keeps the books of one scenario. Every record carries a
 * numeric id (its value, in decimal); the ledger knows which ids were sent, acknowledged or
 * failed, counts how often each id was read back, and samples the process RSS. The figures
 * are printed in one line per scenario, `FAULT <scenario>: sent=… acked=… …`.
 */

/** State of one id: 0 not sent, then sent (outstanding), acknowledged or failed. */
const SENT = 1;
const ACKED = 2;
const FAILED = 3;

/** What {@link Ledger.reconcile} found. */
export interface LedgerFigures {
  sent: number;
  acked: number;
  failed: number;
  /** Sent, neither acknowledged nor failed (yet). */
  outstanding: number;
  /** Distinct ids read back. */
  read: number;
  /** Acknowledged but never read back. */
  lost: number;
  /** Ids read back more than once. */
  duplicated: number;
  /** Ids read back that were never sent (should be 0). */
  unknown: number;
}

/** Sent/acked/failed state and read counts per record id; see the module comment. */
export class Ledger {
  #state: Uint8Array;
  #reads: Uint8Array;
  #next = 0;
  #sent = 0;
  #acked = 0;
  #failed = 0;
  #unknown = 0;

  /**
   * `capacity`: ids to make room for up front. A soak that compares RSS over time sizes it
   * for the whole run, so the ledger's own growth does not show up as the client's.
   */
  constructor(capacity = 1 << 16) {
    this.#state = new Uint8Array(capacity);
    this.#reads = new Uint8Array(capacity);
    // Touch every page now: untouched zero pages would join the RSS only as they fill.
    this.#state.fill(1);
    this.#state.fill(0);
    this.#reads.fill(1);
    this.#reads.fill(0);
  }

  /** Allocates the next id and marks it sent. */
  send(): number {
    const id = this.#next++;
    this.#grow(id);
    this.#state[id] = SENT;
    this.#sent++;
    return id;
  }

  /** The broker acknowledged `id`. A second report of the same id is ignored. */
  ack(id: number): void {
    if (this.#state[id] !== SENT) return;
    this.#state[id] = ACKED;
    this.#acked++;
  }

  /** The producer gave up on `id`. */
  fail(id: number): void {
    if (this.#state[id] !== SENT) return;
    this.#state[id] = FAILED;
    this.#failed++;
  }

  /** The consumer or a read-back saw `id` (a decimal string or Buffer of one). */
  read(value: Buffer | string | null | undefined): void {
    const id = value == null ? Number.NaN : Number(value.toString());
    if (!Number.isInteger(id) || id < 0 || id >= this.#next) {
      this.#unknown++;
      return;
    }
    const n = this.#reads[id] as number;
    if (n < 255) this.#reads[id] = n + 1;
  }

  /** Forgets the read counts (before a second, independent read-back). */
  clearReads(): void {
    this.#reads.fill(0);
    this.#unknown = 0;
  }

  get sent(): number {
    return this.#sent;
  }
  get acked(): number {
    return this.#acked;
  }
  get failed(): number {
    return this.#failed;
  }
  /** Sent and not yet settled. */
  get outstanding(): number {
    return this.#sent - this.#acked - this.#failed;
  }

  /** Whether `id` was acknowledged. */
  isAcked(id: number): boolean {
    return this.#state[id] === ACKED;
  }

  /** Ids acknowledged and read (first `limit` lost ones listed, for messages). */
  reconcile(limit = 10): LedgerFigures & { lostIds: number[] } {
    let read = 0;
    let lost = 0;
    let duplicated = 0;
    const lostIds: number[] = [];
    for (let id = 0; id < this.#next; id++) {
      const n = this.#reads[id] as number;
      if (n > 0) read++;
      if (n > 1) duplicated++;
      if (n === 0 && this.#state[id] === ACKED) {
        lost++;
        if (lostIds.length < limit) lostIds.push(id);
      }
    }
    return {
      sent: this.#sent,
      acked: this.#acked,
      failed: this.#failed,
      outstanding: this.outstanding,
      read,
      lost,
      duplicated,
      unknown: this.#unknown,
      lostIds,
    };
  }

  #grow(id: number): void {
    if (id < this.#state.length) return;
    let size = Math.max(this.#state.length, 1);
    while (size <= id) size *= 2;
    const state = new Uint8Array(size);
    state.set(this.#state);
    this.#state = state;
    const reads = new Uint8Array(size);
    reads.set(this.#reads);
    this.#reads = reads;
  }
}

/** Samples `process.memoryUsage().rss` (or a caller's probe) on a timer. */
export class RssSampler {
  readonly samples: { at: number; rss: number }[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(
    readonly intervalMs = 1_000,
    readonly probe: () => number = () => process.memoryUsage().rss,
  ) {}

  start(): this {
    this.sample();
    this.#timer = setInterval(() => this.sample(), this.intervalMs);
    this.#timer.unref();
    return this;
  }

  sample(): void {
    this.samples.push({ at: Date.now(), rss: this.probe() });
  }

  stop(): void {
    clearInterval(this.#timer);
    this.sample();
  }

  /** First, last and peak RSS in MiB, and the medians of the second and last quarter. */
  summary(): { firstMB: number; lastMB: number; maxMB: number; q2MedianMB: number; q4MedianMB: number } {
    const mb = (b: number) => Math.round(b / 1024 / 104.8576) / 10;
    const values = this.samples.map((s) => s.rss);
    const n = values.length;
    const quarter = (k: number) =>
      median(
        values.slice(
          Math.floor((n * (k - 1)) / 4),
          Math.max(Math.floor((n * k) / 4), Math.floor((n * (k - 1)) / 4) + 1),
        ),
      );
    return {
      firstMB: mb(values[0] ?? 0),
      lastMB: mb(values[n - 1] ?? 0),
      maxMB: mb(Math.max(0, ...values)),
      q2MedianMB: mb(quarter(2)),
      q4MedianMB: mb(quarter(4)),
    };
  }
}

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/**
 * Prints the scenario's one-line figures, e.g.
 * `FAULT restart-sigkill: sent=80000 acked=80000 failed=0 outstanding=0 read=80000 lost=0 dup=0 rssMB=210..260 (max 300) extra`.
 */
export function reportFigures(
  scenario: string,
  figures: LedgerFigures,
  rss: RssSampler | undefined,
  extra: Record<string, string | number | boolean> = {},
): string {
  const r = rss?.summary();
  const rssPart = r ? ` rssMB=${r.firstMB}..${r.lastMB} (max ${r.maxMB}, q2 ${r.q2MedianMB}, q4 ${r.q4MedianMB})` : "";
  const more = Object.entries(extra)
    .map(([k, v]) => ` ${k}=${v}`)
    .join("");
  const line = `FAULT ${scenario}: sent=${figures.sent} acked=${figures.acked} failed=${figures.failed} outstanding=${figures.outstanding} read=${figures.read} lost=${figures.lost} dup=${figures.duplicated}${rssPart}${more}`;
  console.log(line);
  return line;
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `condition` every 50 ms until it holds (true) or `timeoutMs` passes (false). */
export async function waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

/** Settles with `promise`'s outcome, or "timeout" after `ms`. */
export async function within<T>(
  promise: Promise<T>,
  ms: number,
): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ ok: false; error: unknown }>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, error: new Error(`did not settle within ${ms} ms`) }), ms);
  });
  try {
    return await Promise.race([
      promise.then(
        (value) => ({ ok: true as const, value }),
        (error: unknown) => ({ ok: false as const, error }),
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Ids a consumer (or a group of them) was handed, with counts: a second, independent read
 * beside the ledger's read-back, since at-least-once allows redelivery where the log must
 * hold each record once.
 */
export class SeenIds {
  #counts: Uint8Array;
  #total = 0;

  /** `capacity`: as for {@link Ledger}. */
  constructor(capacity = 1 << 16) {
    this.#counts = new Uint8Array(capacity);
    this.#counts.fill(1);
    this.#counts.fill(0);
  }

  /** Counts one delivery of the record whose value is `value` (a decimal id). */
  add(value: Buffer | string | null | undefined): void {
    const id = value == null ? Number.NaN : Number(value.toString());
    if (!Number.isInteger(id) || id < 0) return;
    if (id >= this.#counts.length) {
      let size = Math.max(this.#counts.length, 1);
      while (size <= id) size *= 2;
      const counts = new Uint8Array(size);
      counts.set(this.#counts);
      this.#counts = counts;
    }
    const n = this.#counts[id] as number;
    if (n < 255) this.#counts[id] = n + 1;
    this.#total++;
  }

  /** Deliveries counted, redeliveries included. */
  get total(): number {
    return this.#total;
  }

  /** Acknowledged ids of `ledger` this reader has not seen yet. */
  missing(ledger: Ledger): number {
    let missing = 0;
    for (let id = 0; id < ledger.sent; id++) if (ledger.isAcked(id) && (this.#counts[id] ?? 0) === 0) missing++;
    return missing;
  }

  /** Distinct ids seen, and ids seen more than once. */
  figures(ledger: Ledger): { seen: number; missing: number; redelivered: number } {
    let seen = 0;
    let redelivered = 0;
    for (let id = 0; id < this.#counts.length; id++) {
      const n = this.#counts[id] as number;
      if (n > 0) seen++;
      if (n > 1) redelivered++;
    }
    return { seen, missing: this.missing(ledger), redelivered };
  }
}
