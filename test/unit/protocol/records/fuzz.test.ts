/**
 * Record set decoder fuzz: valid record sets, damaged by `mutateFrame` (truncated, flipped,
 * lengths poisoned, bytes inserted or deleted), must decode or fail with ProtocolError or
 * CorruptRecordError — never a RangeError, a TypeError or a huge allocation. Half the cases get
 * their CRCs recomputed after the damage, so the damage reaches the record parser instead of
 * stopping at the checksum. Seeded: SAMSA_FUZZ_SEED=<n> explores other cases.
 */
import { describe, expect, test } from "vitest";
import { CorruptRecordError, ProtocolError } from "../../../../src/protocol/errors.js";
import { crc32c } from "../../../../src/protocol/records/crc32c.js";
import {
  buildEndTxnMarkerBatch,
  type CompressionCodec,
  decodeRecordBatches,
  decodeRecordBatchesSync,
  RecordBatchBuilder,
  type RecordInput,
} from "../../../../src/protocol/records/index.js";
import { type LengthField, mutateFrame, Rng } from "../../../fuzz-helpers.js";

const SEED = Number(process.env.SAMSA_FUZZ_SEED ?? 1);
const SYNC_CASES = 100_000;
const ASYNC_CASES = 4_000;

function records(rng: Rng, count: number): RecordInput[] {
  return Array.from({ length: count }, (_, i) => ({
    timestamp: 1_700_000_000_000 + rng.int(-100_000, 100_000),
    key: rng.chance(0.2) ? null : rng.bytes(rng.int(0, 12)),
    value: rng.chance(0.1) ? null : rng.bytes(rng.chance(0.1) ? rng.int(100, 300) : rng.int(0, 30)),
    headers: rng.chance(0.3) ? [{ key: `h${i}`, value: rng.chance(0.3) ? null : rng.bytes(rng.int(0, 5)) }] : undefined,
  }));
}

function batch(rng: Rng, count: number, baseOffset: bigint): Buffer {
  const builder = new RecordBatchBuilder({ baseOffset, producerId: 5n, producerEpoch: 0, baseSequence: 0 });
  for (const r of records(rng, count)) builder.append(r);
  return Buffer.from(builder.build());
}

/**
 * Positions of the header's int32 length and count, and of every varint length and count in
 * the records: where a lie does the most damage.
 */
function lengthsOf(set: Buffer): LengthField[] {
  const out: LengthField[] = [];
  let pos = 0;
  const varint = (): number => {
    out.push({ pos, kind: "uvarint" });
    let v = 0;
    let shift = 0;
    for (;;) {
      const b = set[pos++] as number;
      v |= (b & 0x7f) << shift;
      if (b < 0x80) return (v >>> 1) ^ -(v & 1);
      shift += 7;
    }
  };
  while (pos < set.length) {
    const start = pos;
    const end = start + 12 + set.readInt32BE(start + 8);
    out.push({ pos: start + 8, kind: "int32" }, { pos: start + 57, kind: "int32" });
    pos = start + 61;
    while (pos < end) {
      const length = varint();
      const recordEnd = pos + length;
      pos += 1; // attributes
      varint(); // timestamp delta (narrow in these fixtures)
      varint(); // offset delta
      const keyLength = varint();
      pos += Math.max(keyLength, 0);
      const valueLength = varint();
      pos += Math.max(valueLength, 0);
      const headers = varint();
      for (let h = 0; h < headers; h++) {
        pos += varint();
        pos += Math.max(varint(), 0);
      }
      pos = recordEnd;
    }
  }
  return out;
}

/** Recomputes the CRC of every batch whose header still frames it, so damage reaches the parser. */
function fixCrcs(set: Buffer): void {
  let pos = 0;
  while (set.length - pos >= 61) {
    const end = pos + 12 + set.readInt32BE(pos + 8);
    if (end < pos + 61 || end > set.length) return;
    set.writeUInt32BE(crc32c(set, pos + 21, end), pos + 17);
    pos = end;
  }
}

