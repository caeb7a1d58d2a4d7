/**
 * Seeded random message instances, driven by Kafka's spec JSON rather than by the generated
 * code, so that a generator mistake (a wrong default, a field in the wrong versions) shows up
 * as a difference instead of being copied into the test. Also: the instance → Kafka JSON
 * converter the oracle reads, and a deep comparison that names the first differing field.
 *
 * Defaults follow Kafka's FieldSpec rules: numbers 0 unless `default` says otherwise (hex
 * allowed), strings "", bools false, arrays empty, structs with every field at its default,
 * uuid all-zero, bytes empty, and `"null"` meaning null.
 */
import { type FieldSpec, type MessageSpec, parseVersions, type Versions } from "../../tools/codegen/spec.js";

// ------------------------------------------------------------------------------ randomness

/** A small, fast, seeded generator (mulberry32): the same seed gives the same instance. */
export class Rng {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** Next 32 random bits as an unsigned integer. */
  u32(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    return this.u32() / 0x1_0000_0000;
  }

  /** An integer in [lo, hi] (both inclusive; the range must fit 2^32). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)] as T;
  }

  /** `n` random bytes. */
  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.u32() & 0xff;
    return b;
  }
}

/** A 32-bit seed from strings and numbers (FNV-1a), so every case has its own stable seed. */
export function seedOf(...parts: (string | number)[]): number {
  let h = 0x811c9dc5;
  for (const ch of parts.join("|")) {
    h ^= ch.codePointAt(0) as number;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

// ------------------------------------------------------------------------------ spec model

/** A field resolved against its message's versions (the same rules as tools/codegen/emit.ts). */
export interface FieldModel {
  spec: FieldSpec;
  /** Property name: the spec name with a lower-case first letter (Kafka's JSON naming). */
  prop: string;
  isArray: boolean;
  /** Element type: a primitive name, or "struct" when `struct` is set. */
  base: string;
  /** Versions in which the field exists. */
  present: Versions;
  /** Versions in which it is a tagged field. */
  tagged: Versions;
  /** Versions in which it may be null. */
  nullable: Versions;
  /** The element struct for struct and struct-array fields. */
  struct?: StructModel;
}

/** A struct of a spec (the message itself or a nested/common struct). */
export interface StructModel {
  name: string;
  fields: FieldModel[];
}

const PRIMITIVES = new Set([
  "bool",
  "int8",
  "int16",
  "uint16",
  "int32",
  "uint32",
  "int64",
  "float64",
  "string",
  "bytes",
  "uuid",
  "records",
]);

const has = (v: Versions, n: number): boolean => n >= v.lo && n <= v.hi;
const meet = (a: Versions, b: Versions): Versions => ({ lo: Math.max(a.lo, b.lo), hi: Math.min(a.hi, b.hi) });

/** True when `field` exists at `version`. */
export function isPresent(field: FieldModel, version: number): boolean {
  return has(field.present, version);
}

/** True when `field` is tagged at `version`. */
export function isTagged(field: FieldModel, version: number): boolean {
  return has(field.tagged, version);
}

/**
 * Resolves a spec into a tree of struct models. `validVersions` overrides the spec's range
 * (the codec clamps API specs to their KIP-896 floor, and presence is computed within that).
 */
export function modelOf(spec: MessageSpec, validVersions?: string): StructModel {
  const valid = parseVersions(validVersions ?? spec.validVersions);
  // Structs are referenced by type name: common structs, and inline ones (a spec may define a
  // struct inline once and name it again elsewhere).
  const specs = new Map<string, FieldSpec[]>();
  const register = (fields: FieldSpec[]): void => {
    for (const f of fields) {
      if (f.fields) {
        const name = f.type.replace(/^\[\]/, "");
        if (!specs.has(name)) specs.set(name, f.fields);
        register(f.fields);
      }
    }
  };
  for (const s of spec.commonStructs ?? []) specs.set(s.name, s.fields);
  for (const s of spec.commonStructs ?? []) register(s.fields);
  register(spec.fields ?? []);
  const built = new Map<string, StructModel>();
  const build = (name: string, fieldSpecs: FieldSpec[]): StructModel => {
    const known = built.get(name);
    if (known) return known;
    const model: StructModel = { name, fields: [] };
    built.set(name, model);
    for (const f of fieldSpecs) {
      const isArray = f.type.startsWith("[]");
      const elem = isArray ? f.type.slice(2) : f.type;
      const present = meet(parseVersions(f.versions), valid);
      const field: FieldModel = {
        spec: f,
        prop: f.name.charAt(0).toLowerCase() + f.name.slice(1),
        isArray,
        base: PRIMITIVES.has(elem) ? elem : "struct",
        present,
        tagged: meet(parseVersions(f.taggedVersions), present),
        nullable: parseVersions(f.nullableVersions),
      };
      if (!PRIMITIVES.has(elem)) {
        const sub = specs.get(elem);
        if (!sub) throw new Error(`${spec.name}: unknown struct type ${elem}`);
        field.struct = build(elem, sub);
      }
      model.fields.push(field);
    }
    return model;
  };
  return build(spec.name, spec.fields ?? []);
}

// ------------------------------------------------------------------------------ defaults

/** Parses a numeric spec default as Kafka does: decimal or "0x" hex; "" means 0. */
function numberDefault(d: FieldSpec["default"]): number {
  if (d === undefined || d === "") return 0;
  if (typeof d === "number") return d;
  const s = String(d);
  return s.startsWith("0x") ? Number.parseInt(s.slice(2), 16) : Number(s);
}

/** The value a field holds when it is not set (and when its version lacks it). */
export function defaultValue(field: FieldModel): unknown {
  const d = field.spec.default;
  if (d === "null") return null;
  if (field.isArray) return [];
  switch (field.base) {
    case "bool":
      return d === true || d === "true";
    case "int64": {
      if (d === undefined || d === "") return 0n;
      const s = String(d);
      return s.startsWith("0x") ? BigInt.asIntN(64, BigInt(s)) : BigInt(s);
    }
    case "string":
      return d === undefined ? "" : String(d);
    case "uuid":
      return "AAAAAAAAAAAAAAAAAAAAAA";
    case "bytes":
    case "records":
      return Buffer.alloc(0);
    case "struct":
      return defaultStruct(field.struct as StructModel);
    default:
      return numberDefault(d);
  }
}

/** A struct with every field at its default. */
export function defaultStruct(struct: StructModel): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of struct.fields) out[f.prop] = defaultValue(f);
  return out;
}

