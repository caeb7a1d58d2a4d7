/**
 * Transactions and producers: list transactions (ListTransactions on every broker, since each
 * lists those it coordinates), describe them (DescribeTransactions on each transaction
 * coordinator), describe the producers writing to partitions (DescribeProducers on each
 * leader) and fence producers (InitProducerId with their transactional id, as Kafka's admin
 * does: the epoch bump makes the old producer's next request fail with PRODUCER_FENCED).
 */
import { InvalidArgumentError } from "../protocol/errors.js";
import {
  DescribeProducers,
  DescribeTransactions,
  InitProducerId,
  ListTransactions,
} from "../protocol/messages/index.js";
import { matchOutcomes, outcomeOf, partitionLabel, partitionOutcomes, topicPartitionIndexes } from "./outcomes.js";
import type { AdminCall } from "./routing.js";
import {
  checkArray,
  checkIds,
  checkInt,
  checkLong,
  checkNonEmpty,
  checkPartition,
  checkStrings,
  checkUnique,
  defineOperation,
} from "./validate.js";

/** Options of {@link listTransactions}. */
export interface ListTransactionsOptions {
  /** Only transactions in these states, e.g. `Ongoing`, `PrepareCommit`, `CompleteAbort`. */
  states?: string[];
  /** Only transactions of these producer ids. */
  producerIds?: bigint[];
  /** Only transactions running longer than this (ms; Kafka 3.8+). */
  minDurationMs?: number;
  /** Only transactional ids matching this Java regular expression (Kafka 4.1+). */
  transactionalIdPattern?: string;
}

/** A transaction as {@link listTransactions} lists it. */
export interface TransactionListing {
  transactionalId: string;
  producerId: bigint;
  /** E.g. `Ongoing`, `Empty`, `CompleteCommit`. */
  state: string;
  /** Broker id of the transaction coordinator. */
  coordinator: number;
}

/** A described transaction. */
export interface TransactionDescription {
  transactionalId: string;
  state: string;
  producerId: bigint;
  producerEpoch: number;
  transactionTimeoutMs: number;
  /** When the current transaction started (ms since the epoch), -1 when none is open. */
  startTimeMs: number;
  /** Partitions in the current transaction. */
  partitions: { topic: string; partitions: number[] }[];
  coordinator: number;
}

/** A producer with state on a partition. */
export interface ProducerState {
  producerId: bigint;
  producerEpoch: number;
  lastSequence: number;
  /** Timestamp of its last write (ms). */
  lastTimestamp: number;
  /** Epoch of the transaction coordinator that last wrote a marker, -1 if none. */
  coordinatorEpoch: number;
  /** First offset of its open transaction on this partition, -1n if none. */
  currentTxnStartOffset: bigint;
}

/** The producers of one partition. */
export interface PartitionProducers {
  topic: string;
  partition: number;
  activeProducers: ProducerState[];
}

/** A fenced transactional id: the new epoch that fenced the old producer. */
export interface FencedProducer {
  transactionalId: string;
  producerId: bigint;
  producerEpoch: number;
}

/** Options of {@link fenceProducers}. */
export interface FenceProducersOptions {
  /**
   * Transaction timeout stored with the bumped epoch. Default 1 ms, as Kafka's admin: the
   * epoch exists only to fence, never to write, so an open transaction is aborted at once.
   */
  transactionTimeoutMs?: number;
}

/** ListTransactions on every broker, merged and sorted by transactional id. */
export async function listTransactions(
  call: AdminCall,
  options: ListTransactionsOptions = {},
): Promise<TransactionListing[]> {
  const states = options.states === undefined ? [] : checkStrings("states", options.states);
  const producerIds =
    options.producerIds === undefined
      ? []
      : checkArray<bigint>("producerIds", options.producerIds).map((p, i) => checkLong(`producerIds[${i}]`, p, 0n));
  const minDurationMs =
    options.minDurationMs === undefined
      ? -1n
      : BigInt(checkInt("minDurationMs", options.minDurationMs, 0, Number.MAX_SAFE_INTEGER));
  const pattern =
    options.transactionalIdPattern === undefined
      ? null
      : checkNonEmpty("transactionalIdPattern", options.transactionalIdPattern);
  const perBroker = await call.toEachBroker(ListTransactions, await call.brokerIds(), async (connection, nodeId) => {
    const version = connection.versionFor(ListTransactions);
    // A filter the broker cannot apply would list transactions the caller excluded.
    const unfiltered =
      minDurationMs >= 0n && version < 1
        ? "minDurationMs"
        : pattern !== null && version < 2
          ? "transactionalIdPattern"
          : undefined;
    if (unfiltered) {
      throw new InvalidArgumentError(unfiltered, `broker ${nodeId} cannot filter by it (ListTransactions v${version})`);
    }
    const response = await call.send(connection, ListTransactions, {
      stateFilters: states,
      producerIdFilters: producerIds,
      durationFilter: minDurationMs,
      transactionalIdPattern: pattern,
    });
    return outcomeOf(response.errorCode, null, () =>
      response.transactionStates.map((t) => ({
        transactionalId: t.transactionalId,
        producerId: t.producerId,
        state: t.transactionState,
        coordinator: nodeId,
      })),
    );
  });
  return perBroker
    .flat()
    .sort((a, b) => (a.transactionalId < b.transactionalId ? -1 : a.transactionalId > b.transactionalId ? 1 : 0));
}

