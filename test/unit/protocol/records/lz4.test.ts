import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ProtocolError } from "../../../../src/protocol/errors.js";
import {
  compress,
  decompress,
  LZ4_FRAME_HEADER,
  xxhash32,
} from "../../../../src/protocol/records/compression/index.js";

function random(n: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** A 300-byte xorshift32 (seed 1) chunk repeated to `n` bytes: what the CLI fixture holds. */
function repeated(n: number): Buffer {
  const chunk = random(300, 1);
  const out = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) out[i] = chunk[i % 300]!;
  return out;
}

interface WalkedBlock {
  size: number;
  stored: boolean;
}

/** Walks a frame as the encoder writes it: 7-byte header, blocks, end mark, nothing after. */
function walk(frame: Buffer): WalkedBlock[] {
  const blocks: WalkedBlock[] = [];
  let pos = 7;
  for (;;) {
    const field = frame.readUInt32LE(pos);
    pos += 4;
    if (field === 0) break;
    const size = field & 0x7fffffff;
    blocks.push({ size, stored: field >>> 31 === 1 });
    pos += size;
  }
  expect(pos).toBe(frame.length);
  return blocks;
}

async function protocolError(p: Promise<unknown>): Promise<ProtocolError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProtocolError);
  expect((err as Error).message).toMatch(/^lz4 decompression failed/);
  return err as ProtocolError;
}

describe("xxhash32", () => {
  const text = (s: string) => new TextEncoder().encode(s);
  it("matches the reference vectors", () => {
    expect(xxhash32(text(""))).toBe(0x02cc5d05);
    expect(xxhash32(text("a"))).toBe(0x550d7456);
    expect(xxhash32(text("abc"))).toBe(0x32d153ff);
    expect(xxhash32(text("Nobody inspects the spammish repetition"))).toBe(0xe2293b2f);
  });

  it("hashes a range in place", () => {
    const buf = text("xxabcxx");
    expect(xxhash32(buf, 2, 5)).toBe(0x32d153ff);
  });
});

describe("lz4 frame encoding", () => {
  it("writes Java's header: 04 22 4D 18, FLG 0x60, BD 0x40, header checksum", async () => {
    const frame = await compress("lz4", Buffer.from("hello lz4"));
    expect([...frame.subarray(0, 6)]).toEqual([0x04, 0x22, 0x4d, 0x18, 0x60, 0x40]);
    expect(frame[6]).toBe((xxhash32(frame, 4, 6) >>> 8) & 0xff);
    expect(frame[6]).toBe(0x82);
    expect(frame.subarray(0, 7).equals(LZ4_FRAME_HEADER)).toBe(true);
  });

  it("an empty input is header plus end mark", async () => {
    const frame = await compress("lz4", Buffer.alloc(0));
    expect(frame.toString("hex")).toBe("04224d1860408200000000");
    expect((await decompress("lz4", frame)).length).toBe(0);
  });

  it("cuts 64 KiB blocks and compresses compressible ones", async () => {
    const input = repeated(200 * 1024);
    const blocks = walk(await compress("lz4", input));
    expect(blocks).toHaveLength(4);
    for (const b of blocks) {
      expect(b.stored).toBe(false);
      expect(b.size).toBeLessThan(64 * 1024);
    }
  });

  it("stores blocks that do not shrink, flagged by the high bit", async () => {
    const input = random(150 * 1024, 9);
    const frame = await compress("lz4", input);
    expect(walk(frame)).toEqual([
      { size: 65536, stored: true },
      { size: 65536, stored: true },
      { size: 22528, stored: true },
    ]);
    expect(frame.subarray(11, 11 + 65536).equals(input.subarray(0, 65536))).toBe(true);
    expect((await decompress("lz4", frame)).equals(input)).toBe(true);
  });

  it("accepts Kafka's levels 1-17 and rejects others", async () => {
    expect((await compress("lz4", Buffer.from("x"), 17)).subarray(0, 7).equals(LZ4_FRAME_HEADER)).toBe(true);
    await expect(compress("lz4", Buffer.from("x"), 0)).rejects.toThrow(
      /compressionLevel: lz4: must be an integer from 1 to 17/,
    );
  });
});

