/**
 * Emits TypeScript for one message spec: an interface per struct covering all versions,
 * and write/read/create functions that branch on the version instead of copying code per
 * version. Field names are the spec's names with a lower-case first letter, exactly as
 * Kafka's own JSON converters name them, so conformance tests can hand instances to Java.
 */
import {
  contains,
  describeVersions,
  type FieldSpec,
  intersect,
  isEmpty,
  type MessageSpec,
  parseVersions,
  type Versions,
} from "./spec.js";

/**
 * Primitives of one fixed width, read and written the same in every version and encoding by
 * the Writer/Reader method of the type's own name (`w.int32(x)`, `r.uuid(what)`).
 */
const FIXED_WIDTH = new Set(["bool", "int8", "int16", "uint16", "int32", "uint32", "int64", "float64", "uuid"]);

const PRIMITIVES = new Set([...FIXED_WIDTH, "string", "bytes", "records"]);

/** Primitives whose TypeScript type is `number`. */
const NUMBERS = new Set(["int8", "int16", "uint16", "int32", "uint32", "float64"]);

/**
 * Generated code that depends on a condition known at generation time or only at run time:
 * `cond` is "true", "false" or a runtime expression (`v >= 9`). As a statement…
 */
function pickStatement(cond: string, yes: string, no: string): string {
  return cond === "true" ? yes : cond === "false" ? no : `if (${cond}) ${yes} else ${no}`;
}

/** …and as an expression. */
function pickExpression(cond: string, yes: string, no: string): string {
  return cond === "true" ? yes : cond === "false" ? no : `(${cond} ? ${yes} : ${no})`;
}

/** A field resolved against its message's versions. */
interface Field {
  spec: FieldSpec;
  /** TS property name. */
  prop: string;
  /** Versions (within the message's) in which the field exists at all. */
  present: Versions;
  /** Versions in which it is a tagged field. */
  tagged: Versions;
  /** Versions in which it is a regular (positional) field. */
  regular: Versions;
  nullable: Versions;
  /** Versions with compact (flexible) encodings for this field. */
  flexible: Versions;
  isArray: boolean;
  /** Element type name: a primitive or a struct's spec name. */
  base: string;
  /** Dotted path for error messages. */
  path: string;
}

/** A struct to emit. */
interface Struct {
  /** TS type name. */
  tsName: string;
  fields: Field[];
}

