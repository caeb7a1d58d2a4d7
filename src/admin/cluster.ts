/**
 * The cluster as a whole: its id, brokers and controller (DescribeCluster), its feature levels
 * (ApiVersions, which carries supported and finalized features since KIP-584) and feature
 * updates (UpdateFeatures, decided by the controller).
 */
import { InvalidArgumentError } from "../protocol/errors.js";
import { kafkaError } from "../protocol/kafka-error.js";
import { ApiVersions, DescribeCluster, UpdateFeatures } from "../protocol/messages/index.js";
import { type AclOperation, decodeAclOperations } from "./acls.js";
import type { AdminCall, ItemOutcome } from "./routing.js";
import { checkInt, checkNonEmpty, checkOneOf, checkUnique, defineOperation } from "./validate.js";

/** One broker as DescribeCluster reports it. */
export interface ClusterBroker {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
  /** Fenced brokers are registered but not serving (DescribeCluster v2+, only with `includeFencedBrokers`). */
  fenced: boolean;
}

/** What {@link describeCluster} returns. */
export interface ClusterDescription {
  clusterId: string;
  /**
   * The broker that takes controller requests. In KRaft this is a broker that forwards to the
   * controller quorum (KIP-590): clients never talk to the quorum directly.
   */
  controllerId: number;
  brokers: ClusterBroker[];
  /** Finalized feature levels by name, e.g. `{ "metadata.version": 30, "transaction.version": 2 }`. */
  features: Record<string, number>;
  /** Operations the caller may perform on the cluster, when `includeAuthorizedOperations` was set. */
  authorizedOperations?: AclOperation[];
}

/** Options of {@link describeCluster}. */
export interface DescribeClusterOptions {
  /** Ask which cluster operations the caller is authorized for. Default false. */
  includeAuthorizedOperations?: boolean;
  /** Also list fenced brokers (Kafka 4.0+). Default false. */
  includeFencedBrokers?: boolean;
}

/** A feature's finalized level. */
export interface FinalizedFeature {
  name: string;
  /** The level in force; 0 means the feature is off. */
  level: number;
}

/** A feature level range a broker supports. */
export interface SupportedFeature {
  name: string;
  minVersion: number;
  maxVersion: number;
}

/** What {@link describeFeatures} returns. */
export interface FeatureDescription {
  /** Levels in force across the cluster, by name. */
  finalized: FinalizedFeature[];
  /** Epoch of the finalized set; -1 when the broker did not say. */
  finalizedEpoch: bigint;
  /** What the answering broker supports. */
  supported: SupportedFeature[];
}

/** How a feature update may move the level. */
export type FeatureUpgradeType = "upgrade" | "safeDowngrade" | "unsafeDowngrade";

/** One feature update. */
export interface FeatureUpdate {
  feature: string;
  /** The new finalized level; 0 turns the feature off (a downgrade). */
  level: number;
  /** Default `upgrade`; lowering a level needs one of the downgrade types. */
  upgradeType?: FeatureUpgradeType;
}

/** Options of {@link updateFeatures}. */
export interface UpdateFeaturesOptions {
  /** Check the updates without applying them. Default false. */
  validateOnly?: boolean;
}

/** What the connection itself sends in ApiVersions (KIP-511); the broker only logs it. */
const API_VERSIONS_REQUEST = { clientSoftwareName: "samsa", clientSoftwareVersion: "0.1.0" };

const UPGRADE_TYPES: readonly FeatureUpgradeType[] = ["upgrade", "safeDowngrade", "unsafeDowngrade"];