/** DescribeTransactions on each id's transaction coordinator. */
export async function describeTransactions(
  call: AdminCall,
  transactionalIds: readonly string[],
): Promise<TransactionDescription[]> {
  const ids = checkIds("transactionalIds", transactionalIds);
  return call.toCoordinators("transaction", DescribeTransactions, ids, async (connection, nodeId, indices) => {
    const response = await call.send(connection, DescribeTransactions, {
      transactionalIds: indices.map((i) => ids[i]!),
    });
    const byId = new Map(response.transactionStates.map((t) => [t.transactionalId, t]));
    return matchOutcomes(
      indices,
      (i) => byId.get(ids[i]!),
      (t) => ({
        transactionalId: t.transactionalId,
        state: t.transactionState,
        producerId: t.producerId,
        producerEpoch: t.producerEpoch,
        transactionTimeoutMs: t.transactionTimeoutMs,
        startTimeMs: Number(t.transactionStartTimeMs),
        partitions: t.topics.map((x) => ({ topic: x.topic, partitions: [...x.partitions].sort((a, b) => a - b) })),
        coordinator: nodeId,
      }),
    );
  });
}

/** DescribeProducers on each partition's leader. */
export async function describeProducers(
  call: AdminCall,
  partitions: readonly { topic: string; partition: number }[],
): Promise<PartitionProducers[]> {
  const list = checkArray<unknown>("partitions", partitions).map((p, i) => checkPartition(`partitions[${i}]`, p));
  const labels = list.map((p) => partitionLabel(p.topic, p.partition));
  checkUnique("partitions", labels);
  return call.toLeaders(DescribeProducers, list, async (connection, _nodeId, indices) => {
    const response = await call.send(connection, DescribeProducers, {
      topics: topicPartitionIndexes(indices.map((i) => list[i]!)),
    });
    return partitionOutcomes(indices, labels, response.topics, (r, i) => ({
      topic: list[i]!.topic,
      partition: list[i]!.partition,
      activeProducers: r.activeProducers.map((s) => ({
        producerId: s.producerId,
        producerEpoch: s.producerEpoch,
        lastSequence: s.lastSequence,
        lastTimestamp: Number(s.lastTimestamp),
        coordinatorEpoch: s.coordinatorEpoch,
        currentTxnStartOffset: s.currentTxnStartOffset,
      })),
    }));
  });
}

/** InitProducerId for each transactional id on its coordinator; see the module comment. */
export const fenceProducers = defineOperation({
  ids: "transactionalIds",
  run: async (call, ids, options: FenceProducersOptions): Promise<FencedProducer[]> => {
    const transactionTimeoutMs =
      options.transactionTimeoutMs === undefined
        ? 1
        : checkInt("transactionTimeoutMs", options.transactionTimeoutMs, 1);
    return call.toCoordinators("transaction", InitProducerId, ids, async (connection, _nodeId, indices) => {
      // InitProducerId takes one transactional id per request; they share the connection.
      const answers = await Promise.all(
        indices.map((i) =>
          call.send(connection, InitProducerId, {
            transactionalId: ids[i]!,
            transactionTimeoutMs,
            producerId: -1n,
            producerEpoch: -1,
            enable2Pc: false,
            keepPreparedTxn: false,
          }),
        ),
      );
      return matchOutcomes(
        indices,
        (_, at) => answers[at],
        (r, i) => ({ transactionalId: ids[i]!, producerId: r.producerId, producerEpoch: r.producerEpoch }),
      );
    });
  },
});
