/**
 * What every generated API module exports, and the small runtime its encoders and decoders
 * share. Generated code (src/protocol/messages) imports from here; nothing here knows any
 * particular API.
 */
import { UnsupportedVersionError } from "./errors.js";
import type { Reader } from "./primitives/reader.js";
import type { Writer } from "./primitives/writer.js";

/** One Kafka API: its key, version ranges, header versions and codecs for both directions. */
export interface ApiDefinition<Req, Res> {
  /** The API key (e.g. 0 for Produce). */
  readonly apiKey: number;
  /** The API's name from the spec (e.g. "Produce"). */
  readonly name: string;
  /** Lowest version the codec handles (Kafka's valid versions, KIP-896 floors applied). */
  readonly minVersion: number;
  /** Highest version samsa uses: the newest stable one. */
  readonly maxVersion: number;
  /** Highest version the codec handles, including a newest version Kafka marks unstable. */
  readonly maxCodecVersion: number;
  /** First flexible version (compact encodings, tagged fields); Infinity if none. */
  readonly firstFlexibleVersion: number;
  /** Request header version for an API version (1 classic, 2 flexible). */
  requestHeaderVersion(version: number): number;
  /** Response header version for an API version (0 classic, 1 flexible; ApiVersions always 0). */
  responseHeaderVersion(version: number): number;
  encodeRequest(w: Writer, message: Req, version: number): void;
  decodeRequest(r: Reader, version: number): Req;
  encodeResponse(w: Writer, message: Res, version: number): void;
  decodeResponse(r: Reader, version: number): Res;
}

/** Shared empty buffer: the default of non-nullable `bytes` fields. */
export const EMPTY_BYTES: Buffer = Buffer.alloc(0);

/** The all-zero uuid, Kafka's `Uuid.ZERO_UUID`, in Kafka's string form. */
export const ZERO_UUID = "AAAAAAAAAAAAAAAAAAAAAA";

/** Throws unless `version` lies within the codec's range for the API. */
export function checkVersion(api: string, version: number, min: number, max: number): void {
  if (!Number.isInteger(version) || version < min || version > max) {
    throw new UnsupportedVersionError(`${api}: version ${version} is outside the supported range ${min}-${max}`);
  }
}

/** The error for a non-default field that the chosen version cannot carry. */
export function unsupportedField(context: string, version: number, field: string, versions: string): never {
  throw new UnsupportedVersionError(
    `${context} v${version}: field ${field} is set, but it exists only in ${versions}; leave it at its default or use another version`,
  );
}

/** The error for `null` in a field that is not nullable at the chosen version. */
export function nullNotAllowed(context: string, version: number, field: string): never {
  throw new UnsupportedVersionError(
    `${context} v${version}: field ${field} is null, which this version does not allow`,
  );
}
