/**
 * Partition placement, decided by the controller: start or cancel replica reassignments
 * (AlterPartitionReassignments), list the ones in progress (ListPartitionReassignments) and
 * elect leaders, preferred or unclean (ElectLeaders).
 */

import { ErrorCode } from "../protocol/error-table.js";
import { InvalidArgumentError } from "../protocol/errors.js";
import { kafkaError } from "../protocol/kafka-error.js";
import {
  AlterPartitionReassignments,
  ElectLeaders,
  type ElectLeadersResponse,
  ListPartitionReassignments,
} from "../protocol/messages/index.js";
import { groupByTopic, partitionLabel, partitionOutcomes, topicPartitionIndexes, valuesOf } from "./outcomes.js";
import type { AdminCall, ItemOutcome } from "./routing.js";
import { checkArray, checkInt, checkOneOf, checkPartition, checkUnique, defineOperation } from "./validate.js";

/** A reassignment to start (`replicas`: the new replica list, preferred leader first) or cancel (`null`). */
export interface PartitionReassignment {
  topic: string;
  partition: number;
  replicas: number[] | null;
}

/** Options of {@link alterPartitionReassignments}. */
export interface AlterReassignmentsOptions {
  /** Let a reassignment change the number of replicas (KIP-860, Kafka 4.1+). Default true, as before KIP-860. */
  allowReplicationFactorChange?: boolean;
}

/** A reassignment in progress. */
export interface OngoingReassignment {
  topic: string;
  partition: number;
  /** Current replica set (old and new replicas while moving). */
  replicas: number[];
  addingReplicas: number[];
  removingReplicas: number[];
}

/** Which leader to elect: the first replica of the list (`preferred`) or any live one, even out of sync (`unclean`). */
export type ElectionType = "preferred" | "unclean";

/** The result of an election for one partition. */
export interface ElectionResult {
  topic: string;
  partition: number;
  /**
   * False when no election was needed (the preferred leader already leads, or an in-sync
   * leader exists for an unclean election). Kafka reports that as ELECTION_NOT_NEEDED, which
   * samsa treats as success: it is the state the caller asked for.
   */
  elected: boolean;
}

function sortPartitions<T extends { topic: string; partition: number }>(list: T[]): T[] {
  return list.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
}

/** AlterPartitionReassignments on the controller. Returns the requests in input order. */
export const alterPartitionReassignments = defineOperation({
  argument: "reassignments",
  each: (o, at) => {
    if (o.replicas === undefined)
      throw new InvalidArgumentError(`${at}.replicas`, "must be a broker id list, or null to cancel");
    const replicas =
      o.replicas === null
        ? null
        : checkArray<unknown>(`${at}.replicas`, o.replicas).map((b, j) => checkInt(`${at}.replicas[${j}]`, b, 0));
    if (replicas) checkUnique(`${at}.replicas`, replicas.map(String));
    return { ...checkPartition(at, o), replicas };
  },
  run: async (call, list, options: AlterReassignmentsOptions): Promise<PartitionReassignment[]> => {
    const labels = list.map((r) => partitionLabel(r.topic, r.partition));
    checkUnique("reassignments", labels);
    const allowReplicationFactorChange = options.allowReplicationFactorChange !== false;
    return call.retryItems(labels, async (pending) => {
      const connection = await call.controller(AlterPartitionReassignments);
      if (!allowReplicationFactorChange && connection.versionFor(AlterPartitionReassignments) < 1) {
        throw new InvalidArgumentError(
          "allowReplicationFactorChange",
          "false needs AlterPartitionReassignments v1 (Kafka 4.1+)",
        );
      }
      const response = await call.send(
        connection,
        AlterPartitionReassignments,
        {
          timeoutMs: call.serverTimeoutMs(),
          allowReplicationFactorChange,
          topics: [...groupByTopic(pending.map((i) => list[i]!))].map(([name, rs]) => ({
            name,
            partitions: rs.map((r) => ({ partitionIndex: r.partition, replicas: r.replicas })),
          })),
        },
        true,
      );
      if (response.errorCode !== 0) throw kafkaError(response.errorCode, response.errorMessage);
      return partitionOutcomes(pending, labels, response.responses, (_, i) => list[i]!);
    });
  },
});

