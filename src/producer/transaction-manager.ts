/**
 * The transactional producer's state machine and its requests to the coordinators:
 * InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn and EndTxn to the transaction
 * coordinator, TxnOffsetCommit to the group coordinator. The producer drives the public calls
 * (begin, commit, abort, sendOffsets); the sender asks it before sending a batch (is the
 * partition in the transaction yet? is the transaction still sendable?) and reports batch
 * failures to it.
 *
 *   uninitialized ─init─▶ ready ─begin─▶ inTransaction ─commit─▶ committing ──EndTxn──▶ ready
 *                           ▲                 │    ╲                  │
 *                           │                 │     ╲ batch/offset    │ batch failed
 *                           │               abort    ╲ error          ▼
 *                           └──EndTxn── aborting ◀─abort── abortableError
 *
 *   fenced, unauthorized, unsupported (any state) ──▶ fatalError: every later call fails
 *
 * Transactions v2 (KIP-890, broker feature `transaction.version` ≥ 2): Produce v12+ and
 * TxnOffsetCommit v5+ add partitions and groups to the transaction implicitly, and EndTxn v5+
 * returns a new epoch each time, so every transaction runs under its own epoch. Below v2 the
 * client adds each new partition with AddPartitionsToTxn before its first batch goes out, and
 * the group with AddOffsetsToTxn before TxnOffsetCommit, and keeps its epoch across
 * transactions.
 */

import { backoffDelay, sleep } from "../network/backoff.js";
import type { Cluster } from "../network/cluster.js";
import type { Connection } from "../network/connection.js";
import { TimeoutError } from "../network/errors.js";
import { isRetriable, needsCoordinatorLookup } from "../network/retry.js";
import type { ApiDefinition } from "../protocol/api.js";
import { ErrorCode } from "../protocol/error-table.js";
import { UnsupportedVersionError } from "../protocol/errors.js";
import { KafkaError, kafkaError } from "../protocol/kafka-error.js";
import {
  AddOffsetsToTxn,
  AddPartitionsToTxn,
  EndTxn,
  InitProducerId,
  TxnOffsetCommit,
} from "../protocol/messages/index.js";
import { ProducerFencedError, TransactionAbortableError, TransactionStateError } from "./errors.js";
import type { ProducerIdentity, ProducerIdSource } from "./idempotence.js";
import type { ConsumerGroupMetadata, TransactionOffset } from "./transaction-offsets.js";

/** Where a transactional producer stands; see the module comment. */
export type TransactionState =
  | "uninitialized"
  | "ready"
  | "inTransaction"
  | "committing"
  | "aborting"
  | "abortableError"
  | "fatalError";

/** Settings of a {@link TransactionManager}. */
export interface TransactionManagerOptions {
  transactionalId: string;
  transactionTimeoutMs: number;
  /** How long one coordinator call (init, add, commit, abort, sendOffsets) may retry. */
  timeoutMs: number;
  retryBackoffMs: number;
  retryBackoffMaxMs: number;
  /** The state changed in a way the sender must see (a partition added, an error). */
  onChange(): void;
}

const {
  PRODUCER_FENCED,
  INVALID_PRODUCER_EPOCH,
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
  CLUSTER_AUTHORIZATION_FAILED,
  UNSUPPORTED_VERSION,
  UNSUPPORTED_FOR_MESSAGE_FORMAT,
  INVALID_TXN_STATE,
  INVALID_PRODUCER_ID_MAPPING,
  INVALID_TRANSACTION_TIMEOUT,
  CONCURRENT_TRANSACTIONS,
  OPERATION_NOT_ATTEMPTED,
} = ErrorCode;

/** Broker errors that end the producer's life, whatever request they answer (as Java). */
const FATAL_ALWAYS = new Set<number>([
  PRODUCER_FENCED,
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
  CLUSTER_AUTHORIZATION_FAILED,
  UNSUPPORTED_VERSION,
  UNSUPPORTED_FOR_MESSAGE_FORMAT,
]);

