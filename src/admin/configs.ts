/**
 * Configuration of topics, brokers, broker loggers, groups and client-metrics subscriptions:
 * describe (DescribeConfigs, with synonyms and documentation), incremental alter
 * (IncrementalAlterConfigs: set, delete, append, subtract) and the legacy whole-set alter
 * (AlterConfigs). A broker's own configs must be asked of that broker; the rest any broker
 * answers (and forwards changes to the controller).
 */
import type { ApiDefinition } from "../protocol/api.js";
import { InvalidArgumentError } from "../protocol/errors.js";
import { AlterConfigs, DescribeConfigs, IncrementalAlterConfigs } from "../protocol/messages/index.js";
import { groupBy, matchOutcomes } from "./outcomes.js";
import { type AdminApi, type AdminCall, ANY_BROKER, type BrokerSend } from "./routing.js";
import {
  checkArray,
  checkNonEmpty,
  checkObject,
  checkOneOf,
  checkTopicName,
  checkUnique,
  defineOperation,
} from "./validate.js";

/** What a config belongs to. */
export type ConfigResourceType = "topic" | "broker" | "brokerLogger" | "group" | "clientMetrics";

/**
 * A config resource. `name` is the topic, the group, the client-metrics subscription, or for
 * `broker` and `brokerLogger` the broker id as a string; `broker` with name `""` is the
 * cluster-wide default that every broker inherits.
 */
export interface ConfigResource {
  type: ConfigResourceType;
  name: string;
}

/** Where a config value comes from, most specific first. */
export type ConfigSource =
  | "unknown"
  | "dynamicTopic"
  | "dynamicBroker"
  | "dynamicDefaultBroker"
  | "staticBroker"
  | "default"
  | "dynamicBrokerLogger"
  | "clientMetrics"
  | "group";

/** A config's data type (DescribeConfigs v3+). */
export type ConfigType =
  | "unknown"
  | "boolean"
  | "string"
  | "int"
  | "short"
  | "long"
  | "double"
  | "list"
  | "class"
  | "password";

/** Another source a config takes its value from, in precedence order. */
export interface ConfigSynonym {
  name: string;
  value: string | null;
  source: ConfigSource;
}

/** One config of a resource. */
export interface ConfigEntry {
  name: string;
  /** Null for sensitive configs and unset ones. */
  value: string | null;
  readOnly: boolean;
  sensitive: boolean;
  source: ConfigSource;
  /** With `includeSynonyms`: every source of the value, the one in force first. */
  synonyms?: ConfigSynonym[];
  /** Data type, when the broker sent it. */
  type?: ConfigType;
  /** With `includeDocumentation`: Kafka's description of the config. */
  documentation?: string | null;
}

/** One resource to describe; `keys` limits the answer to those configs. */
export interface DescribeConfigsResource extends ConfigResource {
  keys?: string[];
}

/** Options of {@link describeConfigs}. */
export interface DescribeConfigsOptions {
  /** List every source of each value. Default false. */
  includeSynonyms?: boolean;
  /** Include Kafka's documentation of each config. Default false. */
  includeDocumentation?: boolean;
}

/** A resource's configs. */
export interface ResourceConfigs {
  resource: ConfigResource;
  configs: ConfigEntry[];
}

/** An incremental change to one config. */
export type ConfigOperation =
  | { name: string; op: "set"; value: string }
  | { name: string; op: "delete" }
  | { name: string; op: "append" | "subtract"; value: string };

/** Incremental changes to one resource. */
export interface IncrementalConfigChange {
  resource: ConfigResource;
  ops: ConfigOperation[];
}

/** A whole new set of dynamic configs for one resource (legacy AlterConfigs). */
export interface ConfigReplacement {
  resource: ConfigResource;
  /** Every dynamic config the resource should have; configs left out revert to their defaults. */
  configs: Record<string, string>;
}

/** Options of the two alter calls. */
export interface AlterConfigsOptions {
  /** Check the change without applying it. Default false. */
  validateOnly?: boolean;
}

// Kafka's ConfigResource.Type codes.
const RESOURCE_CODES: Record<ConfigResourceType, number> = {
  topic: 2,
  broker: 4,
  brokerLogger: 8,
  clientMetrics: 16,
  group: 32,
};
const RESOURCE_TYPES = Object.keys(RESOURCE_CODES) as ConfigResourceType[];
const SOURCES: readonly ConfigSource[] = [
  "unknown",
  "dynamicTopic",
  "dynamicBroker",
  "dynamicDefaultBroker",
  "staticBroker",
  "default",
  "dynamicBrokerLogger",
  "clientMetrics",
  "group",
];
const TYPES: readonly ConfigType[] = [
  "unknown",
  "boolean",
  "string",
  "int",
  "short",
  "long",
  "double",
  "list",
  "class",
  "password",
];
const OPERATIONS = ["set", "delete", "append", "subtract"] as const;

