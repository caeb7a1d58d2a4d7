/**
 * The conformance check of one codec against Kafka: random instances at every version go
 * through Kafka's serializer (via the oracle) and ours; the bytes must be identical, our
 * decoder must read Kafka's bytes back to the instance, and Kafka must read our bytes back
 * to it too. Fields set although their version lacks them must make both sides throw (or,
 * for ignorable fields, both drop them). Every mismatch is collected, not just the first.
 */
import { UnsupportedVersionError } from "../../src/protocol/errors.js";
import { Reader } from "../../src/protocol/primitives/reader.js";
import { Writer } from "../../src/protocol/primitives/writer.js";
import type { Oracle, OracleItem, OracleReply } from "./oracle.js";
import {
  defaultValue,
  type FieldModel,
  fieldToKafkaJson,
  firstDifference,
  isPresent,
  randomFieldValue,
  randomInstance,
  seedOf,
  toKafkaJson,
  toOracleShape,
} from "./random.js";
import type { Target } from "./targets.js";

/** How much to check. */
export interface CheckOptions {
  /** Random instances per version. */
  instances: number;
  /** Of those, how many Kafka also decodes from our bytes (the JSON round trip is slower). */
  javaDecodes: number;
  /** Of those, how many are also encoded at every initial Writer size (see sizeSweep). */
  sizeSweeps: number;
  /** Mixed into every seed: change it to explore other instances. */
  baseSeed: number;
}

/** What one check did. */
export interface CheckResult {
  /** One line per mismatch: version, direction, seed, what differed. */
  mismatches: string[];
  /** Instances compared byte for byte. */
  instances: number;
  /** Absent-field cases compared: both sides threw. */
  absentThrown: number;
  /** Absent-field cases compared: both sides dropped the field (ignorable fields). */
  absentDropped: number;
}

interface Case {
  version: number;
  /** Index among the random instances of its version (-1 for absent-field cases). */
  index: number;
  seed: number;
  instance: Record<string, unknown>;
  /** Set for absent-field cases: the field set outside its versions. */
  absent?: FieldModel;
}

/** Our encoding of a case, or what we threw. */
interface Encoded {
  bytes?: Buffer;
  error?: unknown;
}

function encodeOurs(target: Target, c: Case, initialSize = c.seed % 300): Encoded {
  try {
    // A seeded initial size moves buffer growth around the message, so a write that grows
    // the buffer mid-way (a tagged field's size insert) meets it at many points.
    const w = new Writer(initialSize);
    target.encode(w, c.instance, c.version);
    return { bytes: Buffer.from(w.finish()) };
  } catch (error) {
    return { error };
  }
}

/**
 * Encodes a case with every initial buffer size from 0 to its length: the bytes must never
 * depend on where the Writer grows. Returns the first size that changes them, or null.
 */
function sizeSweep(target: Target, c: Case, expected: Buffer): number | null {
  for (let size = 0; size <= expected.length + 1; size++) {
    const bytes = encodeOurs(target, c, size).bytes;
    if (!bytes?.equals(expected)) return size;
  }
  return null;
}

function firstDiffOffset(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}

/** Decodes `bytes` with our decoder; returns a problem description or null. */
function checkOurDecode(target: Target, c: Case, bytes: Buffer): string | null {
  try {
    const r = new Reader(bytes);
    const decoded = target.decode(r, c.version);
    if (r.pos !== bytes.length) return `our decoder stopped at byte ${r.pos} of ${bytes.length}`;
    const d = firstDifference(decoded, c.instance);
    return d ? `our decoding of Kafka's bytes differs at ${d} (decoded vs instance)` : null;
  } catch (err) {
    return `our decoder threw on Kafka's bytes: ${(err as Error).message}`;
  }
}

/** A value for `field` that is neither null nor its default, for the absent-field cases. */
function nonDefaultValue(field: FieldModel, seed: number): unknown {
  const someVersion = field.present.lo;
  const dflt = defaultValue(field);
  for (let i = 0; i < 100; i++) {
    const v = randomFieldValue(field, someVersion, seedOf(seed, i));
    if (v !== null && firstDifference(v, dflt) !== null) return v;
  }
  throw new Error(`no non-default value found for ${field.prop}`);
}

/** Builds the cases for a target: random instances per version, then absent-field cases. */
function makeCases(target: Target, options: CheckOptions): Case[] {
  const cases: Case[] = [];
  for (let v = target.min; v <= target.max; v++) {
    for (let i = 0; i < options.instances; i++) {
      const seed = seedOf(options.baseSeed, target.name, v, i);
      cases.push({ version: v, index: i, seed, instance: randomInstance(target.model, v, seed) });
    }
  }
  for (let v = target.min; v <= target.max; v++) {
    for (const field of target.model.fields) {
      // Only fields that exist in some version of the codec's range: others never reach the
      // wire and Kafka's newest code may not even hold them meaningfully. Struct fields are
      // left out because Kafka's JSON reader refuses a struct at a version its class lacks
      // ("Can't read version 0 of TopicPartition") before its writer could decide anything.
      if (isPresent(field, v) || field.present.lo > field.present.hi || field.base === "struct") continue;
      const seed = seedOf(options.baseSeed, target.name, v, "absent", field.prop);
      const instance = randomInstance(target.model, v, seed);
      instance[field.prop] = nonDefaultValue(field, seed);
      cases.push({ version: v, index: -1, seed, instance, absent: field });
    }
  }
  return cases;
}

