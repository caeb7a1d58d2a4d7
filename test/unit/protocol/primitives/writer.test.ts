import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../../../../src/protocol/errors.js";
import { Produce, type ProduceRequest } from "../../../../src/protocol/messages/index.js";
import { GATHER_MIN_BYTES, uvarintSize, varintSize, Writer } from "../../../../src/protocol/primitives/writer.js";

function bytes(write: (w: Writer) => void, initial = 1): string {
  const w = new Writer(initial);
  write(w);
  return w.finish().toString("hex");
}

describe("Writer", () => {
  it("writes fixed-width integers big-endian", () => {
    expect(bytes((w) => w.int8(-1))).toBe("ff");
    expect(bytes((w) => w.int16(-2))).toBe("fffe");
    expect(bytes((w) => w.uint16(65535))).toBe("ffff");
    expect(bytes((w) => w.int32(0x01020304))).toBe("01020304");
    expect(bytes((w) => w.uint32(0xfffffffe))).toBe("fffffffe");
    expect(bytes((w) => w.int64(-2n))).toBe("fffffffffffffffe");
    expect(bytes((w) => w.float64(1.5))).toBe("3ff8000000000000");
    expect(bytes((w) => w.bool(true))).toBe("01");
  });

  it("writes int64 from a number without BigInt, like int64 from a bigint", () => {
    for (const n of [
      0,
      1,
      -1,
      1_700_000_000_123,
      -1_700_000_000_123,
      2 ** 53 - 1,
      -(2 ** 53) + 1,
      2 ** 32,
      -(2 ** 32),
    ]) {
      expect(
        bytes((w) => w.int64Number(n)),
        String(n),
      ).toBe(bytes((w) => w.int64(BigInt(n))));
    }
  });

  it("writes unsigned varints (protocol) and zigzag varints (records)", () => {
    expect(bytes((w) => w.uvarint(0))).toBe("00");
    expect(bytes((w) => w.uvarint(127))).toBe("7f");
    expect(bytes((w) => w.uvarint(128))).toBe("8001");
    expect(bytes((w) => w.uvarint(300))).toBe("ac02");
    expect(bytes((w) => w.uvarint(0xffffffff))).toBe("ffffffff0f");
    expect(bytes((w) => w.varint(0))).toBe("00");
    expect(bytes((w) => w.varint(-1))).toBe("01");
    expect(bytes((w) => w.varint(1))).toBe("02");
    expect(bytes((w) => w.varint(-64))).toBe("7f");
    expect(bytes((w) => w.varint(2147483647))).toBe("feffffff0f");
    expect(bytes((w) => w.varint(-2147483648))).toBe("ffffffff0f");
    expect(bytes((w) => w.varlong(-1n))).toBe("01");
    expect(bytes((w) => w.varlong(9223372036854775807n))).toBe("feffffffffffffffff01");
    expect(bytes((w) => w.varlong(-9223372036854775808n))).toBe("ffffffffffffffffff01");
  });

  it("sizes varints exactly as it writes them", () => {
    for (const n of [0, 1, 127, 128, 16383, 16384, 2 ** 21 - 1, 2 ** 21, 2 ** 28 - 1, 2 ** 28, 2 ** 32 - 1]) {
      expect(uvarintSize(n), String(n)).toBe(bytes((w) => w.uvarint(n)).length / 2);
    }
    for (const n of [0, -1, 63, -64, 64, -65, 2 ** 31 - 1, -(2 ** 31)]) {
      expect(varintSize(n), String(n)).toBe(bytes((w) => w.varint(n)).length / 2);
    }
  });

  it("writes classic and compact strings and bytes, with null forms", () => {
    expect(bytes((w) => w.string("hé"))).toBe("000368c3a9");
    expect(bytes((w) => w.string(null))).toBe("ffff");
    expect(bytes((w) => w.compactString("hé"))).toBe("0468c3a9");
    expect(bytes((w) => w.compactString(null))).toBe("00");
    expect(bytes((w) => w.compactString(""))).toBe("01");
    expect(bytes((w) => w.bytes(Buffer.from([1, 2])))).toBe("000000020102");
    expect(bytes((w) => w.bytes(null))).toBe("ffffffff");
    expect(bytes((w) => w.compactBytes(Buffer.from([1, 2])))).toBe("030102");
    expect(bytes((w) => w.compactBytes(null))).toBe("00");
    expect(bytes((w) => w.arrayLength(null))).toBe("ffffffff");
    expect(bytes((w) => w.compactArrayLength(2))).toBe("03");
    expect(bytes((w) => w.compactArrayLength(null))).toBe("00");
  });

  it("writes a non-BMP string as its UTF-8 bytes", () => {
    expect(bytes((w) => w.compactString("😀"))).toBe("05f09f9880");
  });

  it("writes uuids from Kafka's base64url form and refuses anything else", () => {
    expect(bytes((w) => w.uuid("AAAAAAAAAAAAAAAAAAAAAA"))).toBe("00".repeat(16));
    expect(bytes((w) => w.uuid("AQIDBAUGBwgJCgsMDQ4PEA"))).toBe("0102030405060708090a0b0c0d0e0f10");
    expect(() => new Writer().uuid("short")).toThrow(InvalidArgumentError);
  });

  it("back-fills reserved int32 lengths and inserts varint lengths", () => {
    const w = new Writer(2);
    const at = w.reserveInt32();
    w.int16(7);
    w.fillInt32(at, w.pos - at - 4);
    expect(w.finish().toString("hex")).toBe("000000020007");

    const t = new Writer(1);
    t.int8(9);
    const start = t.pos;
    for (let i = 0; i < 200; i++) t.int8(i);
    t.insertUvarintLength(start);
    const out = t.finish();
    expect(out.length).toBe(1 + 2 + 200);
    expect(out.subarray(0, 3).toString("hex")).toBe("09c801");
    expect(out[3]).toBe(0);
    expect(out[202]).toBe(199);
  });

  it("grows its one buffer while keeping what was written", () => {
    const w = new Writer(1);
    for (let i = 0; i < 10_000; i++) w.int32(i);
    const out = w.finish();
    expect(out.length).toBe(40_000);
    expect(out.readInt32BE(4 * 9_999)).toBe(9_999);
  });
});

