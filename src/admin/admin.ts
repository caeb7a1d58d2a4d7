/**
 * `Admin`: the cluster-management surface of samsa as typed methods over a `Cluster`. Each method
 * checks its input, then runs as one `AdminCall` (routing.ts) whose deadline and AbortSignal
 * cover every request and retry; the operations themselves live in one file per concern.
 *
 * Error convention, for every method: bad input throws `InvalidArgumentError` before any
 * request; a batch call whose items partly fail throws `AdminOperationError` (per-item
 * `KafkaError`s, plus the results of the items that worked); an error that stops the whole call
 * (a top-level error code, authentication, abort) is thrown as is; running out of time while
 * retrying throws `AdminTimeoutError`. Results keep the order of the input.
 */

import type { Cluster } from "../network/cluster.js";
import type { TopicPartition } from "../network/metadata.js";
import { InvalidArgumentError } from "../protocol/errors.js";
import { checkOptionsObject, intOption, type OptionKeys } from "../util/options.js";
import * as acls from "./acls.js";
import * as cluster from "./cluster.js";
import * as configs from "./configs.js";
import * as offsets from "./group-offsets.js";
import * as groups from "./groups.js";
import * as partitions from "./partitions.js";
import * as quotas from "./quotas-scram.js";
import * as records from "./records.js";
import { AdminCall, type AdminCallOptions, type AdminSettings } from "./routing.js";
import * as tokens from "./tokens.js";
import * as topics from "./topics.js";
import * as transactions from "./transactions.js";

/** Options of {@link Admin}. Times are milliseconds. */
export interface AdminOptions {
  /** Time budget of a call when it does not pass `timeoutMs`; default 60,000 (Kafka's `default.api.timeout.ms`). */
  defaultTimeoutMs?: number;
  /** Backoff between retries: floor and ceiling; default 100 and 1,000 (Kafka's). */
  retryBackoffMs?: number;
  retryBackoffMaxMs?: number;
}

/** Every key of {@link AdminOptions}: a misspelt option is refused, not silently ignored. */
const ADMIN_OPTION_KEYS = {
  defaultTimeoutMs: true,
  retryBackoffMs: true,
  retryBackoffMaxMs: true,
} satisfies OptionKeys<AdminOptions>;

export type { TopicPartition };

/**
 * The admin client. Make one per `Cluster` (it holds no connections of its own and needs no
 * closing): `const admin = new Admin(client)`. Every method accepts `timeoutMs` and `signal`
 * in its last argument; see the module comment for how errors are reported.
 */
export class Admin {
  /** The client whose connections, metadata and coordinator cache the admin uses. */
  readonly client: Cluster;
  readonly #settings: AdminSettings;

