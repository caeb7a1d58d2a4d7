/**
 * Test helper: reads every record of a topic from offset 0 to the high watermark with raw
 * Fetch requests, handing each record's value to a visitor instead of keeping it (the fault
 * suite reads back millions; the value is a view, valid during the call). Like read-back.ts, it stands in for the consumer so a producer
 * loss is not confused with a consumer one. Retries a partition whose leader moved.
 */
import type { Client } from "../../src/client.js";
import { decodeRecordBatches, nextOffset } from "../../src/protocol/records/index.js";
import { type FetchedPage, fetchPage } from "./read-back.js";

/** Calls `visit` with the value of every non-control record of `topic`; returns how many. */
export async function scanTopic(
  client: Client,
  topic: string,
  visit: (value: Buffer | null, partition: number) => void,
): Promise<number> {
  const metadata = await client.metadata([topic], { maxAgeMs: 0 });
  const t = metadata.topics.get(topic);
  if (!t) throw new Error(`unknown topic ${topic}`);
  let count = 0;
  for (const p of t.partitions) {
    let offset = 0n;
    let failures = 0;
    for (;;) {
      let part: FetchedPage;
      try {
        part = await fetchPage(client, { topic, topicId: t.topicId, partition: p.partition, offset });
      } catch (err) {
        // A leader that moved or a broker that restarts: refresh and try again, a while.
        if (++failures > 60) throw err;
        client.invalidateLeader();
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      if (offset >= part.highWatermark) break;
      const batches = await decodeRecordBatches(part.records ?? Buffer.alloc(0), {
        fromOffset: offset,
        topic,
        partition: p.partition,
      });
      if (batches.length === 0) throw new Error(`no progress at ${topic}-${p.partition}@${offset}`);
      for (const b of batches) {
        if (!b.isControl) {
          for (const r of b.records) {
            visit(r.value, p.partition);
            count++;
          }
        }
        offset = nextOffset(b);
      }
    }
  }
  return count;
}
