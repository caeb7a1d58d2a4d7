/**
 * Record decoder fuzz with a memory bound, one test per decoder path: eager uncompressed,
 * lazy records read through a RecordCursor, and each codec. Damaged record sets (lengths and
 * counts poisoned, codec framing included, bytes flipped, cut, inserted) must decode or fail
 * with ProtocolError, CorruptRecordError or DecompressionLimitError, and the process's peak RSS
 * (the kernel's high-water mark) must stay within a fixed bound over the whole run: no lie in a
 * length, count or size header may turn into a large allocation. Seeded: SAMSA_FUZZ_SEED=<n>.
 */
import { beforeAll, describe, expect, test } from "vitest";
import { CorruptRecordError, DecompressionLimitError, ProtocolError } from "../../../../src/protocol/errors.js";
import { crc32c } from "../../../../src/protocol/records/crc32c.js";
import {
  type CompressionCodec,
  decodeRecordBatches,
  decodeRecordBatchesSync,
  RecordBatchBuilder,
  RecordCursor,
} from "../../../../src/protocol/records/index.js";
import { type LengthField, mutateFrame, Rng } from "../../../fuzz-helpers.js";

const SEED = Number(process.env.SAMSA_FUZZ_SEED ?? 7);
const MiB = 1024 * 1024;
const MAX_DECOMPRESSED = 4 * MiB;
const RSS_GROWTH_MAX = 200 * MiB;

function batchOf(rng: Rng, count: number, baseOffset: bigint): RecordBatchBuilder {
  const builder = new RecordBatchBuilder({ baseOffset, producerId: 3n, producerEpoch: 0, baseSequence: 0 });
  for (let i = 0; i < count; i++) {
    builder.append({
      key: rng.chance(0.2) ? null : rng.bytes(rng.int(0, 10)),
      // Runs of zeros make the codecs' long matches and RLE paths appear.
      value: rng.chance(0.3) ? Buffer.alloc(rng.int(100, 3000)) : rng.bytes(rng.int(0, 200)),
      headers: rng.chance(0.3) ? [{ key: `h${i}`, value: rng.bytes(rng.int(0, 4)) }] : undefined,
    });
  }
  return builder;
}

function fixCrcs(set: Buffer): void {
  let pos = 0;
  while (set.length - pos >= 61) {
    const end = pos + 12 + set.readInt32BE(pos + 8);
    if (end < pos + 61 || end > set.length) return;
    set.writeUInt32BE(crc32c(set, pos + 21, end), pos + 17);
    pos = end;
  }
}

/** Where each codec's framing keeps its sizes, in a one-batch record set (payload at 61). */
function framingLengths(codec: CompressionCodec, set: Buffer): LengthField[] {
  const at = (pos: number, kind: LengthField["kind"]): LengthField => ({ pos: 61 + pos, kind });
  const batch: LengthField[] = [
    { pos: 8, kind: "int32" },
    { pos: 57, kind: "int32" },
  ];
  switch (codec) {
    case "snappy": // xerial: int32 block length at 16, then the raw block's varint preamble
      return [...batch, at(16, "int32"), at(20, "uvarint")];
    case "lz4": // frame header of 7 bytes, then u32 LE block sizes (poisoned as int32 windows)
      return [...batch, at(7, "int32"), at(4, "int32")];
    case "zstd": // frame header then 3-byte block headers
      return [...batch, at(4, "int32"), at(6, "int32"), at(set.length - 61 - 8, "int32")];
    default: // gzip: the header's flags and the trailer's ISIZE
      return [...batch, at(3, "int32"), at(set.length - 61 - 4, "int32")];
  }
}

function expectDecoderError(err: unknown, detail: string): string {
  if (err instanceof DecompressionLimitError) return "limit";
  if (err instanceof CorruptRecordError) return "corrupt";
  if (err instanceof ProtocolError) return "protocol";
  throw new Error(`unexpected ${String(err)} for ${detail}`, { cause: err });
}

function peakRss(): number {
  return process.resourceUsage().maxRSS * 1024;
}

let baseline = 0;
beforeAll(() => {
  baseline = Math.max(peakRss(), process.memoryUsage.rss());
});

describe("record decoder fuzz, peak memory bounded", () => {
  test("eager and lazy (RecordCursor) uncompressed paths", () => {
    const rng = new Rng(SEED);
    const sets = [batchOf(rng, 20, 0n), batchOf(rng, 5, 20n)].map((b) => Buffer.from(b.build()));
    const set = Buffer.concat(sets);
    const lengths: LengthField[] = [
      { pos: 8, kind: "int32" },
      { pos: 57, kind: "int32" },
      { pos: 61, kind: "uvarint" },
      { pos: sets[0]!.length + 8, kind: "int32" },
      { pos: sets[0]!.length + 57, kind: "int32" },
    ];
    const outcomes = new Map<string, number>();
    const cursor = new RecordCursor();
    for (let i = 0; i < 30_000; i++) {
      const mutation = mutateFrame(rng, set, lengths);
      const bytes = Buffer.from(mutation.bytes);
      if (rng.chance(0.7)) fixCrcs(bytes);
      const lazy = rng.chance(0.5);
      let outcome = "decoded";
      try {
        for (const b of decodeRecordBatchesSync(bytes, { lazyRecords: lazy })) {
          if (!b.encoded) continue;
          const { data, start, end, skipBelow } = b.encoded;
          cursor.open(data, start, end, b.recordCount, skipBelow, b.baseOffset);
          let n = 0;
          while (cursor.next()) n++;
          expect(n).toBeLessThanOrEqual(b.recordCount);
        }
      } catch (err) {
        outcome = expectDecoderError(err, `case ${i} (seed ${SEED}): ${mutation.kind} ${mutation.detail}`);
      }
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
    expect(outcomes.get("decoded")).toBeGreaterThan(1000);
    expect(outcomes.get("protocol")).toBeGreaterThan(1000);
    expect(peakRss() - baseline).toBeLessThan(RSS_GROWTH_MAX);
  });

  for (const codec of ["gzip", "snappy", "lz4", "zstd"] as const) {
    test(`${codec} path`, async () => {
      const rng = new Rng(SEED + codec.length);
      const set = Buffer.from(await batchOf(rng, 40, 100n).buildCompressed(codec));
      const lengths = framingLengths(codec, set);
      const outcomes = new Map<string, number>();
      for (let i = 0; i < 1500; i++) {
        const mutation = mutateFrame(rng, set, lengths);
        const bytes = Buffer.from(mutation.bytes);
        if (rng.chance(0.9)) fixCrcs(bytes);
        let outcome = "decoded";
        try {
          await decodeRecordBatches(bytes, { maxDecompressedBytes: MAX_DECOMPRESSED, lazyRecords: rng.chance(0.3) });
        } catch (err) {
          outcome = expectDecoderError(err, `${codec} case ${i} (seed ${SEED}): ${mutation.kind} ${mutation.detail}`);
        }
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      }
      expect(outcomes.get("protocol")).toBeGreaterThan(100);
      expect(peakRss() - baseline).toBeLessThan(RSS_GROWTH_MAX);
    });
  }
});
