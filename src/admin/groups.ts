/**
 * Groups: list (ListGroups on every broker, since each lists only the groups it coordinates),
 * describe (ConsumerGroupDescribe for KIP-848 groups, DescribeGroups for classic ones), delete
 * (DeleteGroups) and remove members (LeaveGroup), each sent to the group's coordinator.
 * Committed offsets and lag live in group-offsets.ts.
 */

import { ErrorCode } from "../protocol/error-table.js";
import { InvalidArgumentError } from "../protocol/errors.js";
import { kafkaError } from "../protocol/kafka-error.js";
import {
  ConsumerGroupDescribe,
  type ConsumerGroupDescribeResponseDescribedGroup,
  type ConsumerGroupDescribeResponseMember,
  DeleteGroups,
  DescribeGroups,
  type DescribeGroupsResponseDescribedGroup,
  decodeConsumerProtocolAssignment,
  LeaveGroup,
  ListGroups,
} from "../protocol/messages/index.js";
import { Reader } from "../protocol/primitives/reader.js";
import { type AclOperation, decodeAclOperations } from "./acls.js";
import { failAll, keyedOutcomes, matchOutcomes, outcomeOf } from "./outcomes.js";
import type { AdminCall, ItemOutcome } from "./routing.js";
import {
  checkArray,
  checkEach,
  checkIds,
  checkNonEmpty,
  checkStrings,
  checkUnique,
  defineOperation,
} from "./validate.js";

/** Group protocol families (KIP-848 `consumer`, the older `classic`, KIP-932 `share`, KIP-1071 `streams`). */
export type GroupType = "classic" | "consumer" | "share" | "streams";

/** Options of {@link listGroups}. */
export interface ListGroupsOptions {
  /** Only groups in these states (e.g. `Stable`, `Empty`; Kafka matches case-insensitively). */
  states?: string[];
  /** Only groups of these types (Kafka 3.8+ brokers). */
  types?: GroupType[];
}

/** A group as {@link listGroups} lists it. */
export interface GroupListing {
  groupId: string;
  /** `consumer` for consumer groups of either protocol, `connect`, …; "" for KIP-848 groups with no classic members. */
  protocolType: string;
  /** E.g. `Stable`; "" from brokers older than 2.6. */
  state: string;
  /** E.g. `consumer`, `classic`; "" from brokers older than 3.8. */
  type: string;
  /** Broker id of the group's coordinator. */
  coordinator: number;
}

/** Partitions of one topic. */
export interface TopicPartitions {
  topic: string;
  partitions: number[];
}

/** A member of a described group. */
export interface GroupMember {
  memberId: string;
  /** Static membership id (KIP-345), or null. */
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  /** Partitions the member owns (decoded from the classic consumer protocol when it is used). */
  assignment: TopicPartitions[];
  /** KIP-848: the partitions the member is moving towards. */
  targetAssignment?: TopicPartitions[];
  /** KIP-848: the member's epoch. */
  memberEpoch?: number;
  /** KIP-848: subscribed topic names and regex. */
  subscribedTopics?: string[];
  subscribedTopicRegex?: string | null;
  /** KIP-848: rack of the member. */
  rackId?: string | null;
  /** KIP-848 groups: whether the member speaks the classic protocol (mixed groups) or the new one. */
  memberType?: "classic" | "consumer" | "unknown";
  /** Classic groups: the member's raw protocol metadata and assignment, for non-consumer protocols. */
  memberMetadata?: Buffer;
  memberAssignment?: Buffer;
}

/** A described group. */
export interface GroupDescription {
  groupId: string;
  /** `consumer` for KIP-848 groups, `classic` for the rest. */
  type: "classic" | "consumer";
  /** E.g. `Stable`, `Empty`, `PreparingRebalance`, `Reconciling`. */
  state: string;
  /** Classic: the protocol type (`consumer`, `connect`…); KIP-848: `consumer`. */
  protocolType: string;
  /** Classic: the chosen protocol (e.g. the assignor `range`); KIP-848: the server-side assignor. */
  protocol: string;
  /** KIP-848: group epoch and assignment epoch. */
  groupEpoch?: number;
  assignmentEpoch?: number;
  members: GroupMember[];
  /** Broker id of the coordinator that answered. */
  coordinator: number;
  /** With `includeAuthorizedOperations`: what the caller may do with the group. */
  authorizedOperations?: AclOperation[];
}

/** Options of {@link describeGroups}. */
export interface DescribeGroupsOptions {
  /** Ask which operations the caller may perform on each group. Default false. */
  includeAuthorizedOperations?: boolean;
}

/** A member to remove from a group: by member id (dynamic members) or by static instance id. */
export type MemberToRemove = { memberId: string } | { groupInstanceId: string };

/** Options of {@link removeGroupMembers}. */
export interface RemoveMembersOptions {
  /** Why, for the broker's log (KIP-800). */
  reason?: string;
}

