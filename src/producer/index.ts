/**
 * samsa's producer: batching, compression, Java-compatible partitioning, idempotent delivery
 * and transactions. Make one with `client.producer(options)` or `new Producer(client, options)`.
 */

export type {
  CloseOptions,
  DeliveryCallback,
  ProducerRecord,
  ProducerStats,
  SendCallback,
  SendFunction,
  SendInput,
} from "./api.js";
export { RecordMetadata } from "./delivery.js";
export type { ProducerOptions, ResolvedProducerOptions, Serializer } from "./options.js";
export {
  type KeyBytes,
  murmur2,
  type Partitioner,
  type PartitionerContext,
  partitionForKey,
  roundRobinPartitioner,
  toPositive,
} from "./partitioner.js";
export { Producer } from "./producer.js";
export { Transaction, type TransactionOptions } from "./transaction.js";
export { isFatalTransactionError, type TransactionalOperation, type TransactionState } from "./transaction-manager.js";
export type { ConsumerGroupMetadata, TransactionOffset, TransactionOffsetsSource } from "./transaction-offsets.js";
