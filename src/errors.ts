/**
 * samsa's client-side error classes. Each has a stable string `code` users can switch on;
 * broker error codes live in the generated table (src/protocol/error-table.ts) and surface
 * as `KafkaError`.
 */

/** Stable codes of samsa's own errors. */
export type SamsaErrorCode =
  | "SAMSA_ERR_PROTOCOL"
  | "SAMSA_ERR_CORRUPT_RECORD"
  | "SAMSA_ERR_CODEC_MISSING"
  | "SAMSA_ERR_UNSUPPORTED_VERSION"
  | "SAMSA_ERR_KAFKA"
  | "SAMSA_ERR_CONNECTION"
  | "SAMSA_ERR_CONNECTION_CLOSED"
  | "SAMSA_ERR_REQUEST_TIMEOUT"
  | "SAMSA_ERR_FRAME_TOO_LARGE"
  | "SAMSA_ERR_AUTHENTICATION"
  | "SAMSA_ERR_ABORTED"
  | "SAMSA_ERR_INVALID_ARGUMENT"
  | "SAMSA_ERR_RECORD_TOO_LARGE"
  | "SAMSA_ERR_TIMEOUT"
  | "SAMSA_ERR_CLOSED"
  | "SAMSA_ERR_BUFFER_FULL"
  | "SAMSA_ERR_DECOMPRESSION_LIMIT"
  | "SAMSA_ERR_DESERIALIZATION"
  | "SAMSA_ERR_FETCH"
  | "SAMSA_ERR_ADMIN_OPERATION"
  | "SAMSA_ERR_ADMIN_TIMEOUT"
  | "SAMSA_ERR_PRODUCER_FENCED"
  | "SAMSA_ERR_TRANSACTION_STATE"
  | "SAMSA_ERR_TRANSACTION_ABORTABLE";

/** Base class of every error samsa throws. */
export class SamsaError extends Error {
  /** Stable, documented code: switch on this, not on the message. */
  readonly code: SamsaErrorCode;

  constructor(code: SamsaErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/**
 * Bytes that do not decode: truncated, malformed, or a length larger than what remains.
 * The message names what was being read and where.
 */
export class ProtocolError extends SamsaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("SAMSA_ERR_PROTOCOL", message, options);
  }
}

/** A record batch whose CRC-32C does not match its bytes. */
export class CorruptRecordError extends SamsaError {
  /** Topic of the batch, when the caller knew it. */
  readonly topic: string | undefined;
  /** Partition of the batch, when the caller knew it. */
  readonly partition: number | undefined;
  /** Base offset of the corrupt batch. */
  readonly baseOffset: bigint;

  constructor(message: string, where: { topic?: string; partition?: number; baseOffset: bigint }) {
    super("SAMSA_ERR_CORRUPT_RECORD", message);
    this.topic = where.topic;
    this.partition = where.partition;
    this.baseOffset = where.baseOffset;
  }
}

/** A batch uses a compression codec whose optional package is not installed. */
export class CompressionCodecMissingError extends SamsaError {
  /** The codec: `snappy`, `lz4` or `zstd`. */
  readonly codec: string;
  /** The npm package to install. */
  readonly packageName: string;

  constructor(codec: string, packageName: string, cause?: unknown) {
    super(
      "SAMSA_ERR_CODEC_MISSING",
      `${codec} compression needs the optional package "${packageName}": npm install ${packageName}`,
      { cause },
    );
    this.codec = codec;
    this.packageName = packageName;
  }
}

/**
 * A message field set to a non-default value that the chosen API version cannot carry, or an
 * API version the codec does not have.
 */
export class UnsupportedVersionError extends SamsaError {
  constructor(message: string) {
    super("SAMSA_ERR_UNSUPPORTED_VERSION", message);
  }
}

/** A connection could not be opened (refused, unreachable, DNS, TLS handshake, timeout). */
export class ConnectionError extends SamsaError {
  /** `host:port` of the broker. */
  readonly broker: string;

