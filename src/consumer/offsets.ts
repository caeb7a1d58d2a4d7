/**
 * Offset requests of the consumer: committed offsets (OffsetFetch) and commits
 * (OffsetCommit) on the group coordinator, and log offsets (ListOffsets) on partition
 * leaders for autoOffsetReset. Each retries what Kafka marks retriable.
 */

import { backoffDelay, sleep } from "../network/backoff.js";
import type { Cluster } from "../network/cluster.js";
import { TimeoutError } from "../network/errors.js";
import { isRetriable } from "../network/retry.js";
import { ZERO_UUID } from "../protocol/api.js";
import { ErrorCode } from "../protocol/error-table.js";
import { kafkaError } from "../protocol/kafka-error.js";
import { ListOffsets, OffsetCommit, OffsetFetch } from "../protocol/messages/index.js";
import type { GroupCoordinator } from "./group/coordinator.js";
import { partitionKey, type TopicPartition } from "./partition.js";

/**
 * OffsetFetch v10 and OffsetCommit v10 name topics by id; v9 is the last version with names,
 * which is what the consumer holds, and every Kafka 4.x broker serves it.
 */
const MAX_NAMED_OFFSET_FETCH = 9;
const MAX_NAMED_OFFSET_COMMIT = 9;

/** A committed offset as OffsetFetch returns it. */
export interface CommittedOffset {
  offset: bigint;
  leaderEpoch: number;
  metadata: string | null;
}

/** Who commits: the group member's identity (generation or KIP-848 member epoch), or -1/"" outside a group. */
export interface MemberIdentity {
  memberId: string;
  /** Classic: the generation; KIP-848: the member epoch; -1 for a consumer without group membership. */
  generationIdOrMemberEpoch: number;
  groupInstanceId: string | null;
}

/** One offset to commit. */
export interface CommitEntry extends TopicPartition {
  offset: bigint;
  leaderEpoch: number;
  metadata: string | null;
}

const STALE_EPOCH = new Set<number>([ErrorCode.STALE_MEMBER_EPOCH]);

function byTopic<T extends TopicPartition>(items: readonly T[]): Map<string, T[]> {
  const topics = new Map<string, T[]>();
  for (const p of items) {
    const list = topics.get(p.topic);
    if (list) list.push(p);
    else topics.set(p.topic, [p]);
  }
  return topics;
}

/**
 * Committed offsets of `partitions`; partitions without one are absent from the map.
 * `requireStable` (read_committed) waits for pending transactional commits (KIP-447).
 */
export async function fetchCommittedOffsets(
  coordinator: GroupCoordinator,
  partitions: readonly TopicPartition[],
  member: () => { memberId: string | null; memberEpoch: number },
  requireStable: boolean,
  signal?: AbortSignal,
): Promise<Map<string, CommittedOffset>> {
  return coordinator.call(
    OffsetFetch,
    async (connection) => {
      const version = Math.min(connection.versionFor(OffsetFetch), MAX_NAMED_OFFSET_FETCH);
      const topics = [...byTopic(partitions)].map(([name, list]) => ({
        name,
        topicId: ZERO_UUID,
        partitionIndexes: list.map((p) => p.partition),
      }));
      const { memberId, memberEpoch } = member();
      const request =
        version >= 8
          ? {
              groupId: "",
              topics: [],
              groups: [
                {
                  groupId: coordinator.groupId,
                  memberId: version >= 9 ? memberId : null,
                  memberEpoch: version >= 9 ? memberEpoch : -1,
                  topics,
                },
              ],
              requireStable,
            }
          : {
              groupId: coordinator.groupId,
              topics: topics.map(({ name, partitionIndexes }) => ({ name, partitionIndexes })),
              groups: [],
              requireStable: version >= 7 ? requireStable : false,
            };
      const response = await connection.request(OffsetFetch, request, { version, ...(signal ? { signal } : {}) });
      const group = version >= 8 ? response.groups[0] : undefined;
      const errorCode = version >= 8 ? (group?.errorCode ?? ErrorCode.NONE) : response.errorCode;
      if (errorCode !== ErrorCode.NONE) throw kafkaError(errorCode);
      const result = new Map<string, CommittedOffset>();
      for (const t of version >= 8 ? (group?.topics ?? []) : response.topics) {
        for (const p of t.partitions) {
          // UNSTABLE_OFFSET_COMMIT (a transaction still settling) is retriable: thrown, retried.
          if (p.errorCode !== ErrorCode.NONE) throw kafkaError(p.errorCode);
          if (p.committedOffset < 0n) continue;
          result.set(partitionKey(t.name, p.partitionIndex), {
            offset: p.committedOffset,
            leaderEpoch: p.committedLeaderEpoch,
            metadata: p.metadata,
          });
        }
      }
      return result;
    },
    { ...(signal ? { signal } : {}), retryCodes: STALE_EPOCH },
  );
}

