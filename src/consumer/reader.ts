/**
 * The consumer's hot path: takes chunks from the fetch buffer in arrival order, decodes each
 * when it reaches the head (compressed ones in the background, one chunk ahead), and hands
 * out records one by one or a chunk at a time. Records are read from the fetched bytes by a
 * cursor as they are handed out, so per record there is one Message and its key and value
 * views: no intermediate record object, no promise, no BigInt. A record counts as consumed (committable) once the application asks for the next
 * one, or leaves the loop.
 */
import { maxRecordsIn, type RecordBatch, RecordCursor } from "../protocol/records/index.js";
import { DeserializationError } from "./errors.js";
import { decodeChunk, type FetchBuffer, type FetchedChunk } from "./fetch-buffer.js";
import { Message, type MessageBatch, type MessageOrigin } from "./message.js";
import type { Deserializer } from "./options.js";
import type { PartitionState } from "./partition.js";

const NO_ORIGIN: MessageOrigin = { topic: "", partition: -1, baseOffset: -1n, baseTimestamp: -1, leaderEpoch: -1 };

/** Returned by the take methods while the head chunk is still being decompressed. */
export const PENDING: unique symbol = Symbol("pending");

/** Options of a {@link RecordReader}. */
export interface ReaderOptions<K, V> {
  verifyCrc: boolean;
  /** Per chunk (one partition's fetched data); see ConsumerOptions.maxDecompressedBytes. */
  maxDecompressedBytes?: number | undefined;
  readCommitted: boolean;
  /** Most messages one {@link RecordReader.nextBatch} hands out; see ConsumerOptions.maxBatchMessages. */
  maxBatchMessages: number;
  keyDeserializer: Deserializer<K> | undefined;
  valueDeserializer: Deserializer<V> | undefined;
}

/** Reads records out of a fetch buffer; see the module comment. */
export class RecordReader<K, V> {
  readonly #buffer: FetchBuffer;
  readonly #options: ReaderOptions<K, V>;
  #chunk: FetchedChunk | undefined;
  #batches: RecordBatch[] = [];
  /** The current chunk is decoded and `#batches` holds it. */
  #loaded = false;
  /** Index of the batch being read, and whether the cursor is on it. */
  #bi = 0;
  #open = false;
  /**
   * After a deserializer threw: the offset delta to reopen the batch at, so the next take
   * reads that record again (-1: none).
   */
  #retryDelta = -1;
  readonly #cursor = new RecordCursor();
  /** What the messages of the batch the cursor is on share. */
  #origin: MessageOrigin = NO_ORIGIN;
  // What was handed last: consumed once the application asks for more.
  #lastState: PartitionState | undefined;
  #lastBase = 0n;
  #lastDelta = 0;
  /** Its partition's {@link PartitionState.restarts} when handed: a move since then keeps the mark. */
  #lastRestarts = 0;

  constructor(buffer: FetchBuffer, options: ReaderOptions<K, V>) {
    this.#buffer = buffer;
    this.#options = options;
  }

  /** The head chunk's decompression, while it runs. */
  get decoding(): Promise<void> | undefined {
    const chunk = this.#chunk;
    return chunk !== undefined && chunk.batches === undefined && chunk.error === undefined ? chunk.decoding : undefined;
  }

  /** The partition of the record (or batch) the application holds now, if any. */
  get holding(): PartitionState | undefined {
    return this.#lastState;
  }

  /** The application is done with what it was handed last. */
  commitLast(): void {
    const state = this.#lastState;
    if (state === undefined) return;
    if (state.restarts === this.#lastRestarts) state.consumedUpTo(this.#lastBase, this.#lastDelta);
    this.#lastState = undefined;
  }

  /** What the application holds now: consumed up to `base + delta` once it asks for more. */
  #holdLast(state: PartitionState, base: bigint, delta: number): void {
    this.#lastState = state;
    this.#lastBase = base;
    this.#lastDelta = delta;
    this.#lastRestarts = state.restarts;
  }

  /** Forgets the last handed record without marking it consumed (its partition was revoked). */
  dropLast(): void {
    this.#lastState = undefined;
  }

