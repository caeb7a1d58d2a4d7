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

/** Where an exchange runs, for the errors a mechanism throws. */
export interface SaslContext {
  /** `host:port` of the broker being authenticated to. */
  broker: string;
}

/** A SASL mechanism as configured by the user. */
export interface SaslMechanism {
  /** The mechanism name sent in SaslHandshake, e.g. `SCRAM-SHA-256`. */
  readonly name: string;
  /**
   * Starts an exchange (called for every (re-)authentication). A session's `step` may throw
   * an AuthenticationError (kept as it is) or any other error (wrapped in one by the
   * connection).
   */
  start(context?: SaslContext): SaslSession | Promise<SaslSession>;
}
