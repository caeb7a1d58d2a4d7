/**
 * Topics: create (CreateTopics), delete by name or id (DeleteTopics), list (Metadata for all
 * topics), describe (DescribeTopicPartitions with paging, KIP-966; Metadata on brokers that lack
 * it) and add partitions (CreatePartitions). Changes go to the controller; reads to any broker.
 * Brokers apply a change from the metadata log a moment after the controller commits it, so a
 * describe right after a change can still show the state before it.
 */

import { ZERO_UUID } from "../protocol/api.js";
import { InvalidArgumentError, ProtocolError, UnsupportedVersionError } from "../protocol/errors.js";
import {
  CreatePartitions,
  CreateTopics,
  DeleteTopics,
  DescribeTopicPartitions,
  type DescribeTopicPartitionsRequestCursor,
  type DescribeTopicPartitionsResponse,
  Metadata,
} from "../protocol/messages/index.js";
import { type AclOperation, decodeAclOperations } from "./acls.js";
import { type ConfigEntry, configEntry } from "./configs.js";
import { matchOutcomes, type ResponseEntry } from "./outcomes.js";
import type { AdminCall } from "./routing.js";
import {
  checkArray,
  checkInt,
  checkObject,
  checkTopicName,
  checkUnique,
  defineOperation,
  type Operation,
} from "./validate.js";

/** A topic to create. */
export interface NewTopic {
  name: string;
  /** Default: the broker's `num.partitions`. Leave out when giving `assignments`. */
  numPartitions?: number;
  /** Default: the broker's `default.replication.factor`. Leave out when giving `assignments`. */
  replicationFactor?: number;
  /** Replica broker ids per partition (`assignments[p]` for partition p, preferred leader first). */
  assignments?: number[][];
  /** Topic configs, e.g. `{ "cleanup.policy": "compact" }`. */
  configs?: Record<string, string>;
}

/** A created (or, with `validateOnly`, a validated) topic as the controller reports it. */
export interface CreatedTopic {
  name: string;
  /** The new topic id (with `validateOnly`, one the controller drew but did not use). */
  topicId: string;
  numPartitions: number;
  replicationFactor: number;
  /** Every config of the new topic with its source (empty if the caller may not describe configs). */
  configs: ConfigEntry[];
}

/** Options of {@link createTopics} and {@link createPartitions}. */
export interface ValidateOnlyOptions {
  /** Check the request without applying it. Default false. */
  validateOnly?: boolean;
}

/** A topic to delete: its name, or `{ topicId }` (Kafka 2.8+ topic ids). */
export type TopicToDelete = string | { topicId: string };

/** A deleted topic. */
export interface DeletedTopic {
  /** Null when the topic was named by id and the broker did not say its name. */
  name: string | null;
  topicId: string;
}

/** A topic as {@link listTopics} lists it. */
export interface TopicListing {
  name: string;
  topicId: string;
  isInternal: boolean;
  partitionCount: number;
}

/** Options of {@link listTopics}. */
export interface ListTopicsOptions {
  /** Include internal topics (`__consumer_offsets`, `__transaction_state`, …). Default false. */
  includeInternal?: boolean;
}

/** One partition of a described topic. Broker ids throughout. */
export interface PartitionDescription {
  partition: number;
  /** -1 when the partition has no leader. */
  leader: number;
  leaderEpoch: number;
  /** All replicas, preferred leader first. */
  replicas: number[];
  /** In-sync replicas. */
  isr: number[];
  offlineReplicas: number[];
  /** KIP-966 eligible leader replicas (DescribeTopicPartitions only; empty otherwise). */
  eligibleLeaderReplicas: number[];
  /** KIP-966 last known ELR (DescribeTopicPartitions only; empty otherwise). */
  lastKnownElr: number[];
}

/** A described topic. */
export interface TopicDescription {
  name: string;
  topicId: string;
  isInternal: boolean;
  /** By partition number. */
  partitions: PartitionDescription[];
  /** With `includeAuthorizedOperations`: what the caller may do with the topic. */
  authorizedOperations?: AclOperation[];
}

/** Options of {@link describeTopics}. */
export interface DescribeTopicsOptions {
  /** Ask which operations the caller may perform on each topic. Default false. */
  includeAuthorizedOperations?: boolean;
  /**
   * Partitions per DescribeTopicPartitions response; larger topics are fetched in pages.
   * Default 2000 (Kafka's admin default).
   */
  partitionsPerPage?: number;
}

/** A partition count increase. */
export interface NewPartitions {
  topic: string;
  /** The new total number of partitions (larger than the current one). */
  count: number;
  /** Replica broker ids for each new partition, in order, preferred leader first. */
  assignments?: number[][];
}