// ------------------------------------------------------------------------------ random values

/** Knobs of the instance generator. */
export interface RandomOptions {
  /**
   * Rough cap on values per instance: keeps nested arrays from multiplying into megabytes
   * (an array of 300 structs each holding arrays of arrays).
   */
  budget: number;
}

const INT_RANGES: Record<string, [number, number]> = {
  int8: [-128, 127],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
};

// Code points chosen to exercise UTF-8 widths and JSON escaping: ASCII, quotes and
// backslashes, control characters, 2-byte Latin, 3-byte CJK and BMP edge cases, and 4-byte
// characters (surrogate pairs in UTF-16). Lone surrogates are left out: Java and Node encode
// them differently, and Kafka never sees them from a real client.
const CODE_POINTS: readonly (readonly [number, number])[] = [
  [0x61, 0x7a],
  [0x41, 0x5a],
  [0x30, 0x39],
  [0x20, 0x2f],
  [0x00, 0x1f],
  [0xe0, 0xff],
  [0x4e00, 0x4e40],
  [0xfff0, 0xffff],
  [0x1f600, 0x1f64f],
  [0x10fff0, 0x10ffff],
];

class Generator {
  readonly #rng: Rng;
  #budget: number;

  constructor(rng: Rng, options: RandomOptions) {
    this.#rng = rng;
    this.#budget = options.budget;
  }

