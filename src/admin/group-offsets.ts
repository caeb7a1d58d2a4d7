/**
 * A group's committed offsets, on its coordinator: list (OffsetFetch), alter and reset
 * (OffsetCommit as a standalone commit: generation -1, no member id, as Kafka's admin does, so
 * the group must have no active members), delete (OffsetDelete), and lag per partition
 * (committed offsets against the leaders' high watermarks).
 */

import { isRetriable } from "../network/retry.js";
import { ZERO_UUID } from "../protocol/api.js";
import { ErrorCode } from "../protocol/error-table.js";
import { InvalidArgumentError } from "../protocol/errors.js";
import { type KafkaError, kafkaError } from "../protocol/kafka-error.js";
import { OffsetCommit, OffsetDelete, OffsetFetch, type OffsetFetchResponse } from "../protocol/messages/index.js";
import {
  failAll,
  groupByTopic,
  partitionLabel,
  partitionOutcomes,
  topicPartitionIndexes,
  valuesOf,
} from "./outcomes.js";
import { listOffsets, type OffsetSpec } from "./records.js";
import type { AdminCall, ItemOutcome } from "./routing.js";
import {
  checkArray,
  checkInt,
  checkLong,
  checkNonEmpty,
  checkObject,
  checkPartition,
  checkTopicName,
  checkUnique,
} from "./validate.js";

/** A committed offset. */
export interface CommittedOffset {
  topic: string;
  partition: number;
  /** -1n when the group has no offset committed for the partition. */
  offset: bigint;
  /** Leader epoch stored with the commit, -1 if none. */
  leaderEpoch: number;
  metadata: string | null;
}

/** Options of {@link listGroupOffsets}. */
export interface ListGroupOffsetsOptions {
  /** Only these partitions (in this order); default every partition with a committed offset. */
  partitions?: { topic: string; partition: number }[];
  /**
   * Wait for pending transactional commits to settle (KIP-447): the broker answers
   * UNSTABLE_OFFSET_COMMIT, which is retried. Default false.
   */
  requireStable?: boolean;
}

/** An offset to commit for a group. */
export interface OffsetToCommit {
  topic: string;
  partition: number;
  offset: bigint;
  /** Stored with the offset; default null. */
  metadata?: string | null;
  /** Leader epoch of the record before `offset`, for truncation detection; default -1. */
  leaderEpoch?: number;
}

/** What {@link resetGroupOffsets} resets: a whole topic, or one partition. */
export type ResetTarget = string | { topic: string; partition: number };

/** Where {@link resetGroupOffsets} moves the offsets. */
export type ResetSpec = "earliest" | "latest" | { timestamp: number };

/** Lag of a group on one partition. */
export interface PartitionLag {
  topic: string;
  partition: number;
  committedOffset: bigint;
  /** The partition's high watermark (or last stable offset with `readCommitted`). */
  endOffset: bigint;
  /** `endOffset - committedOffset`, never negative. */
  lag: bigint;
}

/** Options of {@link listGroupLag}. */
export interface GroupLagOptions {
  /** Measure against the last stable offset instead of the high watermark. Default `readUncommitted`. */
  isolationLevel?: "readUncommitted" | "readCommitted";
}

/**
 * OffsetFetch v8+ and OffsetCommit v10 name topics by id (KIP-848 follow-ups); v9 is the last
 * version that takes names, which is what admin callers hold. Every Kafka 4.x broker serves it,
 * and it saves a metadata round trip per call to translate names.
 */
const MAX_NAMED_OFFSET_FETCH = 9;
const MAX_NAMED_OFFSET_COMMIT = 9;

