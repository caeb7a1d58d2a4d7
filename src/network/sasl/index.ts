/**
 * SASL configuration as users write it, turned into a mechanism. Credentials live only in
 * the mechanism closures: never in errors or logs.
 */
import { InvalidArgumentError } from "../../protocol/errors.js";
import type { SaslMechanism } from "./mechanism.js";
import { type OAuthBearerTokenProvider, oauthBearerMechanism } from "./oauthbearer.js";
import { plainMechanism } from "./plain.js";
import { scramMechanism } from "./scram.js";

export type { SaslContext, SaslMechanism, SaslSession } from "./mechanism.js";
export type { OAuthBearerToken, OAuthBearerTokenProvider } from "./oauthbearer.js";
export { oauthBearerMechanism } from "./oauthbearer.js";
export { plainMechanism } from "./plain.js";
export { SCRAM_MAX_ITERATIONS, SCRAM_MIN_ITERATIONS, type ScramAlgorithm, scramMechanism } from "./scram.js";

/** SASL options: a built-in mechanism by name, or any {@link SaslMechanism}. */
export type SaslOptions =
  | { mechanism: "PLAIN" | "SCRAM-SHA-256" | "SCRAM-SHA-512"; username: string; password: string }
  | { mechanism: "OAUTHBEARER"; token: OAuthBearerTokenProvider }
  | { mechanism: SaslMechanism };

/** Resolves SASL options to a mechanism, validating them. */
export function saslMechanism(options: SaslOptions): SaslMechanism {
  const m = options.mechanism;
  if (typeof m === "object") return m;
  switch (m) {
    case "PLAIN":
    case "SCRAM-SHA-256":
    case "SCRAM-SHA-512": {
      const o = options as { username?: unknown; password?: unknown };
      if (typeof o.username !== "string" || o.username === "") {
        throw new InvalidArgumentError("sasl.username", "must be a non-empty string");
      }
      if (typeof o.password !== "string") throw new InvalidArgumentError("sasl.password", "must be a string");
      return m === "PLAIN" ? plainMechanism(o.username, o.password) : scramMechanism(m, o.username, o.password);
    }
    case "OAUTHBEARER": {
      const o = options as { token?: unknown };
      if (typeof o.token !== "function")
        throw new InvalidArgumentError("sasl.token", "must be a function returning a token");
      return oauthBearerMechanism(o.token as OAuthBearerTokenProvider);
    }
    default:
      throw new InvalidArgumentError(
        "sasl.mechanism",
        `must be PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER or a mechanism object; got ${JSON.stringify(m)}`,
      );
  }
}