  constructor(broker: string, message: string, options?: { cause?: unknown }) {
    super("SAMSA_ERR_CONNECTION", `${broker}: ${message}`, options);
    this.broker = broker;
  }
}

/**
 * A connection closed while a request was queued or in flight. `mayHaveReachedBroker` says
 * whether the request was written to the socket: when it was, the broker may have acted on
 * it (a produce may have been appended), so only idempotent requests are safe to resend.
 */
export class ConnectionClosedError extends SamsaError {
  readonly broker: string;
  readonly mayHaveReachedBroker: boolean;

  constructor(broker: string, mayHaveReachedBroker: boolean, reason: string, options?: { cause?: unknown }) {
    super(
      "SAMSA_ERR_CONNECTION_CLOSED",
      `${broker}: connection closed (${reason}); the request ${mayHaveReachedBroker ? "may have reached" : "did not reach"} the broker`,
      options,
    );
    this.broker = broker;
    this.mayHaveReachedBroker = mayHaveReachedBroker;
  }
}

/** No response within the request timeout; the connection is closed (responses come in order). */
export class RequestTimeoutError extends SamsaError {
  readonly broker: string;
  readonly timeoutMs: number;

  constructor(broker: string, api: string, timeoutMs: number) {
    super("SAMSA_ERR_REQUEST_TIMEOUT", `${broker}: no ${api} response within ${timeoutMs} ms`);
    this.broker = broker;
    this.timeoutMs = timeoutMs;
  }
}

/** A frame whose declared size exceeds the configured maximum: refused before allocating it. */
export class FrameTooLargeError extends SamsaError {
  readonly size: number;
  readonly maxBytes: number;

  constructor(size: number, maxBytes: number) {
    super("SAMSA_ERR_FRAME_TOO_LARGE", `frame of ${size} bytes exceeds the maximum of ${maxBytes} bytes`);
    this.size = size;
    this.maxBytes = maxBytes;
  }
}

/**
 * SASL or TLS authentication failed. Carries the broker's message; never the credentials.
 * Not retriable: a wrong password does not become right by retrying.
 */
export class AuthenticationError extends SamsaError {
  readonly broker: string;

  constructor(broker: string, message: string, options?: { cause?: unknown }) {
    super("SAMSA_ERR_AUTHENTICATION", `${broker}: authentication failed: ${message}`, options);
    this.broker = broker;
  }
}

/** The caller's AbortSignal fired. */
export class AbortedError extends SamsaError {
  constructor(message = "aborted", options?: { cause?: unknown }) {
    super("SAMSA_ERR_ABORTED", message, options);
  }
}

/** An option or argument outside its allowed range; names the option. */
export class InvalidArgumentError extends SamsaError {
  /** The option or argument, e.g. `maxInFlight`. */
  readonly argument: string;

  constructor(argument: string, message: string) {
    super("SAMSA_ERR_INVALID_ARGUMENT", `${argument}: ${message}`);
    this.argument = argument;
  }
}

/** A record larger than the producer may send (`maxRequestBytes`); nothing was sent. */
export class RecordTooLargeError extends SamsaError {
  /** The record's encoded size. */
  readonly size: number;
  readonly maxBytes: number;

