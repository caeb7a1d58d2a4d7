/**
 * The SASL mechanism interface: a mechanism turns server challenges into client responses
 * until it is done. PLAIN, SCRAM and OAUTHBEARER implement it; users plug in others (GSSAPI,
 * AWS IAM) through the same interface.
 */

/** One authentication exchange on one connection. */
export interface SaslSession {
  /**
   * Returns the next bytes to send, given the server's last bytes (`null` before the first
   * message). Returns `null` when the exchange is complete and nothing more is sent.
   * Throws (e.g. when a server signature does not verify) to fail authentication.
   */
  step(challenge: Buffer | null): Promise<Buffer | null> | Buffer | null;
}

/** A SASL mechanism as configured by the user. */
export interface SaslMechanism {
  /** The mechanism name sent in SaslHandshake, e.g. `SCRAM-SHA-256`. */
  readonly name: string;
  /** Starts an exchange (called for every (re-)authentication). */
  start(): SaslSession | Promise<SaslSession>;
}
