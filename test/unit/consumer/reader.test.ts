import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { DeserializationError } from "../../../src/consumer/errors.js";
import { FetchBuffer, type FetchedChunk } from "../../../src/consumer/fetch-buffer.js";
import { PartitionState } from "../../../src/consumer/partition.js";
import { PENDING, RecordReader } from "../../../src/consumer/reader.js";
import { ProtocolError } from "../../../src/protocol/errors.js";
import {
  buildEndTxnMarkerBatch,
  crc32c,
  RecordBatchBuilder,
  scanBatchHeaders,
} from "../../../src/protocol/records/index.js";

function batch(baseOffset: bigint, values: string[]): Buffer {
  const b = new RecordBatchBuilder({ baseOffset, partitionLeaderEpoch: 3 });
  for (const v of values) b.append({ value: v, key: `k-${v}`, timestamp: 1_000 });
  return Buffer.from(b.build());
}

/** Rewrites an uncompressed batch as a gzip one (records section compressed, CRC redone). */
function gzipped(plain: Buffer): Buffer {
  const records = gzipSync(plain.subarray(61));
  const out = Buffer.concat([plain.subarray(0, 61), records]);
  out.writeInt32BE(out.length - 12, 8);
  out.writeInt16BE(out.readInt16BE(21) | 1, 21);
  out.writeUInt32BE(crc32c(out, 21, out.length), 17);
  return out;
}

function chunk(state: PartitionState, records: Buffer, fromOffset: bigint): FetchedChunk {
  const scan = scanBatchHeaders(records);
  return {
    state,
    generation: state.generation,
    records,
    fromOffset,
    nextOffset: scan.nextOffset as bigint,
    compressed: scan.compressed,
    abortedTransactions: null,
    highWatermark: 100n,
    lastStableOffset: 100n,
  };
}

const options = {
  verifyCrc: true,
  readCommitted: false,
  maxBatchMessages: 500,
  keyDeserializer: undefined,
  valueDeserializer: undefined,
};

/** A reader over one chunk of records "a", "b", "c" whose third claims a header it lacks (CRC valid). */
function malformedThirdRecord(maxBatchMessages = options.maxBatchMessages) {
  const state = new PartitionState("t", 0);
  state.moveTo(0n);
  const buffer = new FetchBuffer(1 << 20);
  const reader = new RecordReader<Buffer | null, Buffer | null>(buffer, { ...options, maxBatchMessages });
  const bad = batch(0n, ["a", "b", "c"]);
  bad[bad.length - 1] = 2; // the last byte is the last record's header count: zigzag 1
  bad.writeUInt32BE(crc32c(bad, 21, bad.length), 17);
  buffer.push(chunk(state, bad, 0n));
  return { state, buffer, reader };
}

