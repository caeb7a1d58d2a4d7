/**
 * Kafka's message specs (`common/message/*.json` in kafka-clients): their shape, the
 * comment-stripping parser they need, and version ranges.
 */

/** One field of a spec. */
export interface FieldSpec {
  name: string;
  type: string;
  versions?: string;
  nullableVersions?: string;
  taggedVersions?: string;
  tag?: number;
  default?: string | number | boolean;
  ignorable?: boolean;
  mapKey?: boolean;
  entityType?: string;
  about?: string;
  flexibleVersions?: string;
  fields?: FieldSpec[];
  zeroCopy?: boolean;
}

/** A struct declared in `commonStructs`. */
export interface StructSpec {
  name: string;
  versions?: string;
  fields: FieldSpec[];
}

/** One message spec file. */
export interface MessageSpec {
  apiKey?: number;
  type: "request" | "response" | "header" | "data";
  name: string;
  validVersions: string;
  flexibleVersions: string;
  latestVersionUnstable?: boolean;
  fields: FieldSpec[];
  commonStructs?: StructSpec[];
}

/** An inclusive version range; `hi` is Infinity for "N+", and `lo > hi` means none. */
export interface Versions {
  lo: number;
  hi: number;
}

/** The empty range. */
export const NO_VERSIONS: Versions = { lo: 1, hi: 0 };

/** Parses "3", "0-5", "3+" or "none". */
export function parseVersions(text: string | undefined): Versions {
  if (text === undefined || text === "none") return NO_VERSIONS;
  const t = text.trim();
  if (t.endsWith("+")) return { lo: Number(t.slice(0, -1)), hi: Number.POSITIVE_INFINITY };
  const dash = t.indexOf("-");
  if (dash > 0) return { lo: Number(t.slice(0, dash)), hi: Number(t.slice(dash + 1)) };
  return { lo: Number(t), hi: Number(t) };
}

/** Intersection of two ranges. */
export function intersect(a: Versions, b: Versions): Versions {
  return { lo: Math.max(a.lo, b.lo), hi: Math.min(a.hi, b.hi) };
}

/** True when the range holds no version. */
export function isEmpty(v: Versions): boolean {
  return v.lo > v.hi;
}

/** True when `v` holds version `n`. */
export function contains(v: Versions, n: number): boolean {
  return n >= v.lo && n <= v.hi;
}

/** "v3+", "v0-5", "v2", "none" for doc comments. */
export function describeVersions(v: Versions): string {
  if (isEmpty(v)) return "none";
  if (v.hi === Number.POSITIVE_INFINITY) return `v${v.lo}+`;
  if (v.lo === v.hi) return `v${v.lo}`;
  return `v${v.lo}-${v.hi}`;
}

/**
 * Parses a spec file: JSON with `//` line comments. Comments are stripped by a small
 * tokenizer that knows about strings, because some strings hold URLs ("http://...").
 */
export function parseSpec(text: string): MessageSpec {
  let out = "";
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      out += c;
      if (c === "\\") out += text[++i] ?? "";
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c === "/" && text[i + 1] === "/") {
      while (i < text.length && text[i] !== "\n") i++;
      out += "\n";
    } else {
      out += c;
    }
  }
  return JSON.parse(out) as MessageSpec;
}
