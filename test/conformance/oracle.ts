/**
 * The Node side of the conformance oracle (tools/oracle/Oracle.java): compiles it against the
 * pinned Kafka jars when needed, runs one long-lived JVM, and exchanges batches of JSON
 * items with it, one line per batch. Each test file starts its own oracle (vitest runs files
 * in separate workers) and closes it in `afterAll`.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { ensureKafkaJars } from "../../tools/kafka/jars.js";
import { CACHE_DIR, REPO_ROOT } from "../../tools/kafka/paths.js";

/** The oracle's Java source. */
export const ORACLE_SOURCE = join(REPO_ROOT, "tools", "oracle", "Oracle.java");

/** Git-ignored folder of compiled oracle classes, one subfolder per source version. */
export const ORACLE_CLASSES_DIR = join(CACHE_DIR, "oracle-classes");

/** Serialise a message from Kafka's JSON form with Kafka's own generated code. */
export interface EncodeItem {
  op: "encode";
  /** Spec name: "ProduceRequest", "RequestHeader", "ConsumerProtocolSubscription"... */
  name: string;
  version: number;
  /**
   * The message as Kafka's JSON converter reads it, already serialised (see `toKafkaJson`
   * in random.ts): it carries int64 values as exact number text, which JSON.stringify cannot.
   */
  json: string;
}

/** Parse bytes with Kafka's generated code and return its JSON form. */
export interface DecodeItem {
  op: "decode";
  name: string;
  version: number;
  bytes: Buffer;
}

/** One record for {@link RecordsBuildItem}. */
export interface OracleRecordInput {
  /** Offset relative to the batch's base offset; defaults to the record's index. */
  offsetDelta?: number;
  timestamp: bigint;
  key: Buffer | null;
  value: Buffer | null;
  headers: { key: string; value: Buffer | null }[];
}

/** Build one record batch with Kafka's `MemoryRecordsBuilder`. */
export interface RecordsBuildItem {
  op: "records.build";
  codec?: "none" | "gzip" | "snappy" | "lz4" | "zstd";
  /** Compression level for gzip, lz4 and zstd; Kafka's default when absent. */
  level?: number;
  /** Record format; 2 unless testing legacy formats. */
  magic?: number;
  baseOffset?: bigint;
  /** The broker-assigned time for LogAppendTime batches; -1 for none. */
  logAppendTime?: bigint;
  producerId?: bigint;
  producerEpoch?: number;
  baseSequence?: number;
  isTransactional?: boolean;
  partitionLeaderEpoch?: number;
  timestampType?: "CreateTime" | "LogAppendTime";
  records?: OracleRecordInput[];
  /** Makes a control batch holding one commit or abort marker instead of `records`. */
  endTxnMarker?: { commit: boolean; coordinatorEpoch: number; timestamp: bigint };
}

/** Read every batch of a buffer with Kafka's `MemoryRecords`. */
export interface RecordsReadItem {
  op: "records.read";
  bytes: Buffer;
}

/** Anything the oracle accepts. */
/** The Java producer's partition for each key (Utils.murmur2, toPositive, modulo). */
export interface PartitionsItem {
  op: "partitions";
  keys: readonly Buffer[];
  partitionCount: number;
}

export type OracleItem = EncodeItem | DecodeItem | RecordsBuildItem | RecordsReadItem | PartitionsItem | { op: "ping" };

/** The reply to one item: exactly one of `bytes`, `json`, `batches`, `error` is meaningful. */
export interface OracleReply {
  /** encode, records.build: the bytes Kafka wrote. */
  bytes?: Buffer;
  /** decode: Kafka's JSON of the message, int64 (and uint32) values as decimal strings. */
  json?: unknown;
  /** decode: bytes Kafka left unread. */
  remaining?: number;
  /** records.read: the batches. */
  batches?: OracleBatch[];
  /** partitions: one partition per key. */
  partitions?: number[];
  /** Set when Kafka threw: the exception class and message. */
  error?: string;
}

/** A record as Kafka read it. */
export interface OracleRecord {
  offset: bigint;
  timestamp: bigint;
  key: Buffer | null;
  value: Buffer | null;
  headers: { key: string; value: Buffer | null }[];
}

