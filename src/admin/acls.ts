/**
 * ACLs: describe, create and delete access-control bindings (DescribeAcls, CreateAcls,
 * DeleteAcls), with Kafka's numeric enums turned into string unions both ways. Any broker
 * answers; in KRaft a broker forwards creations and deletions to the controller.
 */
import { InvalidArgumentError } from "../protocol/errors.js";
import { kafkaError } from "../protocol/kafka-error.js";
import { CreateAcls, DeleteAcls, DescribeAcls } from "../protocol/messages/index.js";
import { matchOutcomes } from "./outcomes.js";
import type { AdminCall, ItemOutcome } from "./routing.js";
import { checkArray, checkNonEmpty, checkObject, checkOneOf } from "./validate.js";

/** What an ACL protects. `any` only in filters. */
export type AclResourceType = "any" | "topic" | "group" | "cluster" | "transactionalId" | "delegationToken" | "user";
/** How `resourceName` matches: exactly, by prefix; `any` and `match` only in filters. */
export type AclPatternType = "any" | "match" | "literal" | "prefixed";
/** An operation an ACL allows or denies. `any` only in filters. */
export type AclOperation =
  | "any"
  | "all"
  | "read"
  | "write"
  | "create"
  | "delete"
  | "alter"
  | "describe"
  | "clusterAction"
  | "describeConfigs"
  | "alterConfigs"
  | "idempotentWrite"
  | "createTokens"
  | "describeTokens"
  | "twoPhaseCommit";
/** Allow or deny. `any` only in filters. */
export type AclPermission = "any" | "deny" | "allow";

// Kafka's codes (ResourceType, PatternType, AclOperation, AclPermissionType); 0 is UNKNOWN.
const RESOURCE_TYPES: readonly AclResourceType[] = [
  "any",
  "topic",
  "group",
  "cluster",
  "transactionalId",
  "delegationToken",
  "user",
];
const PATTERN_TYPES: readonly AclPatternType[] = ["any", "match", "literal", "prefixed"];
const OPERATIONS: readonly AclOperation[] = [
  "any",
  "all",
  "read",
  "write",
  "create",
  "delete",
  "alter",
  "describe",
  "clusterAction",
  "describeConfigs",
  "alterConfigs",
  "idempotentWrite",
  "createTokens",
  "describeTokens",
  "twoPhaseCommit",
];
const PERMISSIONS: readonly AclPermission[] = ["any", "deny", "allow"];

/** Codes start at 1 (ANY); 0 is UNKNOWN. */
const codeOf = <T>(list: readonly T[], value: T): number => list.indexOf(value) + 1;
/** A code from a response; "unknown" for 0 or a code newer than samsa. */
function nameOf<T>(list: readonly T[], code: number): T | "unknown" {
  return list[code - 1] ?? "unknown";
}

/** One ACL: `principal` may (or may not) do `operation` on a resource, from `host`. */
export interface AclBinding {
  resourceType: Exclude<AclResourceType, "any">;
  /** Topic or group name, `kafka-cluster` for the cluster, or a prefix when `patternType` is `prefixed`. */
  resourceName: string;
  /** Default `literal`. `literal` with name `*` matches every resource of the type. */
  patternType?: "literal" | "prefixed";
  /** `Type:name`, e.g. `User:alice`; `User:*` is every user. */
  principal: string;
  /** Client host the ACL applies to; default `*` (any). */
  host?: string;
  operation: Exclude<AclOperation, "any">;
  permission: "allow" | "deny";
}

/** An ACL as a broker describes it. Codes samsa does not know read as `unknown`. */
export interface DescribedAcl {
  resourceType: AclResourceType | "unknown";
  resourceName: string;
  patternType: AclPatternType | "unknown";
  principal: string;
  host: string;
  operation: AclOperation | "unknown";
  permission: AclPermission | "unknown";
}

/** Which ACLs to describe or delete. Every field left out matches anything. */
export interface AclFilter {
  /** Default `any`. */
  resourceType?: AclResourceType;
  /** Exact name; default any name. */
  resourceName?: string | null;
  /**
   * Default `any`. `match` finds the ACLs that apply to `resourceName`: literal, wildcard and
   * prefixed ones.
   */
  patternType?: AclPatternType;
  /** Default any principal. */
  principal?: string | null;
  /** Default any host. */
  host?: string | null;
  /** Default `any`. */
  operation?: AclOperation;
  /** Default `any`. */
  permission?: AclPermission;
}

/** The result of one filter of {@link deleteAcls}: the ACLs it removed. */
export interface DeleteAclsResult {
  filter: AclFilter;
  deleted: DescribedAcl[];
}

/**
 * Turns an `authorizedOperations` bit field (bit n set: operation code n allowed) into names.
 * Kafka sends INT32_MIN when the operations were not requested: that gives undefined.
 */
export function decodeAclOperations(bits: number): AclOperation[] | undefined {
  if (bits === -2147483648) return undefined;
  const out: AclOperation[] = [];
  for (let code = 1; code <= OPERATIONS.length; code++) {
    if (bits & (1 << code)) out.push(OPERATIONS[code - 1] as AclOperation);
  }
  return out;
}

