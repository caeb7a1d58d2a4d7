/**
 * Records and their storage: list offsets by time (ListOffsets) and delete records before an
 * offset (DeleteRecords), both sent to each partition's leader and merged; describe a broker's
 * log dirs (DescribeLogDirs) and move replicas between them (AlterReplicaLogDirs), both sent to
 * each broker concerned.
 */
import { InvalidArgumentError } from "../protocol/errors.js";
import type { KafkaError } from "../protocol/kafka-error.js";
import { kafkaError } from "../protocol/kafka-error.js";
import { AlterReplicaLogDirs, DeleteRecords, DescribeLogDirs, ListOffsets } from "../protocol/messages/index.js";
import {
  byPartition,
  groupBy,
  groupByTopic,
  matchOutcomes,
  outcomeOf,
  partitionLabel,
  partitionOutcomes,
  topicPartition,
} from "./outcomes.js";
import type { AdminCall } from "./routing.js";
import {
  checkArray,
  checkEach,
  checkInt,
  checkLong,
  checkNonEmpty,
  checkObject,
  checkOneOf,
  checkPartition,
  checkTopicName,
  checkUnique,
} from "./validate.js";

/**
 * Which offset to look up: the first (`earliest`), the next to be written (`latest`), that of
 * the record with the highest timestamp (`maxTimestamp`, Kafka 3.0+), the first offset still on
 * local disk (`earliestLocal`, tiered storage), the last tiered one (`latestTiered`), or the
 * first offset whose record timestamp is at or after `timestamp` (ms since the epoch).
 */
export type OffsetSpec =
  | "earliest"
  | "latest"
  | "maxTimestamp"
  | "earliestLocal"
  | "latestTiered"
  | { timestamp: number };

/** One partition to look up. */
export interface OffsetQuery {
  topic: string;
  partition: number;
  /** Default `latest`. */
  spec?: OffsetSpec;
}

/** Options of {@link listOffsets}. */
export interface ListOffsetsOptions {
  /**
   * `readCommitted` stops `latest` at the last stable offset (before open transactions).
   * Default `readUncommitted` (the high watermark).
   */
  isolationLevel?: "readUncommitted" | "readCommitted";
}

/** A looked-up offset. */
export interface PartitionOffset {
  topic: string;
  partition: number;
  /** The offset; -1n when a timestamp lookup found no record at or after the timestamp. */
  offset: bigint;
  /** The record's timestamp for timestamp and maxTimestamp lookups, else -1. */
  timestamp: number;
  /** Leader epoch of the offset, -1 when unknown. */
  leaderEpoch: number;
}

/** Records to delete: every record of the partition before `beforeOffset`. */
export interface DeleteRecordsRequestItem {
  topic: string;
  partition: number;
  /** Delete up to here (exclusive); -1n means up to the high watermark (everything). */
  beforeOffset: bigint;
}

/** A partition after {@link deleteRecords}. */
export interface DeletedRecords {
  topic: string;
  partition: number;
  /** The partition's new log start offset. */
  lowWatermark: bigint;
}

/** Options of {@link describeLogDirs}. */
export interface DescribeLogDirsOptions {
  /** Brokers to ask; default every broker. */
  brokers?: number[];
}

/** One replica in a log dir. */
export interface ReplicaInfo {
  topic: string;
  partition: number;
  /** Bytes on disk. */
  size: bigint;
  /** How far this replica is behind: the high watermark's lag for a current replica, the log end's for a future one. */
  offsetLag: bigint;
  /** A replica being moved into this dir (by {@link alterReplicaLogDirs}), not yet current. */
  isFuture: boolean;
}

/** One log dir of a broker. */
export interface LogDirDescription {
  path: string;
  /**
   * Set when the broker cannot use the dir (KAFKA_STORAGE_ERROR for an offline disk). This is
   * the dir's described state, not a failure of the call.
   */
  error?: KafkaError;
  /** Disk size and free space (Kafka 3.3+; -1n if unknown). */
  totalBytes: bigint;
  usableBytes: bigint;
  /** KIP-1066: the broker places no new replicas here. */
  cordoned: boolean;
  replicas: ReplicaInfo[];
}

/** One broker's log dirs. */
export interface BrokerLogDirs {
  broker: number;
  logDirs: LogDirDescription[];
}

/** A replica to move to another log dir of its broker. */
export interface ReplicaLogDirMove {
  topic: string;
  partition: number;
  broker: number;
  /** Absolute path of one of the broker's log dirs. */
  path: string;
}

const SPEC_TIMESTAMPS = {
  latest: -1n,
  earliest: -2n,
  maxTimestamp: -3n,
  earliestLocal: -4n,
  latestTiered: -5n,
} as const;

function specTimestamp(argument: string, spec: unknown): bigint {
  if (spec === undefined) return SPEC_TIMESTAMPS.latest;
  if (typeof spec === "string") {
    return SPEC_TIMESTAMPS[
      checkOneOf(argument, spec, Object.keys(SPEC_TIMESTAMPS) as (keyof typeof SPEC_TIMESTAMPS)[])
    ];
  }
  const o = checkObject(argument, spec);
  return checkLong(`${argument}.timestamp`, o.timestamp, 0n);
}