  struct(struct: StructModel, version: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const f of struct.fields) {
      if (!isPresent(f, version)) {
        out[f.prop] = defaultValue(f);
      } else if (isTagged(f, version) && this.#rng.chance(0.5)) {
        // At its default a tagged field is absent on the wire: both cases need covering.
        out[f.prop] = defaultValue(f);
      } else {
        out[f.prop] = this.field(f, version);
      }
    }
    return out;
  }

  field(f: FieldModel, version: number): unknown {
    const rng = this.#rng;
    this.#budget--;
    if (has(f.nullable, version) && rng.chance(0.15)) return null;
    if (f.isArray) {
      const n = this.#arrayLength();
      const a: unknown[] = [];
      for (let i = 0; i < n; i++) a.push(this.#element(f, version));
      return a;
    }
    return this.#element(f, version);
  }

  #arrayLength(): number {
    const rng = this.#rng;
    if (this.#budget <= 0) return rng.chance(0.7) ? 0 : 1;
    const r = rng.next();
    let n: number;
    if (r < 0.15) n = 0;
    else if (r < 0.85) n = rng.int(1, 3);
    else if (r < 0.98) n = rng.int(4, 12);
    else n = 300;
    if (n > this.#budget) n = Math.min(n, 3);
    this.#budget -= n;
    return n;
  }

  #element(f: FieldModel, version: number): unknown {
    const rng = this.#rng;
    switch (f.base) {
      case "bool":
        return rng.chance(0.5);
      case "int64":
        return this.#int64();
      case "float64":
        return this.#float64();
      case "string":
        return this.#string();
      case "uuid":
        return rng.chance(0.1) ? "AAAAAAAAAAAAAAAAAAAAAA" : rng.bytes(16).toString("base64url");
      case "bytes":
        return rng.bytes(rng.chance(0.2) ? 0 : rng.int(1, 24));
      case "records":
        // Kafka's message code copies records without parsing them.
        return rng.bytes(rng.chance(0.2) ? 0 : rng.int(1, 64));
      case "struct":
        return this.struct(f.struct as StructModel, version);
      default: {
        const [lo, hi] = INT_RANGES[f.base] as [number, number];
        const r = rng.next();
        if (r < 0.1) return lo;
        if (r < 0.2) return hi;
        if (r < 0.3) return lo < 0 ? -1 : 0;
        if (r < 0.6) return rng.int(Math.max(lo, -100), Math.min(hi, 100));
        return rng.int(lo, hi);
      }
    }
  }

  #int64(): bigint {
    const rng = this.#rng;
    const r = rng.next();
    if (r < 0.08) return -(2n ** 63n);
    if (r < 0.16) return 2n ** 63n - 1n;
    if (r < 0.24) return -1n;
    if (r < 0.45) return BigInt(rng.int(-1000, 1000));
    // Just past 2^53, where a double would round: the oracle path must not pass through one.
    if (r < 0.55) return 2n ** 53n + BigInt(rng.int(1, 1000));
    return BigInt.asIntN(64, (BigInt(rng.u32()) << 32n) | BigInt(rng.u32()));
  }

  #float64(): number {
    const rng = this.#rng;
    const r = rng.next();
    if (r < 0.05) return -0;
    if (r < 0.1) return Number.MIN_VALUE;
    if (r < 0.15) return -Number.MAX_VALUE;
    if (r < 0.35) return rng.int(-1000, 1000);
    if (r < 0.6) return (rng.next() - 0.5) * 1e6;
    for (;;) {
      const x = rng.bytes(8).readDoubleBE(0);
      if (Number.isFinite(x)) return x;
    }
  }

  #string(): string {
    const rng = this.#rng;
    if (rng.chance(0.15)) return "";
    const n = rng.int(1, 16);
    let s = "";
    for (let i = 0; i < n; i++) {
      // Mostly ASCII, like real names, with every other class mixed in.
      const [lo, hi] = rng.chance(0.6) ? (CODE_POINTS[0] as [number, number]) : rng.pick(CODE_POINTS);
      s += String.fromCodePoint(rng.int(lo, hi));
    }
    return s;
  }
}

/**
 * A random instance of `struct` valid at `version`: every field present at that version gets
 * a random value (tagged ones half the time), every other field its default.
 */
export function randomInstance(
  struct: StructModel,
  version: number,
  seed: number,
  options: RandomOptions = { budget: 1500 },
): Record<string, unknown> {
  return new Generator(new Rng(seed), options).struct(struct, version);
}

/** A random value of one field at `version` (never its default-on-purpose; may be null). */
export function randomFieldValue(field: FieldModel, version: number, seed: number): unknown {
  return new Generator(new Rng(seed), { budget: 50 }).field(field, version);
}

// ------------------------------------------------------------------------------ Kafka JSON

/** A double as Kafka's JSON reader wants it: always with a fraction or exponent. */
function doubleText(x: number): string {
  if (Object.is(x, -0)) return "-0.0";
  const s = String(x);
  return /[.eE]/.test(s) ? s : `${s}.0`;
}

/**
 * The instance in the JSON form Kafka's `<Name>JsonConverter.read` takes: only the fields
 * present at `version`, int64 as exact number text (JSON.stringify cannot write a bigint),
 * bytes and records as base64, uuids in their string form.
 */
export function toKafkaJson(struct: StructModel, version: number, instance: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const f of struct.fields) {
    if (!isPresent(f, version)) continue;
    parts.push(`${JSON.stringify(f.prop)}:${fieldToKafkaJson(f, version, instance[f.prop])}`);
  }
  return `{${parts.join(",")}}`;
}

