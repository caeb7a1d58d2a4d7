/**
 * SASL/SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, RFC 7677) with node:crypto. The server's
 * final signature is verified, so a broker that does not know the password cannot pose as
 * one that does.
 */
import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from "node:crypto";
import { promisify } from "node:util";
import { AuthenticationError } from "../errors.js";
import type { SaslContext, SaslMechanism, SaslSession } from "./mechanism.js";

const pbkdf2Async = promisify(pbkdf2);

/**
 * The iteration counts accepted from a server: Kafka's own range (ScramMechanism's
 * minIterations and maxIterations). Fewer makes the proof we send cheap to brute-force (a
 * downgrade by whoever answers in the broker's place); more lets a server make PBKDF2 run for
 * as long as it likes: 2^31-1 iterations take minutes.
 */
export const SCRAM_MIN_ITERATIONS = 4096;
/** See {@link SCRAM_MIN_ITERATIONS}. */
export const SCRAM_MAX_ITERATIONS = 16384;

/** The two SCRAM mechanisms Kafka supports. */
export type ScramAlgorithm = "SCRAM-SHA-256" | "SCRAM-SHA-512";

/** RFC 5802 `saslname`: "," and "=" are escaped. */
function saslName(name: string): string {
  return name.replace(/=/g, "=3D").replace(/,/g, "=2C");
}

function parseAttributes(message: string): Map<string, string> {
  const attrs = new Map<string, string>();
  for (const part of message.split(",")) {
    const eq = part.indexOf("=");
    if (eq > 0) attrs.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return attrs;
}

/** Options beyond username and password. */
export interface ScramOptions {
  /** Authenticate with a delegation token (Kafka's `tokenauth=true` extension). */
  tokenAuth?: boolean;
  /** Client nonce for tests; random by default. */
  nonce?: string;
}

/** A SCRAM mechanism for one user. */
export function scramMechanism(
  algorithm: ScramAlgorithm,
  username: string,
  password: string,
  options: ScramOptions = {},
): SaslMechanism {
  const hash = algorithm === "SCRAM-SHA-256" ? "sha256" : "sha512";
  const keyLength = algorithm === "SCRAM-SHA-256" ? 32 : 64;
  const hmac = (key: Buffer, data: string | Buffer) => createHmac(hash, key).update(data).digest();
  return {
    name: algorithm,
    start(context?: SaslContext): SaslSession {
      const broker = context?.broker ?? "(no broker)";
      const refuse = (message: string): never => {
        throw new AuthenticationError(broker, `${algorithm}: ${message}`);
      };
      const nonce = options.nonce ?? randomBytes(24).toString("base64url");
      const extensions = options.tokenAuth ? ",tokenauth=true" : "";
      const clientFirstBare = `n=${saslName(username)},r=${nonce}${extensions}`;
      let state: "first" | "final" | "verify" | "done" = "first";
      let serverSignature: Buffer | undefined;
      return {
        async step(challenge) {
          switch (state) {
            case "first":
              state = "final";
              return Buffer.from(`n,,${clientFirstBare}`, "utf8");
            case "final": {
              const serverFirst = (challenge ?? Buffer.alloc(0)).toString("utf8");
              const attrs = parseAttributes(serverFirst);
              const serverNonce = attrs.get("r");
              const salt = attrs.get("s");
              const iterations = Number(attrs.get("i"));
              if (attrs.has("e")) refuse(`server error: ${attrs.get("e")}`);
              if (!serverNonce?.startsWith(nonce) || salt === undefined || !Number.isInteger(iterations)) {
                return refuse("malformed SCRAM server-first message");
              }
              // Checked before any key is derived: see SCRAM_MIN_ITERATIONS.
              if (iterations < SCRAM_MIN_ITERATIONS || iterations > SCRAM_MAX_ITERATIONS) {
                refuse(
                  `the server asks for ${iterations} iterations, outside ${SCRAM_MIN_ITERATIONS}..${SCRAM_MAX_ITERATIONS}; refused before computing a proof`,
                );
              }
              const saltedPassword = await pbkdf2Async(
                password,
                Buffer.from(salt, "base64"),
                iterations,
                keyLength,
                hash,
              );
              const clientKey = hmac(saltedPassword, "Client Key");
              const storedKey = createHash(hash).update(clientKey).digest();
              const clientFinalWithoutProof = `c=biws,r=${serverNonce}`;
              const authMessage = `${clientFirstBare},${serverFirst},${clientFinalWithoutProof}`;
              const clientSignature = hmac(storedKey, authMessage);
              const proof = Buffer.alloc(clientKey.length);
              for (let i = 0; i < proof.length; i++)
                proof[i] = (clientKey[i] as number) ^ (clientSignature[i] as number);
              serverSignature = hmac(hmac(saltedPassword, "Server Key"), authMessage);
              state = "verify";
              return Buffer.from(`${clientFinalWithoutProof},p=${proof.toString("base64")}`, "utf8");
            }
            case "verify": {
              const attrs = parseAttributes((challenge ?? Buffer.alloc(0)).toString("utf8"));
              if (attrs.has("e")) refuse(`server error: ${attrs.get("e")}`);
              const v = Buffer.from(attrs.get("v") ?? "", "base64");
              if (!serverSignature || v.length !== serverSignature.length || !timingSafeEqual(v, serverSignature)) {
                refuse("the server's SCRAM signature does not verify: it does not know the password");
              }
              state = "done";
              return null;
            }
            default:
              return null;
          }
        },
      };
    },
  };
}
