/**
 * Test helper for the transactional producer's tests: reads a topic with raw Fetch requests at
 * either isolation level (dropping aborted transactions as Java's fetcher does, not through
 * samsa's consumer), and asks the coordinators for a group's committed offsets and for a
 * transactional id's state, so a test checks what the broker holds, not what the producer says.
 */
import type { Client } from "../../src/client.js";
import { createOffsetFetchRequest, DescribeTransactions, OffsetFetch } from "../../src/protocol/index.js";
import { decodeRecordBatches, nextOffset } from "../../src/protocol/records/index.js";
import { fetchPage } from "./read-back.js";

/** One data record as a reader at one isolation level sees it, with its batch's producer fields. */
export interface Seen {
  partition: number;
  value: string;
  producerId: bigint;
  producerEpoch: number;
  transactional: boolean;
}

/**
 * Reads `topic` as a consumer at `isolationLevel` would: 0 up to the high watermark, 1 up to
 * the last stable offset, dropping the records of aborted transactions the way Java's fetcher
 * does (the response's abortedTransactions list, closed by the abort markers). Keeps each
 * batch's producer id and epoch, which a consumer's records do not show.
 */
export async function readIsolated(client: Client, topic: string, isolationLevel: 0 | 1): Promise<Seen[]> {
  const metadata = await client.metadata([topic], { maxAgeMs: 0 });
  const t = metadata.topics.get(topic);
  if (!t) throw new Error(`unknown topic ${topic}`);
  const out: Seen[] = [];
  for (const p of t.partitions) {
    if (isolationLevel === 1) {
      // commitTransaction() returns once the coordinator decided; the markers reach the
      // partitions a moment later. Wait (a while) for the last stable offset to catch up, so a
      // read right after a commit sees it, as a consumer polling a little later would.
      for (let wait = 0; wait < 50; wait++) {
        const probe = await fetchPage(client, {
          topic,
          topicId: t.topicId,
          partition: p.partition,
          offset: 0n,
          isolationLevel,
        });
        if (probe.lastStableOffset >= probe.highWatermark) break;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    let offset = 0n;
    // Producers whose transaction the fetch response said was aborted at or before the batch
    // being read, until their abort marker closes it.
    const abortedProducers = new Set<bigint>();
    for (let round = 0; round < 1000; round++) {
      const part = await fetchPage(client, {
        topic,
        topicId: t.topicId,
        partition: p.partition,
        offset,
        isolationLevel,
      });
      const end = isolationLevel === 1 ? part.lastStableOffset : part.highWatermark;
      if (offset >= end) break;
      const aborted = [...(part.abortedTransactions ?? [])].sort((a, b) => Number(a.firstOffset - b.firstOffset));
      const batches = await decodeRecordBatches(part.records ?? Buffer.alloc(0), { fromOffset: offset });
      if (batches.length === 0) break;
      for (const b of batches) {
        const last = b.baseOffset + BigInt(b.lastOffsetDelta);
        if (b.baseOffset >= end) break;
        while (aborted.length > 0 && (aborted[0]?.firstOffset ?? 0n) <= last) {
          abortedProducers.add((aborted.shift() as { producerId: bigint }).producerId);
        }
        if (b.isControl) {
          if (b.control?.type === 0) abortedProducers.delete(b.producerId);
        } else if (!(isolationLevel === 1 && b.isTransactional && abortedProducers.has(b.producerId))) {
          for (const r of b.records) {
            out.push({
              partition: p.partition,
              value: r.value ? Buffer.from(r.value).toString() : "",
              producerId: b.producerId,
              producerEpoch: b.producerEpoch,
              transactional: b.isTransactional,
            });
          }
        }
        offset = nextOffset(b);
      }
    }
  }
  return out;
}

/** The values of `seen`, sorted: what a test compares when the order across partitions is not fixed. */
export const sortedValues = (seen: Seen[]): string[] => seen.map((s) => s.value).sort();

/**
 * The group's stable committed offsets of `topic` partitions 0 and 1 (OffsetFetch ≤ v8, by
 * name), as "topic-partition" → offset. Asks again while the broker answers
 * UNSTABLE_OFFSET_COMMIT, i.e. until a transactional commit's markers are written.
 */
export async function committedOffsets(client: Client, groupId: string, topic: string): Promise<Map<string, bigint>> {
  const node = await client.coordinator("group", groupId);
  const connection = await client.connection(node.nodeId, { api: OffsetFetch });
  for (let attempt = 0; attempt < 100; attempt++) {
    const response = await connection.request(
      OffsetFetch,
      createOffsetFetchRequest({
        // Named partitions: with all-topics (null) a pending transactional commit is left out, not flagged unstable.
        groups: [
          {
            groupId,
            memberId: null,
            memberEpoch: -1,
            topics: [{ name: topic, topicId: "", partitionIndexes: [0, 1] }],
          },
        ],
        requireStable: true,
      }),
      { version: Math.min(8, connection.versionFor(OffsetFetch)) },
    );
    const out = new Map<string, bigint>();
    let stable = true;
    for (const g of response.groups) {
      if (g.errorCode !== 0) stable = false;
      for (const t of g.topics) {
        for (const p of t.partitions) {
          if (p.errorCode !== 0) stable = false;
          out.set(`${t.name}-${p.partitionIndex}`, p.committedOffset);
        }
      }
    }
    if (stable) return out;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`offsets of ${groupId} still unstable`);
}

/** The transaction coordinator's view of `transactionalId` (DescribeTransactions), or undefined. */
export async function describeTransaction(client: Client, transactionalId: string) {
  const node = await client.coordinator("transaction", transactionalId);
  const connection = await client.connection(node.nodeId, { api: DescribeTransactions });
  const response = await connection.request(DescribeTransactions, { transactionalIds: [transactionalId] });
  return response.transactionStates[0];
}