  constructor(client: Cluster, options: AdminOptions = {}) {
    if (client === null || typeof client !== "object" || typeof client.anyConnection !== "function") {
      throw new InvalidArgumentError("client", "must be a samsa Cluster");
    }
    // "samsa admin", not "admin": the message reads "is not a <what> option".
    checkOptionsObject(options, ADMIN_OPTION_KEYS, "samsa admin");
    this.client = client;
    const floorMs = intOption(options, "retryBackoffMs", 100, 0);
    this.#settings = {
      defaultTimeoutMs: intOption(options, "defaultTimeoutMs", 60_000, 1),
      retryBackoff: {
        floorMs,
        ceilingMs: Math.max(floorMs, intOption(options, "retryBackoffMaxMs", 1000, 0)),
      },
    };
  }

  #call(operation: string, options: AdminCallOptions | undefined): AdminCall {
    return new AdminCall(this.client, this.#settings, operation, options ?? {});
  }

  // ── Cluster ────────────────────────────────────────────────────────────────────────────

  /** Cluster id, brokers, controller and finalized features (DescribeCluster + ApiVersions, any broker). */
  async describeCluster(
    options?: cluster.DescribeClusterOptions & AdminCallOptions,
  ): Promise<cluster.ClusterDescription> {
    return cluster.describeCluster(this.#call("describeCluster", options), options);
  }

  /** Finalized and supported feature levels (ApiVersions, any broker). */
  async describeFeatures(options?: AdminCallOptions): Promise<cluster.FeatureDescription> {
    return cluster.describeFeatures(this.#call("describeFeatures", options));
  }

  /** Changes finalized feature levels (UpdateFeatures, controller). */
  async updateFeatures(
    updates: cluster.FeatureUpdate[],
    options?: cluster.UpdateFeaturesOptions & AdminCallOptions,
  ): Promise<cluster.FeatureUpdate[]> {
    return cluster.updateFeatures(this.#call("updateFeatures", options), updates, options);
  }

  // ── Topics ─────────────────────────────────────────────────────────────────────────────

  /** Creates topics (CreateTopics, controller); returns ids, partition counts and configs. */
  async createTopics(
    newTopics: topics.NewTopic[],
    options?: topics.ValidateOnlyOptions & AdminCallOptions,
  ): Promise<topics.CreatedTopic[]> {
    return topics.createTopics(this.#call("createTopics", options), newTopics, options);
  }

  /** Deletes topics by name or `{ topicId }` (DeleteTopics, controller). */
  async deleteTopics(toDelete: topics.TopicToDelete[], options?: AdminCallOptions): Promise<topics.DeletedTopic[]> {
    return topics.deleteTopics(this.#call("deleteTopics", options), toDelete);
  }

  /** Lists topics, sorted by name (Metadata, any broker). */
  async listTopics(options?: topics.ListTopicsOptions & AdminCallOptions): Promise<topics.TopicListing[]> {
    return topics.listTopics(this.#call("listTopics", options), options);
  }

  /** Partitions, leaders, ISR, replicas and ids of topics (DescribeTopicPartitions with paging, any broker). */
  async describeTopics(
    names: string[],
    options?: topics.DescribeTopicsOptions & AdminCallOptions,
  ): Promise<topics.TopicDescription[]> {
    return topics.describeTopics(this.#call("describeTopics", options), names, options);
  }

  /** Raises topics' partition counts (CreatePartitions, controller). */
  async createPartitions(
    increases: topics.NewPartitions[],
    options?: topics.ValidateOnlyOptions & AdminCallOptions,
  ): Promise<topics.NewPartitions[]> {
    return topics.createPartitions(this.#call("createPartitions", options), increases, options);
  }

  // ── Configs ────────────────────────────────────────────────────────────────────────────

  /** Configs of topics, brokers, broker loggers, groups, client-metrics (DescribeConfigs; a broker's own on that broker). */
  async describeConfigs(
    resources: configs.DescribeConfigsResource[],
    options?: configs.DescribeConfigsOptions & AdminCallOptions,
  ): Promise<configs.ResourceConfigs[]> {
    return configs.describeConfigs(this.#call("describeConfigs", options), resources, options);
  }

  /** Sets, deletes, appends to or subtracts from configs (IncrementalAlterConfigs). */
  async incrementalAlterConfigs(
    changes: configs.IncrementalConfigChange[],
    options?: configs.AlterConfigsOptions & AdminCallOptions,
  ): Promise<configs.ConfigResource[]> {
    return configs.incrementalAlterConfigs(this.#call("incrementalAlterConfigs", options), changes, options);
  }

  /** Replaces the whole dynamic config set of resources (legacy AlterConfigs). */
  async alterConfigs(
    replacements: configs.ConfigReplacement[],
    options?: configs.AlterConfigsOptions & AdminCallOptions,
  ): Promise<configs.ConfigResource[]> {
    return configs.alterConfigs(this.#call("alterConfigs", options), replacements, options);
  }

  // ── Records and log dirs ───────────────────────────────────────────────────────────────

  /** Offsets by time: earliest, latest, max timestamp, or at a timestamp (ListOffsets, each leader). */
  async listOffsets(
    queries: records.OffsetQuery[],
    options?: records.ListOffsetsOptions & AdminCallOptions,
  ): Promise<records.PartitionOffset[]> {
    return records.listOffsets(this.#call("listOffsets", options), queries, options);
  }

  /** Deletes records before an offset (DeleteRecords, each leader); returns the new low watermarks. */
  async deleteRecords(
    items: records.DeleteRecordsRequestItem[],
    options?: AdminCallOptions,
  ): Promise<records.DeletedRecords[]> {
    return records.deleteRecords(this.#call("deleteRecords", options), items);
  }

  /** Log dirs of brokers with their replicas and sizes (DescribeLogDirs, each broker). */
  async describeLogDirs(options?: records.DescribeLogDirsOptions & AdminCallOptions): Promise<records.BrokerLogDirs[]> {
    return records.describeLogDirs(this.#call("describeLogDirs", options), options);
  }

  /** Moves replicas between log dirs of their broker (AlterReplicaLogDirs, each broker). */
  async alterReplicaLogDirs(
    moves: records.ReplicaLogDirMove[],
    options?: AdminCallOptions,
  ): Promise<records.ReplicaLogDirMove[]> {
    return records.alterReplicaLogDirs(this.#call("alterReplicaLogDirs", options), moves);
  }

  // ── Groups ─────────────────────────────────────────────────────────────────────────────

  /** Lists groups, filtered by state and type (ListGroups, every broker). */
  async listGroups(options?: groups.ListGroupsOptions & AdminCallOptions): Promise<groups.GroupListing[]> {
    return groups.listGroups(this.#call("listGroups", options), options);
  }

  /** Describes classic and KIP-848 groups (ConsumerGroupDescribe / DescribeGroups, coordinators). */
  async describeGroups(
    groupIds: string[],
    options?: groups.DescribeGroupsOptions & AdminCallOptions,
  ): Promise<groups.GroupDescription[]> {
    return groups.describeGroups(this.#call("describeGroups", options), groupIds, options);
  }

  /** Deletes empty groups and their offsets (DeleteGroups, coordinators). */
  async deleteGroups(groupIds: string[], options?: AdminCallOptions): Promise<string[]> {
    return groups.deleteGroups(this.#call("deleteGroups", options), groupIds);
  }

  /** Removes members from a group (LeaveGroup, coordinator). */
  async removeGroupMembers(
    groupId: string,
    members: groups.MemberToRemove[],
    options?: groups.RemoveMembersOptions & AdminCallOptions,
  ): Promise<groups.MemberToRemove[]> {
    return groups.removeGroupMembers(this.#call("removeGroupMembers", options), groupId, members, options);
  }

  /** A group's committed offsets (OffsetFetch, coordinator). */
  async listGroupOffsets(
    groupId: string,
    options?: offsets.ListGroupOffsetsOptions & AdminCallOptions,
  ): Promise<offsets.CommittedOffset[]> {
    return offsets.listGroupOffsets(this.#call("listGroupOffsets", options), groupId, options);
  }

  /** Commits explicit offsets for a group with no active members (OffsetCommit, coordinator). */
  async alterGroupOffsets(
    groupId: string,
    toCommit: offsets.OffsetToCommit[],
    options?: AdminCallOptions,
  ): Promise<offsets.OffsetToCommit[]> {
    return offsets.alterGroupOffsets(this.#call("alterGroupOffsets", options), groupId, toCommit);
  }

  /** Resets a group's offsets to earliest, latest or a timestamp (ListOffsets then OffsetCommit). */
  async resetGroupOffsets(
    groupId: string,
    targets: offsets.ResetTarget[],
    to: offsets.ResetSpec,
    options?: AdminCallOptions,
  ): Promise<offsets.OffsetToCommit[]> {
    return offsets.resetGroupOffsets(this.#call("resetGroupOffsets", options), groupId, targets, to);
  }

  /** Forgets a group's committed offsets for partitions (OffsetDelete, coordinator). */
  async deleteGroupOffsets(
    groupId: string,
    partitions: TopicPartition[],
    options?: AdminCallOptions,
  ): Promise<TopicPartition[]> {
    return offsets.deleteGroupOffsets(this.#call("deleteGroupOffsets", options), groupId, partitions);
  }

  /** Lag per partition: committed offset against the end offset (OffsetFetch + ListOffsets). */
  async listGroupLag(
    groupId: string,
    options?: offsets.GroupLagOptions & AdminCallOptions,
  ): Promise<offsets.PartitionLag[]> {
    return offsets.listGroupLag(this.#call("listGroupLag", options), groupId, options);
  }

  // ── ACLs ───────────────────────────────────────────────────────────────────────────────

  /** ACLs matching a filter (DescribeAcls, any broker). */
  async describeAcls(filter?: acls.AclFilter, options?: AdminCallOptions): Promise<acls.DescribedAcl[]> {
    return acls.describeAcls(this.#call("describeAcls", options), filter);
  }

  /** Creates ACLs (CreateAcls, any broker). */
  async createAcls(bindings: acls.AclBinding[], options?: AdminCallOptions): Promise<Required<acls.AclBinding>[]> {
    return acls.createAcls(this.#call("createAcls", options), bindings);
  }

  /** Deletes the ACLs matching each filter (DeleteAcls, any broker). */
  async deleteAcls(filters: acls.AclFilter[], options?: AdminCallOptions): Promise<acls.DeleteAclsResult[]> {
    return acls.deleteAcls(this.#call("deleteAcls", options), filters);
  }

  // ── Quotas and SCRAM ───────────────────────────────────────────────────────────────────

  /** Cluster quotas matching a filter (DescribeClientQuotas, any broker). */
  async describeClientQuotas(
    options?: quotas.DescribeQuotasOptions & AdminCallOptions,
  ): Promise<quotas.EntityQuotas[]> {
    return quotas.describeClientQuotas(this.#call("describeClientQuotas", options), options);
  }

  /** Sets and removes client quotas (AlterClientQuotas, any broker). */
  async alterClientQuotas(
    alterations: quotas.QuotaAlteration[],
    options?: quotas.AlterQuotasOptions & AdminCallOptions,
  ): Promise<quotas.QuotaEntity[]> {
    return quotas.alterClientQuotas(this.#call("alterClientQuotas", options), alterations, options);
  }

  /** SCRAM mechanisms and iterations of users (DescribeUserScramCredentials, any broker). */
  async describeUserScramCredentials(
    users?: string[],
    options?: AdminCallOptions,
  ): Promise<quotas.UserScramCredentials[]> {
    return quotas.describeUserScramCredentials(this.#call("describeUserScramCredentials", options), users);
  }

  /** Creates or replaces SCRAM credentials (AlterUserScramCredentials, any broker). */
  async upsertUserScramCredentials(upsertions: quotas.ScramUpsertion[], options?: AdminCallOptions): Promise<string[]> {
    return quotas.upsertUserScramCredentials(this.#call("upsertUserScramCredentials", options), upsertions);
  }

  /** Deletes SCRAM credentials (AlterUserScramCredentials, any broker). */
  async deleteUserScramCredentials(deletions: quotas.ScramDeletion[], options?: AdminCallOptions): Promise<string[]> {
    return quotas.deleteUserScramCredentials(this.#call("deleteUserScramCredentials", options), deletions);
  }

  // ── Partition management ───────────────────────────────────────────────────────────────

  /** Starts (replica list) or cancels (null) reassignments (AlterPartitionReassignments, controller). */
  async alterPartitionReassignments(
    reassignments: partitions.PartitionReassignment[],
    options?: partitions.AlterReassignmentsOptions & AdminCallOptions,
  ): Promise<partitions.PartitionReassignment[]> {
    return partitions.alterPartitionReassignments(
      this.#call("alterPartitionReassignments", options),
      reassignments,
      options,
    );
  }

  /** Reassignments in progress (ListPartitionReassignments, controller). */
  async listPartitionReassignments(
    only?: TopicPartition[],
    options?: AdminCallOptions,
  ): Promise<partitions.OngoingReassignment[]> {
    return partitions.listPartitionReassignments(this.#call("listPartitionReassignments", options), only);
  }

  /** Elects preferred or unclean leaders (ElectLeaders, controller); all eligible partitions when none are given. */
  async electLeaders(
    type: partitions.ElectionType,
    only?: TopicPartition[],
    options?: AdminCallOptions,
  ): Promise<partitions.ElectionResult[]> {
    return partitions.electLeaders(this.#call("electLeaders", options), type, only);
  }

  // ── Transactions and producers ─────────────────────────────────────────────────────────

  /** Lists transactions (ListTransactions, every broker). */
  async listTransactions(
    options?: transactions.ListTransactionsOptions & AdminCallOptions,
  ): Promise<transactions.TransactionListing[]> {
    return transactions.listTransactions(this.#call("listTransactions", options), options);
  }

  /** Describes transactions (DescribeTransactions, transaction coordinators). */
  async describeTransactions(
    transactionalIds: string[],
    options?: AdminCallOptions,
  ): Promise<transactions.TransactionDescription[]> {
    return transactions.describeTransactions(this.#call("describeTransactions", options), transactionalIds);
  }

  /** Producers with state on partitions (DescribeProducers, each leader). */
  async describeProducers(
    only: TopicPartition[],
    options?: AdminCallOptions,
  ): Promise<transactions.PartitionProducers[]> {
    return transactions.describeProducers(this.#call("describeProducers", options), only);
  }

  /** Fences the producers of transactional ids (InitProducerId, transaction coordinators). */
  async fenceProducers(
    transactionalIds: string[],
    options?: transactions.FenceProducersOptions & AdminCallOptions,
  ): Promise<transactions.FencedProducer[]> {
    return transactions.fenceProducers(this.#call("fenceProducers", options), transactionalIds, options);
  }

  // ── Delegation tokens ──────────────────────────────────────────────────────────────────

  /** Creates a delegation token (CreateDelegationToken, any broker; needs a SASL connection). */
  async createDelegationToken(options?: tokens.CreateTokenOptions & AdminCallOptions): Promise<tokens.DelegationToken> {
    return tokens.createDelegationToken(this.#call("createDelegationToken", options), options);
  }

  /** Renews a delegation token (RenewDelegationToken, any broker). */
  async renewDelegationToken(
    hmac: Buffer,
    options?: { renewPeriodMs?: number } & AdminCallOptions,
  ): Promise<{ expiryTimestamp: number }> {
    return tokens.renewDelegationToken(this.#call("renewDelegationToken", options), hmac, options?.renewPeriodMs);
  }

  /** Expires a delegation token now or after a period (ExpireDelegationToken, any broker). */
  async expireDelegationToken(
    hmac: Buffer,
    options?: { expiryTimePeriodMs?: number } & AdminCallOptions,
  ): Promise<{ expiryTimestamp: number }> {
    return tokens.expireDelegationToken(
      this.#call("expireDelegationToken", options),
      hmac,
      options?.expiryTimePeriodMs,
    );
  }

  /** Describes delegation tokens (DescribeDelegationToken, any broker). */
  async describeDelegationTokens(
    options?: tokens.DescribeTokensOptions & AdminCallOptions,
  ): Promise<tokens.DelegationToken[]> {
    return tokens.describeDelegationTokens(this.#call("describeDelegationTokens", options), options);
  }
}