/** The committed offsets of one group (OffsetFetch on its coordinator). */
export async function listGroupOffsets(
  call: AdminCall,
  groupId: string,
  options: ListGroupOffsetsOptions = {},
): Promise<CommittedOffset[]> {
  const group = checkNonEmpty("groupId", groupId);
  const wanted =
    options.partitions === undefined
      ? undefined
      : checkArray<unknown>("partitions", options.partitions).map((p, i) => checkPartition(`partitions[${i}]`, p));
  if (wanted) {
    checkUnique(
      "partitions",
      wanted.map((p) => partitionLabel(p.topic, p.partition)),
    );
  }
  const requireStable = options.requireStable === true;
  const coordinator = { type: "group" as const, key: group };
  const found = await call.retry(async () => {
    const { connection } = await call.coordinator("group", group, OffsetFetch);
    const version = Math.min(connection.versionFor(OffsetFetch), MAX_NAMED_OFFSET_FETCH);
    const topics = wanted ? topicPartitionIndexes(wanted) : null; // null: every partition the group committed
    // v8+ batches groups (KIP-709) and names topics with ids too; this asks about one group,
    // as a standalone admin (no member), by name.
    const batched = { groupId: group, memberId: null, memberEpoch: -1, topics: withZeroIds(topics) };
    const request =
      version >= 8
        ? { groupId: "", topics: [], groups: [batched], requireStable }
        : { groupId: group, topics, groups: [], requireStable };
    const response = await connection.request(OffsetFetch, request, { ...call.requestOptions(), version });
    return offsetFetchResult(response, version);
  }, coordinator);
  const byLabel = new Map(found.map((o) => [partitionLabel(o.topic, o.partition), o]));
  // Without a partition list the answer has no input order: sort it. With one, keep its order
  // and report partitions the group never committed as offset -1n.
  const keys = wanted
    ? wanted.map((p) => partitionLabel(p.topic, p.partition))
    : [...byLabel.keys()].sort((a, b) => {
        const x = byLabel.get(a) as (typeof found)[number];
        const y = byLabel.get(b) as (typeof found)[number];
        return x.topic < y.topic ? -1 : x.topic > y.topic ? 1 : x.partition - y.partition;
      });
  return valuesOf<CommittedOffset>(
    call.operation,
    keys.map((item, index) => {
      const o = byLabel.get(item);
      if (o?.error) return { item, outcome: { error: o.error } };
      const { topic, partition, offset, leaderEpoch, metadata } = o ?? {
        ...wanted![index]!,
        offset: -1n,
        leaderEpoch: -1,
        metadata: null,
      };
      return { item, outcome: { value: { topic, partition, offset, leaderEpoch, metadata } } };
    }),
  );
}

/** Topics named for a request that can also carry topic ids: the zero id, "by name". */
function withZeroIds<T extends object>(topics: T[] | null): (T & { topicId: string })[] | null {
  return topics === null ? null : topics.map((t) => ({ ...t, topicId: ZERO_UUID }));
}

/**
 * Reads an OffsetFetch response. A group-level error, or a retriable partition error
 * (UNSTABLE_OFFSET_COMMIT while a transaction settles), is thrown so `retry` tries again; other
 * partition errors are kept with their partition.
 */
function offsetFetchResult(
  response: OffsetFetchResponse,
  version: number,
): (CommittedOffset & { error?: KafkaError })[] {
  const group = version >= 8 ? response.groups[0] : undefined;
  const errorCode = version >= 8 ? (group?.errorCode ?? 0) : response.errorCode;
  if (errorCode !== 0) throw kafkaError(errorCode);
  const topics = version >= 8 ? (group?.topics ?? []) : response.topics;
  const out: (CommittedOffset & { error?: KafkaError })[] = [];
  for (const t of topics) {
    for (const p of t.partitions) {
      const entry = {
        topic: t.name,
        partition: p.partitionIndex,
        offset: p.committedOffset,
        leaderEpoch: p.committedLeaderEpoch,
        metadata: p.metadata,
      };
      if (p.errorCode === 0) {
        out.push(entry);
        continue;
      }
      const error = kafkaError(p.errorCode);
      if (isRetriable(error)) throw error;
      out.push({ ...entry, error });
    }
  }
  return out;
}

/**
 * OffsetCommit of explicit offsets, as a standalone commit (generation -1, no member). The
 * coordinator refuses it while the group has active members (UNKNOWN_MEMBER_ID, or
 * STALE_MEMBER_EPOCH for KIP-848 groups): stop the consumers first.
 */
