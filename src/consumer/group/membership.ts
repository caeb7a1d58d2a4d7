/**
 * What both group protocols share: the contract between a membership (KIP-848 or classic)
 * and the consumer that owns the partitions, the subscription, and topic lookups the client's
 * metadata cache does not offer (every topic name, for patterns and for KIP-848's topic ids).
 */
import type { Cluster } from "../../network/cluster.js";
import { ErrorCode } from "../../protocol/error-table.js";
import { kafkaError } from "../../protocol/kafka-error.js";
import { Metadata } from "../../protocol/messages/index.js";
import type { MemberIdentity } from "../offsets.js";
import type { ResolvedConsumerOptions } from "../options.js";
import type { TopicPartition } from "../partition.js";
import type { GroupCoordinator } from "./coordinator.js";

/** Topic names, or a pattern matched against every topic of the cluster. */
export type Subscription = { topics: readonly string[] } | { pattern: RegExp };

/** The consumer's side of a membership. */
export interface MembershipHost {
  readonly client: Cluster;
  readonly options: ResolvedConsumerOptions;
  readonly coordinator: GroupCoordinator;
  /**
   * Moves the consumer to a new assignment: revokes what it no longer holds (stop fetching,
   * commit, listener), then takes what is new (listener, starting offsets). Resolves once done.
   */
  reconcile(target: readonly TopicPartition[]): Promise<void>;
  /** The partitions are gone without a chance to commit (fenced, expired): drop, tell the listener. */
  lose(): Promise<void>;
  /** A fatal error: the iterator throws it. */
  fail(error: Error): void;
  /** What the consumer owns now. */
  owned(): TopicPartition[];
}

/** A group membership; see the module comment. */
export interface Membership {
  readonly protocol: "consumer" | "classic";
  /** This member's id (empty until the coordinator gave one, classic). */
  readonly memberId: string;
  /** Starts, or changes the subscription. */
  subscribe(subscription: Subscription): void;
  /** Who commits: generation or member epoch. */
  identity(): MemberIdentity;
  /** What OffsetFetch sends (v9+ checks the member epoch of KIP-848 members). */
  offsetFetchIdentity(): { memberId: string | null; memberEpoch: number };
  /**
   * Leaves the group: stops heartbeats and waits for a rebalance in progress, runs `revoke`
   * (the consumer's final commit and revoke listener, while still a member), then says
   * goodbye (epoch -1, or -2 for static members; LeaveGroup for classic).
   */
  leave(revoke: () => Promise<void>): Promise<void>;
}

/** Every topic name of the cluster with its id (one Metadata request for all topics). */
export async function allTopics(client: Cluster, signal?: AbortSignal): Promise<Map<string, string>> {
  const connection = await client.anyConnection({ api: Metadata }, signal);
  const response = await connection.request(
    Metadata,
    {
      topics: null,
      allowAutoTopicCreation: false,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    },
    signal ? { signal } : {},
  );
  const names = new Map<string, string>();
  for (const t of response.topics)
    if (t.name !== null && t.errorCode === ErrorCode.NONE && !t.isInternal) names.set(t.name, t.topicId);
  return names;
}

/**
 * Names of topic ids, from the metadata cache, else from a listing of every topic (which
 * also makes the client track them, so their leaders are known). Unknown ids are left out.
 */
export async function topicNamesOf(
  client: Cluster,
  topicIds: readonly string[],
  signal?: AbortSignal,
): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  let missing = false;
  for (const id of topicIds) {
    const name = client.cachedMetadata.topicNames.get(id);
    if (name !== undefined) names.set(id, name);
    else missing = true;
  }
  if (!missing) return names;
  const all = await allTopics(client, signal);
  const wanted = new Set(topicIds);
  const found: string[] = [];
  for (const [name, id] of all) {
    if (wanted.has(id)) {
      names.set(id, name);
      found.push(name);
    }
  }
  if (found.length > 0) await client.metadata(found, { maxAgeMs: 0, ...(signal ? { signal } : {}) });
  return names;
}

/** Reports `consumer:group-joined`: the member has a generation (classic) or an epoch (KIP-848). */
export function reportJoined(
  host: MembershipHost,
  memberId: string,
  generationId: number,
  protocol: "classic" | "consumer",
): void {
  const inst = host.client.instrumentation;
  if (!inst.wants("consumer:group-joined")) return;
  inst.emit("consumer:group-joined", {
    clientId: inst.clientId,
    groupId: host.coordinator.groupId,
    memberId,
    generationId,
    protocol,
  });
}

/** Reports `consumer:member-fenced`: the coordinator no longer knows this member or its generation. */
export function reportFenced(host: MembershipHost, memberId: string, code: number): void {
  const inst = host.client.instrumentation;
  if (!inst.wants("consumer:member-fenced")) return;
  inst.emit("consumer:member-fenced", {
    clientId: inst.clientId,
    groupId: host.coordinator.groupId,
    memberId,
    error: kafkaError(code),
  });
}
