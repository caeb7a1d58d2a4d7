/**
 * Helpers for the admin integration tests: unique names, and raw requests (Produce,
 * OffsetFetch) that give the tests facts to check the admin client against without depending
 * on samsa's producer or consumer.
 */
import { randomUUID } from "node:crypto";
import { expect } from "vitest";
import type { Client } from "../../../src/client.js";
import { kafkaError, RecordBatchBuilder, ZERO_UUID } from "../../../src/protocol/index.js";
import { OffsetFetch, Produce } from "../../../src/protocol/messages/index.js";

/** A unique topic or group name with a readable prefix. */
export function unique(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** Options of {@link produce}. */
export interface ProduceOptions {
  /** Record timestamps; default now, one ms apart. */
  timestamps?: number[];
  /** Transactional produce: the producer id, epoch and transactional id. */
  transaction?: { transactionalId: string; producerId: bigint; producerEpoch: number; baseSequence?: number };
}

/**
 * Writes `count` records to one partition with a raw Produce (v12, topics by name) on the
 * partition leader; returns the base offset.
 */
export async function produce(
  client: Client,
  topic: string,
  partition: number,
  count: number,
  options: ProduceOptions = {},
): Promise<bigint> {
  const now = Date.now();
  const txn = options.transaction;
  const builder = new RecordBatchBuilder(
    txn
      ? {
          producerId: txn.producerId,
          producerEpoch: txn.producerEpoch,
          baseSequence: txn.baseSequence ?? 0,
          isTransactional: true,
        }
      : {},
  );
  for (let i = 0; i < count; i++) {
    builder.append({ value: `record ${i}`, timestamp: options.timestamps?.[i] ?? now + i });
  }
  const records = builder.build();
  // A new topic's leader may not serve yet (NOT_LEADER_OR_FOLLOWER for a moment): retry those.
  return eventually(async () => {
    const leader = await client.leader(topic, partition);
    const connection = await client.connection(leader.nodeId, "produce");
    const version = Math.min(connection.versionFor(Produce), 12);
    const response = await connection.request(
      Produce,
      {
        transactionalId: txn?.transactionalId ?? null,
        acks: -1,
        timeoutMs: 10_000,
        topicData: [{ name: topic, topicId: ZERO_UUID, partitionData: [{ index: partition, records }] }],
      },
      { version },
    );
    const p = response.responses[0]?.partitionResponses[0];
    if (p && p.errorCode !== 0 && kafkaError(p.errorCode).retriable) {
      client.invalidateLeader();
      throw kafkaError(p.errorCode);
    }
    expect(p?.errorCode).toBe(0);
    return p?.baseOffset as bigint;
  });
}

/** The committed offset of one partition for a group, with a raw OffsetFetch (v7, by name). */
export async function fetchCommitted(client: Client, group: string, topic: string, partition: number): Promise<bigint> {
  const node = await client.coordinator("group", group);
  const connection = await client.connection(node.nodeId, "control");
  const response = await connection.request(
    OffsetFetch,
    { groupId: group, topics: [{ name: topic, partitionIndexes: [partition] }], groups: [], requireStable: true },
    { version: 7 },
  );
  expect(response.errorCode).toBe(0);
  const p = response.topics[0]?.partitions[0];
  expect(p?.errorCode).toBe(0);
  return p?.committedOffset as bigint;
}

/** Polls `check` until it stops throwing (KRaft metadata reaches brokers asynchronously). */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