/**
 * Fatal when a coordinator says them. INVALID_PRODUCER_EPOCH from a partition leader (a
 * Produce response) is only abortable (KIP-588): the leader may simply have seen the epoch
 * bump of a timed-out transaction first; from the coordinator it means a newer epoch is in
 * charge of this transactional id.
 */
const FATAL_FROM_COORDINATOR = new Set<number>([
  INVALID_PRODUCER_EPOCH,
  INVALID_TXN_STATE,
  INVALID_PRODUCER_ID_MAPPING,
  INVALID_TRANSACTION_TIMEOUT,
]);

/** Which request an error answered: decides fatal vs abortable. */
export type TransactionalOperation =
  | "Produce"
  | "InitProducerId"
  | "AddPartitionsToTxn"
  | "AddOffsetsToTxn"
  | "TxnOffsetCommit"
  | "EndTxn";

/**
 * Java's classification: true when `err` leaves the producer unusable. Everything else that is
 * not retried fails only the current transaction (which must then be aborted).
 */
export function isFatalTransactionError(err: unknown, operation: TransactionalOperation): boolean {
  if (err instanceof ProducerFencedError || err instanceof UnsupportedVersionError) return true;
  if (!(err instanceof KafkaError)) return false;
  if (FATAL_ALWAYS.has(err.errorCode)) return true;
  return operation !== "Produce" && FATAL_FROM_COORDINATOR.has(err.errorCode);
}

/** See the module comment. */
export class TransactionManager implements ProducerIdSource {
  readonly #client: Cluster;
  readonly #options: TransactionManagerOptions;
  readonly #transactionalId: string;
  identity: ProducerIdentity | undefined;
  #state: TransactionState = "uninitialized";
  /** The abortable error of the current transaction, or the fatal error of the producer. */
  #error: Error | undefined;
  #initializing: Promise<ProducerIdentity> | undefined;
  /** The broker finalized `transaction.version` ≥ 2 (learned at InitProducerId). */
  #v2 = false;
  /** Below TV2: partitions the coordinator has in the current transaction. */
  readonly #added = new Set<string>();
  /** Below TV2: partitions a batch waits for, to go out in the next AddPartitionsToTxn. */
  readonly #toAdd = new Map<string, { topic: string; partition: number }>();
  #adding = false;
  /** Something of this transaction may have reached a broker: EndTxn is needed to end it. */
  #started = false;
  /** Below TV2: a sequenced batch was lost, so the abort must bump the epoch (KIP-360). */
  #bumpRequired = false;
  /** An EndTxn that ran out of time: only the same call may be made again. */
  #endPending: "commit" | "abort" | undefined;
  /** The last identity held, for a bump retried after a failed one. */
  #lastIdentity: ProducerIdentity | undefined;

  constructor(client: Cluster, options: TransactionManagerOptions) {
    this.#client = client;
    this.#options = options;
    this.#transactionalId = options.transactionalId;
  }

  /** The id the Produce requests and coordinator calls carry. */
  get transactionalId(): string {
    return this.#transactionalId;
  }

  /** See the module comment's diagram. */
  get state(): TransactionState {
    return this.#state;
  }

  /** True once the broker showed `transaction.version` ≥ 2 (KIP-890). */
  get transactionV2(): boolean {
    return this.#v2;
  }

  /** The fatal error, when the producer is unusable. */
  get fatalError(): Error | undefined {
    return this.#state === "fatalError" ? this.#error : undefined;
  }

  /**
   * The highest Produce version to use: below TV2 at most v11, as Java (v12+ asks the leader
   * to add the partition to the transaction itself, which only TV2 coordinators do).
   */
  get produceVersionCap(): number | undefined {
    return this.#v2 ? undefined : 11;
  }