/** DescribeCluster (plus ApiVersions on the same broker for the finalized features). */
export async function describeCluster(
  call: AdminCall,
  options: DescribeClusterOptions = {},
): Promise<ClusterDescription> {
  const includeAuthorizedOperations = options.includeAuthorizedOperations === true;
  const includeFencedBrokers = options.includeFencedBrokers === true;
  return call.retry(async () => {
    const connection = await call.anyBroker(DescribeCluster);
    // ApiVersions again rather than the copy from connection setup: features change at run time.
    const [cluster, versions] = await Promise.all([
      call.send(connection, DescribeCluster, {
        includeClusterAuthorizedOperations: includeAuthorizedOperations,
        endpointType: 1, // brokers (2 would list controllers, which clients cannot reach)
        includeFencedBrokers: includeFencedBrokers && connection.versionFor(DescribeCluster) >= 2,
      }),
      call.send(connection, ApiVersions, API_VERSIONS_REQUEST),
    ]);
    if (cluster.errorCode !== 0) throw kafkaError(cluster.errorCode, cluster.errorMessage);
    const features: Record<string, number> = {};
    for (const f of versions.finalizedFeatures) features[f.name] = f.maxVersionLevel;
    const authorizedOperations = includeAuthorizedOperations
      ? decodeAclOperations(cluster.clusterAuthorizedOperations)
      : undefined;
    return {
      clusterId: cluster.clusterId,
      controllerId: cluster.controllerId,
      brokers: cluster.brokers
        .map((b) => ({ nodeId: b.brokerId, host: b.host, port: b.port, rack: b.rack, fenced: b.isFenced }))
        .sort((a, b) => a.nodeId - b.nodeId),
      features,
      ...(authorizedOperations ? { authorizedOperations } : {}),
    };
  });
}

/** ApiVersions: finalized and supported feature levels (what Kafka's `describeFeatures` reads). */
export async function describeFeatures(call: AdminCall): Promise<FeatureDescription> {
  return call.retryAny(ApiVersions, API_VERSIONS_REQUEST, (response) => {
    const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    return {
      finalized: response.finalizedFeatures.map((f) => ({ name: f.name, level: f.maxVersionLevel })).sort(byName),
      finalizedEpoch: response.finalizedFeaturesEpoch,
      supported: response.supportedFeatures
        .map((f) => ({ name: f.name, minVersion: f.minVersion, maxVersion: f.maxVersion }))
        .sort(byName),
    };
  });
}

/**
 * UpdateFeatures on the controller. v2 responses carry no per-feature results: the top-level
 * error then covers every update, and success means all were applied.
 */
export const updateFeatures = defineOperation({
  argument: "updates",
  each: (o, at) => {
    return {
      feature: checkNonEmpty(`${at}.feature`, o.feature),
      level: checkInt(`${at}.level`, o.level, 0, 32767),
      upgradeType: checkOneOf(`${at}.upgradeType`, o.upgradeType ?? "upgrade", UPGRADE_TYPES),
    };
  },
  run: async (call, list, options: UpdateFeaturesOptions): Promise<FeatureUpdate[]> => {
    checkUnique(
      "updates",
      list.map((u) => u.feature),
    );
    const validateOnly = options.validateOnly === true;
    return call.retryItems(
      list.map((u) => `feature ${u.feature}`),
      async (pending) => {
        const connection = await call.controller(UpdateFeatures);
        const version = connection.versionFor(UpdateFeatures);
        if (validateOnly && version < 1) {
          throw new InvalidArgumentError("validateOnly", "needs UpdateFeatures v1+ (Kafka 3.3+)");
        }
        const response = await call.send(
          connection,
          UpdateFeatures,
          {
            timeoutMs: call.serverTimeoutMs(),
            validateOnly,
            featureUpdates: pending.map((i) => {
              const u = list[i] as (typeof list)[number];
              return {
                feature: u.feature,
                maxVersionLevel: u.level,
                // v0 has only a flag; v1+ says which kind of downgrade (KIP-778).
                allowDowngrade: version === 0 && u.upgradeType !== "upgrade",
                upgradeType: version === 0 ? 1 : UPGRADE_TYPES.indexOf(u.upgradeType) + 1,
              };
            }),
          },
          true,
        );
        const out = new Map<number, ItemOutcome<FeatureUpdate>>();
        const topLevel = response.errorCode !== 0 ? kafkaError(response.errorCode, response.errorMessage) : undefined;
        const results = new Map(response.results.map((r) => [r.feature, r]));
        for (const i of pending) {
          const u = list[i] as (typeof list)[number];
          const r = results.get(u.feature);
          if (r && r.errorCode !== 0) out.set(i, { error: kafkaError(r.errorCode, r.errorMessage) });
          else if (topLevel) out.set(i, { error: topLevel });
          else out.set(i, { value: u });
        }
        return out;
      },
    );
  },
});
