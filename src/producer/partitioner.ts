/**
 * Choosing a partition. Keyed records use Java's murmur2 so that samsa and the Java client
 * put the same key on the same partition; keyless records use KIP-794's uniform sticky
 * partitioning, which fills one batch at a time and leans towards partitions with less
 * queued, so that batches stay large and slow brokers get less.
 */

/** Bytes of a key, as the partitioner hashes them. */
export type KeyBytes = Buffer | Uint8Array;

/**
 * Java's `Utils.murmur2` (seed 0x9747b28c), as a signed 32-bit integer. Math.imul keeps
 * every product in 32 bits exactly as Java's int arithmetic does.
 */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  const m = 0x5bd1e995;
  const r = 24;
  let h = 0x9747b28c ^ length;
  const length4 = length >> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i << 2;
    let k =
      (data[i4] as number) |
      ((data[i4 + 1] as number) << 8) |
      ((data[i4 + 2] as number) << 16) |
      ((data[i4 + 3] as number) << 24);
    k = Math.imul(k, m);
    k ^= k >>> r;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }
  const rest = length & 3;
  const at = length & ~3;
  if (rest === 3) h ^= (data[at + 2] as number) << 16;
  if (rest >= 2) h ^= (data[at + 1] as number) << 8;
  if (rest >= 1) {
    h ^= data[at] as number;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** Java's `Utils.toPositive`: clears the sign bit (not Math.abs: MIN_VALUE stays positive). */
export function toPositive(n: number): number {
  return n & 0x7fffffff;
}

/** The partition the Java client picks for a key: `toPositive(murmur2(key)) % partitionCount`. */
export function partitionForKey(key: KeyBytes, partitionCount: number): number {
  return toPositive(murmur2(key)) % partitionCount;
}

/** What a custom partitioner is given. */
export interface PartitionerContext {
  topic: string;
  /** Key bytes after serialisation; null for a keyless record. */
  key: KeyBytes | null;
  partitionCount: number;
  /** Partitions that have a leader right now (never empty when called). */
  availablePartitions: readonly number[];
}

/** A partitioner: returns a partition number in [0, partitionCount). */
export type Partitioner = (context: PartitionerContext) => number;

interface StickyState {
  readonly topic: string;
  partition: number;
  /** Bytes sent to `partition` since it was chosen. */
  produced: number;
  /** The available list `partition` was last checked against. */
  available: readonly number[];
}

/** Where the sticky partitioner reads each partition's load: bytes queued for it. */
export interface QueueLoad {
  queuedBytes(topic: string, partition: number): number;
}

/**
 * KIP-794 uniform sticky state for keyless records of one topic: stay on a partition until
 * about `batchBytes` were produced to it, then switch, choosing with probability weighted
 * towards partitions with less queued.
 */
export class StickyPartitioner {
  readonly #batchBytes: number;
  readonly #random: () => number;
  readonly #topics = new Map<string, StickyState>();
  /** The state used last (most records repeat the topic): no map lookup for them. */
  #last: StickyState | undefined;

  constructor(batchBytes: number, random: () => number = Math.random) {
    this.#batchBytes = batchBytes;
    this.#random = random;
  }

  /**
   * The partition for a keyless record of `size` bytes. `load` gives the bytes waiting for
   * each partition, the load signal KIP-794 uses (read only when switching).
   */
  partition(topic: string, size: number, available: readonly number[], load: QueueLoad): number {
    let state = this.#last;
    if (state?.topic !== topic) {
      state = this.#topics.get(topic);
      if (!state) {
        state = { topic, partition: -1, produced: 0, available };
        this.#topics.set(topic, state);
      }
      this.#last = state;
    }
    if (
      state.partition < 0 ||
      state.produced >= this.#batchBytes ||
      // The available list changes only with metadata: check membership then, not per record.
      (state.available !== available && !available.includes(state.partition))
    ) {
      // No closure over topic and load here: one would make V8 allocate this call's context
      // on every record, not only on a switch (48 bytes a record, measured).
      state.partition = this.#choose(available, topic, load);
      state.produced = 0;
    }
    state.available = available;
    state.produced += size;
    return state.partition;
  }

  #choose(available: readonly number[], topic: string, load: QueueLoad): number {
    if (available.length === 1) return available[0] as number;
    // Weight each partition by how much less it has queued than the fullest one (+1 so an
    // all-equal cluster is uniform): Kafka's adaptive partitioning in a few lines.
    let max = 0;
    for (const p of available) max = Math.max(max, load.queuedBytes(topic, p));
    let total = 0;
    const weights = available.map((p) => {
      const w = max - load.queuedBytes(topic, p) + 1;
      total += w;
      return w;
    });
    let pick = this.#random() * total;
    for (let i = 0; i < available.length; i++) {
      pick -= weights[i] as number;
      if (pick < 0) return available[i] as number;
    }
    return available[available.length - 1] as number;
  }
}

/** Round-robin over available partitions, per topic (the Java client's RoundRobinPartitioner). */
export function roundRobinPartitioner(): Partitioner {
  const next = new Map<string, number>();
  return ({ topic, availablePartitions }) => {
    const i = next.get(topic) ?? 0;
    next.set(topic, i + 1);
    return availablePartitions[i % availablePartitions.length] as number;
  };
}
