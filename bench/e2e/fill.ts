/**
 * Writes records into a topic with samsa before a measurement: the consumer suite's
 * pre-produce and the producer suite's broker warm-up. Sends 1,000 records per call with at
 * most 32 calls in flight, as the producer workers do (all at once would pass bufferMemory).
 */
import { Client } from "../../src/client.js";
import type { CompressionCodec } from "../../src/protocol/records/index.js";

/** Sends `records` records cycling through `values` (acks=all); returns records/s. */
export async function fillTopic(
  bootstrap: string,
  topic: string,
  records: number,
  values: readonly Buffer[],
  compression: CompressionCodec = "none",
): Promise<number> {
  const client = new Client({ bootstrap, clientId: "bench-fill" });
  const producer = client.producer({ acks: "all", compression });
  const chunk = 1000;
  const started = performance.now();
  try {
    const inFlight = new Set<Promise<unknown>>();
    for (let sent = 0; sent < records; ) {
      const n = Math.min(chunk, records - sent);
      const batch = Array.from({ length: n }, (_, i) => ({
        topic,
        value: values[(sent + i) % values.length] as Buffer,
      }));
      const p = producer.send(batch).finally(() => inFlight.delete(p));
      inFlight.add(p);
      sent += n;
      if (inFlight.size >= 32) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  } finally {
    await producer.close();
    client.close();
  }
  return (records / (performance.now() - started)) * 1000;
}
