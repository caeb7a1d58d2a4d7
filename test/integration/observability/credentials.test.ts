/**
 * No credential ever reaches an outlet: against the SASL broker, with a pino logger at trace
 * level and a subscriber on every channel of the catalogue, a client authenticates with each
 * mechanism (and fails with a wrong password), produces and consumes; no log line, event
 * payload or error message holds the password, the OAuth token or the SCRAM proof it sent.
 */
import * as diagnostics from "node:diagnostics_channel";
import { readFileSync } from "node:fs";
import { Writable } from "node:stream";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "../../../src/client.js";
import { AuthenticationError } from "../../../src/network/errors.js";
import { type SaslMechanism, type SaslOptions, scramMechanism } from "../../../src/network/sasl/index.js";
import { EVENT_NAMES, TRACING_NAMES } from "../../../src/observability/events.js";
import { type KafkaCluster, startKafka } from "../../../tools/kafka/harness.js";
import { createTopic } from "../../helpers/topics.js";

/** Everything that reached an outlet, as text (Buffers as utf8, hex and base64: a secret hides in none). */
const seen: string[] = [];

function text(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === "bigint") return v.toString();
    if (v instanceof Error) return { name: v.name, message: v.message, stack: v.stack, cause: String(v.cause) };
    if (v && typeof v === "object" && (v as { type?: string }).type === "Buffer") {
      const b = Buffer.from((v as { data: number[] }).data);
      return `${b.toString("utf8")} ${b.toString("hex")} ${b.toString("base64")}`;
    }
    return v;
  });
}

const subscriber = (message: unknown, name: string | symbol) => seen.push(`${String(name)} ${text(message)}`);
const tracingSubscribers = {
  start: (m: unknown) => seen.push(`start ${text(m)}`),
  end: (m: unknown) => seen.push(`end ${text(m)}`),
  asyncStart: (m: unknown) => seen.push(`asyncStart ${text(m)}`),
  asyncEnd: (m: unknown) => seen.push(`asyncEnd ${text(m)}`),
  error: (m: unknown) => seen.push(`error ${text(m)}`),
};

function unsecuredJwt(sub: string): string {
  const now = Math.floor(Date.now() / 1000);
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${part({ alg: "none" })}.${part({ sub, iat: now, exp: now + 3600 })}.`;
}

/** SCRAM that remembers the proofs it sent, so the test can look for them. */
function recordingScram(
  algorithm: "SCRAM-SHA-256" | "SCRAM-SHA-512",
  user: string,
  password: string,
  proofs: string[],
): SaslMechanism {
  const inner = scramMechanism(algorithm, user, password);
  return {
    name: inner.name,
    async start(context) {
      const session = await inner.start(context);
      return {
        async step(challenge) {
          const out = await session.step(challenge);
          const proof = out ? /,p=([^,]+)$/.exec(out.toString("utf8"))?.[1] : undefined;
          if (proof) proofs.push(proof);
          return out;
        },
      };
    },
  };
}

describe("credentials never reach a log line, an event or an error message", () => {
  let kafka: KafkaCluster;
  let ca: string;
  const logLines: string[] = [];
  const logger = pino(
    { level: "trace" },
    new Writable({
      write(chunk, _enc, done) {
        logLines.push(String(chunk));
        done();
      },
    }),
  );

  beforeAll(async () => {
    kafka = await startKafka({ mode: "secure" });
    ca = readFileSync(kafka.caFile as string, "utf8");
    for (const name of EVENT_NAMES) diagnostics.subscribe(`samsa:${name}`, subscriber);
    for (const name of TRACING_NAMES) diagnostics.tracingChannel(name).subscribe(tracingSubscribers);
  });
  afterAll(async () => {
    for (const name of EVENT_NAMES) diagnostics.unsubscribe(`samsa:${name}`, subscriber);
    for (const name of TRACING_NAMES) diagnostics.tracingChannel(name).unsubscribe(tracingSubscribers);
    await kafka?.stop();
  });

  it("authenticates with PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 and OAUTHBEARER, with and without TLS, produces and consumes, and fails wrong passwords", async () => {
    const { admin } = kafka.users as { admin: { username: string; password: string } };
    const proofs: string[] = [];
    const tokens: string[] = [];
    const token = () => {
      const value = unsecuredJwt(admin.username);
      tokens.push(value);
      return { value };
    };
    const mechanisms: [string, SaslOptions][] = [
      ["PLAIN", { mechanism: "PLAIN", ...admin }],
      ["SCRAM-SHA-256", { mechanism: recordingScram("SCRAM-SHA-256", admin.username, admin.password, proofs) }],
      ["SCRAM-SHA-512", { mechanism: recordingScram("SCRAM-SHA-512", admin.username, admin.password, proofs) }],
      ["OAUTHBEARER", { mechanism: "OAUTHBEARER", token }],
    ];
    const topic = `creds-${Date.now()}`;
    let produced = 0;
    for (const [name, sasl] of mechanisms) {
      for (const tls of [undefined, { ca }]) {
        const client = new Client({
          bootstrap: tls ? (kafka.sslBootstrap as string) : kafka.bootstrap,
          clientId: `creds-${name}`,
          sasl,
          logger,
          ...(tls ? { tls } : {}),
        });
        try {
          if (produced === 0) await createTopic(client, topic, 1);
          const producer = client.producer({ lingerMs: 0 });
          await producer.send({ topic, value: `via ${name} tls=${!!tls}` });
          produced++;
          await producer.close();
          const consumer = client.consumer();
          consumer.assign([{ topic, partition: 0, offset: 0n }]);
          let read = 0;
          for await (const _m of consumer) if (++read === produced) break;
          await consumer.close();
          expect(read, name).toBe(produced);
        } finally {
          client.close();
        }
      }
    }
    const wrong = "wrong-password-4711";
    for (const mechanism of ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] as const) {
      const client = new Client({
        bootstrap: kafka.bootstrap,
        clientId: `creds-wrong-${mechanism}`,
        sasl: { mechanism, username: admin.username, password: wrong },
        logger,
      });
      const err = await client.metadata().catch((e: unknown) => e);
      client.close();
      expect(err, mechanism).toBeInstanceOf(AuthenticationError);
      seen.push(`thrown ${text(err)}`);
    }

    // The outlets saw the work (so an empty capture cannot pass), and none of the secrets.
    expect(proofs.length).toBeGreaterThanOrEqual(4);
    expect(tokens.length).toBeGreaterThanOrEqual(2);
    const all = [...logLines, ...seen].join("\n");
    expect(all).toContain("network:connection-authenticated");
    expect(all).toContain("SCRAM-SHA-512");
    expect(all).toContain("SaslAuthenticate");
    expect(logLines.some((l) => l.includes('"apiName":"Produce"'))).toBe(true);
    for (const secret of [admin.password, wrong, ...proofs, ...tokens]) {
      expect(all.includes(secret), `secret ${secret.slice(0, 12)}… leaked`).toBe(false);
      // The JWT's signature-less body alone would identify the token too.
      if (secret.includes(".")) expect(all.includes(secret.split(".")[1] as string)).toBe(false);
    }
  });
});
