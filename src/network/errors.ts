/**
 * Errors of the network layer: connections that cannot open or that drop, requests without
 * an answer in time, frames too large, failed authentication, aborted and timed-out calls.
 * The retry policy (retry.ts) classifies them.
 */
import { SamsaError } from "../protocol/errors.js";

/** A connection could not be opened (refused, unreachable, DNS, TLS handshake, timeout). */
export class ConnectionError extends SamsaError {
  constructor(
    /** `host:port` of the broker. */
    readonly broker: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super("SAMSA_ERR_CONNECTION", `${broker}: ${message}`, options);
  }
}

/**
 * A connection closed while a request was queued or in flight. `mayHaveReachedBroker` says
 * whether the request was written to the socket: when it was, the broker may have acted on
 * it (a produce may have been appended), so only idempotent requests are safe to resend.
 */
export class ConnectionClosedError extends SamsaError {
  constructor(
    readonly broker: string,
    readonly mayHaveReachedBroker: boolean,
    /** Why the connection closed, e.g. "closed by the broker". */
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    const reached = mayHaveReachedBroker ? "may have reached" : "did not reach";
    super(
      "SAMSA_ERR_CONNECTION_CLOSED",
      `${broker}: connection closed (${reason}); the request ${reached} the broker`,
      options,
    );
  }
}

/** No response within the request timeout; the connection is closed (responses come in order). */
export class RequestTimeoutError extends SamsaError {
  constructor(
    readonly broker: string,
    api: string,
    readonly timeoutMs: number,
  ) {
    super("SAMSA_ERR_REQUEST_TIMEOUT", `${broker}: no ${api} response within ${timeoutMs} ms`);
  }
}

/** A frame whose declared size exceeds the configured maximum: refused before allocating it. */
export class FrameTooLargeError extends SamsaError {
  constructor(
    readonly size: number,
    readonly maxBytes: number,
  ) {
    super("SAMSA_ERR_FRAME_TOO_LARGE", `frame of ${size} bytes exceeds the maximum of ${maxBytes} bytes`);
  }
}

/**
 * SASL or TLS authentication failed. Carries the broker's message; never the credentials.
 * Not retriable: a wrong password does not become right by retrying.
 */
export class AuthenticationError extends SamsaError {
  constructor(
    readonly broker: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super("SAMSA_ERR_AUTHENTICATION", `${broker}: authentication failed: ${message}`, options);
  }
}

/** The caller's AbortSignal fired. */
export class AbortedError extends SamsaError {
  constructor(message = "aborted", options?: { cause?: unknown }) {
    super("SAMSA_ERR_ABORTED", message, options);
  }
}

/**
 * Something did not happen in time: a record not delivered within `deliveryTimeoutMs`,
 * metadata or buffer memory not available within `maxBlockMs`.
 */
export class TimeoutError extends SamsaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("SAMSA_ERR_TIMEOUT", message, options);
  }
}