/** A batch as Kafka read it. */
export interface OracleBatch {
  baseOffset: bigint;
  lastOffset: bigint;
  partitionLeaderEpoch: number;
  magic: number;
  /** `RecordBatch.isValid()`: the CRC matches. */
  crcValid: boolean;
  checksum: bigint;
  sizeInBytes: number;
  compressionType: string;
  timestampType: string;
  isTransactional: boolean;
  isControlBatch: boolean;
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
  maxTimestamp: bigint;
  /** The records read before any failure (all of them when `recordsError` is absent). */
  records: OracleRecord[];
  /** Set when listing the records threw (corrupt or truncated records). */
  recordsError?: string;
}

/** Compiles the oracle unless the classes for this exact source exist; returns the classpath. */
export async function compileOracle(): Promise<string> {
  const lib = await ensureKafkaJars();
  // Keyed by the source's hash rather than by mtime: an edit always recompiles, and test files
  // in parallel workers never see a half-written class folder (each compiles into a private
  // temp folder and renames it into place; losing the race is harmless).
  const hash = createHash("sha256").update(readFileSync(ORACLE_SOURCE)).digest("hex").slice(0, 16);
  const classes = join(ORACLE_CLASSES_DIR, hash);
  if (!existsSync(join(classes, "Oracle.class"))) {
    await mkdir(ORACLE_CLASSES_DIR, { recursive: true });
    const tmp = await mkdtemp(join(ORACLE_CLASSES_DIR, "tmp-"));
    await run("javac", ["-nowarn", "-encoding", "UTF-8", "-cp", join(lib, "*"), "-d", tmp, ORACLE_SOURCE]);
    try {
      await rename(tmp, classes);
    } catch {
      await rm(tmp, { recursive: true, force: true });
    }
  }
  return `${classes}:${join(lib, "*")}`;
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr.on("data", (c: Buffer) => (output += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited with ${code}:\n${output}`))));
  });
}

interface Pending {
  resolve: (replies: OracleReply[]) => void;
  reject: (err: Error) => void;
}

/** One JVM running the oracle. Replies come back in request order. */
export class Oracle {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #pending: Pending[] = [];
  #buffered: Buffer[] = [];
  #stderr = "";
  #exited: Error | null = null;

  private constructor(child: ChildProcessWithoutNullStreams) {
    this.#child = child;
    child.stdout.on("data", (chunk: Buffer) => this.#onData(chunk));
    child.stderr.on("data", (chunk: Buffer) => {
      // Only the tail matters for a crash report; keep it bounded.
      this.#stderr = (this.#stderr + chunk.toString()).slice(-8000);
    });
    child.on("exit", (code, signal) =>
      this.#fail(new Error(`oracle JVM exited (code ${code}, signal ${signal}):\n${this.#stderr}`)),
    );
    // No java binary: fail the waiting requests instead of crashing the worker.
    child.on("error", (err) => this.#fail(err));
    // Writing to a JVM that just died raises EPIPE here; the exit handler reports why.
    child.stdin.on("error", () => {});
  }

  #fail(err: Error): void {
    this.#exited ??= err;
    for (const p of this.#pending.splice(0)) p.reject(this.#exited);
  }

  /** Compiles if needed and starts the JVM. */
  static async start(): Promise<Oracle> {
    const classpath = await compileOracle();
    // The serial collector: no GC threads competing for a 2-core box's cores. A deep stack
    // for Jackson's recursive tree handling of nested messages.
    const child = spawn("java", ["-Xss4m", "-Xmx1g", "-XX:+UseSerialGC", "-cp", classpath, "Oracle"], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    const oracle = new Oracle(child);
    const [pong] = await oracle.send([{ op: "ping" }]);
    if (pong?.error) throw new Error(`oracle did not start: ${pong.error}`);
    return oracle;
  }

  #onData(chunk: Buffer): void {
    let at = chunk.indexOf(10);
    while (at >= 0) {
      this.#buffered.push(chunk.subarray(0, at));
      const line = Buffer.concat(this.#buffered).toString("utf8");
      this.#buffered = [];
      chunk = chunk.subarray(at + 1);
      at = chunk.indexOf(10);
      const pending = this.#pending.shift();
      if (!pending) throw new Error(`oracle sent an unexpected line: ${line.slice(0, 200)}`);
      try {
        pending.resolve((JSON.parse(line) as RawReply[]).map(parseReply));
      } catch (err) {
        pending.reject(err as Error);
      }
    }
    if (chunk.length > 0) this.#buffered.push(chunk);
  }

  /** Sends a batch of items; resolves with one reply per item, in order. */
  send(items: readonly OracleItem[]): Promise<OracleReply[]> {
    if (this.#exited) return Promise.reject(this.#exited);
    const line = `[${items.map(serialiseItem).join(",")}]\n`;
    return new Promise((resolve, reject) => {
      this.#pending.push({ resolve, reject });
      this.#child.stdin.write(line);
    });
  }

  /** Ends the JVM (closing its stdin lets it finish cleanly) and waits for it to exit. */
  async close(): Promise<void> {
    if (this.#exited) return;
    const exited = new Promise<void>((resolve) => this.#child.once("exit", () => resolve()));
    this.#child.stdin.end();
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  }
}

/** Item → JSON text. Hand-written because items hold bigints and pre-serialised JSON. */
function serialiseItem(item: OracleItem): string {
  switch (item.op) {
    case "encode":
      return `{"op":"encode","name":${JSON.stringify(item.name)},"version":${item.version},"json":${item.json}}`;
    case "decode":
      return JSON.stringify({
        op: "decode",
        name: item.name,
        version: item.version,
        bytes: item.bytes.toString("base64"),
      });
    case "records.read":
      return JSON.stringify({ op: "records.read", bytes: item.bytes.toString("base64") });
    default:
      // bigint → bare number text, Buffer → base64: the shapes Oracle.java reads.
      return stringifyWithBigints(item);
  }
}

function stringifyWithBigints(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "bigint") return value.toString();
  if (Buffer.isBuffer(value)) return JSON.stringify(value.toString("base64"));
  if (Array.isArray(value)) return `[${value.map(stringifyWithBigints).join(",")}]`;
  if (typeof value === "object") {
    const parts: string[] = [];
    for (const [k, v] of Object.entries(value))
      if (v !== undefined) parts.push(`${JSON.stringify(k)}:${stringifyWithBigints(v)}`);
    return `{${parts.join(",")}}`;
  }
  return JSON.stringify(value);
}

interface RawRecord {
  offset: string;
  timestamp: string;
  key: string | null;
  value: string | null;
  headers: { key: string; value: string | null }[];
}

interface RawBatch
  extends Omit<OracleBatch, "baseOffset" | "lastOffset" | "checksum" | "producerId" | "maxTimestamp" | "records"> {
  baseOffset: string;
  lastOffset: string;
  checksum: string;
  producerId: string;
  maxTimestamp: string;
  records: RawRecord[];
}

interface RawReply {
  bytes?: string;
  json?: unknown;
  remaining?: number;
  batches?: RawBatch[];
  partitions?: number[];
  error?: string;
}

const b64 = (s: string | null): Buffer | null => (s === null ? null : Buffer.from(s, "base64"));

/** Raw reply → typed reply: base64 → Buffer, int64 strings → bigint. */
function parseReply(raw: RawReply): OracleReply {
  const reply: OracleReply = {};
  if (raw.error !== undefined) reply.error = raw.error;
  if (raw.bytes !== undefined) reply.bytes = Buffer.from(raw.bytes, "base64");
  if (raw.json !== undefined) reply.json = raw.json;
  if (raw.remaining !== undefined) reply.remaining = raw.remaining;
  if (raw.partitions !== undefined) reply.partitions = raw.partitions;
  if (raw.batches !== undefined) {
    reply.batches = raw.batches.map((b) => ({
      ...b,
      baseOffset: BigInt(b.baseOffset),
      lastOffset: BigInt(b.lastOffset),
      checksum: BigInt(b.checksum),
      producerId: BigInt(b.producerId),
      maxTimestamp: BigInt(b.maxTimestamp),
      records: b.records.map((r) => ({
        offset: BigInt(r.offset),
        timestamp: BigInt(r.timestamp),
        key: b64(r.key),
        value: b64(r.value),
        headers: r.headers.map((h) => ({ key: h.key, value: b64(h.value) })),
      })),
    }));
  }
  return reply;
}