export async function alterGroupOffsets(
  call: AdminCall,
  groupId: string,
  offsets: readonly OffsetToCommit[],
): Promise<OffsetToCommit[]> {
  const group = checkNonEmpty("groupId", groupId);
  const list = checkArray<OffsetToCommit>("offsets", offsets).map((o, i) => {
    const at = `offsets[${i}]`;
    const obj = checkObject(at, o);
    if (obj.metadata !== undefined && obj.metadata !== null && typeof obj.metadata !== "string") {
      throw new InvalidArgumentError(`${at}.metadata`, "must be a string or null");
    }
    return {
      ...checkPartition(at, o),
      offset: checkLong(`${at}.offset`, obj.offset, 0n),
      metadata: (obj.metadata as string | null | undefined) ?? null,
      leaderEpoch: obj.leaderEpoch === undefined ? -1 : checkInt(`${at}.leaderEpoch`, obj.leaderEpoch, -1),
    };
  });
  return onGroupCoordinator(call, group, "offsets", list, async (pending, labels) => {
    const { connection } = await call.coordinator("group", group, OffsetCommit);
    const version = Math.min(connection.versionFor(OffsetCommit), MAX_NAMED_OFFSET_COMMIT);
    const response = await connection.request(
      OffsetCommit,
      {
        groupId: group,
        generationIdOrMemberEpoch: -1,
        memberId: "",
        groupInstanceId: null,
        retentionTimeMs: -1n,
        topics: [...groupByTopic(pending.map((i) => list[i]!))].map(([name, offsets]) => ({
          name,
          topicId: ZERO_UUID, // by name (v9 is the last version that takes names)
          partitions: offsets.map((o) => ({
            partitionIndex: o.partition,
            committedOffset: o.offset,
            committedLeaderEpoch: o.leaderEpoch,
            committedMetadata: o.metadata,
          })),
        })),
      },
      { ...call.requestOptions(), version },
    );
    return partitionOutcomes(pending, labels, response.topics, (_, i): OffsetToCommit => list[i]!);
  });
}

/**
 * A batch over distinct partitions of one group, run on the group's coordinator: `attempt`
 * gets the pending items and their `topic-partition` labels; a retry after NOT_COORDINATOR
 * looks the coordinator up again.
 */
function onGroupCoordinator<R>(
  call: AdminCall,
  group: string,
  argument: string,
  list: readonly { topic: string; partition: number }[],
  attempt: (pending: number[], labels: readonly string[]) => Promise<Map<number, ItemOutcome<R>>>,
): Promise<R[]> {
  const labels = list.map((p) => partitionLabel(p.topic, p.partition));
  checkUnique(argument, labels);
  return call.retryItems(
    labels,
    (pending) => attempt(pending, labels),
    () => ({ type: "group", key: group }),
  );
}

/**
 * Moves a group's offsets to the earliest or latest offset of each partition, or to the first
 * offset at or after a timestamp (the end of the log when no record is that recent, as
 * `kafka-consumer-groups --reset-offsets --to-datetime` does). A topic name resets all its
 * partitions. Like {@link alterGroupOffsets}, the group must have no active members.
 */
