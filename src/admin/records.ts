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
import { type AdminCall, type ItemOutcome, outcomeOf, partitionLabel } from "./routing.js";
import {
  checkArray,
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

/** Groups `{ topic, partition }` items by topic, keeping each item's input position. */
function byTopic<T extends { topic: string; partition: number }>(
  indices: readonly number[],
  list: readonly T[],
): Map<string, { index: number; item: T }[]> {
  const topics = new Map<string, { index: number; item: T }[]>();
  for (const i of indices) {
    const item = list[i] as T;
    topics.set(item.topic, [...(topics.get(item.topic) ?? []), { index: i, item }]);
  }
  return topics;
}

/** Finds a partition's entry in a topic/partition response. */
function resultsByPartition<P extends { partitionIndex: number }>(
  topics: readonly { name: string; partitions: readonly P[] }[],
): Map<string, P> {
  const out = new Map<string, P>();
  for (const t of topics) for (const p of t.partitions) out.set(partitionLabel(t.name, p.partitionIndex), p);
  return out;
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
  return call.retryItems(labels, async (pending) => {
    const { groups, failed } = await call.leaders(new Map(pending.map((i) => [i, list[i] as (typeof list)[number]])));
    return call.fanOut(
      ListOffsets,
      groups,
      async (connection, _nodeId, indices) => {
        const topics = byTopic(indices, list);
        const response = await call.send(
          connection,
          ListOffsets,
          {
            replicaId: -1,
            isolationLevel,
            topics: [...topics].map(([name, items]) => ({
              name,
              partitions: items.map(({ item }) => ({
                partitionIndex: item.partition,
                currentLeaderEpoch: -1,
                timestamp: item.timestamp,
              })),
            })),
            timeoutMs: call.serverTimeoutMs(),
          },
          true,
        );
        const results = resultsByPartition(response.topics);
        const out = new Map<number, ItemOutcome<PartitionOffset>>();
        for (const i of indices) {
          const q = list[i] as (typeof list)[number];
          const r = results.get(labels[i] as string);
          if (r) {
            out.set(
              i,
              outcomeOf(r.errorCode, null, () => ({
                topic: q.topic,
                partition: q.partition,
                offset: r.offset,
                timestamp: Number(r.timestamp),
                leaderEpoch: r.leaderEpoch,
              })),
            );
          }
        }
        return out;
      },
      failed,
    );
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
  return call.retryItems(labels, async (pending) => {
    const { groups, failed } = await call.leaders(new Map(pending.map((i) => [i, list[i] as (typeof list)[number]])));
    return call.fanOut(
      DeleteRecords,
      groups,
      async (connection, _nodeId, indices) => {
        const topics = byTopic(indices, list);
        const response = await call.send(
          connection,
          DeleteRecords,
          {
            topics: [...topics].map(([name, entries]) => ({
              name,
              partitions: entries.map(({ item }) => ({ partitionIndex: item.partition, offset: item.beforeOffset })),
            })),
            timeoutMs: call.serverTimeoutMs(),
          },
          true,
        );
        const results = resultsByPartition(response.topics);
        const out = new Map<number, ItemOutcome<DeletedRecords>>();
        for (const i of indices) {
          const d = list[i] as (typeof list)[number];
          const r = results.get(labels[i] as string);
          if (r) {
            out.set(
              i,
              outcomeOf(r.errorCode, null, () => ({
                topic: d.topic,
                partition: d.partition,
                lowWatermark: r.lowWatermark,
              })),
            );
          }
        }
        return out;
      },
      failed,
    );
  });
}

/** DescribeLogDirs on each broker (all of them by default), in broker order. */
export async function describeLogDirs(call: AdminCall, options: DescribeLogDirsOptions = {}): Promise<BrokerLogDirs[]> {
  let brokers =
    options.brokers === undefined
      ? undefined
      : checkArray<number>("brokers", options.brokers).map((b, i) => checkInt(`brokers[${i}]`, b, 0));
  if (brokers) checkUnique("brokers", brokers.map(String));
  brokers ??= [...(await call.metadata()).brokers.keys()].sort((a, b) => a - b);
  const ids = brokers;
  return call.retryItems(
    ids.map((b) => `broker ${b}`),
    (pending) =>
      call.fanOut(
        DescribeLogDirs,
        new Map(pending.map((i) => [ids[i] as number, [i]])),
        async (connection, nodeId, indices) => {
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
          const outcome = outcomeOf(response.errorCode, null, () => ({ broker: nodeId, logDirs }));
          return new Map(indices.map((i) => [i, outcome]));
        },
      ),
  );
}

/** AlterReplicaLogDirs, one request per broker. Returns the moves in input order. */
export async function alterReplicaLogDirs(
  call: AdminCall,
  moves: readonly ReplicaLogDirMove[],
): Promise<ReplicaLogDirMove[]> {
  const list = checkArray<ReplicaLogDirMove>("moves", moves).map((m, i) => {
    const o = checkObject(`moves[${i}]`, m);
    const path = checkNonEmpty(`moves[${i}].path`, o.path);
    if (!path.startsWith("/") && !/^[A-Za-z]:[\\/]/.test(path)) {
      throw new InvalidArgumentError(`moves[${i}].path`, `must be an absolute path; got ${path}`);
    }
    return {
      topic: checkTopicName(`moves[${i}].topic`, o.topic),
      partition: checkInt(`moves[${i}].partition`, o.partition, 0),
      broker: checkInt(`moves[${i}].broker`, o.broker, 0),
      path,
    };
  });
  const labels = list.map((m) => `${partitionLabel(m.topic, m.partition)} on broker ${m.broker}`);
  checkUnique("moves", labels);
  return call.retryItems(labels, (pending) => {
    const groups = new Map<number, number[]>();
    for (const i of pending) {
      const b = (list[i] as (typeof list)[number]).broker;
      groups.set(b, [...(groups.get(b) ?? []), i]);
    }
    return call.fanOut(AlterReplicaLogDirs, groups, async (connection, _nodeId, indices) => {
      // The request nests partitions under dirs, then topics.
      const dirs = new Map<string, Map<string, number[]>>();
      for (const i of indices) {
        const m = list[i] as (typeof list)[number];
        const topics = dirs.get(m.path) ?? new Map<string, number[]>();
        topics.set(m.topic, [...(topics.get(m.topic) ?? []), m.partition]);
        dirs.set(m.path, topics);
      }
      const response = await call.send(connection, AlterReplicaLogDirs, {
        dirs: [...dirs].map(([path, topics]) => ({
          path,
          topics: [...topics].map(([name, partitions]) => ({ name, partitions })),
        })),
      });
      const results = new Map<string, number>();
      for (const t of response.results) {
        for (const p of t.partitions) results.set(partitionLabel(t.topicName, p.partitionIndex), p.errorCode);
      }
      const out = new Map<number, ItemOutcome<ReplicaLogDirMove>>();
      for (const i of indices) {
        const m = list[i] as (typeof list)[number];
        const code = results.get(partitionLabel(m.topic, m.partition));
        if (code !== undefined)
          out.set(
            i,
            outcomeOf(code, null, () => m),
          );
      }
      return out;
    });
  });
}
