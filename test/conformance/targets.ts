/**
 * What the conformance and fuzz tests run over: every generated codec (each API's request
 * and response, the headers, the data specs) paired with the spec it was generated from, so
 * the tests can make random instances from the spec and push them through our code and
 * Kafka's.
 */
import type { ApiDefinition } from "../../src/protocol/api.js";
import * as messages from "../../src/protocol/messages/index.js";
import { ALL_APIS } from "../../src/protocol/messages/index.js";
import type { Reader } from "../../src/protocol/primitives/reader.js";
import type { Writer } from "../../src/protocol/primitives/writer.js";
import { loadSpecs } from "../../tools/codegen/main.js";
import type { MessageSpec } from "../../tools/codegen/spec.js";
import { modelOf, type StructModel } from "./random.js";

/** One codec under test. */
export interface Target {
  /** Spec name, which is also what the oracle resolves: "ProduceRequest", "RequestHeader". */
  name: string;
  /** "request", "response", "header" or "data". */
  kind: MessageSpec["type"];
  /** The API, for requests and responses. */
  api?: ApiDefinition<unknown, unknown>;
  /** Lowest and highest version the codec handles. */
  min: number;
  max: number;
  /** The spec resolved against [min, max], as the generator resolved it. */
  model: StructModel;
  encode(w: Writer, m: unknown, v: number): void;
  decode(r: Reader, v: number): unknown;
}

let specsPromise: Promise<Map<string, MessageSpec>> | undefined;

/** Every message spec of the pinned jar by name (read once per worker). */
export function specsByName(): Promise<Map<string, MessageSpec>> {
  specsPromise ??= loadSpecs().then((specs) => new Map(specs.map((s) => [s.name, s])));
  return specsPromise;
}

/** The request and response targets of one API. */
export function apiTargets(
  api: ApiDefinition<unknown, unknown>,
  specs: Map<string, MessageSpec>,
): { request: Target; response: Target } {
  const spec = (suffix: string): MessageSpec => {
    const s = specs.get(`${api.name}${suffix}`);
    if (!s) throw new Error(`no spec ${api.name}${suffix}`);
    return s;
  };
  // The generator clamps both directions to [minVersion, maxCodecVersion] (KIP-896 floors).
  const range = `${api.minVersion}-${api.maxCodecVersion}`;
  const base = { api, min: api.minVersion, max: api.maxCodecVersion };
  return {
    request: {
      ...base,
      name: `${api.name}Request`,
      kind: "request",
      model: modelOf(spec("Request"), range),
      encode: (w, m, v) => api.encodeRequest(w, m, v),
      decode: (r, v) => api.decodeRequest(r, v),
    },
    response: {
      ...base,
      name: `${api.name}Response`,
      kind: "response",
      model: modelOf(spec("Response"), range),
      encode: (w, m, v) => api.encodeResponse(w, m, v),
      decode: (r, v) => api.decodeResponse(r, v),
    },
  };
}

type Encode = (w: Writer, m: unknown, v: number) => void;
type Decode = (r: Reader, v: number) => unknown;

/** Targets for the header and data specs (RequestHeader, ConsumerProtocolSubscription...). */
export function dataTargets(specs: Map<string, MessageSpec>): Target[] {
  const exports = messages as unknown as Record<string, unknown>;
  const out: Target[] = [];
  for (const spec of [...specs.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    if (spec.type !== "header" && spec.type !== "data") continue;
    const encode = exports[`encode${spec.name}`] as Encode | undefined;
    const decode = exports[`decode${spec.name}`] as Decode | undefined;
    const versions = exports[`${spec.name}Versions`] as { min: number; max: number } | undefined;
    if (!encode || !decode || !versions) throw new Error(`no generated codec for ${spec.name}`);
    out.push({
      name: spec.name,
      kind: spec.type,
      min: versions.min,
      max: versions.max,
      model: modelOf(spec, `${versions.min}-${versions.max}`),
      encode,
      decode,
    });
  }
  return out;
}

/** Every API, in key order (for building one test per API at collection time). */
export const APIS = ALL_APIS as readonly ApiDefinition<unknown, unknown>[];
