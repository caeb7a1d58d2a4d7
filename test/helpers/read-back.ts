/**
 * Test helper: reads every record of a topic back with raw Fetch requests and samsa's record
 * decoder, from offset 0 to the high watermark of each partition. A stand-in for the consumer
 * in producer tests (the consumer has its own tests).
 */
import type { Client } from "../../src/client.js";
import { createFetchRequest, createFetchRequestFetchPartition, Fetch } from "../../src/protocol/index.js";
import { decodeRecordBatches, nextOffset, recordOffset, recordTimestamp } from "../../src/protocol/records/index.js";

/** One record as read back. */
export interface ReadRecord {
  partition: number;
  offset: bigint;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: { key: string; value: Buffer | null }[];
  producerId: bigint;
  compression: string;
}

/** One partition's answer to {@link fetchPage}. */
export interface FetchedPage {
  errorCode: number;
  highWatermark: bigint;
  lastStableOffset: bigint;
  records: Buffer | null;
  abortedTransactions: { producerId: bigint; firstOffset: bigint }[] | null;
}

/**
 * One raw Fetch of one partition from `offset`, from its leader (no session, no wait), with
 * its error code checked: the read-back helpers' one request.
 */
export async function fetchPage(
  client: Client,
  where: { topic: string; topicId: string; partition: number; offset: bigint; isolationLevel?: 0 | 1 },
): Promise<FetchedPage> {
  const leader = await client.leader(where.topic, where.partition);
  const connection = await client.connection(leader.nodeId, "fetch");
  const response = await connection.request(
    Fetch,
    createFetchRequest({
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 16 * 1024 * 1024,
      isolationLevel: where.isolationLevel ?? 0,
      sessionEpoch: -1,
      topics: [
        {
          topic: where.topic,
          topicId: where.topicId,
          partitions: [
            createFetchRequestFetchPartition({
              partition: where.partition,
              fetchOffset: where.offset,
              partitionMaxBytes: 8 * 1024 * 1024,
            }),
          ],
        },
      ],
    }),
  );
  const part = response.responses[0]?.partitions[0];
  if (!part) throw new Error("no partition in the fetch response");
  if (part.errorCode !== 0) throw new Error(`fetch error ${part.errorCode} for ${where.topic}-${where.partition}`);
  return part;
}

/** Reads all records of every partition of `topic`, in offset order per partition. */
export async function readBack(client: Client, topic: string): Promise<ReadRecord[]> {
  const metadata = await client.metadata([topic], { maxAgeMs: 0 });
  const t = metadata.topics.get(topic);
  if (!t) throw new Error(`unknown topic ${topic}`);
  const out: ReadRecord[] = [];
  for (const p of t.partitions) {
    let offset = 0n;
    for (let round = 0; round < 100_000; round++) {
      const part = await fetchPage(client, { topic, topicId: t.topicId, partition: p.partition, offset });
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
            out.push({
              partition: p.partition,
              offset: recordOffset(b, r),
              timestamp: recordTimestamp(b, r),
              key: r.key ? Buffer.from(r.key) : null,
              value: r.value ? Buffer.from(r.value) : null,
              headers: r.headers.map((h) => ({ key: h.key, value: h.value ? Buffer.from(h.value) : null })),
              producerId: b.producerId,
              compression: b.compression,
            });
          }
        }
        offset = nextOffset(b);
      }
    }
  }
  return out;
}