/** ListOffsets, one request per partition leader. */
export async function listOffsets(
  call: AdminCall,
  queries: readonly OffsetQuery[],
  options: ListOffsetsOptions = {},
): Promise<PartitionOffset[]> {
  const list = checkArray<OffsetQuery>("queries", queries).map((q, i) => ({
    ...checkPartition(`queries[${i}]`, q),
    timestamp: specTimestamp(`queries[${i}].spec`, q.spec),
  }));
  const labels = list.map((q) => partitionLabel(q.topic, q.partition));
  // One request cannot ask twice about one partition.
  checkUnique("queries", labels);
  const isolationLevel =
    checkOneOf("isolationLevel", options.isolationLevel ?? "readUncommitted", ["readUncommitted", "readCommitted"]) ===
    "readCommitted"
      ? 1
      : 0;
  return call.toLeaders(ListOffsets, list, async (connection, _nodeId, indices) => {
    const response = await call.send(
      connection,
      ListOffsets,
      {
        replicaId: -1,
        isolationLevel,
        topics: [...groupByTopic(indices.map((i) => list[i]!))].map(([name, items]) => ({
          name,
          partitions: items.map((q) => ({
            partitionIndex: q.partition,
            currentLeaderEpoch: -1,
            timestamp: q.timestamp,
          })),
        })),
        timeoutMs: call.serverTimeoutMs(),
      },
      true,
    );
    return partitionOutcomes(indices, labels, response.topics, (r, i) => ({
      ...topicPartition(list[i]!),
      offset: r.offset,
      timestamp: Number(r.timestamp),
      leaderEpoch: r.leaderEpoch,
    }));
  });
}

/** DeleteRecords, one request per partition leader. */
export async function deleteRecords(
  call: AdminCall,
  items: readonly DeleteRecordsRequestItem[],
): Promise<DeletedRecords[]> {
  const list = checkArray<DeleteRecordsRequestItem>("items", items).map((d, i) => ({
    ...checkPartition(`items[${i}]`, d),
    beforeOffset: checkLong(`items[${i}].beforeOffset`, d.beforeOffset, -1n),
  }));
  const labels = list.map((d) => partitionLabel(d.topic, d.partition));
  checkUnique("items", labels);
  return call.toLeaders(DeleteRecords, list, async (connection, _nodeId, indices) => {
    const response = await call.send(
      connection,
      DeleteRecords,
      {
        topics: [...groupByTopic(indices.map((i) => list[i]!))].map(([name, items]) => ({
          name,
          partitions: items.map((d) => ({ partitionIndex: d.partition, offset: d.beforeOffset })),
        })),
        timeoutMs: call.serverTimeoutMs(),
      },
      true,
    );
    return partitionOutcomes(indices, labels, response.topics, (r, i) => ({
      ...topicPartition(list[i]!),
      lowWatermark: r.lowWatermark,
    }));
  });
}

/** DescribeLogDirs on each broker (all of them by default), in broker order. */
export async function describeLogDirs(call: AdminCall, options: DescribeLogDirsOptions = {}): Promise<BrokerLogDirs[]> {
  let brokers =
    options.brokers === undefined
      ? undefined
      : checkArray<number>("brokers", options.brokers).map((b, i) => checkInt(`brokers[${i}]`, b, 0));
  if (brokers) checkUnique("brokers", brokers.map(String));
  brokers ??= await call.brokerIds();
  return call.toEachBroker(DescribeLogDirs, brokers, async (connection, nodeId) => {
    // null topics: every replica in every dir.
    const response = await call.send(connection, DescribeLogDirs, { topics: null });
    const logDirs: LogDirDescription[] = response.results.map((d) => ({
      path: d.logDir,
      ...(d.errorCode !== 0 ? { error: kafkaError(d.errorCode) } : {}),
      totalBytes: d.totalBytes,
      usableBytes: d.usableBytes,
      cordoned: d.isCordoned,
      replicas: d.topics.flatMap((t) =>
        t.partitions.map((p) => ({
          topic: t.name,
          partition: p.partitionIndex,
          size: p.partitionSize,
          offsetLag: p.offsetLag,
          isFuture: p.isFutureKey,
        })),
      ),
    }));
    return outcomeOf(response.errorCode, null, () => ({ broker: nodeId, logDirs }));
  });
}

/** AlterReplicaLogDirs, one request per broker. Returns the moves in input order. */
export async function alterReplicaLogDirs(
  call: AdminCall,
  moves: readonly ReplicaLogDirMove[],
): Promise<ReplicaLogDirMove[]> {
  const list = checkEach("moves", moves, (o, at) => {
    const path = checkNonEmpty(`${at}.path`, o.path);
    if (!path.startsWith("/") && !/^[A-Za-z]:[\\/]/.test(path)) {
      throw new InvalidArgumentError(`${at}.path`, `must be an absolute path; got ${path}`);
    }
    return {
      topic: checkTopicName(`${at}.topic`, o.topic),
      partition: checkInt(`${at}.partition`, o.partition, 0),
      broker: checkInt(`${at}.broker`, o.broker, 0),
      path,
    };
  });
  const labels = list.map((m) => `${partitionLabel(m.topic, m.partition)} on broker ${m.broker}`);
  checkUnique("moves", labels);
  return call.retryItems(labels, (pending) =>
    call.fanOut(
      AlterReplicaLogDirs,
      groupBy(pending, (i) => list[i]!.broker),
      async (connection, _nodeId, indices) => {
        // The request nests partitions under dirs, then topics.
        const dirs = groupBy(
          indices.map((i) => list[i]!),
          (m) => m.path,
        );
        const response = await call.send(connection, AlterReplicaLogDirs, {
          dirs: [...dirs].map(([path, moved]) => ({
            path,
            topics: [...groupByTopic(moved)].map(([name, ms]) => ({ name, partitions: ms.map((m) => m.partition) })),
          })),
        });
        const results = byPartition(response.results.map((t) => ({ name: t.topicName, partitions: t.partitions })));
        return matchOutcomes(
          indices,
          (i) => results.get(partitionLabel(list[i]!.topic, list[i]!.partition)),
          (_, i) => list[i]!,
        );
      },
    ),
  );
}
