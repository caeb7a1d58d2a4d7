/**
 * Fetched data waiting for the application: one chunk per partition per fetch response,
 * kept as the response's raw bytes until the application reaches it, and counted against
 * `maxBufferedBytes` so prefetching stops at the bound. A compressed chunk, once decoded,
 * counts its decompressed bytes too: what the buffer bounds is memory, not wire bytes (a
 * 10x-compressible topic would otherwise hold ten times the bound). Also the read_committed filter.
 *
 *   fetchers ──push(chunk)──▶ [ c0 | c1 | c2 | … ] ──shift()──▶ reader (decode, hand out)
 *            (reserve bytes per request)             release(chunk) ──▶ onSpace: fetchers go on
 */
import type { FetchResponseAbortedTransaction } from "../protocol/messages/index.js";
import {
  ControlRecordType,
  decodeRecordBatches,
  decodeRecordBatchesSync,
  type RecordBatch,
} from "../protocol/records/index.js";
import type { PartitionState } from "./partition.js";

/** One partition's records from one fetch response. */
export interface FetchedChunk {
  state: PartitionState;
  /** The partition's generation when fetched; a mismatch means the data is stale. */
  generation: number;
  /** The record set, a view into the response frame. */
  records: Buffer;
  /** The offset the fetch asked for: records below it are skipped. */
  fromOffset: bigint;
  /** Where the next fetch starts: after the last complete batch. */
  nextOffset: bigint;
  /** Any batch compressed (decoding then needs the async decompressors). */
  compressed: boolean;
  /** read_committed: the response's aborted transactions; null otherwise. */
  abortedTransactions: FetchResponseAbortedTransaction[] | null;
  highWatermark: bigint;
  lastStableOffset: bigint;
  /** Visible batches once decoded. */
  batches?: RecordBatch[];
  /** Decoding in progress (compressed chunks). */
  decoding?: Promise<void>;
  /** Decoding failed: the partition stops with this error. */
  error?: Error;
  /** Bytes this chunk counts in its buffer: the record set, plus decompressed payloads once decoded. */
  counted?: number;
  /** Released or dropped: it no longer counts, and late decompressed bytes are not added. */
  released?: boolean;
}

/**
 * The batches an application may see. Control batches (transaction markers) never; with
 * read_committed, not the batches of aborted transactions either: a producer's batches are
 * aborted from the first offset the response lists for it up to its abort marker (Java's
 * CompletedFetch does the same walk).
 */
export function visibleBatches(
  batches: RecordBatch[],
  abortedTransactions: readonly FetchResponseAbortedTransaction[] | null,
): RecordBatch[] {
  if (abortedTransactions === null || abortedTransactions.length === 0) {
    let controls = 0;
    for (const b of batches) if (b.isControl) controls++;
    return controls === 0 ? batches : batches.filter((b) => !b.isControl);
  }
  const pending = [...abortedTransactions].sort((a, b) =>
    a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0,
  );
  let next = 0;
  const aborted = new Set<bigint>();
  const out: RecordBatch[] = [];
  for (const batch of batches) {
    if (batch.producerId >= 0n) {
      const lastOffset = batch.baseOffset + BigInt(batch.lastOffsetDelta);
      while (next < pending.length && (pending[next] as FetchResponseAbortedTransaction).firstOffset <= lastOffset) {
        aborted.add((pending[next] as FetchResponseAbortedTransaction).producerId);
        next++;
      }
      if (batch.isControl && batch.control?.type === ControlRecordType.Abort) {
        aborted.delete(batch.producerId);
      } else if (batch.isTransactional && aborted.has(batch.producerId)) {
        continue;
      }
    }
    if (!batch.isControl) out.push(batch);
  }
  return out;
}

/** Decompressed bytes of decoded batches (payloads that are not views into the record set). */
function decompressedBytes(chunk: FetchedChunk, batches: readonly RecordBatch[]): number {
  let n = 0;
  for (const b of batches) {
    const data = b.encoded?.data;
    if (data !== undefined && data.buffer !== chunk.records.buffer) n += data.length;
  }
  return n;
}

/** How {@link decodeChunk} decodes. */
export interface ChunkDecodeOptions {
  verifyCrc: boolean;
  /**
   * Most bytes the chunk's compressed batches may decompress to (the consumer's
   * maxDecompressedBytes); past it the chunk fails with DecompressionLimitError naming its
   * topic and partition. Default: the decoder's own.
   */
  maxDecompressedBytes?: number | undefined;
}

/**
 * Decodes a chunk's visible batches; sets `batches` or `error`. Async only for compressed
 * chunks, whose decompressed bytes are then counted in `buffer`.
 */