/** Kafka's JSON for a case: absent-field cases carry the field although its version lacks it. */
function caseJson(target: Target, c: Case): string {
  const json = toKafkaJson(target.model, c.version, c.instance);
  if (!c.absent) return json;
  // Kafka's JSON reader takes a field whatever the version; its writer then decides.
  const extra = `${JSON.stringify(c.absent.prop)}:${fieldToKafkaJson(c.absent, c.absent.present.lo, c.instance[c.absent.prop])}`;
  return json === "{}" ? `{${extra}}` : `{${extra},${json.slice(1)}`;
}

/** Compares Kafka's and our handling of a field set outside its versions. */
function checkAbsentCase(
  c: Case & { absent: FieldModel },
  where: string,
  java: OracleReply,
  mine: Encoded,
  out: CheckResult,
): void {
  const f = c.absent;
  const label = `${where} field ${f.prop} (${f.spec.versions}${f.spec.ignorable ? ", ignorable" : ""}) set at v${c.version}`;
  if (java.error !== undefined && mine.error === undefined) {
    out.mismatches.push(`${label}: Kafka threw (${java.error}) but we wrote it`);
  } else if (java.error === undefined && mine.error !== undefined) {
    out.mismatches.push(`${label}: Kafka dropped it but we threw (${(mine.error as Error).message})`);
  } else if (java.error !== undefined) {
    out.absentThrown++;
    if (!(mine.error instanceof UnsupportedVersionError))
      out.mismatches.push(`${label}: we threw ${String(mine.error)}`);
    if (!/UnsupportedVersionException/.test(java.error)) out.mismatches.push(`${label}: Kafka threw ${java.error}`);
  } else {
    out.absentDropped++;
    const ours = mine.bytes as Buffer;
    const kafka = java.bytes as Buffer;
    if (!ours.equals(kafka))
      out.mismatches.push(`${label}: both dropped it but the bytes differ at ${firstDiffOffset(ours, kafka)}`);
  }
}

/** Compares a random instance: encodings, our reading of Kafka's bytes, Kafka's reading of ours. */
function checkInstanceCase(
  target: Target,
  c: Case,
  where: string,
  java: OracleReply,
  mine: Encoded,
  javaDecode: OracleReply | undefined,
  options: CheckOptions,
  out: CheckResult,
): void {
  out.instances++;
  if (java.error !== undefined) {
    out.mismatches.push(
      `${where}: Kafka threw ${java.error}${mine.error ? `; we threw ${(mine.error as Error).message}` : ""}`,
    );
    return;
  }
  const kafka = java.bytes as Buffer;
  if (mine.error !== undefined) {
    out.mismatches.push(`${where}: we threw ${(mine.error as Error).message}`);
  } else if (!(mine.bytes as Buffer).equals(kafka)) {
    const ours = mine.bytes as Buffer;
    const at = firstDiffOffset(ours, kafka);
    const around = (b: Buffer): string => b.subarray(Math.max(0, at - 4), at + 8).toString("hex");
    out.mismatches.push(
      `${where}: encoding differs at byte ${at} (ours ${ours.length} bytes, Kafka's ${kafka.length}): ` +
        `ours …${around(ours)} vs Kafka's …${around(kafka)}`,
    );
  } else if (c.index < options.sizeSweeps && kafka.length <= 1500) {
    const size = sizeSweep(target, c, kafka);
    if (size !== null)
      out.mismatches.push(`${where}: encoding into a Writer of initial size ${size} differs from Kafka's bytes`);
  }
  const decodeProblem = checkOurDecode(target, c, kafka);
  if (decodeProblem) out.mismatches.push(`${where}: ${decodeProblem}`);
  if (javaDecode === undefined) return;
  if (javaDecode.error !== undefined) {
    out.mismatches.push(`${where}: Kafka could not read our bytes: ${javaDecode.error}`);
  } else if (javaDecode.remaining !== 0) {
    out.mismatches.push(`${where}: Kafka left ${javaDecode.remaining} of our bytes unread`);
  } else {
    const diff = firstDifference(javaDecode.json, toOracleShape(target.model, c.version, c.instance));
    if (diff) out.mismatches.push(`${where}: Kafka's reading of our bytes differs at ${diff} (Kafka vs instance)`);
  }
}

/** Runs the whole check for one target through `oracle`. */
export async function checkTarget(oracle: Oracle, target: Target, options: CheckOptions): Promise<CheckResult> {
  const cases = makeCases(target, options);
  const ours = cases.map((c) => encodeOurs(target, c));
  const items: OracleItem[] = cases.map((c) => ({
    op: "encode",
    name: target.name,
    version: c.version,
    json: caseJson(target, c),
  }));
  // Kafka also reads our bytes for the first few instances of each version: item index by case.
  const decodeItem = new Map<number, number>();
  cases.forEach((c, i) => {
    const bytes = ours[i]?.bytes;
    if (c.absent || !bytes || c.index >= options.javaDecodes) return;
    decodeItem.set(i, items.length);
    items.push({ op: "decode", name: target.name, version: c.version, bytes });
  });
  const replies = await oracle.send(items);
  const result: CheckResult = { mismatches: [], instances: 0, absentThrown: 0, absentDropped: 0 };
  cases.forEach((c, i) => {
    const java = replies[i] as OracleReply;
    const mine = ours[i] as Encoded;
    const where = `${target.name} v${c.version} seed ${c.seed}`;
    if (c.absent) {
      checkAbsentCase({ ...c, absent: c.absent }, where, java, mine, result);
    } else {
      const d = decodeItem.get(i);
      checkInstanceCase(target, c, where, java, mine, d === undefined ? undefined : replies[d], options, result);
    }
  });
  return result;
}
