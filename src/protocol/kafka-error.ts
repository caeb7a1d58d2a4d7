/**
 * Broker errors as thrown values: `KafkaError` wraps one error code of the generated table
 * (error-table.ts). Whether a failed call may be tried again is decided in one place above
 * this layer: src/network/retry.ts reads the fields the table gives each KafkaError.
 */

import { errorInfo } from "./error-table.js";
import { SamsaError } from "./errors.js";

/** An error code a broker returned, with Kafka's name and retriability for it. */
export class KafkaError extends SamsaError {
  /** The int16 code from the response, e.g. 6. */
  readonly errorCode: number;
  /** Kafka's name for the code, e.g. `NOT_LEADER_OR_FOLLOWER`; `UNKNOWN_ERROR_CODE` if samsa's table lacks it. */
  readonly errorName: string;
  /** Whether Kafka marks the code retriable; `isRetriable` (network/retry.ts) reads this. */
  readonly retriable: boolean;
  /** Kafka's InvalidMetadataException family; `needsMetadataRefresh` reads this. */
  readonly invalidMetadata: boolean;
  /** NOT_COORDINATOR / COORDINATOR_NOT_AVAILABLE; `needsCoordinatorLookup` reads this. */
  readonly coordinatorMoved: boolean;
  /** The broker's own message when the response carried one, else Kafka's default message for the code. */
  readonly errorMessage: string;

  /**
   * Builds the error for `code`. `brokerMessage` is the response's error message field, when
   * it has one; null and "" count as absent.
   */
  constructor(code: number, brokerMessage?: string | null, options?: { cause?: unknown }) {
    const info = errorInfo(code);
    const errorMessage = brokerMessage ? brokerMessage : info.message;
    super("SAMSA_ERR_KAFKA", `${info.name} (${code}): ${errorMessage}`, options);
    this.errorCode = code;
    this.errorName = info.name;
    this.retriable = info.retriable;
    this.invalidMetadata = info.invalidMetadata === true;
    this.coordinatorMoved = info.coordinatorMoved === true;
    this.errorMessage = errorMessage;
  }
}

/**
 * Returns the `KafkaError` for a response's error code and optional error message:
 * `if (res.errorCode !== 0) throw kafkaError(res.errorCode, res.errorMessage)`.
 */
export function kafkaError(code: number, brokerMessage?: string | null): KafkaError {
  return new KafkaError(code, brokerMessage);
}