describe("RecordReader", () => {
  it("hands records out one by one; a record counts as consumed once the next is asked for", () => {
    const state = new PartitionState("t", 0);
    state.moveTo(1n);
    const buffer = new FetchBuffer(1 << 20);
    const reader = new RecordReader<Buffer | null, Buffer | null>(buffer, options);
    // The batch starts before the fetch offset, and a transaction marker ends the chunk.
    const marker = buildEndTxnMarkerBatch({
      type: "commit",
      coordinatorEpoch: 0,
      producerId: 1n,
      producerEpoch: 0,
      baseOffset: 3n,
    });
    buffer.push(chunk(state, Buffer.concat([batch(0n, ["a", "b", "c"]), Buffer.from(marker)]), 1n));

    const first = reader.nextMessage();
    expect(first).not.toBe(PENDING);
    if (first === undefined || first === PENDING) throw new Error("no message");
    expect([first.offset, first.value?.toString(), first.key?.toString(), first.leaderEpoch]).toEqual([
      1n,
      "b",
      "k-b",
      3,
    ]);
    expect(state.position).toBe(2n);
    expect(state.consumed).toBe(1n); // b is being worked on
    const second = reader.nextMessage();
    if (second === undefined || second === PENDING) throw new Error("no message");
    expect(second.offset).toBe(2n);
    expect(state.consumed).toBe(2n);
    expect(reader.nextMessage()).toBeUndefined();
    // Drained: both marks step over the marker at offset 3.
    expect([state.position, state.consumed]).toEqual([4n, 4n]);
    expect(buffer.bufferedBytes).toBe(0);
  });

  it("batches: one per chunk; marks move to the chunk's end when the next batch is asked for", () => {
    const state = new PartitionState("t", 1);
    state.moveTo(0n);
    const buffer = new FetchBuffer(1 << 20);
    const reader = new RecordReader<Buffer | null, Buffer | null>(buffer, options);
    buffer.push(chunk(state, Buffer.concat([batch(0n, ["a", "b"]), batch(2n, ["c"])]), 0n));
    const b = reader.nextBatch();
    if (b === undefined || b === PENDING) throw new Error("no batch");
    expect(b.messages.map((m) => m.offset)).toEqual([0n, 1n, 2n]);
    expect([b.topic, b.partition, b.highWatermark, b.lag]).toEqual(["t", 1, 100n, 97n]);
    expect([state.position, state.consumed]).toEqual([3n, 0n]);
    expect(reader.nextBatch()).toBeUndefined();
    expect(state.consumed).toBe(3n);
  });

  it("batches of at most maxBatchMessages: a chunk comes in order over several, across its record batches, and positions follow", () => {
    const state = new PartitionState("t", 1);
    state.moveTo(1n);
    const buffer = new FetchBuffer(1 << 20);
    const reader = new RecordReader<Buffer | null, Buffer | null>(buffer, { ...options, maxBatchMessages: 2 });
    // Record batches [0, 1, 2] and [3, 4]; the fetch starts at 1, so 0 is skipped. Another
    // chunk of one record follows.
    buffer.push(chunk(state, Buffer.concat([batch(0n, ["a", "b", "c"]), batch(3n, ["d", "e"])]), 1n));
    buffer.push(chunk(state, batch(5n, ["f"]), 5n));
    const seen: string[][] = [];
    const marks: (bigint | undefined)[][] = [];
    const lags: bigint[] = [];
    for (let b = reader.nextBatch(); b !== undefined; b = reader.nextBatch()) {
      if (b === PENDING) throw new Error("pending");
      seen.push(b.messages.map((m) => `${m.offset}:${m.value?.toString()}`));
      marks.push([state.position, state.consumed]);
      lags.push(b.lag);
    }
    expect(seen).toEqual([["1:b", "2:c"], ["3:d", "4:e"], ["5:f"]]);
    // The position is after each batch's last message; what was handed before counts as consumed.
    expect(marks).toEqual([
      [3n, 1n],
      [5n, 3n],
      [6n, 5n],
    ]);
    expect(lags).toEqual([97n, 95n, 94n]);
    expect(state.consumed).toBe(6n);
  });

  it("a full batch that ends its chunk: the next call finds the chunk drained and moves on", () => {
    const state = new PartitionState("t", 0);
    state.moveTo(0n);
    const buffer = new FetchBuffer(1 << 20);
    const reader = new RecordReader<Buffer | null, Buffer | null>(buffer, { ...options, maxBatchMessages: 2 });
    buffer.push(chunk(state, batch(0n, ["a", "b"]), 0n));
    const b = reader.nextBatch();
    if (b === undefined || b === PENDING) throw new Error("no batch");
    expect(b.messages.map((m) => m.offset)).toEqual([0n, 1n]);
    expect(reader.nextBatch()).toBeUndefined();
    expect([state.position, state.consumed, buffer.bufferedBytes]).toEqual([2n, 2n, 0]);
  });

  it("a batch held across a pause, rewind, pending reset or failure still counts as consumed; across a seek it does not", () => {
    const held = (change: (s: PartitionState) => void) => {
      const state = new PartitionState("t", 0);
      state.moveTo(0n);
      const buffer = new FetchBuffer(1 << 20);
      const reader = new RecordReader<Buffer | null, Buffer | null>(buffer, { ...options, maxBatchMessages: 2 });
      buffer.push(chunk(state, batch(0n, ["a", "b", "c", "d"]), 0n));
      const b = reader.nextBatch();
      if (b === undefined || b === PENDING) throw new Error("no batch");
      change(state); // while the application works on [0, 1]
      reader.commitLast();
      return [state.consumed, reader.holding];
    };
    expect(held((s) => s.pause())).toEqual([2n, undefined]);
    expect(held((s) => s.rewind())).toEqual([2n, undefined]);
    expect(held((s) => s.startReset("latest"))).toEqual([2n, undefined]);
    expect(held((s) => s.fail(new Error("bad fetch")))).toEqual([2n, undefined]);
    // A seek (or a KIP-320 truncation) sets the mark anew; the held batch must not move it.
    expect(held((s) => s.moveTo(7n))).toEqual([7n, undefined]);
    expect(held((s) => s.restartFromCommitted())).toEqual([undefined, undefined]);
  });
  it("drops chunks of a partition that moved (seek) unread, and frees their bytes", () => {
    const state = new PartitionState("t", 0);
    state.moveTo(0n);
    const buffer = new FetchBuffer(1 << 20);
    const reader = new RecordReader<Buffer | null, Buffer | null>(buffer, options);
    buffer.push(chunk(state, batch(0n, ["a"]), 0n));
    state.moveTo(10n);
    buffer.push(chunk(state, batch(10n, ["k"]), 10n));
    const m = reader.nextMessage();
    if (m === undefined || m === PENDING) throw new Error("no message");
    expect(m.offset).toBe(10n);
  });

  it("compressed chunks decode in the background: PENDING, then the records", async () => {
    const state = new PartitionState("t", 0);
    state.moveTo(0n);
    const buffer = new FetchBuffer(1 << 20);
    const reader = new RecordReader<Buffer | null, Buffer | null>(buffer, options);
    buffer.push(chunk(state, gzipped(batch(0n, ["x", "y"])), 0n));
    expect(reader.nextMessage()).toBe(PENDING);
    await reader.decoding;
    const values: string[] = [];
    for (let m = reader.nextMessage(); m !== undefined && m !== PENDING; m = reader.nextMessage()) {
      values.push(m.value?.toString() ?? "");
    }
    expect(values).toEqual(["x", "y"]);
  });

  it("a corrupt chunk throws its CorruptRecordError once and stops the partition", () => {
    const state = new PartitionState("t", 0);
    state.moveTo(0n);
    const buffer = new FetchBuffer(1 << 20);
    const reader = new RecordReader<Buffer | null, Buffer | null>(buffer, options);
    const bad = batch(0n, ["a"]);
    bad.writeUInt8(bad.readUInt8(bad.length - 1) ^ 0xff, bad.length - 1);
    buffer.push(chunk(state, bad, 0n));
    expect(() => reader.nextMessage()).toThrow(expect.objectContaining({ code: "SAMSA_ERR_CORRUPT_RECORD" }));
    expect(state.error).toBeDefined();
    expect(state.fetchable).toBe(false);
    expect(reader.nextMessage()).toBeUndefined();
  });

  it("a malformed record behind a valid CRC: records before it are handed out, then its ProtocolError stops the partition", () => {
    const { state, reader } = malformedThirdRecord();
    const first = reader.nextMessage();
    const second = reader.nextMessage();
    expect([first, second].map((m) => (typeof m === "object" ? m.value?.toString() : m))).toEqual(["a", "b"]);
    expect(() => reader.nextMessage()).toThrow(/record batch at offset 0 of t-0: record 2 header count 1/);
    expect(state.error).toBeDefined();
    expect(state.fetchable).toBe(false);
    // "b" was handed out and the application asked for more: it counts as consumed.
    expect(state.position).toBe(2n);
    expect(reader.nextMessage()).toBeUndefined();
  });

  it("batches(): a malformed record hands out nothing of the batch it falls in", () => {
    const { state, buffer, reader } = malformedThirdRecord();
    expect(() => reader.nextBatch()).toThrow(ProtocolError);
    expect(state.position).toBe(0n);
    expect(buffer.bufferedBytes).toBe(0);
  });

  it("batches(): a malformed record after a full batch: that batch stands, the next call throws, the position stays after it", () => {
    const { state, buffer, reader } = malformedThirdRecord(2);
    const b = reader.nextBatch();
    if (b === undefined || b === PENDING) throw new Error("no batch");
    expect(b.messages.map((m) => m.value?.toString())).toEqual(["a", "b"]);
    expect(() => reader.nextBatch()).toThrow(ProtocolError);
    expect([state.position, state.consumed, buffer.bufferedBytes]).toEqual([2n, 2n, 0]);
  });

  describe("a deserializer that throws (it used to skip the record: raw error, position past it)", () => {
    /** A reader whose value deserializer throws on "bad" while `failing` holds. */
    function poisoned(maxBatchMessages = options.maxBatchMessages) {
      const state = new PartitionState("t", 2);
      state.moveTo(0n);
      const buffer = new FetchBuffer(1 << 20);
      const control = { failing: true, calls: 0 };
      const reader = new RecordReader<Buffer | null, string>(buffer, {
        ...options,
        maxBatchMessages,
        valueDeserializer: (v) => {
          const text = v?.toString() ?? "";
          if (text === "bad") {
            control.calls++;
            if (control.failing) throw new SyntaxError("not JSON");
          }
          return text;
        },
      });
      buffer.push(chunk(state, Buffer.concat([batch(0n, ["a", "bad"]), batch(2n, ["c"])]), 0n));
      return { state, buffer, reader, control };
    }

    it("messages: DeserializationError with topic, partition, offset and cause; the position stays on the record and the next take retries it", () => {
      const { state, reader, control } = poisoned();
      const first = reader.nextMessage();
      expect(typeof first === "object" && first.value).toBe("a");
      let error: unknown;
      try {
        reader.nextMessage();
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(DeserializationError);
      expect(error).toMatchObject({
        code: "SAMSA_ERR_DESERIALIZATION",
        topic: "t",
        partition: 2,
        offset: 1n,
        field: "value",
      });
      expect((error as Error).cause).toBeInstanceOf(SyntaxError);
      // Not handed out, so not committable: "a" is consumed, "bad" is not.
      expect([state.position, state.consumed]).toEqual([1n, 1n]);
      // Retried: the same record again, and again it throws.
      expect(() => reader.nextMessage()).toThrow(expect.objectContaining({ offset: 1n }));
      expect(state.consumed).toBe(1n);
      control.failing = false;
      const retried = reader.nextMessage();
      expect(typeof retried === "object" && [retried.offset, retried.value]).toEqual([1n, "bad"]);
      expect(control.calls).toBe(3);
      const last = reader.nextMessage();
      expect(typeof last === "object" && last.offset).toBe(2n);
      expect(state.consumed).toBe(2n);
    });

    it("batches: the records before it come as a batch, then the next batch call throws at it; commit stops there", () => {
      const { state, reader, control } = poisoned();
      const b = reader.nextBatch();
      if (b === undefined || b === PENDING) throw new Error("no batch");
      expect(b.messages.map((m) => m.offset)).toEqual([0n]);
      expect(state.position).toBe(1n);
      expect(() => reader.nextBatch()).toThrow(
        expect.objectContaining({ code: "SAMSA_ERR_DESERIALIZATION", offset: 1n }),
      );
      expect([state.position, state.consumed]).toEqual([1n, 1n]);
      control.failing = false;
      const rest = reader.nextBatch();
      if (rest === undefined || rest === PENDING) throw new Error("no batch");
      expect(rest.messages.map((m) => [m.offset, m.value])).toEqual([
        [1n, "bad"],
        [2n, "c"],
      ]);
    });
    it("batches of one message: the refused record throws after the batch before it, and is retried in place", () => {
      const { state, reader, control } = poisoned(1);
      const offsets = () => {
        const b = reader.nextBatch();
        if (b === undefined || b === PENDING) throw new Error("no batch");
        return b.messages.map((m) => [m.offset, m.value]);
      };
      expect(offsets()).toEqual([[0n, "a"]]);
      expect(() => reader.nextBatch()).toThrow(
        expect.objectContaining({ code: "SAMSA_ERR_DESERIALIZATION", offset: 1n }),
      );
      expect([state.position, state.consumed]).toEqual([1n, 1n]);
      control.failing = false;
      expect(offsets()).toEqual([[1n, "bad"]]);
      expect(offsets()).toEqual([[2n, "c"]]);
      expect(reader.nextBatch()).toBeUndefined();
      expect(state.consumed).toBe(3n);
    });
  });

  it("decompressed bytes count against maxBufferedBytes, and a full buffer decodes nothing ahead", async () => {
    const state = new PartitionState("t", 0);
    state.moveTo(0n);
    const values = Array.from({ length: 200 }, () => "z".repeat(500));
    const first = gzipped(batch(0n, values));
    const second = gzipped(batch(200n, values));
    // Room for both compressed chunks, not for one decompressed.
    const buffer = new FetchBuffer(first.length + second.length + 1_000);
    const reader = new RecordReader<Buffer | null, Buffer | null>(buffer, options);
    buffer.push(chunk(state, first, 0n));
    buffer.push(chunk(state, second, 200n));
    expect(buffer.bufferedBytes).toBe(first.length + second.length);
    expect(reader.nextMessage()).toBe(PENDING);
    await reader.decoding;
    const m = reader.nextMessage();
    expect(typeof m === "object" && m.offset).toBe(0n);
    // The head chunk's ~100 KB of records now count; the fetcher sees no room.
    expect(buffer.bufferedBytes).toBeGreaterThan(first.length + second.length + 100_000);
    expect(buffer.available).toBeLessThan(0);
    expect(buffer.peek()?.decoding).toBeUndefined();
    for (let i = 1; i < 200; i++) reader.nextMessage();
    // Drained: its bytes are given back, and only then is the next chunk decompressed.
    const next = reader.nextMessage();
    expect(next).toBe(PENDING);
    expect(buffer.bufferedBytes).toBe(second.length);
    await reader.decoding;
    expect(buffer.bufferedBytes).toBeGreaterThan(second.length + 100_000);
    for (let n = reader.nextMessage(); n !== undefined; n = reader.nextMessage()) {
      if (n === PENDING) throw new Error("pending");
    }
    expect(buffer.bufferedBytes).toBe(0);
  });

  it("each message reads its topic, partition, offset, timestamp and leader epoch from its own batch", () => {
    const state = new PartitionState("orders", 4);
    state.moveTo(10n);
    const buffer = new FetchBuffer(1 << 20);
    const reader = new RecordReader<Buffer | null, Buffer | null>(buffer, options);
    const create = new RecordBatchBuilder({ baseOffset: 10n, partitionLeaderEpoch: 7 });
    create.append({ value: "x", timestamp: 1_700_000_000_000 });
    create.append({ value: "y", timestamp: 1_700_000_000_250 });
    // A log-append-time batch: every record carries the broker's time, whatever it was sent with.
    const logAppend = new RecordBatchBuilder({
      baseOffset: 12n,
      partitionLeaderEpoch: 9,
      timestampType: "logAppend",
      logAppendTime: 1_800_000_000_000,
    });
    logAppend.append({ value: "z", timestamp: 5 });
    logAppend.append({ value: "w", timestamp: 6 });
    buffer.push(chunk(state, Buffer.concat([Buffer.from(create.build()), Buffer.from(logAppend.build())]), 10n));
    const out = reader.nextBatch();
    if (out === undefined || out === PENDING) throw new Error("no batch");
    expect(out.messages.map((m) => [m.topic, m.partition, m.offset, m.timestamp, m.leaderEpoch, `${m.value}`])).toEqual(
      [
        ["orders", 4, 10n, 1_700_000_000_000, 7, "x"],
        ["orders", 4, 11n, 1_700_000_000_250, 7, "y"],
        ["orders", 4, 12n, 1_800_000_000_000, 9, "z"],
        ["orders", 4, 13n, 1_800_000_000_000, 9, "w"],
      ],
    );
    // The plain form carries every field, the getters' included.
    const json = out.messages[3]?.toJSON() as Record<string, unknown>;
    expect({ ...json, value: String(json.value) }).toEqual({
      topic: "orders",
      partition: 4,
      offset: "13",
      key: null,
      value: "w",
      headers: [],
      timestamp: 1_800_000_000_000,
      leaderEpoch: 9,
    });
  });
});