  constructor(size: number, maxBytes: number) {
    super("SAMSA_ERR_RECORD_TOO_LARGE", `record of ${size} bytes exceeds maxRequestBytes (${maxBytes})`);
    this.size = size;
    this.maxBytes = maxBytes;
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

/** A call on a producer, consumer or client that was already closed. */
export class ClosedError extends SamsaError {
  constructor(what: string) {
    super("SAMSA_ERR_CLOSED", `${what} is closed`);
  }
}

/**
 * The producer's buffer is full and so is its waiting line: `bufferMemory` bytes are in
 * batches and as many again wait for room. Slow down (await sends) or raise `bufferMemory`.
 */
export class BufferFullError extends SamsaError {
  constructor(bufferMemory: number) {
    super(
      "SAMSA_ERR_BUFFER_FULL",
      `producer buffer full: ${bufferMemory} bytes buffered and as many waiting; await earlier sends or raise bufferMemory`,
    );
  }
}

/**
 * A compressed record batch expands past the decompression limit (a decompression bomb, or a
 * limit set too low for the data). Decompression stops as soon as the output would pass the
 * limit, so the memory it held stays bounded by it. Not retriable: refetching brings the same
 * bytes; raise the limit (`maxDecompressedBytes`) if the data is genuine.
 */
export class DecompressionLimitError extends SamsaError {
  /** The batch's codec: `gzip`, `snappy`, `lz4` or `zstd`. */
  readonly codec: string;
  /** The limit in bytes that the output would have passed. */
  readonly limit: number;
  /** Topic of the batch, when the caller knew it. */
  readonly topic: string | undefined;
  /** Partition of the batch, when the caller knew it. */
  readonly partition: number | undefined;
  /** Base offset of the batch, when known. */
  readonly baseOffset: bigint | undefined;

  constructor(
    codec: string,
    limit: number,
    where: { topic?: string; partition?: number; baseOffset?: bigint } = {},
    options?: { cause?: unknown },
  ) {
    const place =
      where.topic !== undefined
        ? `${where.topic}${where.partition !== undefined ? `-${where.partition}` : ""}${where.baseOffset !== undefined ? ` batch at offset ${where.baseOffset}` : ""}: `
        : where.baseOffset !== undefined
          ? `batch at offset ${where.baseOffset}: `
          : "";
    super(
      "SAMSA_ERR_DECOMPRESSION_LIMIT",
      `${place}${codec} data decompresses to more than the limit of ${limit} bytes (maxDecompressedBytes)`,
      options,
    );
    this.codec = codec;
    this.limit = limit;
    this.topic = where.topic;
    this.partition = where.partition;
    this.baseOffset = where.baseOffset;
  }
}

/**
 * A transactional producer was fenced: another producer initialised the same
 * `transactionalId` (a newer instance of this application), or the coordinator moved past
 * this producer's epoch. Fatal: the producer is unusable, every later call fails with this
 * error; close it. `cause` is the broker's error (PRODUCER_FENCED or INVALID_PRODUCER_EPOCH).
 */
export class ProducerFencedError extends SamsaError {
  /** The fenced producer's transactional id. */
  readonly transactionalId: string;

  constructor(transactionalId: string, options?: { cause?: unknown }) {
    const cause = options?.cause;
    super(
      "SAMSA_ERR_PRODUCER_FENCED",
      `transactional producer ${JSON.stringify(transactionalId)} was fenced by a newer producer with the same transactionalId${
        cause instanceof Error ? ` (${cause.message})` : ""
      }; close this producer`,
      options,
    );
    this.transactionalId = transactionalId;
  }
}

/**
 * A transactional call made in a state that does not allow it: `send` or `sendOffsets`
 * outside a transaction, `commitTransaction` without `beginTransaction`, a second
 * `beginTransaction`, a call on a `transaction()` handle after its body ended. Nothing was
 * sent; the producer's state is unchanged.
 */
export class TransactionStateError extends SamsaError {
  /** The call that was refused, e.g. `commitTransaction`. */
  readonly operation: string;
  /** The transaction state at the call, e.g. `ready` (no transaction open). */
  readonly state: string;

  constructor(operation: string, state: string, message: string) {
    super("SAMSA_ERR_TRANSACTION_STATE", `${operation}: ${message} (transaction state: ${state})`);
    this.operation = operation;
    this.state = state;
  }
}

/**
 * The current transaction hit an error it cannot commit past (a record that failed, an offset
 * commit refused, TRANSACTION_ABORTABLE, INVALID_PRODUCER_EPOCH on a send): call
 * `abortTransaction()`, after which the producer goes on with a new transaction. `cause` is the
 * first error of the transaction.
 */
export class TransactionAbortableError extends SamsaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("SAMSA_ERR_TRANSACTION_ABORTABLE", message, options);
  }
}