function seedSets(rng: Rng): Buffer[] {
  return [
    batch(rng, 5, 0n),
    Buffer.concat([batch(rng, 3, 0n), batch(rng, 4, 3n), batch(rng, 2, 7n)]),
    batch(rng, 20, 1000n),
    Buffer.concat([
      batch(rng, 2, 0n),
      buildEndTxnMarkerBatch({ type: "abort", coordinatorEpoch: 3, producerId: 5n, producerEpoch: 0, baseOffset: 2n }),
    ]),
  ];
}

function expectDecoderError(err: unknown, detail: string): void {
  if (err instanceof ProtocolError || err instanceof CorruptRecordError) return;
  throw new Error(`unexpected ${String(err)} for ${detail}`, { cause: err });
}

describe("record set fuzz", () => {
  test(`${SYNC_CASES} damaged uncompressed record sets fail only with ProtocolError or CorruptRecordError`, () => {
    const rng = new Rng(SEED);
    const sets = seedSets(rng).map((set) => ({ set, lengths: lengthsOf(set) }));
    const outcomes = { decoded: 0, protocol: 0, corrupt: 0 };
    for (let i = 0; i < SYNC_CASES; i++) {
      const { set, lengths } = rng.pick(sets);
      const mutation = mutateFrame(rng, set, lengths);
      const bytes = Buffer.from(mutation.bytes);
      if (rng.chance(0.5)) fixCrcs(bytes);
      const verifyCrc = rng.chance(0.8);
      const fromOffset = rng.chance(0.2) ? BigInt(rng.int(0, 12)) : undefined;
      try {
        const batches = decodeRecordBatchesSync(bytes, { verifyCrc, fromOffset });
        for (const b of batches) expect(b.records.length).toBeLessThanOrEqual(b.recordCount);
        outcomes.decoded++;
      } catch (err) {
        expectDecoderError(err, `case ${i} (seed ${SEED}): ${mutation.kind} ${mutation.detail}`);
        if (err instanceof CorruptRecordError) outcomes.corrupt++;
        else outcomes.protocol++;
      }
    }
    // Every outcome must actually occur, or the mutations are not reaching the parser.
    expect(outcomes.decoded).toBeGreaterThan(SYNC_CASES / 20);
    expect(outcomes.protocol).toBeGreaterThan(SYNC_CASES / 20);
    expect(outcomes.corrupt).toBeGreaterThan(SYNC_CASES / 20);
  });

  test(`${ASYNC_CASES} damaged compressed record sets fail only with ProtocolError or CorruptRecordError`, async () => {
    const rng = new Rng(SEED + 1);
    const sets: { set: Buffer; lengths: LengthField[] }[] = [];
    for (const codec of ["gzip", "snappy", "lz4", "zstd"] as CompressionCodec[]) {
      const builder = new RecordBatchBuilder({ baseOffset: 10n });
      for (const r of records(rng, 30)) builder.append(r);
      const compressed = await builder.buildCompressed(codec);
      sets.push({
        set: compressed,
        lengths: [
          { pos: 8, kind: "int32" },
          { pos: 57, kind: "int32" },
        ],
      });
    }
    let protocol = 0;
    for (let i = 0; i < ASYNC_CASES; i++) {
      const { set, lengths } = rng.pick(sets);
      const mutation = mutateFrame(rng, set, lengths);
      const bytes = Buffer.from(mutation.bytes);
      // Mostly past the CRC: the codecs' own framing checks are what is under test here.
      if (rng.chance(0.8)) fixCrcs(bytes);
      try {
        await decodeRecordBatches(bytes);
      } catch (err) {
        expectDecoderError(err, `async case ${i} (seed ${SEED}): ${mutation.kind} ${mutation.detail}`);
        if (err instanceof ProtocolError) protocol++;
      }
    }
    expect(protocol).toBeGreaterThan(ASYNC_CASES / 10);
  });
});
