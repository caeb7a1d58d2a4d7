/**
 * Test helper of the fault suite: one in-process group member that reads a topic in the
 * background and counts every record's id into a {@link SeenIds}. Errors end the loop and are
 * kept for the test to assert on.
 */
import { Client } from "../../src/client.js";
import type { Consumer } from "../../src/consumer/consumer.js";
import type { ConsumerOptions } from "../../src/consumer/options.js";
import type { ClientOptions } from "../../src/network/cluster.js";
import type { SeenIds } from "./fault-ledger.js";

/** See the module comment. */
export class GroupReader {
  readonly client: Client;
  readonly consumer: Consumer;
  error: unknown;
  #loop: Promise<void> | undefined;
  readonly #stop = new AbortController();

  constructor(
    clientOptions: ClientOptions,
    consumerOptions: ConsumerOptions,
    readonly seen: SeenIds,
  ) {
    this.client = new Client(clientOptions);
    this.consumer = this.client.consumer({ autoOffsetReset: "earliest", ...consumerOptions });
  }

  /** Subscribes to `topic` and starts reading. */
  start(topic: string): this {
    this.consumer.subscribe(topic);
    this.#loop = (async () => {
      try {
        for await (const batch of this.consumer.batches({ signal: this.#stop.signal })) {
          for (const m of batch.messages) this.seen.add(m.value);
        }
      } catch (err) {
        this.error = err;
      }
    })();
    return this;
  }

  /** Ends the loop, closes the consumer (bounded) and the client. */
  async stop(timeoutMs = 30_000): Promise<void> {
    this.#stop.abort();
    const timer = new Promise((r) => setTimeout(r, timeoutMs).unref());
    await Promise.race([Promise.all([this.#loop, this.consumer.close().catch(() => {})]), timer]);
    this.client.close();
  }
}
