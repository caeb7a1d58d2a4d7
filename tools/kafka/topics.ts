/**
 * Creates a topic on a harness broker and waits until every partition's leader really
 * serves it (ListOffsets answers without NOT_LEADER_OR_FOLLOWER). Metadata names a leader a
 * moment before the leader accepts writes; acks=0 writes in that moment vanish without an
 * error, as they would with any Kafka client. Used by tests and benchmarks.
 */
import type { Client } from "../../src/client.js";
import { CreateTopics, createCreateTopicsRequest, ListOffsets } from "../../src/protocol/index.js";

/** Creates `name` and waits for its leaders; throws if the broker refuses or is too slow. */
export async function createTopic(
  client: Client,
  name: string,
  partitions: number,
  replicationFactor = 1,
  configs: { name: string; value: string }[] = [],
): Promise<void> {
  const c = await client.anyConnection();
  const r = await c.request(
    CreateTopics,
    createCreateTopicsRequest({
      topics: [{ name, numPartitions: partitions, replicationFactor, assignments: [], configs }],
      timeoutMs: 30_000,
    }),
  );
  const code = r.topics[0]?.errorCode ?? -1;
  if (code !== 0) throw new Error(`CreateTopics ${name}: error ${code} ${r.topics[0]?.errorMessage ?? ""}`);
  const deadline = Date.now() + 30_000;
  for (let p = 0; p < partitions; p++) {
    for (;;) {
      client.invalidateLeader();
      const leader = await client.leader(name, p).catch(() => undefined);
      if (leader) {
        const conn = await client.connection(leader.nodeId, "control");
        const res = await conn.request(ListOffsets, {
          replicaId: -1,
          isolationLevel: 0,
          timeoutMs: 5000,
          topics: [{ name, partitions: [{ partitionIndex: p, currentLeaderEpoch: -1, timestamp: -1n }] }],
        });
        if (res.topics[0]?.partitions[0]?.errorCode === 0) break;
      }
      if (Date.now() > deadline) throw new Error(`${name}-${p} has no serving leader after 30 s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
