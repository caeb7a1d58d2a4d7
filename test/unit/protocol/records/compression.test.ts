import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { CompressionCodecMissingError, InvalidArgumentError, ProtocolError } from "../../../../src/protocol/errors.js";
import { OptionalModule } from "../../../../src/protocol/records/compression/common.js";
import {
  type CompressionCodec,
  CompressionCodecId,
  codecFromAttributes,
  compress,
  decompress,
  XERIAL_BLOCK_SIZE,
  XERIAL_HEADER,
} from "../../../../src/protocol/records/compression/index.js";

const require = createRequire(import.meta.url);

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

function compressible(n: number): Buffer {
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < n; i++) {
    const line = `{"id":${i},"user":"user-${i % 97}","event":"click","ts":${1_700_000_000_000 + i * 13}}\n`;
    lines.push(line);
    size += line.length;
  }
  return Buffer.from(lines.join("")).subarray(0, n);
}

const MiB = 1024 * 1024;
const INPUTS: ReadonlyArray<[string, Buffer]> = [
  ["empty", Buffer.alloc(0)],
  ["1 byte", Buffer.from([42])],
  ["small text", Buffer.from("a Kafka record batch's records section")],
  ["3 KiB compressible (sync paths)", compressible(3 * 1024)],
  ["1 MiB random", random(MiB, 1)],
  ["1 MiB compressible", compressible(MiB)],
];
const CODECS: readonly CompressionCodec[] = ["none", "gzip", "snappy", "lz4", "zstd"];

describe("codec ids", () => {
  it("map Kafka's attribute ids", () => {
    expect(CompressionCodecId).toEqual({ none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 });
  });

  it("are read from the low three attribute bits", () => {
    expect(codecFromAttributes(0)).toBe("none");
    expect(codecFromAttributes(0x13)).toBe("lz4"); // transactional + lz4
    expect(codecFromAttributes(0x24)).toBe("zstd"); // control + zstd
    for (const id of [5, 6, 7]) expect(() => codecFromAttributes(id)).toThrow(ProtocolError);
  });

  it("reject unknown codecs: InvalidArgumentError to compress, ProtocolError to decompress", async () => {
    await expect(compress(5, Buffer.from("x"))).rejects.toThrow(InvalidArgumentError);
    await expect(compress("brotli" as CompressionCodec, Buffer.from("x"))).rejects.toThrow(InvalidArgumentError);
    await expect(decompress(7, Buffer.from("x"))).rejects.toThrow(ProtocolError);
  });
});

describe("round trips", () => {
  for (const codec of CODECS) {
    for (const [name, input] of INPUTS) {
      it(`${codec}: ${name}`, async () => {
        const packed = await compress(codec, input);
        expect((await decompress(codec, packed)).equals(input)).toBe(true);
        // The attribute id dispatches to the same codec as the name.
        expect((await decompress(CompressionCodecId[codec], packed)).equals(input)).toBe(true);
      });
    }
  }

  it("compressible data shrinks under every codec", async () => {
    const input = compressible(MiB);
    for (const codec of ["gzip", "snappy", "lz4", "zstd"] as const) {
      expect((await compress(codec, input)).length, codec).toBeLessThan(input.length / 3);
    }
  });
});

describe("gzip", () => {
  it("writes a gzip stream and honours levels", async () => {
    const input = compressible(256 * 1024);
    const fast = await compress("gzip", input, 1);
    const best = await compress("gzip", input, 9);
    expect([...fast.subarray(0, 3)]).toEqual([0x1f, 0x8b, 0x08]);
    expect(best.length).toBeLessThan(fast.length);
  });

  it("rejects levels outside -1..9", async () => {
    await expect(compress("gzip", Buffer.from("x"), 10)).rejects.toThrow(
      /compressionLevel: gzip: must be an integer from -1 to 9/,
    );
    await expect(compress("gzip", Buffer.from("x"), 1.5)).rejects.toThrow(InvalidArgumentError);
  });
});

