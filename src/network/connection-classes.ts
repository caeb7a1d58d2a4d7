/**
 * Which socket a request travels on. A broker answers each connection's requests strictly
 * in order, so a request the broker may hold (a Fetch long-poll, a JoinGroup waiting up to
 * the rebalance timeout, an admin call with a broker-side timeout) must never sit in front of
 * one that must be quick (a Heartbeat, a Metadata lookup, an offset commit). The caller names
 * the API; this table picks the latency class, and an owner splits the per-owner classes:
 *
 *   class     APIs                                             sockets per broker
 *   produce   Produce                                          one
 *   fetch     Fetch, ShareFetch (long-polls)                   one per consumer (owner)
 *   group     JoinGroup, SyncGroup, Heartbeat, LeaveGroup,     one per group member (owner)
 *             ConsumerGroupHeartbeat, Share/StreamsGroupHeartbeat
 *   slow      admin calls the broker holds up to their         one
 *             timeoutMs (CreateTopics, DeleteRecords, …)
 *   control   everything else (metadata, coordinators,         one
 *             commits, ApiVersions, describe calls)
 */
import type { ApiDefinition } from "../protocol/api.js";

/** A latency class; see the module comment. */
export type ConnectionClass = "produce" | "fetch" | "group" | "slow" | "control";

/**
 * Where a request goes: a class by name (for code that is not sending one API), or the API
 * itself and, for the per-owner classes, the owner (a consumer's or member's id) whose socket
 * it is. Without an owner a per-owner class shares one socket.
 */
export type ConnectionRoute =
  | ConnectionClass
  // biome-ignore lint/suspicious/noExplicitAny: any API definition routes the same way.
  | { readonly api: ApiDefinition<any, any>; readonly owner?: string };

/** API keys whose class is not `control`. */
const CLASS_BY_API_KEY: ReadonlyMap<number, ConnectionClass> = new Map<number, ConnectionClass>([
  [0, "produce"], // Produce
  [1, "fetch"], // Fetch: held up to maxWaitMs
  [78, "fetch"], // ShareFetch: held up to maxWaitMs
  [11, "group"], // JoinGroup: held up to the rebalance timeout
  [14, "group"], // SyncGroup: held until the leader's assignment arrives
  [12, "group"], // Heartbeat
  [13, "group"], // LeaveGroup
  [68, "group"], // ConsumerGroupHeartbeat (KIP-848)
  [76, "group"], // ShareGroupHeartbeat
  [88, "group"], // StreamsGroupHeartbeat
  [19, "slow"], // CreateTopics: waits up to timeoutMs for the topics to exist
  [20, "slow"], // DeleteTopics
  [21, "slow"], // DeleteRecords: waits for the low watermark on every replica
  [37, "slow"], // CreatePartitions
  [43, "slow"], // ElectLeaders
  [45, "slow"], // AlterPartitionReassignments
  [34, "slow"], // AlterReplicaLogDirs
]);

/** The latency class of an API key. */
export function connectionClassOf(apiKey: number): ConnectionClass {
  return CLASS_BY_API_KEY.get(apiKey) ?? "control";
}

/** The per-broker slot a route uses: its class, plus the owner for per-owner classes. */
export function slotKey(route: ConnectionRoute): string {
  if (typeof route === "string") return route;
  const cls = connectionClassOf(route.api.apiKey);
  return (cls === "fetch" || cls === "group") && route.owner !== undefined ? `${cls}:${route.owner}` : cls;
}

/** The class part of a slot key. */
export function slotClass(key: string): ConnectionClass {
  const colon = key.indexOf(":");
  return (colon < 0 ? key : key.slice(0, colon)) as ConnectionClass;
}

let nextOwner = 0;

/** A fresh owner id for a consumer or group member: its own fetch or group sockets. */
export function newConnectionOwner(prefix: string): string {
  return `${prefix}-${++nextOwner}`;
}