const GROUP_TYPES: readonly GroupType[] = ["classic", "consumer", "share", "streams"];

/** ListGroups on every broker, merged and sorted by group id. */
export async function listGroups(call: AdminCall, options: ListGroupsOptions = {}): Promise<GroupListing[]> {
  const states = options.states === undefined ? [] : checkStrings("states", options.states);
  const types =
    options.types === undefined
      ? []
      : checkArray<GroupType>("types", options.types).map((t, i) => {
          if (!GROUP_TYPES.includes(t)) {
            throw new InvalidArgumentError(`types[${i}]`, `must be one of ${GROUP_TYPES.join(", ")}; got ${String(t)}`);
          }
          return t;
        });
  const perBroker = await call.toEachBroker(ListGroups, await call.brokerIds(), async (connection, nodeId) => {
    const version = connection.versionFor(ListGroups);
    // Filtering on a broker that cannot would list groups the caller excluded.
    if ((states.length > 0 && version < 4) || (types.length > 0 && version < 5)) {
      throw new InvalidArgumentError(
        states.length > 0 && version < 4 ? "states" : "types",
        `broker ${nodeId} cannot filter by it (ListGroups v${version})`,
      );
    }
    const response = await call.send(connection, ListGroups, { statesFilter: states, typesFilter: types });
    return outcomeOf(response.errorCode, null, () =>
      response.groups.map((g) => ({
        groupId: g.groupId,
        protocolType: g.protocolType,
        state: g.groupState,
        type: g.groupType,
        coordinator: nodeId,
      })),
    );
  });
  return perBroker.flat().sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0));
}

function topicPartitions(list: readonly { topicName: string; partitions: number[] }[]): TopicPartitions[] {
  return list.map((t) => ({ topic: t.topicName, partitions: [...t.partitions].sort((a, b) => a - b) }));
}

function consumerMember(m: ConsumerGroupDescribeResponseMember): GroupMember {
  return {
    memberId: m.memberId,
    groupInstanceId: m.instanceId,
    clientId: m.clientId,
    clientHost: m.clientHost,
    assignment: topicPartitions(m.assignment.topicPartitions),
    targetAssignment: topicPartitions(m.targetAssignment.topicPartitions),
    memberEpoch: m.memberEpoch,
    subscribedTopics: m.subscribedTopicNames,
    subscribedTopicRegex: m.subscribedTopicRegex,
    rackId: m.rackId,
    memberType: m.memberType === 0 ? "classic" : m.memberType === 1 ? "consumer" : "unknown",
  };
}

/** The partitions in a classic consumer-protocol assignment (int16 version, then the struct). */
function decodeAssignment(bytes: Buffer): TopicPartitions[] | undefined {
  if (bytes.length < 2) return [];
  try {
    const r = new Reader(bytes);
    const version = Math.min(r.int16("version"), 3); // newer versions only append fields
    return decodeConsumerProtocolAssignment(r, version).assignedPartitions.map((p) => ({
      topic: p.topic,
      partitions: [...p.partitions].sort((a, b) => a - b),
    }));
  } catch {
    return undefined; // not the consumer protocol after all: the raw bytes stay available
  }
}

/** A described group: what both describe APIs report, around what is particular to each. */
function describedGroup(
  g: { groupId: string; groupState: string; authorizedOperations: number },
  coordinator: number,
  own: Omit<GroupDescription, "groupId" | "state" | "coordinator" | "authorizedOperations">,
): GroupDescription {
  const authorizedOperations = decodeAclOperations(g.authorizedOperations);
  return {
    groupId: g.groupId,
    state: g.groupState,
    ...own,
    coordinator,
    ...(authorizedOperations ? { authorizedOperations } : {}),
  };
}

function consumerGroup(g: ConsumerGroupDescribeResponseDescribedGroup, coordinator: number): GroupDescription {
  return describedGroup(g, coordinator, {
    type: "consumer",
    protocolType: "consumer",
    protocol: g.assignorName,
    groupEpoch: g.groupEpoch,
    assignmentEpoch: g.assignmentEpoch,
    members: g.members.map(consumerMember),
  });
}

function classicGroup(g: DescribeGroupsResponseDescribedGroup, coordinator: number): GroupDescription {
  return describedGroup(g, coordinator, {
    type: "classic",
    protocolType: g.protocolType,
    protocol: g.protocolData,
    members: g.members.map((m) => {
      const assignment = g.protocolType === "consumer" ? decodeAssignment(m.memberAssignment) : undefined;
      return {
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        assignment: assignment ?? [],
        memberMetadata: m.memberMetadata,
        memberAssignment: m.memberAssignment,
      };
    }),
  });
}

/**
 * Describes groups on their coordinators: ConsumerGroupDescribe first, then DescribeGroups for
 * the ids it does not know as KIP-848 groups (GROUP_ID_NOT_FOUND there means "not a consumer
 * group", which a classic group is not). A group that exists in neither form fails with
 * GROUP_ID_NOT_FOUND (Kafka 4.0+; older brokers describe it as state `Dead`).
 */
