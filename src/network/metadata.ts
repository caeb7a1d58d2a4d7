/**
 * The client's picture of the cluster, built from Metadata responses: brokers, controller,
 * topics with ids and partitions with leaders and epochs. Snapshots are immutable; a refresh
 * or a KIP-951 leader hint produces a new one, so readers never see a half-applied update.
 */
import type { MetadataResponse } from "../protocol/messages/index.js";
import type { BrokerNode } from "./broker.js";

/** A partition: topic and partition number. Shared by the producer, consumer and admin APIs. */
export interface TopicPartition {
  topic: string;
  partition: number;
}

/** One partition's replicas and leader. */
export interface PartitionMetadata {
  partition: number;
  /** -1 when the partition has no leader right now. */
  leaderId: number;
  leaderEpoch: number;
  replicas: readonly number[];
  isr: readonly number[];
  offlineReplicas: readonly number[];
  errorCode: number;
}

/** One topic. */
export interface TopicMetadata {
  name: string;
  /** Kafka's topic id (KIP-516), base64url. */
  topicId: string;
  isInternal: boolean;
  /** By partition index. */
  partitions: readonly PartitionMetadata[];
  /** Non-zero when the broker could not describe the topic (e.g. 3: unknown). */
  errorCode: number;
}

/** A snapshot of cluster metadata. */
export interface ClusterMetadata {
  clusterId: string | null;
  controllerId: number;
  brokers: ReadonlyMap<number, BrokerNode>;
  topics: ReadonlyMap<string, TopicMetadata>;
  /** topicId → name, for APIs that name topics by id (Fetch v13+). */
  topicNames: ReadonlyMap<string, string>;
  /** When the snapshot's topics were fetched (ms since epoch). */
  fetchedAt: number;
}

/** An empty snapshot (before the first refresh). */
export const EMPTY_METADATA: ClusterMetadata = {
  clusterId: null,
  controllerId: -1,
  brokers: new Map(),
  topics: new Map(),
  topicNames: new Map(),
  fetchedAt: 0,
};

/**
 * Merges a Metadata response into a snapshot: brokers and controller are replaced (the
 * response lists them all), topics in the response replace their old entries, and other
 * topics are kept, since a request names only some topics.
 */
export function mergeMetadata(previous: ClusterMetadata, response: MetadataResponse, now: number): ClusterMetadata {
  const brokers = new Map<number, BrokerNode>();
  for (const b of response.brokers)
    brokers.set(b.nodeId, { nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack });
  const topics = new Map(previous.topics);
  const topicNames = new Map(previous.topicNames);
  for (const t of response.topics) {
    if (t.name === null) continue;
    const partitions: PartitionMetadata[] = [];
    for (const p of t.partitions) {
      partitions[p.partitionIndex] = {
        partition: p.partitionIndex,
        leaderId: p.leaderId,
        leaderEpoch: p.leaderEpoch,
        replicas: p.replicaNodes,
        isr: p.isrNodes,
        offlineReplicas: p.offlineReplicas,
        errorCode: p.errorCode,
      };
    }
    const old = topics.get(t.name);
    if (old) topicNames.delete(old.topicId);
    topics.set(t.name, {
      name: t.name,
      topicId: t.topicId,
      isInternal: t.isInternal,
      partitions,
      errorCode: t.errorCode,
    });
    topicNames.set(t.topicId, t.name);
  }
  return {
    clusterId: response.clusterId,
    controllerId: response.controllerId,
    brokers,
    topics,
    topicNames,
    fetchedAt: now,
  };
}

/**
 * Applies a KIP-951 leader hint (from a Produce or Fetch NOT_LEADER error): the new leader
 * and its epoch, plus endpoints of brokers the client may not know. Ignored when the hint is
 * older than what the snapshot has, so a late response cannot undo a newer refresh.
 */
export function applyLeaderHint(
  previous: ClusterMetadata,
  topic: string,
  partition: number,
  leaderId: number,
  leaderEpoch: number,
  endpoints: readonly BrokerNode[],
): ClusterMetadata {
  const t = previous.topics.get(topic);
  const p = t?.partitions[partition];
  if (!t || !p || leaderId < 0 || leaderEpoch < p.leaderEpoch) return previous;
  const brokers = new Map(previous.brokers);
  for (const e of endpoints) brokers.set(e.nodeId, e);
  if (!brokers.has(leaderId)) return previous;
  const partitions = [...t.partitions];
  partitions[partition] = { ...p, leaderId, leaderEpoch };
  const topics = new Map(previous.topics);
  topics.set(topic, { ...t, partitions });
  return { ...previous, brokers, topics };
}
