import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../../../../src/protocol/errors.js";
import { crc32c, crc32cImplementation, crc32cJs } from "../../../../src/protocol/records/crc32c.js";

// Bit-at-a-time CRC-32C straight from the definition: slow, but nothing to get wrong.
function reference(buf: Uint8Array, start = 0, end = buf.length): number {
  let crc = 0xffffffff;
  for (let i = start; i < end; i++) {
    crc ^= buf[i]!;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function loadNative(): ((buf: Uint8Array) => number) | undefined {
  try {
    return (createRequire(import.meta.url)("@node-rs/crc32") as { crc32c: (buf: Uint8Array) => number }).crc32c;
  } catch {
    return undefined;
  }
}
const native = loadNative();

// Deterministic bytes (xorshift32), so a failure reproduces.
function bytes(n: number, seed: number): Buffer {
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

const VECTORS: ReadonlyArray<[string, Uint8Array, number]> = [
  ['"123456789"', new TextEncoder().encode("123456789"), 0xe3069283],
  ["empty", new Uint8Array(0), 0],
  ["32 zero bytes", new Uint8Array(32), 0x8a9136aa],
  ["32 0xFF bytes", new Uint8Array(32).fill(0xff), 0x62a8ab43],
  // RFC 3720 (iSCSI) B.4: 32 ascending bytes 0x00..0x1f.
  ["32 ascending bytes", Uint8Array.from({ length: 32 }, (_, i) => i), 0x46dd794e],
];

describe("crc32c known vectors", () => {
  for (const [name, input, expected] of VECTORS) {
    it(`${name} -> 0x${expected.toString(16)}`, () => {
      expect(crc32cJs(input)).toBe(expected);
      expect(crc32c(input)).toBe(expected);
      if (native) expect(native(input) >>> 0).toBe(expected);
    });
  }

  it("returns unsigned values", () => {
    expect(crc32c(new TextEncoder().encode("123456789"))).toBeGreaterThan(0x7fffffff);
  });
});

describe("crc32c implementations agree", () => {
  it("uses the native binding exactly when @node-rs/crc32 loads", () => {
    expect(crc32cImplementation).toBe(native ? "native" : "js");
  });

  // Sizes straddle the 16-byte step, the 256-byte word path and the native thresholds.
  const sizes = [1, 3, 15, 16, 17, 31, 100, 255, 256, 257, 511, 512, 513, 1000, 1024, 4099, 65536, 100_003];

  it("JS matches the bitwise reference for whole buffers of many sizes", () => {
    for (const n of sizes) {
      const buf = bytes(n, n);
      expect(crc32cJs(buf), `size ${n}`).toBe(reference(buf));
    }
  });

  it("JS, native and crc32c() match on ranges at every alignment", () => {
    const backing = bytes(140_000, 7);
    for (const n of sizes) {
      for (const shift of [0, 1, 2, 3, 5]) {
        // A view at an odd byteOffset exercises the alignment prologue of the word path.
        const view = backing.subarray(shift, shift + n + 9);
        const start = shift + 1;
        const end = start + n;
        const expected = reference(view, start, end);
        expect(crc32cJs(view, start, end), `js size ${n} shift ${shift}`).toBe(expected);
        expect(crc32c(view, start, end), `crc32c size ${n} shift ${shift}`).toBe(expected);
        if (native) expect(native(view.subarray(start, end)) >>> 0).toBe(expected);
      }
    }
  });

  it("JS matches the reference on 1 MiB", () => {
    const buf = bytes(1 << 20, 99);
    const expected = reference(buf);
    expect(crc32cJs(buf)).toBe(expected);
    expect(crc32c(buf)).toBe(expected);
  });

  it("empty ranges give 0", () => {
    const buf = bytes(1000, 3);
    expect(crc32c(buf, 500, 500)).toBe(0);
    expect(crc32cJs(buf, 1000)).toBe(0);
  });
});

describe("crc32c range checks", () => {
  const buf = bytes(1024, 5);
  for (const [start, end] of [
    [-1, 10],
    [0, 1025],
    [10, 9],
    [600, 2000],
  ] as const) {
    it(`rejects [${start}, ${end}) on a 1024-byte buffer`, () => {
      expect(() => crc32c(buf, start, end)).toThrow(InvalidArgumentError);
      expect(() => crc32cJs(buf, start, end)).toThrow(InvalidArgumentError);
    });
  }
});
