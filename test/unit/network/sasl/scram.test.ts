import { describe, expect, it } from "vitest";
import { oauthBearerMechanism } from "../../../../src/network/sasl/oauthbearer.js";
import { plainMechanism } from "../../../../src/network/sasl/plain.js";
import { scramMechanism } from "../../../../src/network/sasl/scram.js";

describe("SCRAM-SHA-256", () => {
  // RFC 7677 section 3: the exchange for user "user", password "pencil".
  const serverFirst = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";

  it("produces the RFC 7677 client messages and verifies the server signature", async () => {
    const session = scramMechanism("SCRAM-SHA-256", "user", "pencil", { nonce: "rOprNGfwEbeRWgbNEkqO" }).start();
    if (session instanceof Promise) throw new Error("sync start expected");
    expect((await session.step(null))?.toString()).toBe("n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
    expect((await session.step(Buffer.from(serverFirst)))?.toString()).toBe(
      "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
    );
    expect(await session.step(Buffer.from("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="))).toBeNull();
  });

  it("refuses a server signature that does not verify, and a nonce the server did not extend", async () => {
    const s1 = scramMechanism("SCRAM-SHA-256", "user", "pencil", {
      nonce: "rOprNGfwEbeRWgbNEkqO",
    }).start() as never as {
      step(c: Buffer | null): Promise<Buffer | null>;
    };
    await s1.step(null);
    await s1.step(Buffer.from(serverFirst));
    await expect(s1.step(Buffer.from("v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="))).rejects.toThrow(
      /does not verify/,
    );
    const s2 = scramMechanism("SCRAM-SHA-256", "user", "pencil", { nonce: "other" }).start() as never as {
      step(c: Buffer | null): Promise<Buffer | null>;
    };
    await s2.step(null);
    await expect(s2.step(Buffer.from(serverFirst))).rejects.toThrow(/malformed/);
  });

  it("escapes ',' and '=' in user names (RFC 5802 saslname)", async () => {
    const session = scramMechanism("SCRAM-SHA-512", "a=b,c", "x", { nonce: "n" }).start() as never as {
      step(c: Buffer | null): Promise<Buffer | null>;
    };
    expect((await session.step(null))?.toString()).toBe("n,,n=a=3Db=2Cc,r=n");
  });
});

describe("PLAIN and OAUTHBEARER", () => {
  it("PLAIN sends authzid NUL user NUL password once", async () => {
    const session = plainMechanism("alice", "secret").start() as never as { step(c: Buffer | null): Buffer | null };
    expect(session.step(null)?.toString("hex")).toBe(Buffer.from("\0alice\0secret").toString("hex"));
    expect(session.step(Buffer.alloc(0))).toBeNull();
  });

  it("OAUTHBEARER sends the GS2 header, the bearer token and extensions", async () => {
    const session = oauthBearerMechanism(() => ({ value: "tok", extensions: { traceId: "42" } })).start() as never as {
      step(c: Buffer | null): Promise<Buffer | null>;
    };
    expect((await session.step(null))?.toString()).toBe("n,,\x01auth=Bearer tok\x01traceId=42\x01\x01");
    expect(await session.step(Buffer.alloc(0))).toBeNull();
  });

  it("OAUTHBEARER refuses the reserved 'auth' extension", async () => {
    const session = oauthBearerMechanism(() => ({ value: "t", extensions: { auth: "x" } })).start() as never as {
      step(c: Buffer | null): Promise<Buffer | null>;
    };
    await expect(session.step(null)).rejects.toThrow(/extension/);
  });
});
