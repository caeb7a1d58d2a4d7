/**
 * The gauges no event can keep right: open connections and what producers and consumers hold
 * now. They are read from the `stats()` of the watched clients when Prometheus scrapes, so
 * they cost nothing between scrapes and are right even for a collector started late.
 */
import type { ConsumerStats } from "../consumer/api.js";
import type { ClientStats } from "../network/cluster.js";
import type { ProducerStats } from "../producer/api.js";
import { InvalidArgumentError } from "../protocol/errors.js";
import type { OptionKeys } from "../util/options.js";
import type { Metrics, ScrapeHooks } from "./metrics.js";

/** The part of a `Client` the collector reads: its `clientId` (the `client_id` label) and `stats()`. */
export interface StatsClient {
  readonly instrumentation: { readonly clientId: string };
  stats(): ClientStats;
}

/** The part of a `Producer` the collector reads. */
export interface StatsProducer {
  stats(): ProducerStats;
}

/** The part of a `Consumer` the collector reads. */
export interface StatsConsumer {
  stats(): ConsumerStats;
}

/**
 * A client and the producers and consumers made from it, read at every scrape. A producer or
 * consumer does not say which client it belongs to, so it is given with its client: their
 * gauges carry that client's `client_id`.
 */
export interface WatchedClient {
  client: StatsClient;
  producers?: readonly StatsProducer[];
  consumers?: readonly StatsConsumer[];
}

/** What `clients` and `watch` accept: a client alone, or a client with its producers and consumers. */
export type MetricsSource = StatsClient | WatchedClient;

const KNOWN_WATCHED = { client: true, producers: true, consumers: true } satisfies OptionKeys<WatchedClient>;

function hasStats(x: unknown): boolean {
  return x !== null && typeof x === "object" && typeof (x as { stats?: unknown }).stats === "function";
}

/** Checks one source and brings it to the {@link WatchedClient} form; `name` is what errors call it. */
export function watchedClient(source: MetricsSource, name: string): WatchedClient {
  const w: WatchedClient =
    source !== null && typeof source === "object" && "client" in source ? source : { client: source };
  const id = (w.client as Partial<StatsClient> | undefined)?.instrumentation?.clientId;
  if (!hasStats(w.client) || typeof id !== "string") {
    throw new InvalidArgumentError(name, "must be a Client, or { client, producers?, consumers? }");
  }
  // `{ client, producer: [p] }` would otherwise watch the client alone, and the producer's
  // gauges would silently stay empty.
  if (w === source) {
    for (const key of Object.keys(w)) {
      if (!Object.hasOwn(KNOWN_WATCHED, key)) {
        throw new InvalidArgumentError(`${name}.${key}`, "is not a field of { client, producers?, consumers? }");
      }
    }
  }
  for (const [key, list] of [
    ["producers", w.producers],
    ["consumers", w.consumers],
  ] as const) {
    if (list === undefined) continue;
    if (!Array.isArray(list)) throw new InvalidArgumentError(`${name}.${key}`, "must be an array");
    list.forEach((x, i) => {
      if (!hasStats(x)) throw new InvalidArgumentError(`${name}.${key}[${i}]`, "must have a stats() method");
    });
  }
  return w;
}

/**
 * The scrape-time gauges over a changing set of sources. Each gauge is reset before it is
 * filled, so a source that is unwatched leaves no stale series; sources sharing a client id
 * are summed.
 */
export class Sources {
  readonly #sources = new Set<WatchedClient>();
  #metrics: Metrics | undefined;

  /** Adds `source`; the returned function removes it again. */
  add(source: WatchedClient): () => void {
    this.#sources.add(source);
    return () => {
      this.#sources.delete(source);
    };
  }

  /** The hooks to give `createMetrics`; `bind` must be called with its result before a scrape. */
  hooks(): ScrapeHooks {
    return {
      connections: () => this.#fill("connections", (w) => w.client.stats().connections),
      producer_buffered_bytes: () =>
        this.#fill("producer_buffered_bytes", (w) => sum(w.producers, (p) => p.stats().bufferedBytes)),
      producer_in_flight_batches: () =>
        this.#fill("producer_in_flight_batches", (w) => sum(w.producers, (p) => p.stats().inFlightBatches)),
      consumer_buffered_bytes: () =>
        this.#fill("consumer_buffered_bytes", (w) => sum(w.consumers, (c) => c.stats().bufferedBytes)),
    };
  }

  bind(metrics: Metrics): void {
    this.#metrics = metrics;
  }

  #fill(
    name: "connections" | "producer_buffered_bytes" | "producer_in_flight_batches" | "consumer_buffered_bytes",
    read: (w: WatchedClient) => number | undefined,
  ): void {
    const gauge = this.#metrics?.[name];
    if (!gauge) return;
    const totals = new Map<string, number>();
    for (const w of this.#sources) {
      let value: number | undefined;
      try {
        value = read(w);
      } catch {
        // One broken source must not fail the whole scrape (every metric would go missing).
        continue;
      }
      if (value === undefined) continue;
      const id = w.client.instrumentation.clientId;
      totals.set(id, (totals.get(id) ?? 0) + value);
    }
    gauge.reset();
    for (const [client_id, value] of totals) gauge.set({ client_id }, value);
  }
}

/** Sum of `read` over `list`; undefined for no list, so a client without producers gets no producer series. */
function sum<T>(list: readonly T[] | undefined, read: (x: T) => number): number | undefined {
  if (list === undefined || list.length === 0) return undefined;
  let total = 0;
  for (const x of list) total += read(x);
  return total;
}