describe("Writer, gathering", () => {
  const big = Buffer.alloc(GATHER_MIN_BYTES, 7);
  const small = Buffer.alloc(GATHER_MIN_BYTES - 1, 8);
  const write = (w: Writer) => {
    const sizeAt = w.reserveInt32();
    w.compactBytes(big);
    w.int16(-2);
    w.bytes(small);
    w.raw(big);
    w.raw(big);
    w.int8(1);
    w.fillInt32(sizeAt, w.length - 4);
  };

  it("references raw values of GATHER_MIN_BYTES or more and copies the rest; the parts join to the plain bytes", () => {
    const plain = new Writer(1);
    write(plain);
    // Starts at one byte, so the buffer grows after the size prefix was reserved.
    const gathered = new Writer(1, true);
    write(gathered);
    const parts = gathered.finishParts();
    expect(parts.filter((p) => p === big)).toHaveLength(3);
    expect(parts.includes(small)).toBe(false);
    expect(gathered.length).toBe(plain.pos);
    expect(gathered.pos).toBe(plain.pos - 3 * big.length);
    expect(Buffer.concat(parts).equals(plain.finish())).toBe(true);
    expect(Buffer.concat(parts).readInt32BE(0)).toBe(plain.pos - 4);
  });

  it("a Produce request's bytes are the same gathered or not", () => {
    const request: ProduceRequest = {
      transactionalId: null,
      acks: -1,
      timeoutMs: 30_000,
      topicData: [
        {
          name: "t",
          topicId: "AAAAAAAAAAAAAAAAAAAAAA",
          partitionData: [
            { index: 0, records: big },
            { index: 1, records: small },
          ],
        },
      ],
    } as unknown as ProduceRequest;
    for (const v of [3, 9, 12]) {
      const plain = new Writer(64);
      Produce.encodeRequest(plain, request, v);
      const gathered = new Writer(64, true);
      Produce.encodeRequest(gathered, request, v);
      expect(Buffer.concat(gathered.finishParts()).equals(plain.finish()), `v${v}`).toBe(true);
    }
  });

  it("finish() and a tagged field around a gathered value refuse, rather than lose it", () => {
    const w = new Writer(16, true);
    const start = w.pos;
    w.raw(big);
    expect(() => w.finish()).toThrow(/finishParts/);
    expect(() => w.insertUvarintLength(start)).toThrow(/gathered/);
    // Nothing gathered: one part, the plain view.
    const plain = new Writer(16, true);
    plain.int32(5);
    expect(plain.finishParts().map((p) => Buffer.from(p).toString("hex"))).toEqual(["00000005"]);
  });
});

describe("Writer.insertUvarintLength regression", () => {
  // Found by the conformance suite: a tagged field ending at the buffer's end made the
  // varint write grow the buffer from `start`, losing the bytes just moved up.
  it("keeps a short tagged value written right at the end of the buffer", () => {
    for (let initial = 1; initial < 12; initial++) {
      const w = new Writer(initial);
      for (let i = 0; i < initial - 2; i++) w.int8(0x11);
      const start = w.pos;
      w.int16(0x0102);
      w.insertUvarintLength(start);
      const out = w.finish();
      expect(out.subarray(out.length - 3).toString("hex"), `initial ${initial}`).toBe("020102");
    }
  });
});
