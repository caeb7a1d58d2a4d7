/**
 * Helpers of the consumer tests: produce numbered records, drain a consumer until a count,
 * and read a group's committed offsets with a raw OffsetFetch (not through the consumer).
 */
import type { Client } from "../../../src/client.js";
import type { Consumer } from "../../../src/consumer/consumer.js";
import type { Message } from "../../../src/consumer/message.js";
import { OffsetFetch } from "../../../src/protocol/messages/index.js";

/** Sends `count` records numbered from `from`, round-robin over `partitions`; value = index. */
export async function produceNumbered(
  client: Client,
  topic: string,
  count: number,
  partitions: number,
  from = 0,
): Promise<void> {
  const producer = client.producer({ lingerMs: 1 });
  await producer.send(
    Array.from({ length: count }, (_, k) => {
      const i = from + k;
      return {
        topic,
        partition: i % partitions,
        key: `k${i}`,
        value: String(i),
        headers: [{ key: "i", value: String(i) }],
        timestamp: 1_700_000_000_000 + i,
      };
    }),
  );
  await producer.close();
}

/** Reads messages until `count` arrived (then leaves the loop) or `timeoutMs` passed. */
export async function take(consumer: Consumer, count: number, timeoutMs = 30_000): Promise<Message[]> {
  const out: Message[] = [];
  if (count === 0) return out;
  const signal = AbortSignal.timeout(timeoutMs);
  for await (const m of consumer.messages({ signal })) {
    out.push(m);
    if (out.length >= count) break;
  }
  return out;
}

/** The group's committed offsets per partition of `topic` (-1n: none), straight from OffsetFetch. */
export async function committedOffsets(
  client: Client,
  groupId: string,
  topic: string,
  partitions: number,
): Promise<bigint[]> {
  const node = await client.coordinator("group", groupId);
  const connection = await client.connection(node.nodeId, "control");
  const response = await connection.request(
    OffsetFetch,
    {
      groupId: "",
      topics: [],
      groups: [
        {
          groupId,
          memberId: null,
          memberEpoch: -1,
          topics: [
            {
              name: topic,
              topicId: "AAAAAAAAAAAAAAAAAAAAAA",
              partitionIndexes: Array.from({ length: partitions }, (_, i) => i),
            },
          ],
        },
      ],
      requireStable: false,
    },
    { version: 9 },
  );
  const out = Array.from({ length: partitions }, () => -1n);
  for (const t of response.groups[0]?.topics ?? [])
    for (const p of t.partitions) out[p.partitionIndex] = p.committedOffset;
  return out;
}

/** Offsets per partition of `messages`, in arrival order. */
export function offsetsByPartition(messages: readonly Message[]): Map<number, bigint[]> {
  const out = new Map<number, bigint[]>();
  for (const m of messages) {
    const list = out.get(m.partition) ?? [];
    list.push(m.offset);
    out.set(m.partition, list);
  }
  return out;
}

/** `[0n, 1n, …, n-1n]`. */
export function range(n: number, from = 0): bigint[] {
  return Array.from({ length: n }, (_, i) => BigInt(from + i));
}
