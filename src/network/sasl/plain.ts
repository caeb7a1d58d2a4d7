/** SASL/PLAIN (RFC 4616): one message, `authzid NUL username NUL password`. */
import type { SaslMechanism, SaslSession } from "./mechanism.js";

/** PLAIN with a fixed username and password. Use it over TLS only: the password travels as is. */
export function plainMechanism(username: string, password: string): SaslMechanism {
  return {
    name: "PLAIN",
    start(): SaslSession {
      let sent = false;
      return {
        step() {
          if (sent) return null;
          sent = true;
          return Buffer.from(`\0${username}\0${password}`, "utf8");
        },
      };
    },
  };
}
