/**
 * KIP-320 truncation detection: after a partition's leader changes, the consumer asks the new
 * leader (OffsetForLeaderEpoch) where the epoch of the last fetched batch ends in its log. An
 * end before the fetch position means the log was truncated under us (an unclean leader
 * election): data past it was never committed by the cluster. Prefetched data is then dropped,
 * and a position already handed out past the end moves back (or, with autoOffsetReset "none",
 * the partition stops with LogTruncationError), as the Java consumer does.
 */
import type { Cluster } from "../network/cluster.js";
import { isRetriable, needsMetadataRefresh } from "../network/retry.js";
import { ErrorCode } from "../protocol/error-table.js";
import { kafkaError } from "../protocol/kafka-error.js";
import { OffsetForLeaderEpoch } from "../protocol/messages/index.js";
import type { PartitionState } from "./partition.js";

/** What a validation needs from the fetcher. */
export interface ValidationHost {
  client: Cluster;
  retryBackoffMs: number;
  signal: AbortSignal;
  /** The leader's log ends at `endOffset` for the fetched epoch, before the fetch position. */
  truncated(state: PartitionState, endOffset: bigint): void;
  /** The leader no longer knows the epoch (log start moved past it): reset as out of range. */
  outOfRange(state: PartitionState): void;
  /** Metadata looks stale: refresh it. */
  refreshMetadata(): void;
  /** The partition may be fetched again. */
  done(): void;
  /** Counts validations, for stats. */
  count(): void;
}

/** Checks `state` against the log of `leaderId` at `leaderEpoch`; see the module comment. */
export async function validatePosition(
  host: ValidationHost,
  state: PartitionState,
  leaderId: number,
  leaderEpoch: number,
): Promise<void> {
  state.validationStarted();
  host.count();
  const generation = state.generation;
  const fetchOffset = state.fetchOffset;
  try {
    const connection = await host.client.connection(leaderId, { api: OffsetForLeaderEpoch }, host.signal);
    const response = await connection.request(
      OffsetForLeaderEpoch,
      {
        replicaId: -1,
        topics: [
          {
            topic: state.topic,
            partitions: [
              { partition: state.partition, currentLeaderEpoch: leaderEpoch, leaderEpoch: state.fetchedEpoch },
            ],
          },
        ],
      },
      { signal: host.signal },
    );
    const answer = response.topics[0]?.partitions[0];
    // The position moved meanwhile (seek, reset, revoke): the answer is about a place it left.
    if (!answer || state.generation !== generation || state.fetchOffset !== fetchOffset || fetchOffset === undefined) {
      state.acceptLeader(leaderEpoch);
      return;
    }
    if (answer.errorCode !== ErrorCode.NONE) {
      const error = kafkaError(answer.errorCode);
      // The leader moved again (or is unknown): the next attempt needs fresh metadata.
      if (needsMetadataRefresh(error)) host.refreshMetadata();
      // Retried on a later round (the leader epoch stays unvalidated); anything else: carry on.
      if (isRetriable(error)) state.backOffUntil(Date.now() + host.retryBackoffMs);
      else state.acceptLeader(leaderEpoch);
      return;
    }
    state.acceptLeader(leaderEpoch);
    if (answer.endOffset < 0n || answer.leaderEpoch < 0) host.outOfRange(state);
    else if (answer.endOffset < fetchOffset) host.truncated(state, answer.endOffset);
  } catch {
    state.backOffUntil(Date.now() + host.retryBackoffMs);
  } finally {
    state.validationEnded();
    host.done();
  }
}
