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
import type { ConsumerOptions } from "../../../src/consumer/options.js";
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

  /** A topic a test created, with its partition count. */
  interface Input {
    name: string;
    partitions: number;
  }

  /** The group's committed offset per partition of `topic` (each of the partitions it was created with). */
  async function committed(groupId: string, topic: Input, requireStable = true): Promise<Map<number, bigint>> {
    // Partitions named: a fetch of "all" lists only offsets already committed, so it would not
    // wait for a transaction's pending ones (KIP-447's requireStable applies to named partitions).
    const offsets = await client.admin().listGroupOffsets(groupId, {
      requireStable,
      partitions: Array.from({ length: topic.partitions }, (_, partition) => ({ topic: topic.name, partition })),
    });
    return new Map(offsets.filter((o) => o.offset >= 0n).map((o) => [o.partition, o.offset]));
  }

  /**
   * The prelude of the tests that consume: creates `<name>-<uuid>` with `partitions`
   * partitions, writes `values` to it (the i-th to partition i % partitions, one send each,
   * no transaction), and subscribes a consumer of a new group (`<name>-<protocol>-<uuid>`) to
   * it from the earliest offset, with auto-commit off so only the transactions commit.
   */
  async function subscribedConsumer(
    name: string,
    partitions: number,
    values: readonly string[],
    options: Pick<ConsumerOptions, "groupProtocol" | "isolationLevel"> = {},
  ): Promise<{ input: Input; groupId: string; consumer: Consumer }> {
    const input = { name: `${name}-${randomUUID()}`, partitions };
    await createTopic(client, input.name, partitions);
    const producer = client.producer();
    for (const [i, value] of values.entries()) {
      await producer.send({ topic: input.name, partition: i % partitions, value });
    }
    await producer.close();
    const groupId = `${name}-${options.groupProtocol ?? "default"}-${randomUUID()}`;
    const consumer = client.consumer({ groupId, autoCommit: false, autoOffsetReset: "earliest", ...options });
    consumer.subscribe(input.name);
    return { input, groupId, consumer };
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
      const { input, groupId, consumer } = await subscribedConsumer(
        "sendoffsets-in",
        2,
        Array.from({ length: 30 }, (_, i) => `v${i}`),
        { groupProtocol: protocol },
      );
      const output = `sendoffsets-out-${randomUUID()}`;
      await createTopic(client, output, 1);
      const tx = client.producer({ transactionalId: `sendoffsets-${randomUUID()}` });
      await tx.beginTransaction();
      const read = await readRecords(consumer, 30);
      expect(read).toBe(30);

      const meta = consumer.groupMetadata();
      expect(meta.groupId).toBe(groupId);
      expect(meta.memberId).not.toBe("");
      expect(meta.generationIdOrMemberEpoch).toBeGreaterThan(0);
      expect(consumer.transactionOffsets().sort((a, b) => a.partition - b.partition)).toMatchObject([
        { topic: input.name, partition: 0, offset: 15n },
        { topic: input.name, partition: 1, offset: 15n },
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
      const { input, groupId, consumer } = await subscribedConsumer("sendoffsets-zombie", 1, ["only"], {
        groupProtocol: protocol,
      });
      await readRecords(consumer, 1);
      const stale = consumer.groupMetadata();
      await consumer.close(); // leaves: the member id is gone from the group

      const tx = client.producer({ transactionalId: `sendoffsets-zombie-${randomUUID()}` });
      await tx.beginTransaction();
      // The coordinator no longer knows the member: the call fails with its answer, and the
      // transaction can only abort (Java's CommitFailedException).
      const refused = await tx
        .sendOffsets(stale, [{ topic: input.name, partition: 0, offset: 1n }])
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
    const { input, groupId, consumer } = await subscribedConsumer(
      "sendoffsets-rewind",
      1,
      Array.from({ length: 10 }, (_, i) => `r${i}`),
      { isolationLevel: "read_committed" },
    );
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
      if (consumer.position({ topic: input.name, partition: 0 }) === 10n) break;
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