/**
 * Commits offsets. `member` is read per attempt, so a retry after STALE_MEMBER_EPOCH carries
 * the epoch the next heartbeat brought. Non-retriable partition errors throw their KafkaError.
 */
export async function commitOffsets(
  coordinator: GroupCoordinator,
  entries: readonly CommitEntry[],
  member: () => MemberIdentity,
  signal?: AbortSignal,
): Promise<void> {
  if (entries.length === 0) return;
  await coordinator.call(
    OffsetCommit,
    async (connection) => {
      const version = Math.min(connection.versionFor(OffsetCommit), MAX_NAMED_OFFSET_COMMIT);
      const identity = member();
      const response = await connection.request(
        OffsetCommit,
        {
          groupId: coordinator.groupId,
          generationIdOrMemberEpoch: identity.generationIdOrMemberEpoch,
          memberId: identity.memberId,
          groupInstanceId: version >= 7 ? identity.groupInstanceId : null,
          retentionTimeMs: -1n,
          topics: [...byTopic(entries)].map(([name, list]) => ({
            name,
            topicId: ZERO_UUID,
            partitions: list.map((e) => ({
              partitionIndex: e.partition,
              committedOffset: e.offset,
              committedLeaderEpoch: version >= 6 ? e.leaderEpoch : -1,
              committedMetadata: e.metadata,
            })),
          })),
        },
        { version, ...(signal ? { signal } : {}) },
      );
      for (const t of response.topics) {
        for (const p of t.partitions) if (p.errorCode !== ErrorCode.NONE) throw kafkaError(p.errorCode);
      }
    },
    { ...(signal ? { signal } : {}), retryCodes: STALE_EPOCH },
  );
}

/** ListOffsets timestamp for the log start. */
export const EARLIEST_TIMESTAMP = -2n;
/** ListOffsets timestamp for the log end (the last stable offset with read_committed). */
export const LATEST_TIMESTAMP = -1n;

/**
 * Log offsets for `timestamp` (-2n earliest, -1n latest) of each partition, from their
 * leaders; with read_committed "latest" is the last stable offset. Leader errors refresh
 * metadata and retry until the request timeout.
 */
export async function listOffsets(
  client: Cluster,
  partitions: readonly (TopicPartition & { timestamp: bigint })[],
  readCommitted: boolean,
  retryBackoffMs: number,
  signal?: AbortSignal,
): Promise<Map<string, bigint>> {
  const result = new Map<string, bigint>();
  let pending = [...partitions];
  const deadline = Date.now() + client.requestTimeoutMs;
  let lastError: unknown;
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt > 0) {
      if (Date.now() >= deadline) throw new TimeoutError("ListOffsets did not succeed in time", { cause: lastError });
      await sleep(backoffDelay(attempt - 1, { floorMs: Math.max(1, retryBackoffMs), ceilingMs: 1000 }), signal);
      client.invalidateLeader();
    }
    const byLeader = new Map<number, typeof pending>();
    const failed: typeof pending = [];
    for (const p of pending) {
      try {
        const leader = await client.leader(p.topic, p.partition, signal);
        const list = byLeader.get(leader.nodeId);
        if (list) list.push(p);
        else byLeader.set(leader.nodeId, [p]);
      } catch (err) {
        if (!isRetriable(err)) throw err;
        lastError = err;
        failed.push(p);
      }
    }
    await Promise.all(
      [...byLeader].map(async ([nodeId, list]) => {
        try {
          const connection = await client.connection(nodeId, { api: ListOffsets }, signal);
          const response = await connection.request(
            ListOffsets,
            {
              replicaId: -1,
              isolationLevel: readCommitted ? 1 : 0,
              timeoutMs: client.requestTimeoutMs,
              topics: [...byTopic(list)].map(([name, ps]) => ({
                name,
                partitions: ps.map((p) => ({
                  partitionIndex: p.partition,
                  currentLeaderEpoch: -1,
                  timestamp: p.timestamp,
                })),
              })),
            },
            signal ? { signal } : {},
          );
          const answered = new Set<string>();
          for (const t of response.topics) {
            for (const p of t.partitions) {
              const key = partitionKey(t.name, p.partitionIndex);
              if (p.errorCode === ErrorCode.NONE) {
                result.set(key, p.offset);
                answered.add(key);
                continue;
              }
              const error = kafkaError(p.errorCode);
              if (!isRetriable(error)) throw error;
              lastError = error;
            }
          }
          for (const p of list) if (!answered.has(partitionKey(p.topic, p.partition))) failed.push(p);
        } catch (err) {
          if (!isRetriable(err)) throw err;
          lastError = err;
          failed.push(...list);
        }
      }),
    );
    pending = failed;
  }
  return result;
}