/** One field's value in Kafka's JSON form (nested structs as they are at `version`). */
export function fieldToKafkaJson(f: FieldModel, version: number, value: unknown): string {
  if (value === null) return "null";
  if (f.isArray) return `[${(value as unknown[]).map((e) => elementJson(f, version, e)).join(",")}]`;
  return elementJson(f, version, value);
}

function elementJson(f: FieldModel, version: number, value: unknown): string {
  switch (f.base) {
    case "int64":
      return (value as bigint).toString();
    case "float64":
      return doubleText(value as number);
    case "bytes":
    case "records":
      return JSON.stringify((value as Buffer).toString("base64"));
    case "struct":
      return toKafkaJson(f.struct as StructModel, version, value as Record<string, unknown>);
    default:
      return JSON.stringify(value);
  }
}

/**
 * The instance in the shape Oracle.java's decode op replies with (Kafka's JSON writer, int64
 * and uint32 as decimal strings): for comparing Kafka's reading of our bytes with the
 * instance. Like Kafka's writer, it leaves out fields absent at `version` and tagged fields
 * at their default, and gives a records field as its size, `<field>SizeInBytes`.
 */
export function toOracleShape(struct: StructModel, version: number, instance: Record<string, unknown>): unknown {
  const out: Record<string, unknown> = {};
  for (const f of struct.fields) {
    if (!isPresent(f, version)) continue;
    const v = instance[f.prop];
    if (isTagged(f, version) && firstDifference(v, defaultValue(f)) === null) continue;
    if (f.base === "records" && v !== null) {
      out[`${f.prop}SizeInBytes`] = (v as Buffer).length;
      continue;
    }
    const one = (e: unknown): unknown => {
      if (e === null) return null;
      switch (f.base) {
        case "int64":
        case "uint32":
          return String(e);
        case "bytes":
        case "records":
          return (e as Buffer).toString("base64");
        case "struct":
          return toOracleShape(f.struct as StructModel, version, e as Record<string, unknown>);
        default:
          return e;
      }
    };
    out[f.prop] = v === null ? null : f.isArray ? (v as unknown[]).map(one) : one(v);
  }
  return out;
}

// ------------------------------------------------------------------------------ comparison

/**
 * The first difference between two values as "path: a vs b", or null when equal. Buffers
 * compare by content, numbers with Object.is (so -0 differs from 0, as it does on the wire),
 * and a missing key differs from any value.
 */
export function firstDifference(a: unknown, b: unknown, path = "$"): string | null {
  if (Buffer.isBuffer(a) || Buffer.isBuffer(b)) {
    if (Buffer.isBuffer(a) && Buffer.isBuffer(b) && a.equals(b)) return null;
    return `${path}: ${show(a)} vs ${show(b)}`;
  }
  if (typeof a === "number" && typeof b === "number") return Object.is(a, b) ? null : `${path}: ${a} vs ${b}`;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return `${path}: length ${a.length} vs ${b.length}`;
    for (let i = 0; i < a.length; i++) {
      const d = firstDifference(a[i], b[i], `${path}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  if (
    a !== null &&
    b !== null &&
    typeof a === "object" &&
    typeof b === "object" &&
    !Array.isArray(a) &&
    !Array.isArray(b)
  ) {
    const ra = a as Record<string, unknown>;
    const rb = b as Record<string, unknown>;
    for (const k of new Set([...Object.keys(ra), ...Object.keys(rb)])) {
      if (!(k in ra) || !(k in rb))
        return `${path}.${k}: ${k in ra ? "present" : "missing"} vs ${k in rb ? "present" : "missing"}`;
      const d = firstDifference(ra[k], rb[k], `${path}.${k}`);
      if (d) return d;
    }
    return null;
  }
  return a === b ? null : `${path}: ${show(a)} vs ${show(b)}`;
}

function show(x: unknown): string {
  if (Buffer.isBuffer(x)) return `<${x.length} bytes ${x.subarray(0, 16).toString("hex")}${x.length > 16 ? "…" : ""}>`;
  if (typeof x === "bigint") return `${x}n`;
  if (typeof x === "string") return JSON.stringify(x.length > 40 ? `${x.slice(0, 40)}…` : x);
  if (Array.isArray(x)) return `[${x.length} items]`;
  if (x !== null && typeof x === "object") return "{…}";
  return String(x);
}