describe("lz4 frame decoding", () => {
  // `lz4 -BD -B4` (lz4 CLI 1.9) of repeated(70 KiB): FLG 0x44, dependent blocks with a content
  // checksum. The second block starts with a match into the first, so it needs the dictionary.
  const DEPENDENT = Buffer.from(
    "BCJNGERAXjcCAAD//x4hAcVP0dAasiV0yzeKrvWxCAiRGTO560/yKaXk2z5XFAEo4PT64n4H8RpDJ7fpRVSthTuzzNW01NRU041tJgDHYLDUSu3MjpEQYNwFNs2f0IUUxsAETAdPOXs4Xb/JwNqb4ZD3vKBICrvT6qFwGGUNeRFxkBhaV6aqxp1A3NaaLdqBwS1o7GALL+6SlLxuS2621QIK+f3uXeCRyJTf9y5ZqCKk/6PKxjLnZZQWFZhP2K5Fnrgh+TMbcvkRUNcvJ08nP/bW07gC04XUyS1sEvqweG7IYAfCpnD1dqjtMy5XI7gmOy439a0o6SbWS+fbOEItVyeWK/0OC4Y2/Ge7Jv08ed6mysNy/r2zNebY5l9y6tfGWSIqTT2GVFcwX4f8upDwmSIO9Fh/rv/6HvIsAf///////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////7tQLWjsYAsiAAAAD3j/////////////////////////////////AFAiKk09hgAAAABFCjq0",
    "base64",
  );
  // `lz4 -B4 -BX --content-size` of 50 x "Kafka record batch payload ": FLG 0x7C, block
  // checksums, content size and content checksum.
  const CHECKSUMMED = Buffer.from(
    "04224d187c404605000000000000252b000000ff0c4b61666b61207265636f7264206261746368207061796c6f6164201b00ffffffffff18506c6f6164203384bb8b00000000946060ed",
    "hex",
  );
  const CHECKSUMMED_TEXT = "Kafka record batch payload ".repeat(50);

  it("decodes dependent blocks with the previous output as dictionary", async () => {
    expect(DEPENDENT[4]).toBe(0x44);
    expect((await decompress("lz4", DEPENDENT)).equals(repeated(70 * 1024))).toBe(true);
  });

  it("the dependent frame's second block cannot decode without that dictionary", async () => {
    const independent = Buffer.from(DEPENDENT);
    independent[4] = 0x64;
    independent[6] = (xxhash32(independent, 4, 6) >>> 8) & 0xff;
    // lz4_flex's words for a match reaching before the block's start.
    expect((await protocolError(decompress("lz4", independent))).message).toMatch(/offset to copy/);
  });

  it("decodes and verifies block checksums, content size and content checksum", async () => {
    expect((await decompress("lz4", CHECKSUMMED)).toString()).toBe(CHECKSUMMED_TEXT);
  });

  it("rejects a wrong block checksum, content checksum or content size", async () => {
    const blockSum = Buffer.from(CHECKSUMMED);
    blockSum[blockSum.length - 12]! ^= 1; // last byte of the block checksum
    expect((await protocolError(decompress("lz4", blockSum))).message).toMatch(/block checksum/);
    const contentSum = Buffer.from(CHECKSUMMED);
    contentSum[contentSum.length - 1]! ^= 1;
    expect((await protocolError(decompress("lz4", contentSum))).message).toMatch(/content checksum/);
    const size = Buffer.from(CHECKSUMMED);
    size[6] = 0x47; // declared content size 1351 -> 1351 + 2
    size[14] = (xxhash32(size, 4, 14) >>> 8) & 0xff;
    expect((await protocolError(decompress("lz4", size))).message).toMatch(/content/);
  });

  it("rejects a wrong header checksum, magic, version or oversized block", async () => {
    const frame = await compress("lz4", Buffer.from("hello hello hello"));
    const hc = Buffer.from(frame);
    hc[6]! ^= 0xff;
    expect((await protocolError(decompress("lz4", hc))).message).toMatch(/header checksum/);
    const magic = Buffer.from(frame);
    magic[0] = 0x05;
    await protocolError(decompress("lz4", magic));
    const version = Buffer.from(frame);
    version[4] = 0xa0;
    await protocolError(decompress("lz4", version));
    const big = Buffer.from(frame);
    big.writeUInt32LE(0x10001, 7);
    await protocolError(decompress("lz4", big));
  });

  it("rejects truncation anywhere", async () => {
    const frame = await compress("lz4", repeated(100 * 1024));
    for (const cut of [0, 3, 6, 7, 10, 20, frame.length - 4, frame.length - 1]) {
      await protocolError(decompress("lz4", frame.subarray(0, cut)));
    }
  });

  it("skips skippable frames and reads concatenated frames", async () => {
    const a = await compress("lz4", Buffer.from("first "));
    const b = await compress("lz4", Buffer.from("second"));
    const skippable = Buffer.from("502a4d1803000000abcdef", "hex");
    expect((await decompress("lz4", Buffer.concat([a, skippable, b]))).toString()).toBe("first second");
  });

  it("decodes large frames on the async path, blocks in parallel", async () => {
    const input = Buffer.concat([repeated(300 * 1024), random(300 * 1024, 2)]);
    expect((await decompress("lz4", await compress("lz4", input))).equals(input)).toBe(true);
  });
});

// The reference implementation's CLI, when this machine has it: a frame it reads is a frame
// any LZ4 frame reader (Java's included) can read, checksum byte and block flags alike.
const lz4Cli = (() => {
  try {
    execFileSync("lz4", ["--version"], { stdio: "pipe" });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!lz4Cli)("lz4 CLI reads our frames", () => {
  it("empty, small, compressible and random inputs", async () => {
    const dir = mkdtempSync(join(tmpdir(), "samsa-lz4-"));
    try {
      for (const input of [Buffer.alloc(0), Buffer.from("x"), repeated(200 * 1024), random(150 * 1024, 5)]) {
        const file = join(dir, "frame.lz4");
        writeFileSync(file, await compress("lz4", input));
        expect(execFileSync("lz4", ["-d", "-c", file], { maxBuffer: 1 << 24 }).equals(input)).toBe(true);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
