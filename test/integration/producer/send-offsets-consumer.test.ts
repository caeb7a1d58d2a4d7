/**
 * `sendOffsets(consumer)` and `consumer.groupMetadata()` (KIP-447) against the real broker,
 * for both group protocols: the consumer's positions (the batch in hand included) commit with
 * the transaction, a member a rebalance replaced has its transactional offsets refused, and a
 * consumer with auto-commit on is refused at the call.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { Client } from "../../../src/client.js";
import type { Consumer } from "../../../src/consumer/consumer.js";
import { TransactionAbortableError } from "../../../src/producer/errors.js";
import { InvalidArgumentError } from "../../../src/protocol/errors.js";
import { KafkaError } from "../../../src/protocol/kafka-error.js";
import { createTopic } from "../../helpers/topics.js";

describe("sendOffsets(consumer)", () => {
  const bootstrap = inject("kafkaBootstrap");
  let client: Client;
  beforeAll(() => {
    client = new Client({ bootstrap });
  });
  afterAll(() => client.close());

  /** The group's committed offset per partition of `topic`. */
  async function committed(groupId: string, topic: string, requireStable = true): Promise<Map<number, bigint>> {
    // Partitions named: a fetch of "all" lists only offsets already committed, so it would not
    // wait for a transaction's pending ones (KIP-447's requireStable applies to named partitions).
    const offsets = await client.admin().listGroupOffsets(groupId, {
      requireStable,
      partitions: [0, 1].map((partition) => ({ topic, partition })),
    });
    return new Map(offsets.filter((o) => o.offset >= 0n).map((o) => [o.partition, o.offset]));
  }

  /** Reads batches until `count` records were handed out; returns the last batch's partition and end. */
  async function readRecords(consumer: Consumer, count: number): Promise<number> {
    let n = 0;
    for await (const batch of consumer.batches({ signal: AbortSignal.timeout(30_000) })) {
      n += batch.messages.length;
      if (n >= count) return n;
    }
    return n;
  }

  for (const protocol of ["classic", "consumer"] as const) {
    it(`${protocol}: positions commit with the transaction, and the metadata names the member`, async () => {
      const input = `sendoffsets-in-${randomUUID()}`;
      const output = `sendoffsets-out-${randomUUID()}`;
      await createTopic(client, input, 2);
      await createTopic(client, output, 1);
      const producer = client.producer();
      for (let i = 0; i < 30; i++) await producer.send({ topic: input, partition: i % 2, value: `v${i}` });
      await producer.close();

      const groupId = `sendoffsets-${protocol}-${randomUUID()}`;
      const consumer = client.consumer({
        groupId,
        groupProtocol: protocol,
        autoCommit: false,
        autoOffsetReset: "earliest",
      });
      consumer.subscribe(input);
      const tx = client.producer({ transactionalId: `sendoffsets-${randomUUID()}` });
      await tx.beginTransaction();
      const read = await readRecords(consumer, 30);
      expect(read).toBe(30);

      const meta = consumer.groupMetadata();
      expect(meta.groupId).toBe(groupId);
      expect(meta.memberId).not.toBe("");
      expect(meta.generationIdOrMemberEpoch).toBeGreaterThan(0);
      expect(consumer.transactionOffsets().sort((a, b) => a.partition - b.partition)).toMatchObject([
        { topic: input, partition: 0, offset: 15n },
        { topic: input, partition: 1, offset: 15n },
      ]);

      await tx.send({ topic: output, value: "derived" });
      await tx.sendOffsets(consumer);
      expect((await committed(groupId, input, false)).size).toBe(0); // pending until the commit
      await tx.commitTransaction();
      expect(await committed(groupId, input)).toEqual(
        new Map([
          [0, 15n],
          [1, 15n],
        ]),
      );
      await consumer.close();
      await tx.close();
    });

    it(`${protocol}: a replaced member's transactional offsets are refused (KIP-447)`, async () => {
      const input = `sendoffsets-zombie-${randomUUID()}`;
      await createTopic(client, input, 1);
      const producer = client.producer();
      await producer.send({ topic: input, partition: 0, value: "only" });
      await producer.close();

      const groupId = `sendoffsets-zombie-${protocol}-${randomUUID()}`;
      const consumer = client.consumer({
        groupId,
        groupProtocol: protocol,
        autoCommit: false,
        autoOffsetReset: "earliest",
      });
      consumer.subscribe(input);
      await readRecords(consumer, 1);
      const stale = consumer.groupMetadata();
      await consumer.close(); // leaves: the member id is gone from the group

      const tx = client.producer({ transactionalId: `sendoffsets-zombie-${randomUUID()}` });
      await tx.beginTransaction();
      // The coordinator no longer knows the member: the call fails with its answer, and the
      // transaction can only abort (Java's CommitFailedException).
      const refused = await tx
        .sendOffsets(stale, [{ topic: input, partition: 0, offset: 1n }])
        .catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(KafkaError);
      expect(["UNKNOWN_MEMBER_ID", "ILLEGAL_GENERATION", "STALE_MEMBER_EPOCH"]).toContain(
        (refused as KafkaError).errorName,
      );
      expect(tx.transactionState).toBe("abortableError");
      await expect(tx.commitTransaction()).rejects.toBeInstanceOf(TransactionAbortableError);
      await tx.abortTransaction();
      expect((await committed(groupId, input)).get(0)).toBeUndefined();
      await tx.close();
    });
  }

  it("after an abort, seekToCommitted hands out the aborted batch's records again", async () => {
    const input = `sendoffsets-rewind-${randomUUID()}`;
    await createTopic(client, input, 1);
    const producer = client.producer();
    for (let i = 0; i < 10; i++) await producer.send({ topic: input, partition: 0, value: `r${i}` });
    await producer.close();
    const groupId = `sendoffsets-rewind-${randomUUID()}`;
    const consumer = client.consumer({
      groupId,
      autoCommit: false,
      autoOffsetReset: "earliest",
      isolationLevel: "read_committed",
    });
    consumer.subscribe(input);
    const tx = client.producer({ transactionalId: `sendoffsets-rewind-${randomUUID()}` });

    const seen: string[] = [];
    let aborted = false;
    for await (const batch of consumer.batches({ signal: AbortSignal.timeout(30_000) })) {
      seen.push(...batch.messages.map((m) => m.value?.toString() ?? ""));
      await tx.beginTransaction();
      await tx.sendOffsets(consumer);
      if (!aborted) {
        // The first pass fails on purpose: abort, and go back to the committed offsets.
        await tx.abortTransaction();
        aborted = true;
        consumer.seekToCommitted();
        continue;
      }
      await tx.commitTransaction();
      if (consumer.position({ topic: input, partition: 0 }) === 10n) break;
    }
    // r0 … first batch's end were handed out twice: once before the abort, once after.
    const first = seen.indexOf("r0");
    const again = seen.indexOf("r0", first + 1);
    expect(again).toBeGreaterThan(first);
    expect(seen.slice(again)).toEqual(Array.from({ length: 10 }, (_, i) => `r${i}`));
    expect(await committed(groupId, input)).toEqual(new Map([[0, 10n]]));
    await consumer.close();
    await tx.close();
  });

  it("refuses a consumer with auto-commit on, and one without a groupId, at the call", async () => {
    const topic = `sendoffsets-auto-${randomUUID()}`;
    await createTopic(client, topic, 1);
    const auto = client.consumer({ groupId: `sendoffsets-auto-${randomUUID()}` });
    const tx = client.producer({ transactionalId: `sendoffsets-auto-${randomUUID()}` });
    await tx.beginTransaction();
    await expect(tx.sendOffsets(auto)).rejects.toMatchObject({
      code: "SAMSA_ERR_INVALID_ARGUMENT",
      argument: "autoCommit",
    });
    const noGroup = client.consumer();
    expect(() => noGroup.groupMetadata()).toThrow(InvalidArgumentError);
    await tx.abortTransaction();
    await tx.close();
    await auto.close();
    await noGroup.close();
  });
});