function checkAssignments(argument: string, value: unknown): number[][] {
  return checkArray<unknown>(argument, value).map((replicas, p) => {
    const list = checkArray<unknown>(`${argument}[${p}]`, replicas).map((b, r) =>
      checkInt(`${argument}[${p}][${r}]`, b, 0),
    );
    checkUnique(`${argument}[${p}]`, list.map(String));
    return list;
  });
}

function checkConfigs(argument: string, value: unknown): { name: string; value: string | null }[] {
  if (value === undefined) return [];
  return Object.entries(checkObject(argument, value)).map(([name, v]) => {
    if (typeof v !== "string") throw new InvalidArgumentError(`${argument}.${name}`, "must be a string");
    return { name, value: v };
  });
}

/** CreateTopics on the controller. */
export const createTopics = toController({
  argument: "topics",
  each: (o, at) => {
    const name = checkTopicName(`${at}.name`, o.name);
    const assignments = o.assignments === undefined ? [] : checkAssignments(`${at}.assignments`, o.assignments);
    if (assignments.length > 0 && (o.numPartitions !== undefined || o.replicationFactor !== undefined)) {
      throw new InvalidArgumentError(`${at}.assignments`, "cannot be combined with numPartitions or replicationFactor");
    }
    return {
      name,
      // -1: the broker's default (num.partitions, default.replication.factor), or "see assignments".
      numPartitions: o.numPartitions === undefined ? -1 : checkInt(`${at}.numPartitions`, o.numPartitions, 1),
      replicationFactor:
        o.replicationFactor === undefined ? -1 : checkInt(`${at}.replicationFactor`, o.replicationFactor, 1, 32767),
      assignments: assignments.map((brokerIds, partitionIndex) => ({ partitionIndex, brokerIds })),
      configs: checkConfigs(`${at}.configs`, o.configs),
    };
  },
  nameOf: (t) => t.name,
  send: async (call, pending, validateOnly) =>
    (
      await call.sendToController(
        CreateTopics,
        { topics: pending, timeoutMs: call.serverTimeoutMs(), validateOnly },
        true,
      )
    ).topics,
  value: (t): CreatedTopic => ({
    name: t.name,
    topicId: t.topicId,
    numPartitions: t.numPartitions,
    replicationFactor: t.replicationFactor,
    configs: (t.configs ?? []).map(configEntry),
  }),
});

/**
 * CreateTopics and CreatePartitions: items named by topic (once each) go to the controller,
 * whose answer names each topic again; `send` sends the pending items and returns the answers.
 * Defines the operation: `each` checks an item, as for {@link defineOperation}.
 */
function toController<T, E extends ResponseEntry & { name: string }, R>(spec: {
  argument: string;
  each: (item: Record<string, unknown>, at: string) => T;
  nameOf: (item: T) => string;
  send: (call: AdminCall, pending: T[], validateOnly: boolean) => Promise<readonly E[]>;
  value: (entry: E, item: T) => R;
}): Operation<ValidateOnlyOptions, R[]> {
  const { argument, each, nameOf, send, value } = spec;
  return defineOperation({
    argument,
    each,
    run: async (call, list, options: ValidateOnlyOptions) => {
      const validateOnly = options.validateOnly === true;
      const names = list.map(nameOf);
      checkUnique(argument, names);
      const done = await call.retryItems(names, async (pending) => {
        const byName = new Map(
          (
            await send(
              call,
              pending.map((i) => list[i] as T),
              validateOnly,
            )
          ).map((e) => [e.name, e]),
        );
        return matchOutcomes(
          pending,
          (i) => byName.get(names[i]!),
          (e, i) => value(e, list[i] as T),
        );
      });
      // Our metadata may have cached these names as unknown, or with their old partition counts:
      // the next leader lookup must refresh.
      if (!validateOnly) call.client.invalidateLeader();
      return done;
    },
  });
}

/** DeleteTopics on the controller, by name or by topic id. */
export async function deleteTopics(call: AdminCall, topics: readonly TopicToDelete[]): Promise<DeletedTopic[]> {
  const list = checkArray<TopicToDelete>("topics", topics).map((t, i) => {
    if (typeof t === "string") return { name: checkTopicName(`topics[${i}]`, t), topicId: ZERO_UUID };
    const o = checkObject(`topics[${i}]`, t);
    if (typeof o.topicId !== "string" || !/^[A-Za-z0-9_-]{22}$/.test(o.topicId) || o.topicId === ZERO_UUID) {
      throw new InvalidArgumentError(`topics[${i}].topicId`, "must be a topic id (22 characters of base64url)");
    }
    return { name: null, topicId: o.topicId };
  });
  checkUnique(
    "topics",
    list.map((t) => t.name ?? `id ${t.topicId}`),
  );
  const deleted = await call.retryItems(
    list.map((t) => t.name ?? `topic id ${t.topicId}`),
    async (pending) => {
      const connection = await call.controller(DeleteTopics);
      const byId = connection.versionFor(DeleteTopics) >= 6;
      if (!byId && pending.some((i) => list[i]?.name === null)) {
        throw new UnsupportedVersionError("deleting topics by id needs DeleteTopics v6 (Kafka 2.8+)");
      }
      const sent = pending.map((i) => list[i] as (typeof list)[number]);
      const response = await call.send(
        connection,
        DeleteTopics,
        {
          topics: byId ? sent : [],
          topicNames: byId ? [] : sent.map((t) => t.name as string),
          timeoutMs: call.serverTimeoutMs(),
        },
        true,
      );
      return matchOutcomes(
        pending,
        (i) => {
          const t = list[i]!;
          return response.responses.find((x) => (t.name !== null ? x.name === t.name : x.topicId === t.topicId));
        },
        (r, i): DeletedTopic => ({ name: r.name ?? list[i]!.name, topicId: r.topicId }),
      );
    },
  );
  call.client.invalidateLeader();
  return deleted;
}