  /** The identity, initialising the transactional id on first use (fails once fatal). */
  ensure(): Promise<ProducerIdentity> {
    if (this.#state === "fatalError") return Promise.reject(this.#error);
    if (this.identity) return Promise.resolve(this.identity);
    this.#initializing ??= this.#initProducerId(-1n, -1).finally(() => {
      this.#initializing = undefined;
    });
    return this.#initializing;
  }

  /** KIP-360 epoch bump of the same producer id, once no transaction is open. */
  bump(): Promise<ProducerIdentity> {
    // After a bump that failed, the identity is gone: bump from the last one the coordinator gave.
    const current = this.identity ?? this.#lastIdentity;
    this.identity = undefined;
    this.#initializing ??= this.#initProducerId(current?.producerId ?? -1n, current?.producerEpoch ?? -1).finally(
      () => {
        this.#initializing = undefined;
      },
    );
    return this.#initializing;
  }

  /** Throws unless a transaction may begin now; then opens it (locally: the coordinator learns at the first send). */
  begin(): void {
    this.#check("beginTransaction", ["ready"], "a transaction is already open");
    this.#state = "inTransaction";
    this.#started = false;
    this.#bumpRequired = false;
    this.#added.clear();
    this.#toAdd.clear();
    this.#error = undefined;
  }

  /**
   * Throws the error a `send` must fail with in the current state, or returns normally when
   * records may be added to the transaction.
   */
  checkSend(operation = "send"): void {
    this.#check(operation, ["inTransaction"], "no transaction is open: call beginTransaction() first");
  }

  /** Moves to committing (commit then flushes and sends EndTxn). */
  beginCommit(): void {
    if (this.#state === "committing" && this.#endPending === "commit") return;
    this.#check("commitTransaction", ["inTransaction"], "no transaction is open");
    this.#state = "committing";
  }

  /** Moves to aborting; allowed from an open transaction and from an abortable error. */
  beginAbort(): void {
    if (this.#state === "aborting" && this.#endPending === "abort") return;
    this.#check("abortTransaction", ["inTransaction", "abortableError"], "no transaction is open");
    this.#state = "aborting";
  }

  /** True when the transaction (or the producer) failed: batches not yet sent must fail with {@link sendError}. */
  get blocked(): boolean {
    return this.#state === "abortableError" || this.#state === "fatalError" || this.#state === "aborting";
  }

  /** The error unsent batches fail with while {@link blocked}. */
  sendError(): Error {
    if (this.#state === "aborting") return new TransactionAbortableError("the transaction is being aborted");
    return this.#wrapped(this.#error);
  }

  /** Below TV2: whether a batch for this partition must wait for AddPartitionsToTxn. */
  needsPartition(topic: string, partition: number): boolean {
    if (this.#v2) return false;
    const key = `${topic}\0${partition}`;
    if (this.#added.has(key)) return false;
    if (!this.#toAdd.has(key)) this.#toAdd.set(key, { topic, partition });
    if (!this.#adding) void this.#addPartitions();
    return true;
  }

  /** A batch was handed to a connection: the broker may now hold records of this transaction. */
  batchSent(): void {
    this.#started = true;
  }

  /**
   * A batch failed for good. `sequenced`: it had a sequence number, so (below TV2) the epoch
   * must be bumped before the next transaction can send (the broker's sequence has a gap).
   */
  batchFailed(err: Error, sequenced: boolean): void {
    if (sequenced) this.#bumpRequired = true;
    // An abort fails what is unsent on purpose: that is not a new error.
    if (this.#state === "aborting") return;
    this.#failWith(err, "Produce");
  }

  /** Records an error of the current transaction (abortable) or of the producer (fatal). */
  #failWith(err: unknown, operation: TransactionalOperation): Error {
    if (this.#state === "fatalError") return this.#error as Error;
    if (isFatalTransactionError(err, operation)) {
      const fatal = this.#fenced(err) ?? (err as Error);
      this.#state = "fatalError";
      this.#error = fatal;
      this.identity = undefined;
      this.#options.onChange();
      return fatal;
    }
    if (this.#state === "inTransaction" || this.#state === "committing" || this.#state === "abortableError") {
      this.#state = "abortableError";
      this.#error ??= err as Error;
      this.#options.onChange();
    }
    return err as Error;
  }

  #fenced(err: unknown): ProducerFencedError | undefined {
    if (err instanceof ProducerFencedError) return err;
    if (err instanceof KafkaError && (err.errorCode === PRODUCER_FENCED || err.errorCode === INVALID_PRODUCER_EPOCH)) {
      return new ProducerFencedError(this.#transactionalId, { cause: err });
    }
    return undefined;
  }

  /** What a call refused in an error state throws. */
  #wrapped(err: Error | undefined): Error {
    if (this.#state === "fatalError") return err as Error;
    return new TransactionAbortableError(
      `the transaction failed and must be aborted (abortTransaction())${err ? `: ${err.message}` : ""}`,
      { cause: err },
    );
  }

  #check(operation: string, allowed: readonly TransactionState[], message: string): void {
    const state = this.#state;
    if (allowed.includes(state)) return;
    if (state === "fatalError") throw this.#error;
    if (state === "abortableError") throw this.#wrapped(this.#error);
    if (this.#endPending) {
      throw new TransactionStateError(
        operation,
        state,
        `a ${this.#endPending} timed out; call ${this.#endPending === "commit" ? "commitTransaction" : "abortTransaction"}() again`,
      );
    }
    const busy = state === "committing" || state === "aborting";
    throw new TransactionStateError(operation, state, busy ? `the transaction is ${state}` : message);
  }

  /**
   * Ends the transaction with EndTxn (when anything of it may have reached a broker), then
   * takes the new epoch (TV2) or bumps it when a sequence was lost (below TV2). Returns
   * whether the epoch changed, so the caller restarts every partition's sequence at 0.
   */
  async end(commit: boolean): Promise<boolean> {
    const operation = commit ? "commit" : "abort";
    let epochChanged = false;
    try {
      if (this.#started) {
        const identity = this.identity as ProducerIdentity;
        const response = await this.#coordinatorCall(EndTxn, async (connection) => {
          const v5 = connection.versionFor(EndTxn) >= 5;
          const r = await connection.request(
            EndTxn,
            {
              transactionalId: this.#transactionalId,
              producerId: identity.producerId,
              producerEpoch: identity.producerEpoch,
              committed: commit,
            },
            // Below TV2 at most v4, as Java: v5's epoch bump per transaction is TV2's.
            this.#v2 || !v5 ? {} : { version: 4 },
          );
          if (r.errorCode !== 0) throw kafkaError(r.errorCode);
          return r;
        });
        if (this.#v2 && response.producerId >= 0n && response.producerEpoch >= 0) {
          epochChanged =
            response.producerId !== identity.producerId || response.producerEpoch !== identity.producerEpoch;
          this.identity = { producerId: response.producerId, producerEpoch: response.producerEpoch };
          this.#lastIdentity = this.identity;
        }
        // Ended at the coordinator: an abort retried after a failed bump must not end it again.
        this.#started = false;
      }
      this.#endPending = undefined;
      if (!commit && this.#bumpRequired && !this.#v2) {
        await this.bump();
        epochChanged = true;
      }
    } catch (err) {
      if (err instanceof TimeoutError) {
        // The EndTxn may or may not have been applied: the same call, made again, finds out.
        this.#endPending = operation;
        throw err;
      }
      this.#endPending = undefined;
      throw this.#failWith(err, "EndTxn");
    }
    this.#state = "ready";
    this.#error = undefined;
    this.#started = false;
    this.#bumpRequired = false;
    this.#added.clear();
    this.#toAdd.clear();
    return epochChanged;
  }

  /** Puts the abort's failure back: the transaction stays to be aborted. */
  abortFailed(): void {
    if (this.#state === "aborting" && !this.#endPending) this.#state = "abortableError";
  }

  /** A commit found a failed batch while flushing: the transaction must be aborted. */
  commitFailed(): Error {
    return this.#wrapped(this.#error);
  }

  /**
   * Adds the consumer's offsets to the transaction: they are committed with it, atomically
   * with its records (consume-transform-produce). Below TV2, AddOffsetsToTxn first.
   */
  async sendOffsets(group: ConsumerGroupMetadata, offsets: readonly TransactionOffset[]): Promise<void> {
    this.checkSend("sendOffsets");
    const identity = this.identity as ProducerIdentity;
    try {
      if (!this.#v2) {
        this.#started = true;
        await this.#coordinatorCall(AddOffsetsToTxn, async (connection) => {
          const r = await connection.request(AddOffsetsToTxn, {
            transactionalId: this.#transactionalId,
            producerId: identity.producerId,
            producerEpoch: identity.producerEpoch,
            groupId: group.groupId,
          });
          if (r.errorCode !== 0) throw kafkaError(r.errorCode);
        });
      }
      this.checkSend("sendOffsets");
      const topics = new Map<string, { name: string; partitions: TxnPartition[] }>();
      for (const o of offsets) {
        let t = topics.get(o.topic);
        if (!t) {
          t = { name: o.topic, partitions: [] };
          topics.set(o.topic, t);
        }
        t.partitions.push({
          partitionIndex: o.partition,
          committedOffset: BigInt(o.offset),
          committedLeaderEpoch: o.leaderEpoch ?? -1,
          committedMetadata: o.metadata ?? null,
        });
      }
      const request = {
        transactionalId: this.#transactionalId,
        groupId: group.groupId,
        producerId: identity.producerId,
        producerEpoch: identity.producerEpoch,
        generationId: group.generationIdOrMemberEpoch ?? -1,
        memberId: group.memberId ?? "",
        groupInstanceId: group.groupInstanceId ?? null,
        topics: [...topics.values()],
      };
      this.#started = true;
      await this.#retrying(async () => {
        const node = await this.#client.coordinator("group", group.groupId);
        let connection: Connection;
        try {
          connection = await this.#client.connection(node.nodeId, { api: TxnOffsetCommit });
        } catch (err) {
          this.#client.invalidateCoordinator("group", group.groupId);
          throw err;
        }
        const max = connection.versionFor(TxnOffsetCommit);
        // v5 adds the group to the transaction implicitly: TV2 only, as Java.
        const r = await connection.request(TxnOffsetCommit, request, this.#v2 || max < 5 ? {} : { version: 4 });
        for (const t of r.topics) {
          for (const p of t.partitions) {
            if (p.errorCode === 0) continue;
            const err = kafkaError(p.errorCode);
            if (needsCoordinatorLookup(err)) this.#client.invalidateCoordinator("group", group.groupId);
            throw err;
          }
        }
      }, `TxnOffsetCommit for group ${group.groupId}`);
    } catch (err) {
      // Group refusals (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID, group
      // authorization) fail the transaction only: Java's CommitFailedException is abortable.
      throw this.#failWith(err, "TxnOffsetCommit");
    }
  }

  /** Below TV2: one AddPartitionsToTxn at a time for every partition that waits. */
  async #addPartitions(): Promise<void> {
    this.#adding = true;
    try {
      while (this.#toAdd.size > 0 && (this.#state === "inTransaction" || this.#state === "committing")) {
        const wanted = [...this.#toAdd.entries()];
        const identity = this.identity as ProducerIdentity;
        const byTopic = new Map<string, number[]>();
        for (const [, tp] of wanted) {
          const list = byTopic.get(tp.topic);
          if (list) list.push(tp.partition);
          else byTopic.set(tp.topic, [tp.partition]);
        }
        const topics = [...byTopic].map(([name, partitions]) => ({ name, partitions }));
        // The coordinator may write the partitions before we learn it: an abort must send EndTxn.
        this.#started = true;
        await this.#coordinatorCall(AddPartitionsToTxn, async (connection) => {
          // v4+ (batches of transactions, verifyOnly) is the brokers' own (KIP-890 part 1):
          // clients speak v3 at most, as Java's AddPartitionsToTxnRequest.Builder.forClient.
          const version = Math.min(3, connection.versionFor(AddPartitionsToTxn));
          const r = await connection.request(
            AddPartitionsToTxn,
            {
              transactions: [],
              v3AndBelowTransactionalId: this.#transactionalId,
              v3AndBelowProducerId: identity.producerId,
              v3AndBelowProducerEpoch: identity.producerEpoch,
              v3AndBelowTopics: topics,
            },
            { version },
          );
          // The first real error wins; OPERATION_NOT_ATTEMPTED only says another partition failed.
          let failure: KafkaError | undefined;
          for (const t of r.resultsByTopicV3AndBelow) {
            for (const p of t.resultsByPartition) {
              if (p.partitionErrorCode === 0) this.#added.add(`${t.name}\0${p.partitionIndex}`);
              else if (p.partitionErrorCode !== OPERATION_NOT_ATTEMPTED || !failure)
                failure ??= kafkaError(p.partitionErrorCode);
            }
          }
          if (failure) throw failure;
        });
        for (const [key] of wanted) this.#toAdd.delete(key);
        this.#options.onChange();
      }
    } catch (err) {
      this.#failWith(err, "AddPartitionsToTxn");
    } finally {
      this.#adding = false;
    }
  }

  async #initProducerId(producerId: bigint, producerEpoch: number): Promise<ProducerIdentity> {
    try {
      const response = await this.#coordinatorCall(InitProducerId, async (connection) => {
        // TV2 is a cluster-wide feature; the coordinator's ApiVersions carries it.
        this.#v2 = (connection.versions?.features.get("transaction.version") ?? 0) >= 2;
        const r = await connection.request(InitProducerId, {
          transactionalId: this.#transactionalId,
          transactionTimeoutMs: this.#options.transactionTimeoutMs,
          producerId,
          producerEpoch,
          enable2Pc: false,
          keepPreparedTxn: false,
        });
        if (r.errorCode !== 0) throw kafkaError(r.errorCode);
        return r;
      });
      this.identity = { producerId: response.producerId, producerEpoch: response.producerEpoch };
      this.#lastIdentity = this.identity;
      if (this.#state === "uninitialized") this.#state = "ready";
      return this.identity;
    } catch (err) {
      throw this.#failWith(err, "InitProducerId");
    }
  }

  /**
   * One request to the transaction coordinator, retried with backoff until `timeoutMs`:
   * CONCURRENT_TRANSACTIONS (the previous transaction's markers are still being written),
   * COORDINATOR_LOAD_IN_PROGRESS, and a coordinator that moved (looked up again).
   */
  #coordinatorCall<Req, Res, T>(
    api: ApiDefinition<Req, Res>,
    call: (connection: Connection) => Promise<T>,
  ): Promise<T> {
    return this.#retrying(async () => {
      const node = await this.#client.coordinator("transaction", this.#transactionalId);
      try {
        const connection = await this.#client.connection(node.nodeId, { api });
        return await call(connection);
      } catch (err) {
        if (needsCoordinatorLookup(err) || !(err instanceof KafkaError)) {
          this.#client.invalidateCoordinator("transaction", this.#transactionalId);
        }
        throw err;
      }
    }, api.name);
  }

  async #retrying<T>(attemptOnce: () => Promise<T>, what: string): Promise<T> {
    const deadline = Date.now() + this.#options.timeoutMs;
    for (let attempt = 0; ; attempt++) {
      try {
        return await attemptOnce();
      } catch (err) {
        if (!isRetriable(err)) throw err;
        if (Date.now() >= deadline) {
          throw new TimeoutError(
            `${what} for transactional id ${JSON.stringify(this.#transactionalId)} did not succeed within ${this.#options.timeoutMs} ms: ${(err as Error).message}`,
            { cause: err },
          );
        }
        // CONCURRENT_TRANSACTIONS clears in tens of ms (markers being written): Java backs off 20 ms.
        const floorMs =
          err instanceof KafkaError && err.errorCode === CONCURRENT_TRANSACTIONS
            ? Math.min(20, this.#options.retryBackoffMs)
            : this.#options.retryBackoffMs;
        await sleep(backoffDelay(attempt, { floorMs, ceilingMs: this.#options.retryBackoffMaxMs }));
      }
    }
  }
}

interface TxnPartition {
  partitionIndex: number;
  committedOffset: bigint;
  committedLeaderEpoch: number;
  committedMetadata: string | null;
}