export async function resetGroupOffsets(
  call: AdminCall,
  groupId: string,
  targets: readonly ResetTarget[],
  to: ResetSpec,
): Promise<OffsetToCommit[]> {
  const group = checkNonEmpty("groupId", groupId);
  const checked = checkArray<ResetTarget>("targets", targets).map((t, i) =>
    typeof t === "string" ? checkTopicName(`targets[${i}]`, t) : checkPartition(`targets[${i}]`, t),
  );
  let spec: OffsetSpec;
  if (to === "earliest" || to === "latest") spec = to;
  else if (to !== null && typeof to === "object" && "timestamp" in to) {
    spec = { timestamp: Number(checkLong("to.timestamp", to.timestamp, 0n)) };
  } else {
    throw new InvalidArgumentError("to", `must be "earliest", "latest" or { timestamp }; got ${JSON.stringify(to)}`);
  }
  const topicNames = [...new Set(checked.filter((t): t is string => typeof t === "string"))];
  const metadata = topicNames.length > 0 ? await call.metadata(topicNames) : undefined;
  // Each partition remembers which target named it, so a duplicate is reported where it was given.
  const partitions: { topic: string; partition: number; target: number }[] = [];
  for (const [target, t] of checked.entries()) {
    if (typeof t !== "string") {
      partitions.push({ ...t, target });
      continue;
    }
    const topic = metadata?.topics.get(t);
    if (topic?.errorCode !== 0) {
      throw kafkaError(topic?.errorCode ?? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic ${t}`);
    }
    for (const p of topic.partitions) partitions.push({ topic: t, partition: p.partition, target });
  }
  const seen = new Set<string>();
  for (const p of partitions) {
    const label = partitionLabel(p.topic, p.partition);
    if (seen.has(label)) throw new InvalidArgumentError(`targets[${p.target}]`, `duplicate item ${label}`);
    seen.add(label);
  }
  let offsets = await listOffsets(
    call,
    partitions.map((p) => ({ topic: p.topic, partition: p.partition, spec })),
  );
  if (typeof spec === "object" && offsets.some((o) => o.offset < 0n)) {
    const ends = await listOffsets(
      call,
      offsets.filter((o) => o.offset < 0n).map((o) => ({ topic: o.topic, partition: o.partition, spec: "latest" })),
    );
    const end = new Map(ends.map((o) => [partitionLabel(o.topic, o.partition), o.offset]));
    offsets = offsets.map((o) =>
      o.offset < 0n ? { ...o, offset: end.get(partitionLabel(o.topic, o.partition)) ?? 0n } : o,
    );
  }
  return alterGroupOffsets(
    call,
    group,
    offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset })),
  );
}

/**
 * OffsetDelete: forgets the group's committed offsets for the given partitions. The broker
 * refuses partitions of topics the group is still subscribed to (GROUP_SUBSCRIBED_TO_TOPIC).
 */
export async function deleteGroupOffsets(
  call: AdminCall,
  groupId: string,
  partitions: readonly { topic: string; partition: number }[],
): Promise<{ topic: string; partition: number }[]> {
  const group = checkNonEmpty("groupId", groupId);
  const list = checkArray<unknown>("partitions", partitions).map((p, i) => checkPartition(`partitions[${i}]`, p));
  return onGroupCoordinator(call, group, "partitions", list, async (pending, labels) => {
    const { connection } = await call.coordinator("group", group, OffsetDelete);
    const response = await call.send(connection, OffsetDelete, {
      groupId: group,
      topics: topicPartitionIndexes(pending.map((i) => list[i]!)).map((t) => ({
        name: t.name,
        partitions: t.partitionIndexes.map((partitionIndex) => ({ partitionIndex })),
      })),
    });
    // A group-level error (GROUP_ID_NOT_FOUND, NOT_COORDINATOR…) concerns every partition.
    if (response.errorCode !== 0) return failAll(pending, { error: kafkaError(response.errorCode) });
    return partitionOutcomes(pending, labels, response.topics, (_, i) => list[i]!);
  });
}

/** Committed offset against the end of each partition the group has committed to. */
export async function listGroupLag(
  call: AdminCall,
  groupId: string,
  options: GroupLagOptions = {},
): Promise<PartitionLag[]> {
  const committed = (await listGroupOffsets(call, groupId)).filter((o) => o.offset >= 0n);
  if (committed.length === 0) return [];
  const ends = await listOffsets(
    call,
    committed.map((o) => ({ topic: o.topic, partition: o.partition, spec: "latest" as const })),
    options.isolationLevel ? { isolationLevel: options.isolationLevel } : {},
  );
  return committed.map((o, i) => {
    const endOffset = (ends[i] as (typeof ends)[number]).offset;
    const lag = endOffset - o.offset;
    return { topic: o.topic, partition: o.partition, committedOffset: o.offset, endOffset, lag: lag > 0n ? lag : 0n };
  });
}
