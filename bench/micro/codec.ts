/**
 * Codec comparison on identical input: samsa, kafkajs and @platformatic/kafka each encode a
 * Produce request carrying one batch of 1,000 records (10-byte keys, 100-byte values) and
 * decode a Fetch response of ~1 MiB of such batches, in ns per record, as their own producers
 * and consumers do it; plus samsa's varint ns/op. Run with `npx tsx bench/micro/codec.ts`.
 */
import { pathToFileURL } from "node:url";
import {
  createFetchResponse,
  createFetchResponseFetchableTopicResponse,
  createFetchResponsePartitionData,
  decodeRequestHeader,
  decodeResponseHeader,
  encodeRequestHeader,
  encodeResponseHeader,
  Fetch,
  Produce,
  type ProduceRequest,
} from "../../src/protocol/messages/index.js";
import { Reader } from "../../src/protocol/primitives/reader.js";
import { Writer } from "../../src/protocol/primitives/writer.js";
import {
  crc32cImplementation,
  decodeRecordBatchesSync,
  RecordBatchBuilder,
  type RecordInput,
} from "../../src/protocol/records/index.js";
import { buildBatch, makeRecordSet, makeRecords } from "./fixtures.js";
import { loadPeers, type PeerCodec } from "./peers.js";

/** Median and spread of the timed rounds of one measurement. */
export interface Timing {
  /** Median over the rounds: what the tables show. */
  median: number;
  min: number;
  max: number;
  /**
   * Median of the process's CPU time (user + system, all threads, so V8's GC helpers too) over
   * the same rounds, per record or op: steadier than wall time when other jobs load the machine.
   */
  cpuMedian: number;
  /** Timed rounds (after the warm-up). */
  rounds: number;
}

/** One table cell: a timing, or `null` with the reason it could not be measured. */
export interface Cell {
  /** ns per record; null when not measured. */
  ns: Timing | null;
  /** Why the cell is n/a, or a caveat on the figure. */
  note?: string;
}

/** A ratio of a peer's median to samsa's (how many times faster samsa is). */
export interface Ratio {
  value: number;
  /** Set when the ratio is taken against a different row of the peer. */
  note?: string;
}

/** One operation measured for the three clients. */
export interface CodecRow {
  operation: string;
  samsa: Cell;
  kafkajs: Cell;
  platformatic: Cell;
  /** platformatic ÷ samsa; null when either is missing. */
  vsPlatformatic: Ratio | null;
  /** kafkajs ÷ samsa; null when either is missing. */
  vsKafkajs: Ratio | null;
}

/** One varint measurement, ns per varint. */
export interface VarintRow {
  operation: string;
  ns: Timing;
}

/** Everything `runCodecBench` measured, plus what it ran on. */
export interface CodecBenchResult {
  input: {
    recordsPerBatch: number;
    keyBytes: number;
    valueBytes: number;
    produceBatchBytes: number;
    fetchRecordSetBytes: number;
    fetchRecords: number;
  };
  samsa: { produceVersion: number; fetchVersion: number; crc32c: "native" | "js" };
  peers: {
    name: string;
    version: string | null;
    produceVersion: number | null;
    fetchVersion: number | null;
    error?: string;
  }[];
  rows: CodecRow[];
  varint: VarintRow[];
}

/** Timing knobs; the defaults keep the whole run near 25 s on a 2-core machine. */
export interface CodecBenchOptions {
  /** Untimed run of each contender before the rounds, ms. Default 300. */
  warmupMs?: number;
  /** Length of one timed round, ms. Default 250. */
  roundMs?: number;
  /** Timed rounds per contender; the median is reported. Default 7. */
  rounds?: number;
}

const TOPIC = "bench";
const TOPIC_ID = "AAECAwQFBgcICQoLDA0ODw"; // an arbitrary fixed uuid
const SAMSA_PRODUCE_VERSION = 13;
const SAMSA_FETCH_VERSION = 17; // platformatic's newest: both decode the very same bytes
const RECORDS_PER_BATCH = 1000;
/** Batch buffer of the pre-sized variant: enough for the whole batch, no growth. */
const PRESIZED_BATCH = 128 * 1024;