const sourceOf = (code: number): ConfigSource => SOURCES[code] ?? "unknown";

/** Turns a DescribeConfigs (or CreateTopics) config entry into a {@link ConfigEntry}. */
export function configEntry(c: {
  name: string;
  value: string | null;
  readOnly: boolean;
  configSource: number;
  isSensitive: boolean;
  synonyms?: { name: string; value: string | null; source: number }[];
  configType?: number;
  documentation?: string | null;
}): ConfigEntry {
  const entry: ConfigEntry = {
    name: c.name,
    value: c.value,
    readOnly: c.readOnly,
    sensitive: c.isSensitive,
    source: sourceOf(c.configSource),
  };
  if (c.synonyms && c.synonyms.length > 0) {
    entry.synonyms = c.synonyms.map((s) => ({ name: s.name, value: s.value, source: sourceOf(s.source) }));
  }
  if (c.configType !== undefined && c.configType !== 0) entry.type = TYPES[c.configType] ?? "unknown";
  // Brokers send "" for configs without documentation (every logger, say): that says nothing.
  if (c.documentation) entry.documentation = c.documentation;
  return entry;
}

/** Checks a resource; returns it with the broker it must be sent to (or ANY_BROKER). */
function checkResource(argument: string, value: unknown): { resource: ConfigResource; nodeId: number } {
  const o = checkObject(argument, value);
  const type = checkOneOf(`${argument}.type`, o.type, RESOURCE_TYPES);
  const name = o.name;
  if (typeof name !== "string") throw new InvalidArgumentError(`${argument}.name`, "must be a string");
  if (type === "topic") checkTopicName(`${argument}.name`, name);
  else if (type === "broker" || type === "brokerLogger") {
    // A broker's own (and its loggers') configs live in that broker's memory: only it can answer.
    if (name === "" && type === "broker") return { resource: { type, name }, nodeId: ANY_BROKER };
    if (!/^\d+$/.test(name)) {
      throw new InvalidArgumentError(
        `${argument}.name`,
        `must be a broker id${type === "broker" ? ' or "" for the cluster default' : ""}; got ${JSON.stringify(name)}`,
      );
    }
    return { resource: { type, name }, nodeId: Number(name) };
  } else checkNonEmpty(`${argument}.name`, name);
  return { resource: { type, name }, nodeId: ANY_BROKER };
}

const resourceKey = (type: number, name: string) => `${type}:${name}`;
const resourceLabel = (r: ConfigResource) => `${r.type} ${r.name === "" ? "(cluster default)" : r.name}`;

/**
 * A batch call over checked resources, each sent to the broker that must receive it
 * (`nodeId`); `send` makes one request per broker.
 */
function toOwners<R>(
  call: AdminCall,
  api: AdminApi,
  argument: string,
  list: readonly { resource: ConfigResource; nodeId: number }[],
  send: BrokerSend<R>,
): Promise<R[]> {
  checkUnique(
    argument,
    list.map((r) => `${r.resource.type} ${r.resource.name}`),
  );
  return call.retryItems(
    list.map((r) => resourceLabel(r.resource)),
    (pending) =>
      call.fanOut(
        api,
        groupBy(pending, (i) => list[i]!.nodeId),
        send,
      ),
  );
}

/** Each sent resource's entry of a response that names resources by type code and name. */
function resourceOutcomes<
  E extends { errorCode: number; errorMessage: string | null; resourceType: number; resourceName: string },
  R,
>(
  entries: readonly E[],
  sent: readonly number[],
  list: readonly { resource: ConfigResource }[],
  value: (entry: E, resource: ConfigResource) => R,
) {
  const byKey = new Map(entries.map((r) => [resourceKey(r.resourceType, r.resourceName), r]));
  return matchOutcomes(
    sent,
    (i) => byKey.get(resourceKey(RESOURCE_CODES[list[i]!.resource.type], list[i]!.resource.name)),
    (r, i) => value(r, list[i]!.resource),
  );
}

