/**
 * Version negotiation: per API, the version used with a broker is the highest that both
 * samsa (the generated range, KIP-896 floors applied) and the broker support.
 */

import type { ApiDefinition } from "../protocol/api.js";
import { UnsupportedVersionError } from "../protocol/errors.js";
import type { ApiVersionsResponse } from "../protocol/messages/index.js";

/** The outcome of ApiVersions with one broker. */
export interface NegotiatedVersions {
  /** Broker's range per API key. */
  readonly broker: ReadonlyMap<number, { min: number; max: number }>;
  /** Finalized feature levels (e.g. `transaction.version`, `metadata.version`). */
  readonly features: ReadonlyMap<string, number>;
  /** The version to use for `api`; throws UnsupportedVersionError when there is none. */
  versionFor(api: ApiDefinition<unknown, unknown>): number;
}

/** Builds the negotiated table from an ApiVersions response. */
export function negotiateVersions(response: ApiVersionsResponse): NegotiatedVersions {
  const broker = new Map<number, { min: number; max: number }>();
  for (const k of response.apiKeys) broker.set(k.apiKey, { min: k.minVersion, max: k.maxVersion });
  const features = new Map<string, number>();
  for (const f of response.finalizedFeatures) features.set(f.name, f.maxVersionLevel);
  const cache = new Map<number, number>();
  return {
    broker,
    features,
    versionFor(api) {
      const cached = cache.get(api.apiKey);
      if (cached !== undefined) return cached;
      const theirs = broker.get(api.apiKey);
      if (!theirs) throw new UnsupportedVersionError(`the broker does not support ${api.name} (API key ${api.apiKey})`);
      const version = Math.min(api.maxVersion, theirs.max);
      if (version < Math.max(api.minVersion, theirs.min)) {
        throw new UnsupportedVersionError(
          `no common version of ${api.name}: samsa speaks ${api.minVersion}-${api.maxVersion}, the broker ${theirs.min}-${theirs.max}`,
        );
      }
      cache.set(api.apiKey, version);
      return version;
    },
  };
}
