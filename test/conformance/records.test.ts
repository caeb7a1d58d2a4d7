/**
 * Record batches against Kafka's own MemoryRecordsBuilder and MemoryRecords (tools/oracle):
 * uncompressed batches byte for byte, and for every codec both directions — Kafka reads what
 * we build and we read what Kafka builds, with the same offsets, timestamps, keys, values and
 * headers. Cases are seeded; SAMSA_CONFORMANCE_SEED=<n> explores others.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  type BatchRecord,
  buildEndTxnMarkerBatch,
  type CompressionCodec,
  decodeRecordBatches,
  type RecordBatch,
  RecordBatchBuilder,
  type RecordData,
  type RecordInput,
  recordOffset,
  recordTimestamp,
} from "../../src/protocol/records/index.js";
import { Oracle, type OracleBatch, type OracleRecordInput, type RecordsBuildItem } from "./oracle.js";
import { Rng, seedOf } from "./random.js";

const BASE_SEED = Number(process.env.SAMSA_CONFORMANCE_SEED ?? 1);
const CASES = 40;
const CODECS: readonly CompressionCodec[] = ["gzip", "snappy", "lz4", "zstd"];

let oracle: Oracle;

beforeAll(async () => {
  oracle = await Oracle.start();
});

afterAll(async () => {
  await oracle?.close();
});

/** One random batch, as both sides take it. */
interface BatchCase {
  name: string;
  item: RecordsBuildItem;
  /** The same records for our builder (some keys and values as strings). */
  records: RecordInput[];
  options: ConstructorParameters<typeof RecordBatchBuilder>[0];
}

const bytesOf = (data: RecordData): Buffer | null =>
  data === null ? null : typeof data === "string" ? Buffer.from(data, "utf8") : Buffer.from(data);

function randomData(rng: Rng): RecordData {
  const roll = rng.next();
  if (roll < 0.1) return null;
  if (roll < 0.15) return Buffer.alloc(0);
  // Strings exercise the builder's ASCII and UTF-8 paths; Java gets their UTF-8 bytes.
  if (roll < 0.3) return rng.pick(["k", "ascii-only key that is longer than sixteen", "é✓ unicode 𝄞", ""]);
  // Lengths past 63 and 8191 take two- and three-byte varints.
  const size = rng.chance(0.05) ? rng.int(8192, 20_000) : rng.int(1, 300);
  return rng.bytes(size);
}

function randomCase(seed: number): BatchCase {
  const rng = new Rng(seed);
  const count = rng.chance(0.1) ? rng.int(200, 600) : rng.int(1, 20);
  const base = 1_700_000_000_000 + rng.int(0, 1_000_000);
  const records: RecordInput[] = [];
  for (let i = 0; i < count; i++) {
    // Deltas of both signs, and now and then one past 32 bits (Java rejects negative timestamps).
    let timestamp = base + rng.int(-50_000, 50_000);
    if (rng.chance(0.05)) timestamp = base + rng.pick([-1, 1]) * rng.int(2 ** 10, 2 ** 19) * 2 ** 21;
    const headers = Array.from({ length: rng.chance(0.3) ? rng.int(1, 4) : 0 }, () => ({
      key: rng.pick(["h", "trace-id", "ünïcode", ""]),
      value: rng.chance(0.2) ? null : rng.bytes(rng.int(0, 40)),
    }));
    records.push({ timestamp, key: randomData(rng), value: randomData(rng), headers });
  }
  const transactional = rng.chance(0.3);
  const idempotent = transactional || rng.chance(0.5);
  const fields = {
    baseOffset: rng.chance(0.5) ? 0n : BigInt(rng.int(0, 2 ** 31)) * 1000n,
    partitionLeaderEpoch: rng.chance(0.5) ? -1 : rng.int(0, 1000),
    producerId: idempotent ? BigInt(rng.int(0, 2 ** 30)) : -1n,
    producerEpoch: idempotent ? rng.int(0, 32767) : -1,
    baseSequence: idempotent ? rng.int(0, 2 ** 31 - 1) : -1,
    isTransactional: transactional,
  };
  const item: RecordsBuildItem = {
    op: "records.build",
    ...fields,
    records: records.map(
      (r): OracleRecordInput => ({
        timestamp: BigInt(r.timestamp as number),
        key: bytesOf(r.key ?? null),
        value: bytesOf(r.value),
        headers: (r.headers ?? []).map((h) => ({ key: h.key, value: bytesOf(h.value) })),
      }),
    ),
  };
  return { name: `seed ${seed}: ${count} records`, item, records, options: { ...fields } };
}

function build(c: BatchCase): Buffer {
  const builder = new RecordBatchBuilder(c.options);
  for (const r of c.records) builder.append(r);
  return Buffer.from(builder.build());
}

async function javaBuild(item: RecordsBuildItem): Promise<Buffer> {
  const [reply] = await oracle.send([item]);
  if (reply?.bytes === undefined) throw new Error(`oracle could not build: ${reply?.error}`);
  return reply.bytes;
}

async function javaRead(bytes: Buffer): Promise<OracleBatch[]> {
  const [reply] = await oracle.send([{ op: "records.read", bytes }]);
  if (reply?.batches === undefined) throw new Error(`oracle could not read: ${reply?.error}`);
  return reply.batches;
}