function checkBinding(argument: string, value: unknown): Required<AclBinding> {
  const o = checkObject(argument, value);
  const resourceType = checkOneOf(`${argument}.resourceType`, o.resourceType, RESOURCE_TYPES.slice(1));
  const principal = checkNonEmpty(`${argument}.principal`, o.principal);
  if (!principal.includes(":")) {
    throw new InvalidArgumentError(`${argument}.principal`, `must be Type:name, e.g. User:alice; got ${principal}`);
  }
  return {
    resourceType: resourceType as AclBinding["resourceType"],
    resourceName: checkNonEmpty(`${argument}.resourceName`, o.resourceName),
    patternType: checkOneOf(`${argument}.patternType`, o.patternType ?? "literal", ["literal", "prefixed"] as const),
    principal,
    host: checkNonEmpty(`${argument}.host`, o.host ?? "*"),
    operation: checkOneOf(`${argument}.operation`, o.operation, OPERATIONS.slice(1)) as AclBinding["operation"],
    permission: checkOneOf(`${argument}.permission`, o.permission, ["allow", "deny"] as const),
  };
}

function nullableString(argument: string, value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== "string") throw new InvalidArgumentError(argument, "must be a string or null");
  return value;
}

/** The wire form of a filter (shared by DescribeAcls and DeleteAcls). */
function filterToWire(argument: string, value: unknown) {
  const o = checkObject(argument, value ?? {});
  return {
    resourceTypeFilter: codeOf(
      RESOURCE_TYPES,
      checkOneOf(`${argument}.resourceType`, o.resourceType ?? "any", RESOURCE_TYPES),
    ),
    resourceNameFilter: nullableString(`${argument}.resourceName`, o.resourceName),
    patternTypeFilter: codeOf(
      PATTERN_TYPES,
      checkOneOf(`${argument}.patternType`, o.patternType ?? "any", PATTERN_TYPES),
    ),
    principalFilter: nullableString(`${argument}.principal`, o.principal),
    hostFilter: nullableString(`${argument}.host`, o.host),
    operation: codeOf(OPERATIONS, checkOneOf(`${argument}.operation`, o.operation ?? "any", OPERATIONS)),
    permissionType: codeOf(PERMISSIONS, checkOneOf(`${argument}.permission`, o.permission ?? "any", PERMISSIONS)),
  };
}

function describedAcl(r: {
  resourceType: number;
  resourceName: string;
  patternType: number;
  principal: string;
  host: string;
  operation: number;
  permissionType: number;
}): DescribedAcl {
  return {
    resourceType: nameOf(RESOURCE_TYPES, r.resourceType),
    resourceName: r.resourceName,
    patternType: nameOf(PATTERN_TYPES, r.patternType),
    principal: r.principal,
    host: r.host,
    operation: nameOf(OPERATIONS, r.operation),
    permission: nameOf(PERMISSIONS, r.permissionType),
  };
}

function bindingLabel(b: Required<AclBinding>): string {
  return `${b.permission} ${b.principal} ${b.operation} on ${b.patternType} ${b.resourceType} ${b.resourceName} from ${b.host}`;
}

/** DescribeAcls: every ACL matching `filter`. */
export async function describeAcls(call: AdminCall, filter: AclFilter = {}): Promise<DescribedAcl[]> {
  const wire = filterToWire("filter", filter);
  return call.retryAny(DescribeAcls, wire, (response) =>
    response.resources.flatMap((r) =>
      r.acls.map((a) =>
        describedAcl({ ...a, resourceType: r.resourceType, resourceName: r.resourceName, patternType: r.patternType }),
      ),
    ),
  );
}

/** CreateAcls: adds `bindings`; returns them with defaults filled in, in input order. */
export async function createAcls(call: AdminCall, bindings: readonly AclBinding[]): Promise<Required<AclBinding>[]> {
  const checked = checkArray<AclBinding>("bindings", bindings).map((b, i) => checkBinding(`bindings[${i}]`, b));
  return call.retryItems(checked.map(bindingLabel), async (pending) => {
    const response = await call.sendToAny(CreateAcls, {
      creations: pending.map((i) => {
        const b = checked[i] as Required<AclBinding>;
        return {
          resourceType: codeOf(RESOURCE_TYPES, b.resourceType),
          resourceName: b.resourceName,
          resourcePatternType: codeOf(PATTERN_TYPES, b.patternType),
          principal: b.principal,
          host: b.host,
          operation: codeOf(OPERATIONS, b.operation),
          permissionType: codeOf(PERMISSIONS, b.permission),
        };
      }),
    });
    // Results come back in request order, without any key to match them by.
    return matchOutcomes(
      pending,
      (_, at) => response.results[at],
      (_, i) => checked[i] as Required<AclBinding>,
    );
  });
}

/** DeleteAcls: removes every ACL matching each filter; returns what each filter removed. */
export async function deleteAcls(call: AdminCall, filters: readonly AclFilter[]): Promise<DeleteAclsResult[]> {
  const list = checkArray<AclFilter>("filters", filters);
  const wire = list.map((f, i) => filterToWire(`filters[${i}]`, f));
  const labels = list.map((f, i) => `filter ${i} ${JSON.stringify(f)}`);
  return call.retryItems(labels, async (pending) => {
    const response = await call.sendToAny(DeleteAcls, {
      filters: pending.map((i) => wire[i] as (typeof wire)[number]),
    });
    const out = new Map<number, ItemOutcome<DeleteAclsResult>>();
    response.filterResults.forEach((r, at) => {
      const i = pending[at];
      if (i === undefined) return;
      const failed = r.errorCode !== 0 ? r : r.matchingAcls.find((m) => m.errorCode !== 0);
      out.set(
        i,
        failed
          ? { error: kafkaError(failed.errorCode, failed.errorMessage) }
          : { value: { filter: list[i] as AclFilter, deleted: r.matchingAcls.map(describedAcl) } },
      );
    });
    return out;
  });
}
