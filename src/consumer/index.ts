/**
 * samsa's consumer: group-managed (KIP-848 or classic) or assigned partitions, fetch
 * sessions, prefetch with a byte bound, lazy decoding, commits. Make one with
 * `client.consumer(options)` or `new Consumer(client, options)`; docs/consumer.md has examples.
 */
export type {
  AssignedPartition,
  CommitOffset,
  ConsumerLag,
  ConsumerStats,
  ReadOptions,
  RebalanceListener,
  SeekTarget,
} from "./api.js";
export { Consumer } from "./consumer.js";
export {
  DeserializationError,
  FetchError,
  IllegalTransitionError,
  LogTruncationError,
  NoOffsetForPartitionError,
  OffsetOutOfRangeError,
  UnknownTopicError,
} from "./errors.js";
export type { FetcherStats } from "./fetcher.js";
export {
  type AssignmentInput,
  type Assignor,
  type AssignorMember,
  cooperativeStickyAssignor,
  rangeAssignor,
  roundRobinAssignor,
} from "./group/assignors.js";
export { Message, type MessageBatch, type MessageOrigin } from "./message.js";
export type {
  AutoOffsetReset,
  ConsumerOptions,
  Deserializer,
  GroupProtocol,
  IsolationLevel,
  ResolvedConsumerOptions,
} from "./options.js";
// TopicPartition is the network layer's (src/network/metadata.ts), exported at the root via admin.
export type { TopicPartitionOffset } from "./partition.js";