describe("snappy xerial framing", () => {
  it("opens with the magic, version 1 and compatible version 1", async () => {
    const packed = await compress("snappy", Buffer.from("hello"));
    expect(packed.subarray(0, 16).toString("hex")).toBe("82534e415050590000000001" + "00000001");
    expect(XERIAL_HEADER.toString("hex")).toBe("82534e41505059000000000100000001");
  });

  it("writes [int32 BE length][raw block] per 32 KiB of input", async () => {
    const snappy = require("snappy") as { uncompressSync(b: Uint8Array, o: { asBuffer: true }): Buffer };
    const input = random(100 * 1024 + 5, 3);
    const packed = await compress("snappy", input);
    const blocks: Buffer[] = [];
    let pos = 16;
    while (pos < packed.length) {
      const len = packed.readInt32BE(pos);
      blocks.push(snappy.uncompressSync(packed.subarray(pos + 4, pos + 4 + len), { asBuffer: true }));
      pos += 4 + len;
    }
    expect(pos).toBe(packed.length);
    expect(blocks.map((b) => b.length)).toEqual([XERIAL_BLOCK_SIZE, XERIAL_BLOCK_SIZE, XERIAL_BLOCK_SIZE, 4101]);
    expect(Buffer.concat(blocks).equals(input)).toBe(true);
  });

  it("an empty input is the bare header", async () => {
    expect((await compress("snappy", Buffer.alloc(0))).equals(XERIAL_HEADER)).toBe(true);
    expect((await decompress("snappy", XERIAL_HEADER)).length).toBe(0);
  });

  it("decodes raw snappy, as librdkafka writes it", async () => {
    const snappy = require("snappy") as { compressSync(b: Uint8Array): Buffer };
    for (const input of [Buffer.from("raw snappy from librdkafka"), compressible(200 * 1024)]) {
      const raw = snappy.compressSync(input);
      expect(raw.subarray(0, 8).equals(XERIAL_HEADER.subarray(0, 8))).toBe(false);
      expect((await decompress("snappy", raw)).equals(input)).toBe(true);
    }
  });
});

describe("zstd", () => {
  it("writes a zstd frame and honours levels", async () => {
    const input = compressible(256 * 1024);
    const fast = await compress("zstd", input, -5);
    const best = await compress("zstd", input, 19);
    expect(fast.readUInt32LE(0)).toBe(0xfd2fb528);
    expect(best.length).toBeLessThan(fast.length);
    expect((await decompress("zstd", fast)).equals(input)).toBe(true);
  });

  it("decodes a frame without a content size, and concatenated frames", async () => {
    // `zstd -c` reading stdin, which cannot know the size up front: descriptor byte 0x04.
    const frame = Buffer.from(
      "28b52ffd04585d010034027a737464206672616d6520776974686f7574206120636f6e74656e742073697a652c20010033a37a02ba7f4921",
      "hex",
    );
    const text = "zstd frame without a content size, zstd frame without a content size";
    expect((await decompress("zstd", frame)).toString()).toBe(text);
    expect((await decompress("zstd", Buffer.concat([frame, frame]))).toString()).toBe(text + text);
  });

  it("rejects levels outside -131072..22", async () => {
    await expect(compress("zstd", Buffer.from("x"), 23)).rejects.toThrow(/compressionLevel: zstd: must be an integer/);
  });
});

describe("corrupt input is a ProtocolError naming the codec", () => {
  const garbage = Buffer.from("this is not compressed data at all, not even a little");
  const cases: ReadonlyArray<[CompressionCodec, () => Promise<Buffer>]> = [
    ["gzip", async () => garbage],
    ["gzip", async () => (await compress("gzip", compressible(10_000))).subarray(0, 50)],
    ["snappy", async () => Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3])],
    ["snappy", async () => (await compress("snappy", compressible(10_000))).subarray(0, 40)],
    ["snappy", async () => XERIAL_HEADER.subarray(0, 12)],
    ["lz4", async () => garbage],
    ["lz4", async () => (await compress("lz4", compressible(100_000))).subarray(0, 5000)],
    ["zstd", async () => garbage],
    ["zstd", async () => (await compress("zstd", random(10_000, 4))).subarray(0, 9000)],
  ];
  for (const [codec, make] of cases) {
    it(`${codec}`, async () => {
      const err = await decompress(codec, await make()).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ProtocolError);
      expect((err as ProtocolError).code).toBe("SAMSA_ERR_PROTOCOL");
      expect((err as Error).message).toMatch(new RegExp(`^${codec} decompression failed`));
    });
  }

  it("a corrupted snappy block inside a large xerial stream (async path)", async () => {
    const packed = Buffer.from(await compress("snappy", random(200 * 1024, 8)));
    packed.writeInt32BE(0x7fffffff, 16 + 4 + packed.readInt32BE(16));
    await expect(decompress("snappy", packed)).rejects.toThrow(/^snappy decompression failed/);
  });
});

describe("missing optional packages", () => {
  it("throw CompressionCodecMissingError naming the codec and package, every time", () => {
    const mod = new OptionalModule<unknown>("snappy", "samsa-test-no-such-package");
    for (let i = 0; i < 2; i++) {
      const err = (() => {
        try {
          mod.get();
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(CompressionCodecMissingError);
      expect(err).toMatchObject({ code: "SAMSA_ERR_CODEC_MISSING", codec: "snappy" });
      expect((err as CompressionCodecMissingError).packageName).toBe("samsa-test-no-such-package");
    }
  });
});
