/**
 * The idempotent producer's identity: a producer id and epoch from InitProducerId. Brokers
 * drop a batch whose (producer id, epoch, sequence) they have already written, which is what
 * makes retries safe. A sequence problem the broker cannot resolve is recovered by bumping
 * the epoch (KIP-360) and starting sequences again from 0.
 */

import { backoffDelay, sleep } from "../network/backoff.js";
import type { Cluster } from "../network/cluster.js";
import { isRetriable } from "../network/retry.js";
import { kafkaError } from "../protocol/kafka-error.js";
import { InitProducerId } from "../protocol/messages/index.js";

/** Producer id and epoch. */
export interface ProducerIdentity {
  producerId: bigint;
  producerEpoch: number;
}

/**
 * Where the sender gets the producer id/epoch from: an {@link IdempotenceManager}, or a
 * transactional producer's TransactionManager (transaction-manager.ts).
 */
export interface ProducerIdSource {
  /** The current identity; undefined while none is held. */
  readonly identity: ProducerIdentity | undefined;
  /** The current identity, fetching one when none is held. */
  ensure(): Promise<ProducerIdentity>;
  /** The next epoch of the same producer id (KIP-360). */
  bump(): Promise<ProducerIdentity>;
}

/** Obtains and bumps the producer id/epoch. */
export class IdempotenceManager implements ProducerIdSource {
  readonly #client: Cluster;
  readonly #timeoutMs: number;
  identity: ProducerIdentity | undefined;
  #pending: Promise<ProducerIdentity> | undefined;

  constructor(client: Cluster, timeoutMs: number) {
    this.#client = client;
    this.#timeoutMs = timeoutMs;
  }

  /** The current identity, fetching one on first use. */
  ensure(): Promise<ProducerIdentity> {
    if (this.identity) return Promise.resolve(this.identity);
    this.#pending ??= this.#init(-1n, -1).finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  /**
   * KIP-360: asks for the next epoch of the same producer id (InitProducerId v3+ with the
   * current id and epoch). Old brokers give a new id instead, which serves as well.
   */
  bump(): Promise<ProducerIdentity> {
    const current = this.identity;
    this.identity = undefined;
    this.#pending ??= this.#init(current?.producerId ?? -1n, current?.producerEpoch ?? -1).finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  async #init(producerId: bigint, producerEpoch: number): Promise<ProducerIdentity> {
    const deadline = Date.now() + this.#timeoutMs;
    for (let attempt = 0; ; attempt++) {
      try {
        const connection = await this.#client.anyConnection("control");
        const response = await connection.request(InitProducerId, {
          transactionalId: null,
          // Only meaningful for transactions; Java sends Integer.MAX_VALUE for idempotence.
          transactionTimeoutMs: 2_147_483_647,
          producerId,
          producerEpoch,
          enable2Pc: false,
          keepPreparedTxn: false,
        });
        if (response.errorCode !== 0) throw kafkaError(response.errorCode);
        this.identity = { producerId: response.producerId, producerEpoch: response.producerEpoch };
        return this.identity;
      } catch (err) {
        if (!isRetriable(err) || Date.now() >= deadline) throw err;
        await sleep(backoffDelay(attempt, { floorMs: 100, ceilingMs: 1000 }));
      }
    }
  }
}