/** ListPartitionReassignments on the controller: those in progress, optionally only among `partitions`. */
export async function listPartitionReassignments(
  call: AdminCall,
  partitions?: readonly { topic: string; partition: number }[],
): Promise<OngoingReassignment[]> {
  const list =
    partitions === undefined
      ? undefined
      : checkArray<unknown>("partitions", partitions).map((p, i) => checkPartition(`partitions[${i}]`, p));
  if (list) {
    checkUnique(
      "partitions",
      list.map((p) => partitionLabel(p.topic, p.partition)),
    );
  }
  return call.retry(async () => {
    const response = await call.sendToController(
      ListPartitionReassignments,
      { timeoutMs: call.serverTimeoutMs(), topics: list ? topicPartitionIndexes(list) : null },
      true,
    );
    if (response.errorCode !== 0) throw kafkaError(response.errorCode, response.errorMessage);
    return sortPartitions(
      response.topics.flatMap((t) =>
        t.partitions.map((p) => ({
          topic: t.name,
          partition: p.partitionIndex,
          replicas: p.replicas,
          addingReplicas: p.addingReplicas,
          removingReplicas: p.removingReplicas,
        })),
      ),
    );
  });
}

/** Per-partition outcomes of an ElectLeaders response (ELECTION_NOT_NEEDED counts as done). */
function electionOutcomes(
  response: ElectLeadersResponse,
): { topic: string; partition: number; outcome: ItemOutcome<ElectionResult> }[] {
  return response.replicaElectionResults.flatMap((t) =>
    t.partitionResult.map((p) => {
      const notNeeded = p.errorCode === ErrorCode.ELECTION_NOT_NEEDED;
      const outcome: ItemOutcome<ElectionResult> =
        notNeeded || p.errorCode === 0
          ? { value: { topic: t.topic, partition: p.partitionId, elected: !notNeeded } }
          : { error: kafkaError(p.errorCode, p.errorMessage) };
      return { topic: t.topic, partition: p.partitionId, outcome };
    }),
  );
}

/**
 * ElectLeaders on the controller, for `partitions` (in input order) or, when left out, for
 * every partition whose leader is not the preferred one (sorted).
 */
export async function electLeaders(
  call: AdminCall,
  type: ElectionType,
  partitions?: readonly { topic: string; partition: number }[],
): Promise<ElectionResult[]> {
  const electionType = checkOneOf("type", type, ["preferred", "unclean"] as const) === "preferred" ? 0 : 1;
  const list =
    partitions === undefined
      ? undefined
      : checkArray<unknown>("partitions", partitions).map((p, i) => checkPartition(`partitions[${i}]`, p));
  const send = async (items: readonly { topic: string; partition: number }[] | undefined) => {
    const connection = await call.controller(ElectLeaders);
    if (electionType !== 0 && connection.versionFor(ElectLeaders) < 1) {
      throw new InvalidArgumentError("type", "unclean elections need ElectLeaders v1 (Kafka 2.4+)");
    }
    const topicPartitions = items
      ? topicPartitionIndexes(items).map((t) => ({ topic: t.name, partitions: t.partitionIndexes }))
      : null;
    const response = await call.send(
      connection,
      ElectLeaders,
      { electionType, topicPartitions, timeoutMs: call.serverTimeoutMs() },
      true,
    );
    if (response.errorCode !== 0) throw kafkaError(response.errorCode);
    return electionOutcomes(response);
  };
  if (!list) {
    // No input list: the controller picks the partitions, and the result has no input order.
    const outcomes = sortPartitions(await call.retry(() => send(undefined)));
    return valuesOf(
      call.operation,
      outcomes.map((o) => ({ item: partitionLabel(o.topic, o.partition), outcome: o.outcome })),
    );
  }
  const labels = list.map((p) => partitionLabel(p.topic, p.partition));
  checkUnique("partitions", labels);
  return call.retryItems(labels, async (pending) => {
    const outcomes = new Map(
      (await send(pending.map((i) => list[i] as (typeof list)[number]))).map((r) => [
        partitionLabel(r.topic, r.partition),
        r.outcome,
      ]),
    );
    return new Map(
      pending.flatMap((i) => {
        const o = outcomes.get(labels[i]!);
        return o ? [[i, o] as const] : [];
      }),
    );
  });
}