/** Lower-cases the first letter: Kafka's JSON field naming. */
export function camel(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

/** Emits one spec (or a request/response pair) as module text. */
export class SpecEmitter {
  readonly spec: MessageSpec;
  readonly valid: Versions;
  readonly flexible: Versions;
  /** Spec struct name → TS name. */
  readonly #structNames = new Map<string, string>();
  /** Spec struct name → its field specs. */
  readonly #structSpecs = new Map<string, FieldSpec[]>();
  readonly structs: Struct[] = [];
  /** e.g. "Produce request": used in error messages. */
  readonly context: string;

  constructor(spec: MessageSpec, context: string) {
    this.spec = spec;
    this.context = context;
    this.valid = parseVersions(spec.validVersions);
    this.flexible = parseVersions(spec.flexibleVersions);
    for (const s of spec.commonStructs ?? []) this.#registerStruct(s.name, s.fields);
    for (const s of spec.commonStructs ?? []) this.#collect(s.fields);
    this.#collect(spec.fields);
    this.#buildStruct(spec.name, spec.fields, "");
  }

  #registerStruct(name: string, fields: FieldSpec[]): void {
    if (this.#structSpecs.has(name)) return;
    this.#structSpecs.set(name, fields);
    this.#structNames.set(name, name === this.spec.name ? name : `${this.spec.name}${name}`);
  }

  #collect(fields: FieldSpec[]): void {
    for (const f of fields) {
      if (f.fields) {
        this.#registerStruct(f.type.replace(/^\[\]/, ""), f.fields);
        this.#collect(f.fields);
      }
    }
  }

  #buildStruct(specName: string, fieldSpecs: FieldSpec[], path: string): string {
    const tsName = specName === this.spec.name ? specName : (this.#structNames.get(specName) as string);
    if (this.structs.some((s) => s.tsName === tsName)) return tsName;
    const struct: Struct = { tsName, fields: [] };
    this.structs.push(struct);
    for (const f of fieldSpecs) {
      const isArray = f.type.startsWith("[]");
      const base = isArray ? f.type.slice(2) : f.type;
      const present = intersect(parseVersions(f.versions), this.valid);
      const tagged = intersect(parseVersions(f.taggedVersions), present);
      let regular = present;
      if (!isEmpty(tagged)) {
        if (tagged.hi !== present.hi)
          throw new Error(`${this.spec.name}.${f.name}: tagged versions must run to the end`);
        regular = { lo: present.lo, hi: tagged.lo - 1 };
      }
      const flexible = f.flexibleVersions !== undefined ? parseVersions(f.flexibleVersions) : this.flexible;
      const prop = camel(f.name);
      const field: Field = {
        spec: f,
        prop,
        present,
        tagged,
        regular,
        nullable: parseVersions(f.nullableVersions),
        flexible,
        isArray,
        base,
        path: path ? `${path}.${prop}` : prop,
      };
      struct.fields.push(field);
      if (!PRIMITIVES.has(base)) {
        const sub = this.#structSpecs.get(base);
        if (!sub) throw new Error(`${this.spec.name}: unknown type ${f.type} of ${f.name}`);
        this.#buildStruct(base, sub, `${field.path}${isArray ? "[]" : ""}`);
      }
    }
    return tsName;
  }

  /** TS name of a struct by its spec name. */
  structTs(base: string): string {
    return (this.#structNames.get(base) ?? base) as string;
  }

  // ---------------------------------------------------------------- version conditions

  /** A JS condition that version `v` lies in `range`, simplified over the message's versions. */
  cond(range: Versions, within: Versions = this.valid): string {
    const r = intersect(range, within);
    if (isEmpty(r)) return "false";
    const parts: string[] = [];
    if (r.lo > within.lo) parts.push(`v >= ${r.lo}`);
    if (r.hi < within.hi) parts.push(`v <= ${r.hi}`);
    return parts.length === 0 ? "true" : parts.join(" && ");
  }

  // ---------------------------------------------------------------- types and defaults

  /** TS type of a field (with `| null` when nullable in any version). */
  tsType(f: Field): string {
    const nullable = !isEmpty(intersect(f.nullable, f.present)) || this.#defaultIsNull(f);
    const elem = this.#baseType(f.base);
    const t = f.isArray ? `${elem.includes("|") ? `(${elem})` : elem}[]` : elem;
    return nullable ? `${t} | null` : t;
  }

  #baseType(base: string): string {
    if (NUMBERS.has(base)) return "number";
    switch (base) {
      case "bool":
        return "boolean";
      case "int64":
        return "bigint";
      case "string":
      case "uuid":
        return "string";
      case "bytes":
      case "records":
        return "Buffer";
      default:
        return this.structTs(base);
    }
  }

  #defaultIsNull(f: Field): boolean {
    return f.spec.default === "null";
  }

  /** A JS expression for the field's default value (a fresh value for arrays and structs). */
  defaultExpr(f: Field): string {
    const d = f.spec.default;
    if (d === "null") return "null";
    if (f.isArray) return "[]";
    if (NUMBERS.has(f.base)) return d === undefined || d === "" ? "0" : String(Number(d));
    switch (f.base) {
      case "bool":
        return d === true || d === "true" ? "true" : "false";
      case "int64":
        return `${d === undefined || d === "" ? "0" : BigInt(d as string | number).toString()}n`;
      case "string":
        return JSON.stringify(d === undefined ? "" : String(d));
      case "uuid":
        return "ZERO_UUID";
      case "bytes":
      case "records":
        return "EMPTY_BYTES";
      default:
        return `create${this.structTs(f.base)}()`;
    }
  }

  /** A JS condition that `x` differs from the field's default (Java's rule for tagged/absent fields). */
  nonDefaultExpr(f: Field, x: string): string {
    const d = this.defaultExpr(f);
    if (d === "null") return `${x} !== null`;
    if (f.isArray)
      return this.tsType(f).endsWith("| null") ? `(${x} === null || ${x}.length !== 0)` : `${x}.length !== 0`;
    switch (f.base) {
      case "bytes":
      case "records":
        return `(${x} === null || ${x}.length !== 0)`;
      default:
        // Scalars compare with their default; a struct is default when every field is.
        return PRIMITIVES.has(f.base) ? `${x} !== ${d}` : `(${x} === null || !isDefault${this.structTs(f.base)}(${x}))`;
    }
  }

  // ---------------------------------------------------------------- writers

  #writePrim(base: string, x: string, flex: string, nullable: string, path: string): string[] {
    if (FIXED_WIDTH.has(base)) return [`w.${base}(${x});`];
    const pick = (compact: string, classic: string) => pickStatement(flex, compact, classic);
    const nullCheck = this.#nullCheck(x, nullable, path);
    switch (base) {
      case "string":
        return [...nullCheck, pick(`w.compactString(${x});`, `w.string(${x});`)];
      case "bytes":
      case "records":
        return [...nullCheck, pick(`w.compactBytes(${x});`, `w.bytes(${x});`)];
      default:
        throw new Error(`not a primitive: ${base}`);
    }
  }

  #side = "REQ";

  /**
   * Statements refusing `null` in `x` where the version does not allow it. `nullable` is the
   * condition under which null is allowed: a field nullable only from some version on (e.g.
   * Metadata's `topics`, nullable from v1) must accept null in those versions.
   */
  #nullCheck(x: string, nullable: string, path: string): string[] {
    if (nullable === "true") return [];
    const versionCheck = nullable === "false" ? "" : ` && !(${nullable})`;
    return [`if (${x} === null${versionCheck}) nullNotAllowed(CONTEXT_${this.#side}, v, ${JSON.stringify(path)});`];
  }

  /** Statements writing field `f`'s value `x` (regular or tagged position). */
  writeValue(f: Field, x: string, within: Versions): string[] {
    const flex = this.cond(f.flexible, within);
    const nullable = this.cond(f.nullable, within);
    const pick = (compact: string, classic: string) => pickStatement(flex, compact, classic);
    const nullCheck = this.#nullCheck(x, nullable, f.path);
    if (f.isArray) {
      const el = "e";
      const elemWrite = PRIMITIVES.has(f.base)
        ? this.#writePrim(f.base, el, flex, "false", `${f.path}[]`)
        : [`write${this.structTs(f.base)}(w, ${el}, v);`];
      const items = [
        pick(`w.compactArrayLength(${x}.length);`, `w.arrayLength(${x}.length);`),
        `for (const ${el} of ${x}) {`,
        ...elemWrite,
        "}",
      ];
      if (nullable === "false") return [...nullCheck, ...items];
      return [`if (${x} === null) {`, ...nullCheck, pick("w.uvarint(0);", "w.int32(-1);"), "} else {", ...items, "}"];
    }
    if (PRIMITIVES.has(f.base)) return this.#writePrim(f.base, x, flex, nullable, f.path);
    const ts = this.structTs(f.base);
    if (nullable === "false") return [...nullCheck, `write${ts}(w, ${x}, v);`];
    // Nullable structs carry an int8 marker: -1 null, 1 present.
    return [
      `if (${x} === null) {`,
      ...nullCheck,
      "w.int8(-1);",
      "} else {",
      "w.int8(1);",
      `write${ts}(w, ${x}, v);`,
      "}",
    ];
  }

  #readPrim(base: string, flex: string, nullable: string, what: string): string {
    const w = JSON.stringify(what);
    if (FIXED_WIDTH.has(base)) return `r.${base}(${w})`;
    const pick = (compact: string, classic: string) => pickExpression(flex, compact, classic);
    const nul = (yes: string, no: string) => pickExpression(nullable, yes, no);
    switch (base) {
      case "string":
        return pick(
          nul(`r.compactNullableString(${w})`, `r.compactString(${w})`),
          nul(`r.nullableString(${w})`, `r.string(${w})`),
        );
      case "bytes":
      case "records":
        return pick(
          nul(`r.compactNullableBytes(${w})`, `r.compactBytes(${w})`),
          nul(`r.nullableBytes(${w})`, `r.bytes(${w})`),
        );
      default:
        throw new Error(`not a primitive: ${base}`);
    }
  }

  /** Statements that read field `f` into local `x`. */
  readValue(f: Field, x: string, within: Versions): string[] {
    const flex = this.cond(f.flexible, within);
    const nullable = this.cond(f.nullable, within);
    const what = JSON.stringify(f.path);
    if (f.isArray) {
      const elem = PRIMITIVES.has(f.base)
        ? this.#readPrim(f.base, flex, "false", `${f.path}[]`)
        : `read${this.structTs(f.base)}(r, v)`;
      const len = pickExpression(flex, `r.compactArrayLength(${what})`, `r.arrayLength(${what})`);
      return [
        "{",
        `const n = ${len};`,
        "if (n === null) {",
        ...(nullable === "false"
          ? [`r.fail(${what}, "null for a non-nullable array");`]
          : [
              ...(nullable === "true" ? [] : [`if (!(${nullable})) r.fail(${what}, "null for a non-nullable array");`]),
              `${x} = null;`,
            ]),
        "} else {",
        `const a = new Array(n);`,
        `for (let i = 0; i < n; i++) a[i] = ${elem};`,
        `${x} = a;`,
        "}",
        "}",
      ];
    }
    if (PRIMITIVES.has(f.base)) return [`${x} = ${this.#readPrim(f.base, flex, nullable, f.path)};`];
    const ts = this.structTs(f.base);
    if (nullable === "false") return [`${x} = read${ts}(r, v);`];
    return [
      `if (r.int8(${what}) < 0) {`,
      ...(nullable === "true" ? [] : [`if (!(${nullable})) r.fail(${what}, "null for a non-nullable struct");`]),
      `${x} = null;`,
      "} else {",
      `${x} = read${ts}(r, v);`,
      "}",
    ];
  }

  // ---------------------------------------------------------------- structs

  /** Emits interface, create, isDefault, write and read for every struct; `side` names the error context. */
  emitStructs(side: "REQ" | "RES" | "DATA"): string[] {
    this.#side = side;
    const out: string[] = [];
    for (const s of this.structs) out.push(...this.#emitStruct(s));
    return out;
  }

  #doc(f: Field): string {
    const bits = [describeVersions(f.present)];
    if (!isEmpty(f.tagged)) bits.push(`tagged ${describeVersions(f.tagged)} (tag ${f.spec.tag})`);
    const nul = intersect(f.nullable, f.present);
    if (!isEmpty(nul)) bits.push(`nullable ${describeVersions(nul)}`);
    if (f.spec.ignorable) bits.push("ignorable");
    if (f.spec.entityType) bits.push(`entity ${f.spec.entityType}`);
    const about = (f.spec.about ?? "").replace(/\*\//g, "*\\/").trim();
    return `  /** (${bits.join("; ")}) ${about} */`;
  }

  #emitStruct(s: Struct): string[] {
    const out: string[] = [];
    const top = s.tsName === this.spec.name;
    out.push(
      `/** ${top ? `${this.spec.name}, versions ${describeVersions(this.valid)}.` : `A ${s.tsName} entry of ${this.spec.name}.`} */`,
    );
    out.push(`export interface ${s.tsName} {`);
    for (const f of s.fields) out.push(this.#doc(f), `  ${f.prop}: ${this.tsType(f)};`);
    out.push("}", "");

    out.push(
      `/** A ${s.tsName} with every field at its default, overridden by \`init\`. */`,
      `export function create${s.tsName}(init?: Partial<${s.tsName}>): ${s.tsName} {`,
      "return {",
      ...s.fields.map((f) => `${f.prop}: init?.${f.prop} !== undefined ? init.${f.prop} : ${this.defaultExpr(f)},`),
      "};",
      "}",
      "",
    );

    out.push(
      `/** True when every field of \`m\` has its default value. */`,
      `export function isDefault${s.tsName}(m: ${s.tsName}): boolean {`,
      `return ${s.fields.length === 0 ? "true" : s.fields.map((f) => `!(${this.nonDefaultExpr(f, `m.${f.prop}`)})`).join(" && ")};`,
      "}",
      "",
    );

    // ----- write
    const taggedFields = s.fields
      .filter((f) => !isEmpty(f.tagged))
      .sort((a, b) => (a.spec.tag ?? 0) - (b.spec.tag ?? 0));
    out.push(`function write${s.tsName}(w: Writer, m: ${s.tsName}, v: number): void {`);
    for (const f of s.fields) {
      const x = `m.${f.prop}`;
      const reg = this.cond(f.regular);
      const pres = this.cond(f.present);
      if (reg !== "false") {
        const body = this.writeValue(f, x, f.regular);
        if (reg === "true") out.push(...body);
        else out.push(`if (${reg}) {`, ...body, "}");
      }
      if (pres !== "true" && !f.spec.ignorable) {
        const check = `if (${pres === "false" ? "" : `!(${pres}) && `}${this.nonDefaultExpr(f, x)}) unsupportedField(CONTEXT_${this.#side}, v, ${JSON.stringify(f.path)}, ${JSON.stringify(describeVersions(f.present))});`;
        out.push(check);
      }
    }
    const flexCond = this.cond(this.flexible);
    if (flexCond !== "false") {
      const body: string[] = [];
      if (taggedFields.length === 0) {
        body.push("w.uvarint(0);");
      } else {
        body.push("let tags = 0;");
        for (const f of taggedFields)
          body.push(`if (${this.cond(f.tagged)} && ${this.nonDefaultExpr(f, `m.${f.prop}`)}) tags++;`);
        body.push("w.uvarint(tags);");
        for (const f of taggedFields) {
          body.push(
            `if (${this.cond(f.tagged)} && ${this.nonDefaultExpr(f, `m.${f.prop}`)}) {`,
            `w.uvarint(${f.spec.tag});`,
            "const start = w.pos;",
            ...this.writeValue(f, `m.${f.prop}`, f.tagged),
            "w.insertUvarintLength(start);",
            "}",
          );
        }
      }
      if (flexCond === "true") out.push(...body);
      else out.push(`if (${flexCond}) {`, ...body, "}");
    }
    out.push("}", "");

    // ----- read
    out.push(`function read${s.tsName}(r: Reader, v: number): ${s.tsName} {`);
    for (const f of s.fields) {
      const local = `_${f.prop}`;
      out.push(`let ${local}: ${this.tsType(f)} = ${this.defaultExpr(f)};`);
      const reg = this.cond(f.regular);
      if (reg === "false") continue;
      const body = this.readValue(f, local, f.regular);
      if (reg === "true" && body.length === 1 && body[0]?.startsWith(`${local} = `)) {
        // Always present and read by one expression: declare and read in one statement.
        out[out.length - 1] = `let ${local}: ${this.tsType(f)} = ${body[0].slice(local.length + 3)}`;
        continue;
      }
      if (reg === "true") out.push(...body);
      else out.push(`if (${reg}) {`, ...body, "}");
    }
    if (flexCond !== "false") {
      const body = [
        `const tagCount = r.uvarint("tagged field count");`,
        "for (let t = 0; t < tagCount; t++) {",
        `const tag = r.uvarint("tag");`,
        `const size = r.uvarint("tagged field size");`,
        `r.need(size, "tagged field");`,
        "const end = r.pos + size;",
      ];
      if (taggedFields.length > 0) {
        body.push("switch (tag) {");
        for (const f of taggedFields) {
          body.push(
            `case ${f.spec.tag}:`,
            `if (${this.cond(f.tagged)}) {`,
            ...this.readValue(f, `_${f.prop}`, f.tagged),
            "}",
            "break;",
          );
        }
        body.push("}");
        body.push(
          `if (r.pos !== end) { if (r.pos > end) r.fail("tag " + tag, "tagged field overran its size"); r.pos = end; }`,
        );
      } else {
        body.push("r.pos = end;");
      }
      body.push("}");
      if (flexCond === "true") out.push(...body);
      else out.push(`if (${flexCond}) {`, ...body, "}");
    }
    out.push(`return { ${s.fields.map((f) => `${f.prop}: _${f.prop}`).join(", ")} };`, "}", "");
    return out;
  }

  /** True when version `n` is flexible for this message. */
  isFlexible(n: number): boolean {
    return contains(this.flexible, n);
  }
}
