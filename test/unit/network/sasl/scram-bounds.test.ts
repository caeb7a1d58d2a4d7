/**
 * What a server may make the client do during connect. A SCRAM server-first message with an
 * iteration count outside Kafka's 4,096..16,384 is refused with AuthenticationError before any
 * key is derived: i=1 (a downgrade: the proof would be cheap to brute-force) never gets a
 * client proof, and i=2^31-1 (minutes of PBKDF2) costs nothing. And the whole connect (TCP,
 * ApiVersions, SASL) is bounded by connectTimeoutMs: a server that accepts and then stays
 * silent, before or during the SASL exchange, fails the connect with ConnectionError.
 */
import { createHmac, pbkdf2Sync } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, test } from "vitest";
import { Connection } from "../../../../src/network/connection.js";
import { AuthenticationError, ConnectionError } from "../../../../src/network/errors.js";
import { SCRAM_MAX_ITERATIONS, SCRAM_MIN_ITERATIONS, scramMechanism } from "../../../../src/network/sasl/index.js";
import {
  createSaslAuthenticateResponse,
  createSaslHandshakeResponse,
  SaslAuthenticate,
  type SaslAuthenticateRequest,
  SaslHandshake,
} from "../../../../src/protocol/messages/index.js";
import { FakeBroker } from "../../../../tools/fault/fake-broker.js";

const SALT = Buffer.from("samsa-test-salt!");
const PASSWORD = "pencil";

/** A fake broker that runs the server side of SCRAM-SHA-256 with `iterations`. */
async function scramBroker(iterations: number): Promise<FakeBroker> {
  const broker = await FakeBroker.start();
  broker.on(SaslHandshake, () => createSaslHandshakeResponse({ mechanisms: ["SCRAM-SHA-256"] }));
  let clientFirstBare = "";
  let serverFirst = "";
  broker.on(SaslAuthenticate, (request: SaslAuthenticateRequest) => {
    const message = request.authBytes.toString("utf8");
    if (message.startsWith("n,,")) {
      clientFirstBare = message.slice(3);
      const nonce = /r=([^,]+)/.exec(clientFirstBare)?.[1] ?? "";
      serverFirst = `r=${nonce}server,s=${SALT.toString("base64")},i=${iterations}`;
      return createSaslAuthenticateResponse({ authBytes: Buffer.from(serverFirst) });
    }
    // client-final: answer with the server signature, as a broker that knows the password.
    const withoutProof = message.slice(0, message.indexOf(",p="));
    const salted = pbkdf2Sync(PASSWORD, SALT, iterations, 32, "sha256");
    const serverKey = createHmac("sha256", salted).update("Server Key").digest();
    const signature = createHmac("sha256", serverKey)
      .update(`${clientFirstBare},${serverFirst},${withoutProof}`)
      .digest();
    return createSaslAuthenticateResponse({ authBytes: Buffer.from(`v=${signature.toString("base64")}`) });
  });
  return broker;
}

function scramConnection(broker: FakeBroker, connectTimeoutMs = 5_000): Connection {
  return new Connection({
    host: "127.0.0.1",
    port: broker.port,
    connectTimeoutMs,
    sasl: { mechanism: "SCRAM-SHA-256", username: "alice", password: PASSWORD },
  });
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

describe("SCRAM iteration count from the server", () => {
  test("the fake server's honest exchange at the bounds authenticates", async () => {
    for (const i of [SCRAM_MIN_ITERATIONS, SCRAM_MAX_ITERATIONS]) {
      const broker = await scramBroker(i);
      cleanups.push(() => broker.close());
      const connection = scramConnection(broker);
      cleanups.push(() => connection.close());
      await connection.connect();
      expect(connection.authentications).toBe(1);
      expect(broker.received(SaslAuthenticate)).toHaveLength(2);
    }
    expect([SCRAM_MIN_ITERATIONS, SCRAM_MAX_ITERATIONS]).toEqual([4096, 16384]);
  });

  for (const i of [1, 4095, 16385, 2 ** 31 - 1]) {
    test(`i=${i} is refused with AuthenticationError and no client proof is sent`, async () => {
      const broker = await scramBroker(i);
      cleanups.push(() => broker.close());
      const connection = scramConnection(broker);
      const err = await connection.connect().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(AuthenticationError);
      expect((err as AuthenticationError).code).toBe("SAMSA_ERR_AUTHENTICATION");
      expect((err as AuthenticationError).broker).toBe(`127.0.0.1:${broker.port}`);
      expect((err as Error).message).toContain(`${i} iterations`);
      expect((err as Error).message).not.toContain(PASSWORD);
      // Only the client-first message went out: no proof for a downgraded count.
      const sent = broker.received(SaslAuthenticate).map((r) => r.request.authBytes.toString());
      expect(sent).toHaveLength(1);
      expect(sent[0]).toMatch(/^n,,n=alice,r=/);
      expect(connection.closed).toBe(true);
    });
  }

  test("the mechanism alone refuses before deriving a key", async () => {
    const session = scramMechanism("SCRAM-SHA-512", "u", "p", { nonce: "abc" }).start({ broker: "b:1" }) as {
      step(c: Buffer | null): Promise<Buffer | null>;
    };
    await session.step(null);
    const err = await session
      .step(Buffer.from(`r=abcdef,s=${SALT.toString("base64")},i=${2 ** 31 - 1}`))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthenticationError);
    expect((err as AuthenticationError).broker).toBe("b:1");
    expect((err as Error).message).toMatch(/outside 4096\.\.16384; refused before computing a proof/);
  });
});

describe("connectTimeoutMs bounds the whole connect", () => {
  test("a server that accepts TCP and says nothing fails the connect with ConnectionError", async () => {
    const sockets: Socket[] = [];
    const server: Server = createServer((s) => sockets.push(s));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          for (const s of sockets) s.destroy();
          server.close(() => resolve());
        }),
    );
    const port = (server.address() as { port: number }).port;
    const connection = new Connection({ host: "127.0.0.1", port, connectTimeoutMs: 300, requestTimeoutMs: 60_000 });
    const err = await connection.connect().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as ConnectionError).code).toBe("SAMSA_ERR_CONNECTION");
    expect((err as Error).message).toMatch(/connectTimeoutMs.*ApiVersions/);
    expect(sockets).toHaveLength(1);
    expect(connection.closed).toBe(true);
  });

  test("a broker that goes silent during SASL fails the connect with ConnectionError", async () => {
    const broker = await FakeBroker.start();
    cleanups.push(() => broker.close());
    broker.on(SaslHandshake, () => createSaslHandshakeResponse({ mechanisms: ["SCRAM-SHA-256"] }));
    broker.on(SaslAuthenticate, () => FakeBroker.never());
    const connection = new Connection({
      host: "127.0.0.1",
      port: broker.port,
      connectTimeoutMs: 300,
      requestTimeoutMs: 60_000,
      sasl: { mechanism: "SCRAM-SHA-256", username: "alice", password: PASSWORD },
    });
    const err = await connection.connect().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as Error).message).toMatch(/connectTimeoutMs.*SASL/);
    expect(broker.received(SaslAuthenticate)).toHaveLength(1);
  });
});
