/**
 * A group consumer's side of a rebalance: the partitions the group takes away are given up
 * (handing out stops, the record the application holds is waited for, consumed offsets are
 * committed, the `revoked` listener runs) and the ones it gives are added (the `assigned`
 * listener, then their starting offsets). Lost partitions (fenced, session expired) are
 * dropped without a commit: another member may own them already.
 */
import type { Instrumentation } from "../observability/instrumentation.js";
import type { RebalanceListener } from "./api.js";
import type { Commits } from "./commits.js";
import type { FetchBuffer } from "./fetch-buffer.js";
import type { ResolvedConsumerOptions } from "./options.js";
import { PartitionState, partitionKey, type TopicPartition } from "./partition.js";
import type { Positions } from "./positions.js";

/** What a rebalance needs from the consumer. */
export interface RebalanceHost {
  readonly options: ResolvedConsumerOptions;
  /** The assigned partitions, by key: added and removed here. */
  readonly states: Map<string, PartitionState>;
  readonly buffer: FetchBuffer;
  /** The reader: which partition's record the application holds, and forgetting it. */
  readonly reader: { readonly holding: PartitionState | undefined; dropLast(): void };
  readonly commits: Commits;
  readonly positions: Positions;
  /** A loop is running: a held record will be let go of (the next take, or the loop's end). */
  iterating(): boolean;
  /** close() started: its leave revokes everything itself. */
  closing(): boolean;
  /** A listener threw: the iterator throws it. */
  report(error: Error): void;
  /** Where the partition events go. */
  readonly instrumentation: Instrumentation;
}

/** Rebalance handling of one consumer; see the module comment. */
export class Rebalancer {
  readonly #host: RebalanceHost;
  #listener: RebalanceListener = {};
  #inListener = 0;
  #releaseWaiters: (() => void)[] = [];
  /** Rebalances that reached this member, for ConsumerStats. */
  rebalances = 0;

  constructor(host: RebalanceHost) {
    this.#host = host;
  }

  /** The listener `subscribe` was given. */
  set listener(listener: RebalanceListener) {
    this.#listener = listener;
  }

  /** A listener is running: `commit()` still works inside it while closing. */
  get inListener(): boolean {
    return this.#inListener > 0;
  }

  /** Someone waits for the application to let go of a held record. */
  get waiting(): boolean {
    return this.#releaseWaiters.length > 0;
  }

  /** The application let go of what it held (it took more, or left the loop): revokes go on. */
  released(): void {
    const waiters = this.#releaseWaiters.splice(0);
    for (const w of waiters) w();
  }

  /** Stops fetching and handing out `states` and drops their buffered data. */
  drop(states: readonly PartitionState[]): void {
    for (const s of states) s.revoke();
    this.#host.buffer.dropStale();
  }

  /** The group's new target assignment: gives up what is not in it, then adds what is new. */
  async reconcile(target: readonly TopicPartition[]): Promise<void> {
    const { states, positions } = this.#host;
    // Closing: leave() revokes everything itself.
    if (this.#host.closing()) return;
    this.rebalances++;
    const wanted = new Set(target.map((tp) => partitionKey(tp.topic, tp.partition)));
    const revoked = [...states.values()].filter((s) => !wanted.has(s.key));
    if (revoked.length > 0) await this.revoke(revoked);
    const added: PartitionState[] = [];
    for (const tp of target) {
      const key = partitionKey(tp.topic, tp.partition);
      if (states.has(key)) continue;
      const state = new PartitionState(tp.topic, tp.partition);
      states.set(key, state);
      added.push(state);
    }
    if (added.length === 0) return;
    this.#event("consumer:partitions-assigned", added);
    await this.#callListener("assigned", added);
    positions.start(added.filter((s) => !s.revoked));
  }

  /**
   * Gives partitions up: stops handing them out, waits until the application is done with
   * the record it holds from them (so the next owner does not read it twice), commits, tells
   * the listener (which may still commit: the partitions count as assigned until it returns).
   */
  async revoke(states: PartitionState[], operation = "commitOnRevoke"): Promise<void> {
    if (states.length === 0) return;
    const { options, buffer, reader, commits } = this.#host;
    // Revoked, not rewound: the generation stays, so the held record still becomes consumed.
    for (const s of states) s.revoke();
    buffer.dropStale();
    const held = reader.holding;
    if (held !== undefined && states.includes(held) && this.#host.iterating()) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(options.rebalanceTimeoutMs / 2, 60_000));
        this.#releaseWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    if (options.autoCommit) await commits.consumed(states, operation);
    this.#event("consumer:partitions-revoked", states);
    await this.#callListener("revoked", states);
    for (const s of states) this.#host.states.delete(s.key);
  }

  /** Every partition is lost (fenced, session expired): dropped, nothing committed. */
  async lose(): Promise<void> {
    const states = [...this.#host.states.values()];
    if (states.length === 0) return;
    this.drop(states);
    this.#host.reader.dropLast();
    this.#event("consumer:partitions-lost", states);
    await this.#callListener(this.#listener.lost ? "lost" : "revoked", states);
    for (const s of states) this.#host.states.delete(s.key);
  }

  #event(
    name: "consumer:partitions-assigned" | "consumer:partitions-revoked" | "consumer:partitions-lost",
    states: readonly PartitionState[],
  ): void {
    const inst = this.#host.instrumentation;
    if (states.length === 0 || !inst.wants(name)) return;
    inst.emit(name, {
      clientId: inst.clientId,
      groupId: this.#host.options.groupId ?? "",
      partitions: states.map((s) => ({ topic: s.topic, partition: s.partition })),
    });
  }

  async #callListener(name: keyof RebalanceListener, states: readonly PartitionState[]): Promise<void> {
    const fn = this.#listener[name];
    if (!fn) return;
    this.#inListener++;
    try {
      await fn.call(
        this.#listener,
        states.map((s) => ({ topic: s.topic, partition: s.partition })),
      );
    } catch (err) {
      // Java rethrows listener exceptions from poll(); here the iterator throws it.
      this.#host.report(err instanceof Error ? err : new Error(String(err)));
    } finally {
      this.#inListener--;
    }
  }
}