export const describeGroups = defineOperation({
  ids: "groupIds",
  run: async (call, ids, options: DescribeGroupsOptions): Promise<GroupDescription[]> => {
    const includeAuthorizedOperations = options.includeAuthorizedOperations === true;
    return call.toCoordinators("group", ConsumerGroupDescribe, ids, async (connection, nodeId, indices) => {
      let out = new Map<number, ItemOutcome<GroupDescription>>();
      let classic = indices;
      let supportsConsumer = true;
      try {
        connection.versionFor(ConsumerGroupDescribe);
      } catch {
        supportsConsumer = false;
      }
      if (supportsConsumer) {
        const response = await call.send(connection, ConsumerGroupDescribe, {
          groupIds: indices.map((i) => ids[i]!),
          includeAuthorizedOperations,
        });
        const byId = new Map(response.groups.map((g) => [g.groupId, g]));
        const isConsumer = (i: number) =>
          (byId.get(ids[i]!)?.errorCode ?? ErrorCode.GROUP_ID_NOT_FOUND) !== ErrorCode.GROUP_ID_NOT_FOUND;
        classic = indices.filter((i) => !isConsumer(i));
        out = matchOutcomes(
          indices.filter(isConsumer),
          (i) => byId.get(ids[i]!),
          (g) => consumerGroup(g, nodeId),
        );
      }
      if (classic.length > 0) {
        const response = await call.send(connection, DescribeGroups, {
          groups: classic.map((i) => ids[i]!),
          includeAuthorizedOperations,
        });
        const byId = new Map(response.groups.map((g) => [g.groupId, g]));
        const described = matchOutcomes(
          classic,
          (i) => byId.get(ids[i]!),
          (g) => classicGroup(g, nodeId),
        );
        for (const [i, outcome] of described) out.set(i, outcome);
      }
      return out;
    });
  },
});

/** DeleteGroups on each group's coordinator. Only empty groups can be deleted (NON_EMPTY_GROUP). */
export async function deleteGroups(call: AdminCall, groupIds: readonly string[]): Promise<string[]> {
  const ids = checkIds("groupIds", groupIds);
  return call.toCoordinators("group", DeleteGroups, ids, async (connection, _nodeId, indices) => {
    const response = await call.send(connection, DeleteGroups, { groupsNames: indices.map((i) => ids[i]!) });
    return keyedOutcomes(indices, ids, response.results, (r) => r.groupId);
  });
}

/**
 * LeaveGroup (v3+, batch) on the group's coordinator on behalf of the given members; the
 * group rebalances without them. Returns the members in input order.
 */
export async function removeGroupMembers(
  call: AdminCall,
  groupId: string,
  members: readonly MemberToRemove[],
  options: RemoveMembersOptions = {},
): Promise<MemberToRemove[]> {
  const group = checkNonEmpty("groupId", groupId);
  const list = checkEach("members", members, (o, at) => {
    if ((o.memberId === undefined) === (o.groupInstanceId === undefined)) {
      throw new InvalidArgumentError(at, "must have exactly one of memberId and groupInstanceId");
    }
    return o.memberId !== undefined
      ? { memberId: checkNonEmpty(`${at}.memberId`, o.memberId), groupInstanceId: null }
      : { memberId: "", groupInstanceId: checkNonEmpty(`${at}.groupInstanceId`, o.groupInstanceId) };
  });
  const labels = list.map((m) =>
    m.groupInstanceId !== null ? `instance ${m.groupInstanceId}` : `member ${m.memberId}`,
  );
  checkUnique("members", labels);
  const reason = options.reason === undefined ? null : checkNonEmpty("reason", options.reason);
  return call.retryItems(
    labels,
    async (pending) => {
      const { connection } = await call.coordinator("group", group, LeaveGroup);
      if (connection.versionFor(LeaveGroup) < 3) {
        throw new InvalidArgumentError("members", "removing members needs LeaveGroup v3+ (Kafka 2.4+)");
      }
      const response = await call.send(connection, LeaveGroup, {
        groupId: group,
        memberId: "",
        members: pending.map((i) => ({ ...(list[i] as (typeof list)[number]), reason })),
      });
      // A group-level error (e.g. NOT_COORDINATOR) concerns every member of the request.
      if (response.errorCode !== 0) return failAll(pending, { error: kafkaError(response.errorCode) });
      return matchOutcomes(
        pending,
        (i) => {
          const m = list[i]!;
          return response.members.find((x) =>
            m.groupInstanceId !== null ? x.groupInstanceId === m.groupInstanceId : x.memberId === m.memberId,
          );
        },
        (_, i): MemberToRemove => {
          const m = list[i]!;
          return m.groupInstanceId !== null ? { groupInstanceId: m.groupInstanceId } : { memberId: m.memberId };
        },
      );
    },
    () => ({ type: "group", key: group }),
  );
}
