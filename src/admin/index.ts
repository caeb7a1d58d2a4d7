/**
 * samsa's admin client: `Admin` and the types of its operations' inputs and results. The
 * operations live one concern per file (topics.ts, configs.ts, groups.ts…); this index exports
 * only the public surface.
 */

export type {
  AclBinding,
  AclFilter,
  AclOperation,
  AclPatternType,
  AclPermission,
  AclResourceType,
  DeleteAclsResult,
  DescribedAcl,
} from "./acls.js";
export { Admin, type AdminOptions, type TopicPartition } from "./admin.js";
export type {
  ClusterBroker,
  ClusterDescription,
  DescribeClusterOptions,
  FeatureDescription,
  FeatureUpdate,
  FeatureUpgradeType,
  FinalizedFeature,
  SupportedFeature,
  UpdateFeaturesOptions,
} from "./cluster.js";
export type {
  AlterConfigsOptions,
  ConfigEntry,
  ConfigOperation,
  ConfigReplacement,
  ConfigResource,
  ConfigResourceType,
  ConfigSource,
  ConfigSynonym,
  ConfigType,
  DescribeConfigsOptions,
  DescribeConfigsResource,
  IncrementalConfigChange,
  ResourceConfigs,
} from "./configs.js";
export { type AdminItemFailure, AdminOperationError, AdminTimeoutError } from "./errors.js";
export type {
  CommittedOffset,
  GroupLagOptions,
  ListGroupOffsetsOptions,
  OffsetToCommit,
  PartitionLag,
  ResetSpec,
  ResetTarget,
} from "./group-offsets.js";
export type {
  DescribeGroupsOptions,
  GroupDescription,
  GroupListing,
  GroupMember,
  GroupType,
  ListGroupsOptions,
  MemberToRemove,
  RemoveMembersOptions,
  TopicPartitions,
} from "./groups.js";
export type {
  AlterReassignmentsOptions,
  ElectionResult,
  ElectionType,
  OngoingReassignment,
  PartitionReassignment,
} from "./partitions.js";
export type {
  AlterQuotasOptions,
  DescribeQuotasOptions,
  EntityQuotas,
  QuotaAlteration,
  QuotaEntity,
  QuotaFilterComponent,
  ScramDeletion,
  ScramMechanism,
  ScramUpsertion,
  UserScramCredentials,
} from "./quotas-scram.js";
export type {
  BrokerLogDirs,
  DeletedRecords,
  DeleteRecordsRequestItem,
  DescribeLogDirsOptions,
  ListOffsetsOptions,
  LogDirDescription,
  OffsetQuery,
  OffsetSpec,
  PartitionOffset,
  ReplicaInfo,
  ReplicaLogDirMove,
} from "./records.js";
export type { AdminCallOptions } from "./routing.js";
export type {
  CreateTokenOptions,
  DelegationToken,
  DescribeTokensOptions,
} from "./tokens.js";
export type {
  CreatedTopic,
  DeletedTopic,
  DescribeTopicsOptions,
  ListTopicsOptions,
  NewPartitions,
  NewTopic,
  PartitionDescription,
  TopicDescription,
  TopicListing,
  TopicToDelete,
  ValidateOnlyOptions,
} from "./topics.js";
export type {
  FencedProducer,
  FenceProducersOptions,
  ListTransactionsOptions,
  PartitionProducers,
  ProducerState,
  TransactionDescription,
  TransactionListing,
} from "./transactions.js";
