import { describe, expect, it } from "vitest";
import { ProtocolError } from "../../../../src/protocol/errors.js";
import { Reader } from "../../../../src/protocol/primitives/reader.js";
import { Writer } from "../../../../src/protocol/primitives/writer.js";

const hex = (s: string) => new Reader(Buffer.from(s, "hex"));

function protocolError(fn: () => unknown): ProtocolError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as ProtocolError).code).toBe("SAMSA_ERR_PROTOCOL");
    return err as ProtocolError;
  }
  throw new Error("expected a ProtocolError");
}

describe("Reader", () => {
  it("reads what Writer wrote", () => {
    const w = new Writer();
    w.int8(-5);
    w.int16(-300);
    w.uint16(65000);
    w.int32(-70000);
    w.uint32(4000000000);
    w.int64(-9223372036854775808n);
    w.int64Number(1_700_000_000_123);
    w.float64(-0.25);
    w.bool(true);
    w.uuid("AQIDBAUGBwgJCgsMDQ4PEA");
    w.uvarint(4294967295);
    w.varint(-2147483648);
    w.varlong(-123456789012345n);
    w.string("kafka");
    w.string(null);
    w.compactString("ünïcode 😀");
    w.compactString(null);
    w.bytes(Buffer.from("ab"));
    w.compactBytes(null);
    const r = new Reader(w.finish());
    expect(r.int8()).toBe(-5);
    expect(r.int16()).toBe(-300);
    expect(r.uint16()).toBe(65000);
    expect(r.int32()).toBe(-70000);
    expect(r.uint32()).toBe(4000000000);
    expect(r.int64()).toBe(-9223372036854775808n);
    expect(r.int64Number()).toBe(1_700_000_000_123);
    expect(r.float64()).toBe(-0.25);
    expect(r.bool()).toBe(true);
    expect(r.uuid()).toBe("AQIDBAUGBwgJCgsMDQ4PEA");
    expect(r.uvarint()).toBe(4294967295);
    expect(r.varint()).toBe(-2147483648);
    expect(r.varlong()).toBe(-123456789012345n);
    expect(r.string()).toBe("kafka");
    expect(r.nullableString()).toBeNull();
    expect(r.compactString()).toBe("ünïcode 😀");
    expect(r.compactNullableString()).toBeNull();
    expect(r.bytes().toString()).toBe("ab");
    expect(r.compactNullableBytes()).toBeNull();
    expect(r.remaining).toBe(0);
  });

  it("returns byte fields as views, not copies", () => {
    const buf = Buffer.from("0000000261626364", "hex");
    const view = new Reader(buf).bytes();
    buf[4] = 0x7a;
    expect(view.toString()).toBe("zb");
  });

  it("names the field, position and context on truncation", () => {
    const r = hex("0001");
    r.context = "Metadata v12 response";
    const err = protocolError(() => r.int32("throttleTimeMs"));
    expect(err.message).toContain("Metadata v12 response");
    expect(err.message).toContain("throttleTimeMs");
    expect(err.message).toContain("byte 0");
  });

  it("refuses lengths larger than the bytes that remain, before allocating", () => {
    protocolError(() => hex("7fffffff").arrayLength("topics"));
    protocolError(() => hex("7fffffff00").bytes("records"));
    protocolError(() => hex("ffffffff0f").compactArrayLength("partitions"));
    protocolError(() => hex("ffffffff0f").compactString("name"));
    protocolError(() => hex("7fff").string("name"));
  });

  it("refuses negative lengths other than -1, and null where not nullable", () => {
    protocolError(() => hex("fffffffe").arrayLength());
    protocolError(() => hex("fffe").nullableString());
    protocolError(() => hex("ffff").string());
    protocolError(() => hex("00").compactString());
    protocolError(() => hex("ffffffff").bytes());
  });

  it("refuses over-long and truncated varints", () => {
    protocolError(() => hex("ffffffff7f").uvarint());
    protocolError(() => hex("ffffffffff01").uvarint());
    protocolError(() => hex("80").uvarint());
    protocolError(() => hex("ffffffffffffffffffff01").varlong());
    protocolError(() => hex("ff").varlong());
  });

  it("stays within its end even when the buffer goes on", () => {
    const r = new Reader(Buffer.from("0102030405", "hex"), 1, 3);
    expect(r.int16()).toBe(0x0203);
    protocolError(() => r.int8());
  });
});