/** Metadata for every topic, sorted by name. */
export async function listTopics(call: AdminCall, options: ListTopicsOptions = {}): Promise<TopicListing[]> {
  const includeInternal = options.includeInternal === true;
  const request = {
    topics: null,
    allowAutoTopicCreation: false,
    includeClusterAuthorizedOperations: false,
    includeTopicAuthorizedOperations: false,
  };
  return call.retryAny(Metadata, request, (response) =>
    response.topics
      .filter((t) => t.name !== null && t.errorCode === 0 && (includeInternal || !t.isInternal))
      .map((t) => ({
        name: t.name as string,
        topicId: t.topicId,
        isInternal: t.isInternal,
        partitionCount: t.partitions.length,
      }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
  );
}

/** A topic being assembled from one or more DescribeTopicPartitions pages. */
interface TopicPages {
  errorCode: number;
  description: TopicDescription;
}

/** DescribeTopicPartitions (paged) or, on brokers without it, Metadata. */
export async function describeTopics(
  call: AdminCall,
  names: readonly string[],
  options: DescribeTopicsOptions = {},
): Promise<TopicDescription[]> {
  const list = checkArray<string>("topics", names).map((n, i) => checkTopicName(`topics[${i}]`, n));
  checkUnique("topics", list);
  const includeOps = options.includeAuthorizedOperations === true;
  const pageSize =
    options.partitionsPerPage === undefined ? 2000 : checkInt("partitionsPerPage", options.partitionsPerPage, 1);
  return call.retryItems(list, async (pending) => {
    const connection = await call.anyBroker(DescribeTopicPartitions);
    const wanted = pending.map((i) => list[i] as string);
    let topics: Map<string, TopicPages>;
    try {
      connection.versionFor(DescribeTopicPartitions);
      topics = await describePaged(call, connection, wanted, pageSize);
    } catch (err) {
      if (!(err instanceof UnsupportedVersionError)) throw err;
      topics = await describeByMetadata(call, connection, wanted, includeOps);
    }
    return matchOutcomes(
      pending,
      (i) => topics.get(list[i]!),
      (t) => {
        if (!includeOps) delete t.description.authorizedOperations;
        return t.description;
      },
    );
  });
}

async function describePaged(
  call: AdminCall,
  connection: Awaited<ReturnType<AdminCall["anyBroker"]>>,
  names: string[],
  pageSize: number,
): Promise<Map<string, TopicPages>> {
  const topics = new Map<string, TopicPages>();
  const asked = new Set(names);
  const seen = new Map<string, Set<number>>();
  let cursor: DescribeTopicPartitionsRequestCursor | null = null;
  // Each page ends at `nextCursor`; asking again with the same topic list and that cursor
  // continues where the broker stopped, possibly in the middle of a topic. The broker walks
  // topics in name order, so each cursor must come strictly after the one before: a cursor
  // that stands still, goes back or names a topic not asked for, a page larger than asked
  // for, or a partition sent twice would have us follow the broker forever (holding all it
  // sends), and is a ProtocolError. The call's deadline bounds the pages of an honest one.
  do {
    call.throwIfAborted();
    const response: DescribeTopicPartitionsResponse = await call.send(connection, DescribeTopicPartitions, {
      topics: names.map((name) => ({ name })),
      responsePartitionLimit: pageSize,
      cursor,
    });
    let returned = 0;
    for (const t of response.topics) returned += t.partitions.length;
    if (returned > pageSize) {
      throw new ProtocolError(
        `describeTopics: ${connection.address} sent ${returned} partitions in a page limited to ${pageSize}`,
      );
    }
    const next = response.nextCursor;
    if (next !== null) {
      if (!asked.has(next.topicName)) {
        throw new ProtocolError(
          `describeTopics: ${connection.address} sent a cursor naming topic ${JSON.stringify(next.topicName)}, which was not asked for`,
        );
      }
      if (cursor !== null && !cursorAfter(next, cursor)) {
        throw new ProtocolError(
          `describeTopics: ${connection.address} sent cursor ${next.topicName}-${next.partitionIndex} after ${cursor.topicName}-${cursor.partitionIndex}: pagination does not advance`,
        );
      }
    }
    for (const t of response.topics) {
      if (t.name === null) continue;
      let indexes = seen.get(t.name);
      if (!indexes) {
        indexes = new Set();
        seen.set(t.name, indexes);
      }
      for (const p of t.partitions) {
        if (indexes.has(p.partitionIndex)) {
          throw new ProtocolError(
            `describeTopics: ${connection.address} sent partition ${t.name}-${p.partitionIndex} twice while paging`,
          );
        }
        indexes.add(p.partitionIndex);
      }
      let entry = topics.get(t.name);
      if (!entry) {
        const authorizedOperations = decodeAclOperations(t.topicAuthorizedOperations);
        entry = {
          errorCode: t.errorCode,
          description: {
            name: t.name,
            topicId: t.topicId,
            isInternal: t.isInternal,
            partitions: [],
            ...(authorizedOperations ? { authorizedOperations } : {}),
          },
        };
        topics.set(t.name, entry);
      }
      for (const p of t.partitions) entry.description.partitions.push(partitionDescription(p));
    }
    cursor = next;
  } while (cursor !== null);
  for (const t of topics.values()) t.description.partitions.sort((a, b) => a.partition - b.partition);
  return topics;
}

/** A partition of a DescribeTopicPartitions or Metadata response (Metadata has no ELR fields). */
function partitionDescription(p: {
  partitionIndex: number;
  leaderId: number;
  leaderEpoch: number;
  replicaNodes: number[];
  isrNodes: number[];
  offlineReplicas: number[];
  eligibleLeaderReplicas?: number[] | null;
  lastKnownElr?: number[] | null;
}): PartitionDescription {
  return {
    partition: p.partitionIndex,
    leader: p.leaderId,
    leaderEpoch: p.leaderEpoch,
    replicas: p.replicaNodes,
    isr: p.isrNodes,
    offlineReplicas: p.offlineReplicas,
    eligibleLeaderReplicas: p.eligibleLeaderReplicas ?? [],
    lastKnownElr: p.lastKnownElr ?? [],
  };
}

/** True when cursor `a` comes strictly after `b` in the broker's order (topic name, then partition). */
function cursorAfter(a: DescribeTopicPartitionsRequestCursor, b: DescribeTopicPartitionsRequestCursor): boolean {
  if (a.topicName !== b.topicName) return a.topicName > b.topicName;
  return a.partitionIndex > b.partitionIndex;
}

async function describeByMetadata(
  call: AdminCall,
  connection: Awaited<ReturnType<AdminCall["anyBroker"]>>,
  names: string[],
  includeOps: boolean,
): Promise<Map<string, TopicPages>> {
  const response = await call.send(connection, Metadata, {
    topics: names.map((name) => ({ name, topicId: ZERO_UUID })),
    allowAutoTopicCreation: false,
    includeClusterAuthorizedOperations: false,
    includeTopicAuthorizedOperations: includeOps,
  });
  const topics = new Map<string, TopicPages>();
  for (const t of response.topics) {
    if (t.name === null) continue;
    const authorizedOperations = decodeAclOperations(t.topicAuthorizedOperations);
    topics.set(t.name, {
      errorCode: t.errorCode,
      description: {
        name: t.name,
        topicId: t.topicId,
        isInternal: t.isInternal,
        partitions: t.partitions.map(partitionDescription).sort((a, b) => a.partition - b.partition),
        ...(authorizedOperations ? { authorizedOperations } : {}),
      },
    });
  }
  return topics;
}

/** CreatePartitions on the controller. */
export const createPartitions = toController({
  argument: "increases",
  each: (o, at) => {
    const topic = checkTopicName(`${at}.topic`, o.topic);
    const count = checkInt(`${at}.count`, o.count, 1);
    const assignments = o.assignments === undefined ? undefined : checkAssignments(`${at}.assignments`, o.assignments);
    return { topic, count, ...(assignments ? { assignments } : {}) };
  },
  nameOf: (p) => p.topic,
  send: async (call, pending, validateOnly) => {
    const topics = pending.map((p) => ({
      name: p.topic,
      count: p.count,
      assignments: p.assignments ? p.assignments.map((brokerIds) => ({ brokerIds })) : null,
    }));
    const response = await call.sendToController(
      CreatePartitions,
      { topics, timeoutMs: call.serverTimeoutMs(), validateOnly },
      true,
    );
    return response.results;
  },
  value: (_, p): NewPartitions => p,
});