  /**
   * The next record, undefined when nothing is buffered, or PENDING while decompressing.
   * Throws the decode error of a corrupt chunk (its partition stops until a seek).
   */
  nextMessage(): Message<K, V> | undefined | typeof PENDING {
    this.commitLast();
    for (;;) {
      const chunk = this.#chunk;
      if (chunk === undefined || !this.#loaded) {
        const ready = this.#advance();
        if (ready !== true) return ready;
        continue;
      }
      const state = chunk.state;
      if (chunk.generation === state.generation && !state.revoked) {
        let batch: RecordBatch | undefined;
        try {
          batch = this.#readNext(state);
        } catch (err) {
          this.#chunkFailed(chunk, err as Error);
          continue;
        }
        if (batch !== undefined) {
          // Deserialized before it counts as handed: a deserializer that throws leaves the
          // position on this record (see #message).
          const message = this.#message(state, batch);
          const delta = this.#cursor.offsetDelta + 1;
          state.handed(batch.baseOffset, delta, batch.partitionLeaderEpoch);
          this.#holdLast(state, batch.baseOffset, delta);
          return message;
        }
        // Drained, and this call means the application is done with all of it: both marks
        // move past the chunk, over any trailing transaction markers.
        state.setPosition(chunk.nextOffset);
        state.consumedUpTo(chunk.nextOffset, 0);
      }
      this.#finishChunk(chunk);
    }
  }

  /**
   * The head chunk's next records as one batch of at most `maxBatchMessages` (skipping empty
   * ones), undefined or PENDING as {@link nextMessage}.
   */
  nextBatch(): MessageBatch<K, V> | undefined | typeof PENDING {
    this.commitLast();
    for (;;) {
      const chunk = this.#chunk;
      if (chunk === undefined || !this.#loaded) {
        const ready = this.#advance();
        if (ready !== true) return ready;
        continue;
      }
      const state = chunk.state;
      if (chunk.generation !== state.generation || state.revoked) {
        this.#finishChunk(chunk);
        continue;
      }
      const batches = this.#batches;
      // The array is made at its final size (growing it by pushes was a tenth of the bytes
      // allocated per record). Counts come from the broker, so each is capped by what its
      // batch's bytes can hold; the cursor rejects a count that does not fit.
      const limit = this.#options.maxBatchMessages;
      let room = 0;
      for (let i = this.#bi; i < batches.length && room < limit; i++) {
        const batch = batches[i] as RecordBatch;
        const e = batch.encoded;
        if (e !== undefined) room += Math.min(batch.recordCount, maxRecordsIn(e.end - e.start));
      }
      const messages: Message<K, V>[] = new Array(Math.min(room, limit));
      let count = 0;
      let stop: DeserializationError | undefined;
      // The record batch of the last message: where a full batch leaves the position.
      let lastBatch: RecordBatch | undefined;
      try {
        for (let b = this.#readNext(state); b !== undefined; b = count < limit ? this.#readNext(state) : undefined) {
          lastBatch = b;
          try {
            // Not `messages[count++] = this.#message(...)`: `count` is read first there, and
            // would advance past a slot left empty when the deserializer throws.
            const message = this.#message(state, b);
            messages[count++] = message;
          } catch (err) {
            if (!(err instanceof DeserializationError)) throw err;
            stop = err;
            break;
          }
        }
      } catch (err) {
        // Nothing of the batch being made is handed out when a record is malformed: the partition
        // stops at the batch's start (after what earlier batches of this chunk handed out).
        this.#chunkFailed(chunk, err as Error);
        continue;
      }
      // A deserializer threw: the records before that one go out as a batch, and the next call
      // starts at it (and throws, if the deserializer throws again).
      if (count < messages.length) messages.length = count;
      if (stop !== undefined && messages.length === 0) throw stop;
      // Where the position goes: after the last message when the batch is full (the cursor stays
      // on the chunk, and the next call goes on from there), at a record a deserializer refused,
      // or past the drained chunk and any trailing transaction markers.
      let base: bigint;
      let delta = 0;
      let epoch: number | undefined;
      const full = stop === undefined && count === limit;
      if (full) {
        const b = lastBatch as RecordBatch;
        base = b.baseOffset;
        delta = this.#cursor.offsetDelta + 1;
        epoch = b.partitionLeaderEpoch;
      } else if (stop === undefined) {
        base = chunk.nextOffset;
        epoch = batches[batches.length - 1]?.partitionLeaderEpoch;
      } else {
        base = stop.offset;
        epoch = batches[this.#bi]?.partitionLeaderEpoch;
      }
      state.handed(base, delta, epoch ?? state.recordLeaderEpoch);
      if (stop === undefined && !full) this.#finishChunk(chunk);
      if (messages.length === 0) {
        state.consumedUpTo(chunk.nextOffset, 0);
        continue;
      }
      this.#holdLast(state, base, delta);
      const until = base + BigInt(delta);
      const end = this.#options.readCommitted ? chunk.lastStableOffset : chunk.highWatermark;
      const lag = end - until;
      return {
        topic: state.topic,
        partition: state.partition,
        messages,
        highWatermark: chunk.highWatermark,
        lag: lag > 0n ? lag : 0n,
      };
    }
  }

  /**
   * The record the cursor just read, as a Message. A deserializer that throws becomes a
   * DeserializationError, and the cursor is set to read the record again on the next take.
   */
  #message(state: PartitionState, batch: RecordBatch): Message<K, V> {
    const cursor = this.#cursor;
    const { keyDeserializer: kd, valueDeserializer: vd } = this.#options;
    let key: K;
    let value: V;
    let field: "key" | "value" = "key";
    try {
      key = kd === undefined ? (cursor.key as K) : kd(cursor.key, state.topic);
      field = "value";
      value = vd === undefined ? (cursor.value as V) : vd(cursor.value, state.topic);
    } catch (err) {
      this.#retryDelta = cursor.offsetDelta;
      this.#open = false;
      const offset = batch.baseOffset + BigInt(cursor.offsetDelta);
      throw new DeserializationError(state.topic, state.partition, offset, field, err);
    }
    return new Message<K, V>(
      this.#origin,
      cursor.offsetDelta,
      // A log-append-time batch gives every record the origin's time.
      batch.timestampType === "logAppend" ? 0 : cursor.timestampDelta,
      key,
      value,
      cursor.headers,
    );
  }

