/**
 * The consumer's offset commits: the consumed marks (what the application is done with, see
 * "When a record counts as consumed" in docs/design.md), explicit offsets, and auto-commit
 * on a timer. Commits go one after another, never two OffsetCommits racing (a slower older
 * one would overwrite a newer offset), and each success leaves its committed mark on the
 * partitions it stored, so an unchanged offset is not committed again.
 */
import type { Instrumentation } from "../observability/instrumentation.js";
import { InvalidArgumentError } from "../protocol/errors.js";
import type { CommitOffset } from "./api.js";
import type { GroupCoordinator } from "./group/coordinator.js";
import { type CommitEntry, commitOffsets, type MemberIdentity } from "./offsets.js";
import { type PartitionState, partitionKey, type TopicPartition } from "./partition.js";

/** What commits need from the consumer. */
export interface CommitsHost {
  /** Undefined without a groupId: nothing is committed. */
  readonly coordinator: GroupCoordinator | undefined;
  /** The assigned partitions, by key. */
  readonly states: ReadonlyMap<string, PartitionState>;
  /** The member identity an OffsetCommit names (none with `assign`). */
  member(): MemberIdentity;
  /** The assigned partition `p` names, or an InvalidArgumentError naming `name`. */
  assigned(name: string, p: TopicPartition): PartitionState;
  /** A commit no caller awaits failed: to the client's `error` event under `operation`. */
  background(error: unknown, operation: string): void;
  readonly groupId: string | undefined;
  /** Where the commit events go. */
  readonly instrumentation: Instrumentation;
}

/** Commits of one consumer; see the module comment. */
export class Commits {
  readonly #host: CommitsHost;
  #chain: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  /** Counters for ConsumerStats. */
  readonly stats = { commits: 0, commitErrors: 0 };

  constructor(host: CommitsHost) {
    this.#host = host;
  }

  /** Commits the consumed marks of every assigned partition every `intervalMs` (auto-commit). */
  startAutoCommit(intervalMs: number): void {
    this.#timer = setInterval(() => {
      void this.consumed([...this.#host.states.values()], "autoCommit");
    }, intervalMs);
    this.#timer.unref();
  }

  /** Stops auto-commit (close). */
  stopAutoCommit(): void {
    if (this.#timer) clearInterval(this.#timer);
  }

  /**
   * Commits the given offsets (`consumer.commit(offsets)`) after checking each: an assigned
   * partition, a bigint offset ≥ 0, metadata a string or null. A bad item fails the call
   * before anything is sent.
   */
  explicit(offsets: readonly CommitOffset[]): Promise<void> {
    if (!Array.isArray(offsets)) throw new InvalidArgumentError("offsets", "must be an array");
    const entries: CommitEntry[] = offsets.map((o, i) => {
      const state = this.#host.assigned(`offsets[${i}]`, o);
      if (typeof o.offset !== "bigint" || o.offset < 0n) {
        throw new InvalidArgumentError(`offsets[${i}].offset`, `must be a bigint ≥ 0, got ${String(o.offset)}`);
      }
      if (o.metadata !== undefined && o.metadata !== null && typeof o.metadata !== "string") {
        throw new InvalidArgumentError(`offsets[${i}].metadata`, "must be a string or null");
      }
      return {
        topic: state.topic,
        partition: state.partition,
        offset: o.offset,
        leaderEpoch: -1,
        metadata: o.metadata ?? null,
      };
    });
    return this.entries(entries);
  }

  /**
   * Commits the consumed offsets of `states` that moved since their last commit (a failed
   * partition's are not: its marks may be past data it never handed out). With an
   * `operation` (a commit no caller awaits: auto-commit, on revoke, on close) a failure goes
   * to the client's `error` event under that name, and the returned promise never rejects.
   */
  consumed(states: readonly PartitionState[], operation?: string): Promise<void> {
    const entries: CommitEntry[] = [];
    for (const s of states) {
      const consumed = s.consumed;
      if (consumed === undefined || consumed === s.committed || s.error !== undefined) continue;
      entries.push({
        topic: s.topic,
        partition: s.partition,
        offset: consumed,
        leaderEpoch: s.recordLeaderEpoch,
        metadata: null,
      });
    }
    return this.entries(entries, operation);
  }

  /** Commits one after another (never two OffsetCommits racing), then records what was stored. */
  entries(entries: readonly CommitEntry[], operation?: string): Promise<void> {
    const coordinator = this.#host.coordinator;
    if (coordinator === undefined || entries.length === 0) return Promise.resolve();
    const run = this.#chain.then(async () => {
      const started = Date.now();
      try {
        await commitOffsets(coordinator, entries, () => this.#host.member());
        this.stats.commits++;
        for (const e of entries) this.#host.states.get(partitionKey(e.topic, e.partition))?.markCommitted(e.offset);
        this.#event("consumer:offsets-committed", entries, { durationMs: Date.now() - started });
      } catch (err) {
        this.stats.commitErrors++;
        this.#event("consumer:offsets-commit-failed", entries, {
          error: err instanceof Error ? err : new Error(String(err)),
        });
        throw err;
      }
    });
    // The chain only orders commits; each failure reaches its caller or the `error` event.
    this.#chain = run.catch(() => {});
    return operation === undefined ? run : run.catch((error: unknown) => this.#host.background(error, operation));
  }

  #event(
    name: "consumer:offsets-committed" | "consumer:offsets-commit-failed",
    entries: readonly CommitEntry[],
    extra: { durationMs: number } | { error: Error },
  ): void {
    const inst = this.#host.instrumentation;
    if (!inst.wants(name)) return;
    const offsets = entries.map((e) => ({ topic: e.topic, partition: e.partition, offset: e.offset }));
    inst.emit(name, { clientId: inst.clientId, groupId: this.#host.groupId ?? "", offsets, ...extra } as never);
  }
}