/** Our decoded batch in the oracle's shape, for one deep comparison. */
function asOracle(batch: RecordBatch): unknown {
  return {
    baseOffset: batch.baseOffset,
    lastOffset: batch.baseOffset + BigInt(batch.lastOffsetDelta),
    partitionLeaderEpoch: batch.partitionLeaderEpoch,
    magic: batch.magic,
    crcValid: true,
    checksum: BigInt(batch.crc),
    sizeInBytes: batch.batchLength + 12,
    compressionType: batch.compression,
    timestampType: batch.timestampType === "create" ? "CreateTime" : "LogAppendTime",
    isTransactional: batch.isTransactional,
    isControlBatch: batch.isControl,
    producerId: batch.producerId,
    producerEpoch: batch.producerEpoch,
    baseSequence: batch.baseSequence,
    maxTimestamp: BigInt(batch.maxTimestamp),
    records: batch.records.map((r: BatchRecord) => ({
      offset: recordOffset(batch, r),
      timestamp: BigInt(recordTimestamp(batch, r)),
      key: r.key === null ? null : Buffer.from(r.key),
      value: r.value === null ? null : Buffer.from(r.value),
      headers: r.headers.map((h) => ({ key: h.key, value: h.value === null ? null : Buffer.from(h.value) })),
    })),
  };
}

const cases = Array.from({ length: CASES }, (_, i) => randomCase(seedOf("records", BASE_SEED, i)));

describe("uncompressed batches are byte-identical to MemoryRecordsBuilder", () => {
  test.each(cases.map((c) => [c.name, c] as const))("%s", async (_name, c) => {
    const ours = build(c);
    const theirs = await javaBuild(c.item);
    expect(ours.toString("hex")).toBe(theirs.toString("hex"));
  });

  test("log-append-time batch", async () => {
    const options = { timestampType: "logAppend" as const, logAppendTime: 1_700_000_123_456 };
    const builder = new RecordBatchBuilder(options);
    builder.append({ timestamp: 1_700_000_000_000, key: "a", value: "1" });
    builder.append({ timestamp: 1_700_000_000_009, key: "b", value: "2" });
    const theirs = await javaBuild({
      op: "records.build",
      timestampType: "LogAppendTime",
      logAppendTime: 1_700_000_123_456n,
      records: [
        { timestamp: 1_700_000_000_000n, key: Buffer.from("a"), value: Buffer.from("1"), headers: [] },
        { timestamp: 1_700_000_000_009n, key: Buffer.from("b"), value: Buffer.from("2"), headers: [] },
      ],
    });
    expect(builder.build().toString("hex")).toBe(theirs.toString("hex"));
  });

  test.each([true, false])("end-transaction marker, commit=%s", async (commit) => {
    const ours = buildEndTxnMarkerBatch({
      type: commit ? "commit" : "abort",
      coordinatorEpoch: 17,
      producerId: 4242n,
      producerEpoch: 3,
      timestamp: 1_700_000_000_000,
      baseOffset: 99n,
      partitionLeaderEpoch: 5,
    });
    const theirs = await javaBuild({
      op: "records.build",
      baseOffset: 99n,
      producerId: 4242n,
      producerEpoch: 3,
      isTransactional: true,
      partitionLeaderEpoch: 5,
      endTxnMarker: { commit, coordinatorEpoch: 17, timestamp: 1_700_000_000_000n },
    });
    expect(ours.toString("hex")).toBe(theirs.toString("hex"));
    const [batch] = await decodeRecordBatches(theirs);
    expect(batch?.control).toEqual({ type: commit ? 1 : 0, version: 0, coordinatorEpoch: 17 });
  });
});

describe("Kafka reads what we build", () => {
  for (const codec of ["none", ...CODECS] as const) {
    test(codec, async () => {
      for (const c of cases.slice(0, 15)) {
        const builder = new RecordBatchBuilder(c.options);
        for (const r of c.records) builder.append(r);
        const ours = await builder.buildCompressed(codec);
        const [javaBatch, ...rest] = await javaRead(ours);
        expect(rest).toEqual([]);
        const [decoded] = await decodeRecordBatches(ours);
        expect(javaBatch, c.name).toEqual(asOracle(decoded as RecordBatch));
        expect(javaBatch?.compressionType).toBe(codec);
      }
    });
  }
});

describe("we read what Kafka builds", () => {
  for (const codec of ["none", ...CODECS] as const) {
    test(codec, async () => {
      for (const c of cases.slice(0, 15)) {
        const theirs = await javaBuild({ ...c.item, codec });
        const javaView = await javaRead(theirs);
        const ours = await decodeRecordBatches(theirs);
        expect(ours.map(asOracle), c.name).toEqual(javaView);
        expect(ours[0]?.compression).toBe(codec);
      }
    });
  }

  test("several batches in one record set, offsets with gaps", async () => {
    const parts: Buffer[] = [];
    for (const [i, codec] of (["none", "gzip", "none", "zstd", "lz4", "snappy"] as const).entries()) {
      parts.push(
        await javaBuild({
          op: "records.build",
          codec,
          baseOffset: BigInt(i * 100),
          // Gaps, as compaction leaves them.
          records: [0, 3, 7].map((offsetDelta) => ({
            offsetDelta,
            timestamp: 1_700_000_000_000n + BigInt(offsetDelta),
            key: Buffer.from(`k${offsetDelta}`),
            value: Buffer.from(`v${i}`),
            headers: [],
          })),
        }),
      );
    }
    const set = Buffer.concat(parts);
    const ours = await decodeRecordBatches(set);
    expect(ours.map(asOracle)).toEqual(await javaRead(set));
    expect(ours.flatMap((b) => b.records.map((r) => recordOffset(b, r)))).toEqual(
      [0n, 100n, 200n, 300n, 400n, 500n].flatMap((base) => [base, base + 3n, base + 7n]),
    );
  });
});
