/**
 * One producer benchmark run in its own process (so CPU time and peak RSS are its own):
 * sends `records` records of `valueSize` bytes, keyless, to `topic` in calls of `chunk`
 * records with at most `window` calls outstanding, and prints one JSON line of results.
 * Latency is send call → acknowledgement, per call, weighted by its records.
 */

import { Producer as PlatformaticProducer } from "@platformatic/kafka";
import { CompressionTypes, Kafka, logLevel } from "kafkajs";
import { Client } from "../../src/client.js";
import type { CompressionCodec } from "../../src/protocol/records/index.js";

/** What the orchestrator asks of a worker. */
export interface WorkerParams {
  client: "samsa" | "kafkajs" | "platformatic";
  bootstrap: string;
  topic: string;
  records: number;
  valueSize: number;
  codec: CompressionCodec;
  chunk: number;
  window: number;
}

/** What a worker reports. */
export interface WorkerResult {
  records: number;
  elapsedMs: number;
  p50Ms: number;
  p99Ms: number;
}

type SendChunk = (values: Buffer[]) => Promise<unknown>;

async function makeSender(p: WorkerParams): Promise<{ send: SendChunk; close: () => Promise<void> }> {
  switch (p.client) {
    case "samsa": {
      const client = new Client({ bootstrap: p.bootstrap, clientId: "bench-samsa" });
      const producer = client.producer({
        compression: p.codec,
        lingerMs: 5,
        acks: "all",
        idempotent: true,
        // Tuning knobs for experiments; the published figures use the defaults.
        ...(process.env.SAMSA_BATCH_BYTES ? { batchBytes: Number(process.env.SAMSA_BATCH_BYTES) } : {}),
        ...(process.env.SAMSA_REQUEST_BYTES ? { maxRequestBytes: Number(process.env.SAMSA_REQUEST_BYTES) } : {}),
      });
      return {
        send: (values) => producer.send(values.map((value) => ({ topic: p.topic, value }))),
        close: async () => {
          await producer.close();
          client.close();
        },
      };
    }
    case "kafkajs": {
      const kafka = new Kafka({
        clientId: "bench-kafkajs",
        brokers: p.bootstrap.split(","),
        logLevel: logLevel.NOTHING,
      });
      // kafkajs allows idempotence only with one request in flight.
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      const compression = { none: CompressionTypes.None, gzip: CompressionTypes.GZIP } as Record<
        string,
        CompressionTypes
      >;
      return {
        send: (values) =>
          producer.send({
            topic: p.topic,
            acks: -1,
            compression: compression[p.codec],
            messages: values.map((value) => ({ value })),
          }),
        close: () => producer.disconnect(),
      };
    }
    case "platformatic": {
      const producer = new PlatformaticProducer({
        clientId: "bench-platformatic",
        bootstrapBrokers: p.bootstrap.split(","),
        // Its idempotent mode fails concurrent sends with OUT_OF_ORDER_SEQUENCE_NUMBER (seen
        // with 1.35.0): measured without idempotence, acks=all, and said so in the table.
        idempotent: false,
        acks: -1,
        ...(p.codec === "none" ? {} : { compression: p.codec as never }),
      });
      return {
        send: (values) => producer.send({ messages: values.map((value) => ({ topic: p.topic, value })) }),
        close: () => producer.close(),
      };
    }
  }
}

async function main(): Promise<void> {
  const p = JSON.parse(process.argv[2] as string) as WorkerParams;
  const sender = await makeSender(p);
  // Distinct values (as in a real stream), made before the clock starts.
  const values = Array.from({ length: 1024 }, (_, i) => {
    const b = Buffer.alloc(p.valueSize, i & 0xff);
    b.writeUInt32BE(i, 0);
    return b;
  });
  const chunkValues = (start: number) =>
    Array.from({ length: p.chunk }, (_, i) => values[(start + i) & 1023] as Buffer);
  // Warm-up outside the measurement: connections, metadata, producer id, JIT.
  for (let i = 0; i < 5; i++) await sender.send(chunkValues(i * p.chunk));
  const latencies: number[] = [];
  let sent = 0;
  let done = 0;
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    let outstanding = 0;
    const pump = () => {
      while (outstanding < p.window && sent < p.records) {
        const t = performance.now();
        const n = Math.min(p.chunk, p.records - sent);
        const chunk = n === p.chunk ? chunkValues(sent) : chunkValues(sent).slice(0, n);
        sent += n;
        outstanding++;
        sender.send(chunk).then(() => {
          latencies.push(performance.now() - t);
          outstanding--;
          done += n;
          if (done % 250_000 < p.chunk)
            process.stderr.write(`  ${p.client}: ${done.toLocaleString("en-US")} acknowledged\n`);
          if (done >= p.records) resolve();
          else pump();
        }, reject);
      }
    };
    pump();
  });
  const elapsedMs = performance.now() - started;
  await sender.close();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))] ?? 0;
  const result: WorkerResult = { records: done, elapsedMs, p50Ms: at(0.5), p99Ms: at(0.99) };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

await main();
