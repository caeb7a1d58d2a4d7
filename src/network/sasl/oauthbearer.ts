/**
 * SASL/OAUTHBEARER (RFC 7628, KIP-255, KIP-342 extensions). samsa does not fetch tokens: the
 * user's provider callback returns one for every (re-)authentication, so token refresh is
 * the provider's business.
 */
import { InvalidArgumentError } from "../../protocol/errors.js";
import type { SaslMechanism, SaslSession } from "./mechanism.js";

/** What a token provider returns. */
export interface OAuthBearerToken {
  /** The compact-serialised token (usually a JWT). */
  value: string;
  /** SASL extensions (KIP-342), sent as `key=value` pairs; `auth` is reserved. */
  extensions?: Record<string, string>;
}

/** Returns a current token. */
export type OAuthBearerTokenProvider = () => Promise<OAuthBearerToken> | OAuthBearerToken;

const KEY = /^[A-Za-z]+$/;
const VALUE = /^[\x21-\x7E \t\r\n]+$/;

/** OAUTHBEARER with tokens from `provider`. */
export function oauthBearerMechanism(provider: OAuthBearerTokenProvider): SaslMechanism {
  return {
    name: "OAUTHBEARER",
    start(): SaslSession {
      let state: "first" | "sent" | "done" = "first";
      return {
        async step(challenge) {
          if (state === "first") {
            const token = await provider();
            let extensions = "";
            for (const [key, value] of Object.entries(token.extensions ?? {})) {
              if (key === "auth" || !KEY.test(key) || !VALUE.test(value)) {
                throw new InvalidArgumentError(
                  "token.extensions",
                  `${JSON.stringify(key)} is not a valid SASL extension (letters only, not "auth"; printable value)`,
                );
              }
              extensions += `${key}=${value}\x01`;
            }
            state = "sent";
            return Buffer.from(`n,,\x01auth=Bearer ${token.value}\x01${extensions}\x01`, "utf8");
          }
          if (state === "sent" && challenge && challenge.length > 0) {
            // A non-empty reply means failure: RFC 7628 has the client answer with a single
            // 0x01 so that the server can finish with its error.
            state = "done";
            return Buffer.from([1]);
          }
          state = "done";
          return null;
        },
      };
    },
  };
}