export function decodeChunk(
  chunk: FetchedChunk,
  decode: ChunkDecodeOptions,
  buffer?: FetchBuffer,
): Promise<void> | undefined {
  const options = {
    verifyCrc: decode.verifyCrc,
    fromOffset: chunk.fromOffset,
    // Named in decode errors (a DecompressionLimitError among them), which reach the iterator.
    topic: chunk.state.topic,
    partition: chunk.state.partition,
    // The reader walks records with a cursor as it hands them out.
    lazyRecords: true,
    ...(decode.maxDecompressedBytes !== undefined ? { maxDecompressedBytes: decode.maxDecompressedBytes } : {}),
  };
  if (!chunk.compressed) {
    try {
      // No promise for uncompressed data: the common case stays synchronous.
      chunk.batches = visibleBatches(decodeRecordBatchesSync(chunk.records, options), chunk.abortedTransactions);
    } catch (err) {
      chunk.error = err as Error;
    }
    return undefined;
  }
  chunk.decoding ??= decodeRecordBatches(chunk.records, options).then(
    (batches) => {
      buffer?.grow(chunk, decompressedBytes(chunk, batches));
      chunk.batches = visibleBatches(batches, chunk.abortedTransactions);
    },
    (err: unknown) => {
      chunk.error = err as Error;
    },
  );
  return chunk.decoding;
}

/** The queue of chunks and its byte accounting; see the module comment. */
export class FetchBuffer {
  readonly #maxBytes: number;
  #chunks: FetchedChunk[] = [];
  #head = 0;
  /** Bytes of chunks queued and of the chunk being read. */
  bufferedBytes = 0;
  /** Bytes fetch requests in flight may bring back. */
  reservedBytes = 0;
  #dataWaiters: (() => void)[] = [];
  /** Called when the buffer goes from full to having room: fetchers may continue. */
  onSpace: () => void = () => {};

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** Chunks queued. */
  get length(): number {
    return this.#chunks.length - this.#head;
  }

  /** Bytes a new fetch may still ask for without passing the bound. */
  get available(): number {
    return this.#maxBytes - this.bufferedBytes - this.reservedBytes;
  }

  /** Held bytes (not counting reservations) reached the bound: no decoding ahead. */
  get full(): boolean {
    return this.bufferedBytes >= this.#maxBytes;
  }

  /** Queues a chunk and wakes a waiting reader. */
  push(chunk: FetchedChunk): void {
    this.#chunks.push(chunk);
    chunk.counted = chunk.records.length;
    chunk.released = false;
    this.bufferedBytes += chunk.counted;
    this.#wake(this.#dataWaiters);
  }

  /** A held chunk takes `n` more bytes (its decompressed payloads). */
  grow(chunk: FetchedChunk, n: number): void {
    if (chunk.released !== false || n <= 0) return;
    chunk.counted = (chunk.counted ?? 0) + n;
    this.bufferedBytes += n;
  }

  /** The oldest chunk, or undefined. Its bytes stay counted until {@link release}. */
  shift(): FetchedChunk | undefined {
    if (this.#head >= this.#chunks.length) return undefined;
    const chunk = this.#chunks[this.#head] as FetchedChunk;
    this.#chunks[this.#head] = undefined as unknown as FetchedChunk;
    this.#head++;
    // Compact once the consumed prefix dominates: amortised O(1) per chunk.
    if (this.#head > 64 && this.#head * 2 > this.#chunks.length) {
      this.#chunks = this.#chunks.slice(this.#head);
      this.#head = 0;
    }
    return chunk;
  }

  /** The chunk after the head (for decode lookahead), without removing it. */
  peek(): FetchedChunk | undefined {
    return this.#chunks[this.#head];
  }

  /** A chunk was read (or dropped): its bytes no longer count, and fetchers may continue. */
  release(chunk: FetchedChunk): void {
    const wasFull = this.available <= 0;
    this.#uncount(chunk);
    if (wasFull && this.available > 0) this.onSpace();
  }

  /** Drops queued chunks whose partition moved on (stale generation or revoked). */
  dropStale(): void {
    const kept: FetchedChunk[] = [];
    for (let i = this.#head; i < this.#chunks.length; i++) {
      const c = this.#chunks[i] as FetchedChunk;
      if (c.generation === c.state.generation && !c.state.revoked) kept.push(c);
      else this.#uncount(c);
    }
    this.#chunks = kept;
    this.#head = 0;
    this.onSpace();
  }

  #uncount(chunk: FetchedChunk): void {
    if (chunk.released !== false) return;
    chunk.released = true;
    this.bufferedBytes -= chunk.counted ?? chunk.records.length;
  }

  /** Drops everything (close). */
  clear(): void {
    for (let i = this.#head; i < this.#chunks.length; i++) (this.#chunks[i] as FetchedChunk).released = true;
    this.#chunks = [];
    this.#head = 0;
    this.bufferedBytes = 0;
    this.#wake(this.#dataWaiters);
  }

  /** Resolves when a chunk is pushed or {@link wakeReaders} is called. */
  waitForData(): Promise<void> {
    return new Promise((resolve) => this.#dataWaiters.push(resolve));
  }

  /** Wakes readers without data: an error to report, the consumer closing, a resume. */
  wakeReaders(): void {
    this.#wake(this.#dataWaiters);
  }

  #wake(list: (() => void)[]): void {
    if (list.length === 0) return;
    const waiters = list.splice(0);
    for (const w of waiters) w();
  }
}
