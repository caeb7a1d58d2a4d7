/**
 * The ground floor of samsa's errors: `SamsaError` (every error samsa throws extends it, with
 * a stable `code` from the one list below), and the errors of the protocol layer and of
 * arguments, which every layer raises. The network, producer, consumer and admin layers keep
 * their own error classes in their own errors.ts, above this one; broker error codes live in
 * the generated table (error-table.ts) and surface as `KafkaError` (kafka-error.ts).
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
  | "SAMSA_ERR_TRANSACTION_ABORTABLE"
  | "SAMSA_ERR_ILLEGAL_STATE";

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

/** An option or argument outside its allowed range; names the option. */
export class InvalidArgumentError extends SamsaError {
  /** The option or argument, e.g. `maxInFlight`. */
  readonly argument: string;

  constructor(argument: string, message: string) {
    super("SAMSA_ERR_INVALID_ARGUMENT", `${argument}: ${message}`);
    this.argument = argument;
  }
}

/** A call on a producer, consumer or client that was already closed. */
export class ClosedError extends SamsaError {
  constructor(what: string) {
    super("SAMSA_ERR_CLOSED", `${what} is closed`);
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