// ---------------------------------------------------------------------------------------------
// Measurement

let sink: unknown; // every result lands here, so no call can be optimised away

interface Contender {
  key: string;
  recordsPerCall: number;
  run: () => unknown;
  /** The call returns a promise that must be awaited (kafkajs). */
  async: boolean;
}

/** Runs `c` for about `ms`; returns wall and CPU ns per record (or per op). */
async function timeRound(c: Contender, ms: number): Promise<{ wall: number; cpu: number }> {
  let calls = 0;
  let elapsed = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  if (c.async) {
    do {
      sink = await c.run();
      calls++;
      elapsed = performance.now() - t0;
    } while (elapsed < ms);
  } else {
    do {
      sink = c.run();
      calls++;
      elapsed = performance.now() - t0;
    } while (elapsed < ms);
  }
  const cpu = process.cpuUsage(cpu0);
  const per = calls * c.recordsPerCall;
  return { wall: (elapsed * 1e6) / per, cpu: ((cpu.user + cpu.system) * 1e3) / per };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/**
 * Times every contender: one warm-up each, then `rounds` rounds taken in turn (starting with a
 * different contender each round) so that a burst of load from other jobs on the machine falls
 * on all of them rather than on whichever ran at that moment. Median per contender.
 * No forced collection between rounds: tried (`--expose-gc`), a full GC before each round made
 * samsa's encode 1.5-2.5x slower for reasons not pinned down (not page faults: those stayed at
 * a few per call), while interleaving with the peers without it measured the same as samsa alone.
 */
async function measure(contenders: Contender[], options: Required<CodecBenchOptions>): Promise<Map<string, Timing>> {
  for (const c of contenders) await timeRound(c, options.warmupMs);
  const samples = contenders.map(() => [] as { wall: number; cpu: number }[]);
  for (let r = 0; r < options.rounds; r++) {
    for (let k = 0; k < contenders.length; k++) {
      const i = (r + k) % contenders.length;
      samples[i]?.push(await timeRound(contenders[i] as Contender, options.roundMs));
    }
  }
  const out = new Map<string, Timing>();
  contenders.forEach((c, i) => {
    const wall = (samples[i] ?? []).map((s) => s.wall);
    const cpu = (samples[i] ?? []).map((s) => s.cpu);
    out.set(c.key, {
      median: median(wall),
      min: Math.min(...wall),
      max: Math.max(...wall),
      cpuMedian: median(cpu),
      rounds: wall.length,
    });
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// samsa, as its producer and connection do it

/** The producer's first allocation for a batch (accumulator: min(batchBytes, max(record, 1 KiB)) + 128). */
function producerBatchCapacity(first: RecordInput): number {
  return Math.min(256 * 1024, Math.max(new RecordBatchBuilder().recordSize(first), 1024)) + 128;
}

/**
 * Connection.#send: size prefix, request header, body into a fresh Writer (256 bytes, as the
 * connection allocates, unless `writerSize` says otherwise).
 */
function samsaProduceFrame(batch: Buffer, correlationId: number, writerSize = 256): Buffer {
  const request: ProduceRequest = {
    transactionalId: null,
    acks: -1,
    timeoutMs: 30000,
    topicData: [{ name: TOPIC, topicId: TOPIC_ID, partitionData: [{ index: 0, records: batch }] }],
  };
  const w = new Writer(writerSize);
  const sizeAt = w.reserveInt32();
  encodeRequestHeader(
    w,
    { requestApiKey: Produce.apiKey, requestApiVersion: SAMSA_PRODUCE_VERSION, correlationId, clientId: "bench" },
    Produce.requestHeaderVersion(SAMSA_PRODUCE_VERSION),
  );
  Produce.encodeRequest(w, request, SAMSA_PRODUCE_VERSION);
  w.fillInt32(sizeAt, w.pos - 4);
  return w.finish();
}

function samsaAppendAll(records: readonly RecordInput[], capacity: number): RecordBatchBuilder {
  const builder = new RecordBatchBuilder({ initialCapacity: capacity });
  for (let i = 0; i < records.length; i++) builder.append(records[i] as RecordInput);
  return builder;
}

/** Connection.#onFrame then the records: header, Fetch body, every partition's batches. */
function samsaDecodeFetch(frame: Buffer, verifyCrc: boolean): number {
  const r = new Reader(frame);
  decodeResponseHeader(r, Fetch.responseHeaderVersion(SAMSA_FETCH_VERSION));
  const response = Fetch.decodeResponse(r, SAMSA_FETCH_VERSION);
  let count = 0;
  for (const t of response.responses) {
    for (const p of t.partitions) {
      if (p.records === null) continue;
      for (const batch of decodeRecordBatchesSync(p.records, { verifyCrc })) count += batch.records.length;
    }
  }
  return count;
}

/** A Fetch response frame (correlation id onward) at `version` carrying `records` for one partition. */
function fetchFrame(records: Buffer, recordCount: number, version: number): Buffer {
  const w = new Writer(records.length + 256);
  encodeResponseHeader(w, { correlationId: 42 }, Fetch.responseHeaderVersion(version));
  Fetch.encodeResponse(
    w,
    createFetchResponse({
      responses: [
        createFetchResponseFetchableTopicResponse({
          topic: TOPIC,
          topicId: TOPIC_ID,
          partitions: [
            createFetchResponsePartitionData({
              partitionIndex: 0,
              highWatermark: BigInt(recordCount),
              lastStableOffset: BigInt(recordCount),
              logStartOffset: 0n,
              records,
            }),
          ],
        }),
      ],
    }),
    version,
  );
  return Buffer.from(w.finish());
}

// ---------------------------------------------------------------------------------------------
// Checks: every contender must handle the same records, or the figures compare nothing.

/** Decodes a Produce frame with samsa (CRC checked) and returns its records' keys and values. */
function produceFrameRecords(
  frame: Buffer,
  version: number,
  who: string,
): { key: Buffer | null; value: Buffer | null }[] {
  if (frame.readInt32BE(0) !== frame.length - 4) throw new Error(`${who}: Produce frame size prefix is wrong`);
  const r = new Reader(frame, 4);
  const header = decodeRequestHeader(r, Produce.requestHeaderVersion(version));
  if (header.requestApiKey !== Produce.apiKey || header.requestApiVersion !== version) {
    throw new Error(`${who}: Produce frame header is ${header.requestApiKey} v${header.requestApiVersion}`);
  }
  const request = Produce.decodeRequest(r, version);
  if (r.pos !== frame.length) throw new Error(`${who}: ${frame.length - r.pos} bytes after the Produce request`);
  const records = request.topicData[0]?.partitionData[0]?.records;
  if (!records) throw new Error(`${who}: no records in the Produce request`);
  return decodeRecordBatchesSync(records).flatMap((b) => b.records);
}

function checkSameRecords(
  who: string,
  got: readonly { key?: Buffer | null; value: Buffer | null }[],
  want: readonly RecordInput[],
  keys = true,
): void {
  if (got.length !== want.length) throw new Error(`${who}: ${got.length} records, expected ${want.length}`);
  for (let i = 0; i < want.length; i++) {
    const g = got[i] as { key?: Buffer | null; value: Buffer | null };
    const w = want[i] as RecordInput;
    if (!g.value?.equals(w.value as Buffer) || (keys && !g.key?.equals(w.key as Buffer))) {
      throw new Error(`${who}: record ${i} differs from the input`);
    }
  }
}

// ---------------------------------------------------------------------------------------------

function ratio(peer: Cell, samsa: Cell, note?: string): Ratio | null {
  if (!peer.ns || !samsa.ns) return null;
  return note ? { value: peer.ns.median / samsa.ns.median, note } : { value: peer.ns.median / samsa.ns.median };
}

const NO_SKIP_CRC = "builds the batch and its CRC in one step; there is no way to leave the CRC out";
const NO_CRC_CHECK = "never verifies batch CRCs when decoding (the CRC field is read and dropped)";
const SAMSA_NO_CRC =
  "records appended into the builder, then the Produce request encoded around an already built batch of the same size: the batch header and CRC are not written";
const SAMSA_PRODUCER_PATH =
  "cold buffers: the batch buffer starts at 1,152 bytes and the request Writer at 256 bytes, both doubling as they fill";
const SAMSA_PRESIZED =
  "as samsa's producer runs once a partition has sent a batch (each batch starts at the previous one's size): the batch buffer starts at 128 KiB and the request Writer at the request's size, so neither grows";
const VS_WITH_CRC = "against the peer's encode with CRC, as built by its producer";
const VS_UNCHECKED = "against the peer's decode without any CRC check, its only decode";

/** Measures the codec comparison and samsa's varints. */
export async function runCodecBench(options: CodecBenchOptions = {}): Promise<CodecBenchResult> {
  const opts: Required<CodecBenchOptions> = {
    warmupMs: options.warmupMs ?? 300,
    roundMs: options.roundMs ?? 250,
    rounds: options.rounds ?? 7,
  };
  const records = makeRecords(RECORDS_PER_BATCH);
  const { buf: recordSet, recordCount } = makeRecordSet();
  const setRecords = makeRecords(RECORDS_PER_BATCH); // makeRecordSet repeats these in every batch
  const loads = await loadPeers();
  const peer = (name: string): PeerCodec | null => {
    const l = loads.find((p) => (p.ok ? p.codec.name : p.name) === name);
    return l?.ok ? l.codec : null;
  };
  const kafkajs = peer("kafkajs");
  const platformatic = peer("@platformatic/kafka");
  const missing = (name: string): string => {
    const l = loads.find((p) => !p.ok && p.name === name);
    return l && !l.ok ? `not loaded: ${l.reason}` : "not loaded";
  };

  // --- encode ---
  const capacity = producerBatchCapacity(records[0] as RecordInput);
  const template = Buffer.from(buildBatch(records));
  let correlationId = 0;
  const samsaEncode = () => samsaProduceFrame(samsaAppendAll(records, capacity).build(), correlationId++);
  const samsaEncodePresized = () => {
    const batch = samsaAppendAll(records, PRESIZED_BATCH).build();
    return samsaProduceFrame(batch, correlationId++, batch.length + 256);
  };
  const samsaEncodeNoCrc = () => {
    samsaAppendAll(records, capacity);
    return samsaProduceFrame(template, correlationId++);
  };
  checkSameRecords("samsa", produceFrameRecords(samsaEncode(), SAMSA_PRODUCE_VERSION, "samsa"), records);
  checkSameRecords("samsa", produceFrameRecords(samsaEncodePresized(), SAMSA_PRODUCE_VERSION, "samsa"), records);
  if (samsaEncodeNoCrc().length !== samsaEncode().length) throw new Error("samsa: no-CRC frame differs in size");
  const encodeContenders: Contender[] = [
    { key: "samsa", recordsPerCall: RECORDS_PER_BATCH, run: samsaEncode, async: false },
    { key: "samsaPresized", recordsPerCall: RECORDS_PER_BATCH, run: samsaEncodePresized, async: false },
    { key: "samsaNoCrc", recordsPerCall: RECORDS_PER_BATCH, run: samsaEncodeNoCrc, async: false },
  ];
  for (const [key, p] of [
    ["kafkajs", kafkajs],
    ["platformatic", platformatic],
  ] as const) {
    if (!p) continue;
    const encode = p.produceEncoder(TOPIC, records);
    checkSameRecords(p.name, produceFrameRecords(await encode(), p.produceVersion, p.name), records);
    encodeContenders.push({ key, recordsPerCall: RECORDS_PER_BATCH, run: encode, async: key === "kafkajs" });
  }
  const enc = await measure(encodeContenders, opts);

  // --- decode ---
  const frames = new Map<number, Buffer>();
  const frameAt = (version: number): Buffer => {
    let f = frames.get(version);
    if (!f) {
      f = fetchFrame(recordSet, recordCount, version);
      frames.set(version, f);
    }
    return f;
  };
  const samsaFrame = frameAt(SAMSA_FETCH_VERSION);
  if (samsaDecodeFetch(samsaFrame, true) !== recordCount) throw new Error("samsa: wrong record count from Fetch");
  const decodeContenders: Contender[] = [
    { key: "samsa", recordsPerCall: recordCount, run: () => samsaDecodeFetch(samsaFrame, true), async: false },
    { key: "samsaNoCrc", recordsPerCall: recordCount, run: () => samsaDecodeFetch(samsaFrame, false), async: false },
  ];
  const want = Array.from({ length: recordCount }, (_, i) => setRecords[i % RECORDS_PER_BATCH] as RecordInput);
  for (const [key, p] of [
    ["kafkajs", kafkajs],
    ["platformatic", platformatic],
  ] as const) {
    if (!p) continue;
    const frame = frameAt(p.fetchVersion);
    const values = p.fetchedValues(await p.decodeFetch(frame)).map((value) => ({ value }));
    checkSameRecords(p.name, values, want, false);
    decodeContenders.push({
      key,
      recordsPerCall: recordCount,
      run: () => p.decodeFetch(frame),
      async: key === "kafkajs",
    });
  }
  const dec = await measure(decodeContenders, opts);

  // --- rows ---
  const cell = (m: Map<string, Timing>, key: string, name: string): Cell => {
    const t = m.get(key);
    return t ? { ns: t } : { ns: null, note: missing(name) };
  };
  const kjsName = "kafkajs";
  const pltName = "@platformatic/kafka";
  const encCrc: CodecRow = {
    operation: `encode Produce request, ${RECORDS_PER_BATCH.toLocaleString("en-US")}-record batch, with CRC`,
    samsa: { ns: enc.get("samsa") as Timing, note: SAMSA_PRODUCER_PATH },
    kafkajs: cell(enc, "kafkajs", kjsName),
    platformatic: cell(enc, "platformatic", pltName),
    vsPlatformatic: null,
    vsKafkajs: null,
  };
  const encPresized: CodecRow = {
    operation: "encode Produce request, with CRC, samsa's buffers pre-sized",
    samsa: { ns: enc.get("samsaPresized") as Timing, note: SAMSA_PRESIZED },
    kafkajs: { ns: null },
    platformatic: { ns: null },
    vsPlatformatic: null,
    vsKafkajs: null,
  };
  encPresized.vsPlatformatic = ratio(encCrc.platformatic, encPresized.samsa, VS_WITH_CRC);
  encPresized.vsKafkajs = ratio(encCrc.kafkajs, encPresized.samsa, VS_WITH_CRC);
  const encNoCrc: CodecRow = {
    operation: "encode Produce request, without CRC",
    samsa: { ns: enc.get("samsaNoCrc") as Timing, note: SAMSA_NO_CRC },
    kafkajs: kafkajs ? { ns: null, note: `${kjsName} ${NO_SKIP_CRC}` } : { ns: null, note: missing(kjsName) },
    platformatic: platformatic ? { ns: null, note: `${pltName} ${NO_SKIP_CRC}` } : { ns: null, note: missing(pltName) },
    vsPlatformatic: null,
    vsKafkajs: null,
  };
  const mib = (recordSet.length / (1024 * 1024)).toFixed(2);
  const decNoCrcKjs = cell(dec, "kafkajs", kjsName);
  const decNoCrcPlt = cell(dec, "platformatic", pltName);
  const decCrc: CodecRow = {
    operation: `decode Fetch response, ${mib} MiB (${recordCount.toLocaleString("en-US")} records), CRC checked`,
    samsa: { ns: dec.get("samsa") as Timing },
    kafkajs: kafkajs ? { ns: null, note: `${kjsName} ${NO_CRC_CHECK}` } : { ns: null, note: missing(kjsName) },
    platformatic: platformatic
      ? { ns: null, note: `${pltName} ${NO_CRC_CHECK}` }
      : { ns: null, note: missing(pltName) },
    vsPlatformatic: null,
    vsKafkajs: null,
  };
  decCrc.vsPlatformatic = ratio(decNoCrcPlt, decCrc.samsa, VS_UNCHECKED);
  decCrc.vsKafkajs = ratio(decNoCrcKjs, decCrc.samsa, VS_UNCHECKED);
  const decNoCrc: CodecRow = {
    operation: "decode Fetch response, no CRC check",
    samsa: { ns: dec.get("samsaNoCrc") as Timing },
    kafkajs: decNoCrcKjs,
    platformatic: decNoCrcPlt,
    vsPlatformatic: null,
    vsKafkajs: null,
  };
  for (const row of [encCrc, decNoCrc]) {
    row.vsPlatformatic = ratio(row.platformatic, row.samsa);
    row.vsKafkajs = ratio(row.kafkajs, row.samsa);
  }

  return {
    input: {
      recordsPerBatch: RECORDS_PER_BATCH,
      keyBytes: ((records[0] as RecordInput).key as Buffer).length,
      valueBytes: ((records[0] as RecordInput).value as Buffer).length,
      produceBatchBytes: template.length,
      fetchRecordSetBytes: recordSet.length,
      fetchRecords: recordCount,
    },
    samsa: { produceVersion: SAMSA_PRODUCE_VERSION, fetchVersion: SAMSA_FETCH_VERSION, crc32c: crc32cImplementation },
    peers: loads.map((l) =>
      l.ok
        ? {
            name: l.codec.name,
            version: l.codec.version,
            produceVersion: l.codec.produceVersion,
            fetchVersion: l.codec.fetchVersion,
          }
        : { name: l.name, version: null, produceVersion: null, fetchVersion: null, error: l.reason },
    ),
    rows: [encCrc, encPresized, encNoCrc, decCrc, decNoCrc],
    varint: await runVarintBench(opts),
  };
}

/** samsa's Writer.varint and Reader.varint, ns per varint, on record-field-sized and full-range values. */
async function runVarintBench(opts: Required<CodecBenchOptions>): Promise<VarintRow[]> {
  const N = 1024;
  // Offset deltas and record lengths of a batch: 1-2 bytes each.
  const small = Int32Array.from({ length: N }, (_, i) => i);
  // Any int32, negatives included: mostly 5 bytes.
  let state = 0x2545f491;
  const wide = Int32Array.from({ length: N }, () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return state | 0;
  });
  const rows: VarintRow[] = [];
  for (const [label, values] of [
    ["0–1023 (1–2 bytes)", small],
    ["random int32 (mostly 5 bytes)", wide],
  ] as const) {
    const w = new Writer(N * 5);
    const write = () => {
      w.pos = 0;
      for (let i = 0; i < N; i++) w.varint(values[i] as number);
      return w.pos;
    };
    write();
    const encoded = Buffer.from(w.finish());
    const read = () => {
      const r = new Reader(encoded);
      let s = 0;
      for (let i = 0; i < N; i++) s += r.varint();
      return s;
    };
    let sum = 0;
    for (const v of values) sum += v;
    if (read() !== sum) throw new Error("varint round trip failed");
    const m = await measure(
      [
        { key: "write", recordsPerCall: N, run: write, async: false },
        { key: "read", recordsPerCall: N, run: read, async: false },
      ],
      { warmupMs: 200, roundMs: 150, rounds: Math.max(3, Math.min(opts.rounds, 5)) },
    );
    rows.push({ operation: `Writer.varint, ${label}`, ns: m.get("write") as Timing });
    rows.push({ operation: `Reader.varint, ${label}`, ns: m.get("read") as Timing });
  }
  return rows;
}

/** Renders the comparison (with numbered footnotes) and the varint table as markdown. */
export function formatCodecBench(result: CodecBenchResult): string {
  const notes: string[] = [];
  const mark = (note: string | undefined): string => {
    if (!note) return "";
    let i = notes.indexOf(note);
    if (i < 0) i = notes.push(note) - 1;
    return ` [${i + 1}]`;
  };
  const fmtCell = (c: Cell) =>
    c.ns ? `${c.ns.median.toFixed(0)}${mark(c.note)}` : c.note ? `n/a${mark(c.note)}` : "—";
  const fmtRatio = (r: Ratio | null) => (r ? `${r.value.toFixed(1)}×${mark(r.note)}` : "—");
  const peer = (name: string) => result.peers.find((p) => p.name === name);
  const head = (name: string, label: string) => {
    const p = peer(name);
    return p?.version ? `${label} ${p.version} (Produce v${p.produceVersion}, Fetch v${p.fetchVersion})` : label;
  };
  const lines = [
    `| ns/record (median) | samsa (Produce v${result.samsa.produceVersion}, Fetch v${result.samsa.fetchVersion}) | ${head("kafkajs", "kafkajs")} | ${head("@platformatic/kafka", "@platformatic/kafka")} | platformatic ÷ samsa | kafkajs ÷ samsa |`,
    "|---|---:|---:|---:|---:|---:|",
  ];
  for (const row of result.rows) {
    lines.push(
      `| ${row.operation} | ${fmtCell(row.samsa)} | ${fmtCell(row.kafkajs)} | ${fmtCell(row.platformatic)} | ${fmtRatio(row.vsPlatformatic)} | ${fmtRatio(row.vsKafkajs)} |`,
    );
  }
  const input = result.input;
  lines.push(
    "",
    `Input: ${input.recordsPerBatch.toLocaleString("en-US")} records of ${input.keyBytes}-byte keys and ${input.valueBytes}-byte values ` +
      `(one ${input.produceBatchBytes.toLocaleString("en-US")}-byte batch); the Fetch response carries ${input.fetchRecords.toLocaleString("en-US")} such records ` +
      `in ${(input.fetchRecordSetBytes / 1024).toFixed(0)} KiB of batches, the same bytes for every client (each at its own Fetch version). ` +
      `samsa's CRC-32C: ${result.samsa.crc32c}.`,
  );
  if (notes.length > 0) {
    lines.push("");
    notes.forEach((n, i) => {
      lines.push(`[${i + 1}] ${n}.`);
    });
  }
  // CPU time stays meaningful when other jobs take the cores and inflate wall time.
  const cpu = (c: Cell) => (c.ns ? c.ns.cpuMedian.toFixed(0) : "—");
  lines.push(
    "",
    "| same, process CPU ns/record (median; includes V8's GC threads) | samsa | kafkajs | @platformatic/kafka |",
    "|---|---:|---:|---:|",
  );
  for (const row of result.rows) {
    lines.push(`| ${row.operation} | ${cpu(row.samsa)} | ${cpu(row.kafkajs)} | ${cpu(row.platformatic)} |`);
  }
  lines.push("", "| samsa varint | ns/op (median) | min | max | CPU ns/op |", "|---|---:|---:|---:|---:|");
  for (const v of result.varint) {
    const t = v.ns;
    lines.push(
      `| ${v.operation} | ${t.median.toFixed(2)} | ${t.min.toFixed(2)} | ${t.max.toFixed(2)} | ${t.cpuMedian.toFixed(2)} |`,
    );
  }
  return lines.join("\n");
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(formatCodecBench(await runCodecBench()));
  void sink;
}
