/**
 * What a transaction's offset commit names (KIP-447): the group member (Java's
 * `ConsumerGroupMetadata`) and the offsets, given as a literal or read from a consumer through
 * a structural interface, so that the producer layer does not import the consumer layer; and
 * the checks of `sendOffsets` arguments.
 */
import { InvalidArgumentError } from "../protocol/errors.js";

/**
 * A consumer group member as a transaction's offset commit names it: what Java's
 * `ConsumerGroupMetadata` holds. With generation and member id the group coordinator refuses
 * the commit of a member that was fenced by a rebalance (a zombie). Only `groupId` is needed
 * for a consumer that assigns its partitions itself.
 */
export interface ConsumerGroupMetadata {
  groupId: string;
  /** The classic group's generation or the KIP-848 member epoch; default -1 (not checked). */
  generationIdOrMemberEpoch?: number;
  /** Default "" (not checked). */
  memberId?: string;
  /** The static member's instance id; default null. */
  groupInstanceId?: string | null;
}

/** One offset to commit in a transaction: the next offset to consume (last processed + 1). */
export interface TransactionOffset {
  topic: string;
  partition: number;
  offset: bigint | number;
  /** Leader epoch of the last consumed record; default -1 (unknown). */
  leaderEpoch?: number;
  metadata?: string | null;
}

/**
 * What `sendOffsets(consumer)` reads of a consumer. A samsa `Consumer` is one; the interface is
 * structural so that the producer layer does not import the consumer layer.
 */
export interface TransactionOffsetsSource {
  /** The member as the group coordinator knows it now (KIP-447): checked at commit. */
  groupMetadata(): ConsumerGroupMetadata;
  /** The offsets to commit: each assigned partition's next record to hand out. */
  transactionOffsets(): TransactionOffset[];
}

/**
 * `sendOffsets`' two forms as group metadata and offsets: `(groupMetadata, offsets)`, or
 * `(consumer[, offsets])` where the consumer names its member and, without `offsets`, its
 * positions. Returns undefined when a consumer has no position to commit (nothing consumed yet).
 */
export function resolveOffsets(
  groupOrConsumer: ConsumerGroupMetadata | TransactionOffsetsSource,
  offsets: readonly TransactionOffset[] | undefined,
): { group: ConsumerGroupMetadata; offsets: readonly TransactionOffset[] } | undefined {
  if (isOffsetsSource(groupOrConsumer)) {
    const group = groupOrConsumer.groupMetadata();
    const resolved = offsets ?? groupOrConsumer.transactionOffsets();
    if (offsets === undefined && resolved.length === 0) return undefined;
    checkOffsets(group, resolved);
    return { group, offsets: resolved };
  }
  if (offsets === undefined) {
    throw new InvalidArgumentError("offsets", "must be given with groupMetadata (or pass the consumer itself)");
  }
  checkOffsets(groupOrConsumer, offsets);
  return { group: groupOrConsumer, offsets };
}

function isOffsetsSource(x: unknown): x is TransactionOffsetsSource {
  return (
    x !== null &&
    typeof x === "object" &&
    typeof (x as TransactionOffsetsSource).groupMetadata === "function" &&
    typeof (x as TransactionOffsetsSource).transactionOffsets === "function"
  );
}

/** Checks `sendOffsets` arguments, naming the field that is wrong. */
export function checkOffsets(group: ConsumerGroupMetadata, offsets: readonly TransactionOffset[]): void {
  if (group === null || typeof group !== "object") throw new InvalidArgumentError("groupMetadata", "must be an object");
  if (typeof group.groupId !== "string" || group.groupId === "") {
    throw new InvalidArgumentError("groupMetadata.groupId", "must be a non-empty string");
  }
  const g = group.generationIdOrMemberEpoch;
  if (g !== undefined && !Number.isInteger(g)) {
    throw new InvalidArgumentError("groupMetadata.generationIdOrMemberEpoch", "must be an integer");
  }
  if (group.memberId !== undefined && typeof group.memberId !== "string") {
    throw new InvalidArgumentError("groupMetadata.memberId", "must be a string");
  }
  if (!Array.isArray(offsets) || offsets.length === 0) {
    throw new InvalidArgumentError("offsets", "must be a non-empty array of { topic, partition, offset }");
  }
  offsets.forEach((o, i) => {
    if (o === null || typeof o !== "object" || typeof o.topic !== "string" || o.topic === "") {
      throw new InvalidArgumentError(`offsets[${i}].topic`, "must be a non-empty string");
    }
    if (!Number.isInteger(o.partition) || o.partition < 0) {
      throw new InvalidArgumentError(`offsets[${i}].partition`, "must be a non-negative integer");
    }
    const ok =
      typeof o.offset === "bigint" ? o.offset >= 0n : Number.isSafeInteger(o.offset) && (o.offset as number) >= 0;
    if (!ok)
      throw new InvalidArgumentError(`offsets[${i}].offset`, "must be a non-negative integer (bigint or number)");
  });
}
