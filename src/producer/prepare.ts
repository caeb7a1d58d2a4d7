/**
 * Checking a record for `send` and filling in what its batch needs (a `Prepared`): topic
 * name, partition, timestamp, serialised key and value, headers, its size bound. Invalid input
 * throws InvalidArgumentError or RecordTooLargeError naming what is wrong. The one-record path
 * fills one reused scratch `Prepared`; a record that must wait gets a copy.
 */
import { InvalidArgumentError } from "../protocol/errors.js";
import type { RecordData, RecordHeaderInput } from "../protocol/records/index.js";
import { type Prepared, REQUEST_OVERHEAD_BYTES } from "./accumulator.js";
import type { ProducerRecord } from "./api.js";
import { RecordTooLargeError } from "./errors.js";
import type { ResolvedProducerOptions, Serializer } from "./options.js";

const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;
/** Upper bound of a record's overhead in a batch beyond key/value/header bytes. */
const RECORD_OVERHEAD = 5 + 1 + 10 + 5 + 5 + 5 + 5;
const RECORD_BATCH_HEADER = 61;

function isData(v: unknown): v is RecordData {
  return v === null || typeof v === "string" || v instanceof Uint8Array;
}

function dataSize(v: RecordData | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === "string" ? Buffer.byteLength(v) : v.length;
}

/** A fresh scratch record (one shape for every record, so the encoder's reads stay monomorphic). */
export function newPrepared(): Prepared {
  return {
    key: null,
    value: null,
    timestamp: 0,
    headers: undefined,
    topic: "",
    partition: undefined,
    keyBytes: null,
    size: 0,
  };
}

/** A copy of the scratch record, for one that must wait (the scratch is reused by the next send). */
export function copyPrepared(p: Prepared): Prepared {
  return {
    key: p.key,
    value: p.value,
    timestamp: p.timestamp,
    headers: p.headers,
    topic: p.topic,
    partition: p.partition,
    keyBytes: p.keyBytes,
    size: p.size,
  };
}

/** Drops a pooled record's references to the caller's data (its shape stays). */
export function clearPrepared(p: Prepared): void {
  p.key = null;
  p.value = null;
  p.headers = undefined;
  p.keyBytes = null;
}

/** Checks records against one producer's options and serializers; see the module comment. */
export class RecordPreparer<K, V> {
  readonly #options: ResolvedProducerOptions;
  readonly #keySerializer: Serializer<K> | undefined;
  readonly #valueSerializer: Serializer<V> | undefined;
  /** Topic names already checked (bounded, so a stream of distinct names cannot grow it forever). */
  readonly #validTopics = new Set<string>();
  /** The topic of the previous record, known valid (most sends repeat it). */
  #lastTopic: string | undefined;

  constructor(
    options: ResolvedProducerOptions,
    keySerializer: Serializer<K> | undefined,
    valueSerializer: Serializer<V> | undefined,
  ) {
    this.#options = options;
    this.#keySerializer = keySerializer;
    this.#valueSerializer = valueSerializer;
  }

  /** Checks `record` and fills `into` with what its batch needs; throws InvalidArgumentError. */
  prepare(record: ProducerRecord<K, V>, now: number, into: Prepared): Prepared {
    if (record === null || typeof record !== "object") throw new InvalidArgumentError("record", "must be an object");
    const { topic } = record;
    // A producer sends to few topics: check each name once, not once per record.
    if (topic !== this.#lastTopic && !this.#validTopics.has(topic)) {
      if (typeof topic !== "string" || !TOPIC_NAME.test(topic) || topic === "." || topic === "..") {
        throw new InvalidArgumentError("topic", `invalid topic name ${JSON.stringify(topic)}: 1-249 of [a-zA-Z0-9._-]`);
      }
      if (this.#validTopics.size < 10_000) this.#validTopics.add(topic);
    }
    this.#lastTopic = topic;
    const partition = record.partition;
    if (partition !== undefined && (!Number.isInteger(partition) || partition < 0)) {
      throw new InvalidArgumentError("partition", `must be a non-negative integer, got ${String(partition)}`);
    }
    const timestamp = record.timestamp;
    if (timestamp !== undefined && (!Number.isSafeInteger(timestamp) || timestamp < 0)) {
      throw new InvalidArgumentError("timestamp", `must be a non-negative integer (ms), got ${String(timestamp)}`);
    }
    const key = this.#keySerializer ? this.#keySerializer(record.key as K, topic) : ((record.key ?? null) as unknown);
    const value = this.#valueSerializer ? this.#valueSerializer(record.value, topic) : (record.value as unknown);
    if (!isData(key)) throw new InvalidArgumentError("key", "must be a Buffer, Uint8Array, string or null");
    if (!isData(value)) throw new InvalidArgumentError("value", "must be a Buffer, Uint8Array, string or null");
    let headers: RecordHeaderInput[] | undefined;
    let size = RECORD_OVERHEAD + dataSize(key) + dataSize(value);
    if (record.headers !== undefined) {
      headers = Array.isArray(record.headers)
        ? (record.headers as RecordHeaderInput[])
        : Object.entries(record.headers as Record<string, RecordData>).map(([k, v]) => ({ key: k, value: v }));
      for (const h of headers) {
        if (typeof h.key !== "string" || !isData(h.value))
          throw new InvalidArgumentError("headers", "keys must be strings, values data");
        size += 10 + dataSize(h.key) + dataSize(h.value);
      }
    }
    const limit = Math.min(
      this.#options.maxRequestBytes - RECORD_BATCH_HEADER - REQUEST_OVERHEAD_BYTES,
      this.#options.bufferMemory,
    );
    if (size > limit) throw new RecordTooLargeError(size, limit, this.#options.maxRequestBytes);
    let keyBytes: Buffer | Uint8Array | null = null;
    if (partition === undefined && key !== null) keyBytes = typeof key === "string" ? Buffer.from(key) : key;
    into.key = key;
    into.value = value;
    into.timestamp = timestamp ?? now;
    into.headers = headers;
    into.topic = topic;
    into.partition = partition;
    into.keyBytes = keyBytes;
    into.size = size;
    return into;
  }
}
