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
  | "SAMSA_ERR_KAFKA";

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