/** DescribeConfigs, one request per broker that owns some of the resources. */
export async function describeConfigs(
  call: AdminCall,
  resources: readonly DescribeConfigsResource[],
  options: DescribeConfigsOptions = {},
): Promise<ResourceConfigs[]> {
  const list = checkArray<DescribeConfigsResource>("resources", resources).map((r, i) => {
    const checked = checkResource(`resources[${i}]`, r);
    const keys =
      r.keys === undefined
        ? null
        : checkArray<string>(`resources[${i}].keys`, r.keys).map((k, j) =>
            checkNonEmpty(`resources[${i}].keys[${j}]`, k),
          );
    return { ...checked, keys };
  });
  return toOwners(call, DescribeConfigs, "resources", list, async (connection, _nodeId, indices) => {
    const response = await call.send(connection, DescribeConfigs, {
      resources: indices.map((i) => {
        const r = list[i]!;
        return {
          resourceType: RESOURCE_CODES[r.resource.type],
          resourceName: r.resource.name,
          configurationKeys: r.keys,
        };
      }),
      includeSynonyms: options.includeSynonyms === true,
      includeDocumentation: options.includeDocumentation === true,
    });
    return resourceOutcomes(response.results, indices, list, (r, resource) => ({
      resource,
      configs: r.configs.map(configEntry),
    }));
  });
}

/** IncrementalAlterConfigs: applies each resource's operations; returns the resources in input order. */
export const incrementalAlterConfigs = defineOperation({
  argument: "changes",
  each: (o, at) => {
    const checked = checkResource(`${at}.resource`, o.resource);
    const ops = checkArray<ConfigOperation>(`${at}.ops`, o.ops).map((op, j) => {
      const opAt = `${at}.ops[${j}]`;
      const p = checkObject(opAt, op);
      const name = checkNonEmpty(`${opAt}.name`, p.name);
      const kind = checkOneOf(`${opAt}.op`, p.op, OPERATIONS);
      if (kind !== "delete" && typeof p.value !== "string") {
        throw new InvalidArgumentError(`${opAt}.value`, `must be a string for op "${kind}"`);
      }
      return {
        name,
        configOperation: OPERATIONS.indexOf(kind),
        value: kind === "delete" ? null : (p.value as string),
      };
    });
    // The broker refuses a resource that names one config twice (INVALID_REQUEST).
    checkUnique(
      `${at}.ops`,
      ops.map((op) => op.name),
    );
    return { ...checked, configs: ops };
  },
  run: async (call, list, options: AlterConfigsOptions): Promise<ConfigResource[]> => {
    return alterOnOwners(call, IncrementalAlterConfigs, "changes", list, options.validateOnly === true);
  },
});

/**
 * Both alters: one request per broker owning some of the resources, each with its configs;
 * returns the resources in input order.
 */
function alterOnOwners<C>(
  call: AdminCall,
  api: ApiDefinition<
    { validateOnly: boolean; resources: { resourceType: number; resourceName: string; configs: C[] }[] },
    { responses: { errorCode: number; errorMessage: string | null; resourceType: number; resourceName: string }[] }
  >,
  argument: string,
  list: readonly { resource: ConfigResource; nodeId: number; configs: C[] }[],
  validateOnly: boolean,
): Promise<ConfigResource[]> {
  return toOwners(call, api, argument, list, async (connection, _nodeId, indices) => {
    const response = await call.send(connection, api, {
      validateOnly,
      resources: indices.map((i) => {
        const c = list[i]!;
        return { resourceType: RESOURCE_CODES[c.resource.type], resourceName: c.resource.name, configs: c.configs };
      }),
    });
    return resourceOutcomes(response.responses, indices, list, (_, resource) => resource);
  });
}

/**
 * AlterConfigs (legacy): replaces the whole set of dynamic configs of each resource. Prefer
 * {@link incrementalAlterConfigs}, which touches only the configs it names.
 */
export const alterConfigs = defineOperation({
  argument: "replacements",
  each: (o, at) => {
    const checked = checkResource(`${at}.resource`, o.resource);
    const configs = Object.entries(checkObject(`${at}.configs`, o.configs)).map(([name, value]) => {
      if (typeof value !== "string") {
        throw new InvalidArgumentError(`${at}.configs.${name}`, "must be a string");
      }
      return { name, value };
    });
    return { ...checked, configs };
  },
  run: async (call, list, options: AlterConfigsOptions): Promise<ConfigResource[]> => {
    return alterOnOwners(call, AlterConfigs, "replacements", list, options.validateOnly === true);
  },
});