  /**
   * Reads the current chunk's next record into the cursor, moving on across its batches;
   * returns the record's batch, or undefined once the chunk is drained. Throws decode errors.
   */
  #readNext(state: PartitionState): RecordBatch | undefined {
    const batches = this.#batches;
    const cursor = this.#cursor;
    while (this.#bi < batches.length) {
      const batch = batches[this.#bi] as RecordBatch;
      if (!this.#open) {
        // decodeChunk leaves every visible batch's records encoded (control batches are not visible).
        const e = batch.encoded as NonNullable<RecordBatch["encoded"]>;
        const skipBelow = this.#retryDelta >= 0 ? this.#retryDelta : e.skipBelow;
        this.#retryDelta = -1;
        cursor.open(e.data, e.start, e.end, batch.recordCount, skipBelow, batch.baseOffset, state);
        this.#open = true;
        this.#origin = {
          topic: state.topic,
          partition: state.partition,
          baseOffset: batch.baseOffset,
          baseTimestamp: batch.timestampType === "logAppend" ? batch.maxTimestamp : batch.baseTimestamp,
          leaderEpoch: batch.partitionLeaderEpoch,
        };
      }
      if (cursor.next()) return batch;
      this.#bi++;
      this.#open = false;
    }
    return undefined;
  }

  /** Drops the current chunk (close). */
  clear(): void {
    if (this.#chunk) this.#finishChunk(this.#chunk);
    this.#lastState = undefined;
  }

  /**
   * Makes the current chunk readable, taking the next one from the buffer when there is
   * none: true when records can be read, undefined when the buffer is empty, PENDING while
   * the chunk decompresses. Throws a chunk's decode error.
   */
  #advance(): true | undefined | typeof PENDING {
    for (;;) {
      let chunk = this.#chunk;
      if (chunk === undefined) {
        chunk = this.#buffer.shift();
        if (chunk === undefined) return undefined;
        if (chunk.generation !== chunk.state.generation || chunk.state.revoked) {
          this.#buffer.release(chunk);
          continue;
        }
        this.#chunk = chunk;
        this.#bi = 0;
        this.#open = false;
        if (chunk.batches === undefined && chunk.error === undefined) {
          decodeChunk(chunk, this.#options, this.#buffer);
        }
      }
      // Decompress the next chunk while the application works through this one, once this
      // one's decompressed bytes are counted and unless they fill the budget: then the next
      // waits its turn, so no more than one chunk's payloads are held past maxBufferedBytes.
      const next = chunk.batches !== undefined ? this.#buffer.peek() : undefined;
      if (next?.compressed && next.decoding === undefined && !this.#buffer.full) {
        decodeChunk(next, this.#options, this.#buffer);
      }
      if (chunk.error !== undefined) {
        this.#chunkFailed(chunk, chunk.error);
        continue;
      }
      if (chunk.batches === undefined) return PENDING;
      this.#batches = chunk.batches;
      this.#loaded = true;
      return true;
    }
  }

  /**
   * A chunk that cannot be read: its partition stops here (later chunks of it are stale, and
   * a seek restarts it) and the error is thrown, unless the partition already moved on.
   */
  #chunkFailed(chunk: FetchedChunk, error: Error): void {
    const state = chunk.state;
    this.#finishChunk(chunk);
    if (chunk.generation === state.generation && !state.revoked) {
      state.fail(error);
      this.#buffer.dropStale();
      throw error;
    }
  }

  #finishChunk(chunk: FetchedChunk): void {
    this.#buffer.release(chunk);
    this.#chunk = undefined;
    this.#loaded = false;
    this.#batches = [];
    this.#retryDelta = -1;
  }
}
