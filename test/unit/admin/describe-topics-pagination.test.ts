/**
 * describeTopics follows DescribeTopicPartitions' cursor on the broker's word. A fake broker
 * that never ends the pagination (the same cursor again, a cursor that goes back, one naming a
 * topic not asked for, a partition resent, a page past the limit) must get a ProtocolError
 * after the page that shows it, not be followed until memory runs out; one that advances
 * forever is stopped by the call's deadline with AdminTimeoutError, memory bounded. An honest
 * paginated answer is reassembled in partition order.
 */
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { Admin } from "../../../src/admin/admin.js";
import { AdminTimeoutError } from "../../../src/admin/errors.js";
import { Client } from "../../../src/client.js";
import { ProtocolError } from "../../../src/protocol/errors.js";
import {
  createDescribeTopicPartitionsResponse,
  DescribeTopicPartitions,
  type DescribeTopicPartitionsRequest,
  type DescribeTopicPartitionsResponse,
  createDescribeTopicPartitionsResponseDescribeTopicPartitionsResponsePartition as partition,
  createDescribeTopicPartitionsResponseDescribeTopicPartitionsResponseTopic as topic,
} from "../../../src/protocol/messages/index.js";
import { FakeBroker } from "../../../tools/fault/fake-broker.js";

const ID = "AAAAAAAAAAAAAAAAAAAAAQ";

function page(
  name: string,
  from: number,
  count: number,
  next: { topicName: string; partitionIndex: number } | null,
): DescribeTopicPartitionsResponse {
  return createDescribeTopicPartitionsResponse({
    topics: [
      topic({
        name,
        topicId: ID,
        partitions: Array.from({ length: count }, (_, i) =>
          partition({ partitionIndex: from + i, leaderId: 7, replicaNodes: [7], isrNodes: [7] }),
        ),
      }),
    ],
    nextCursor: next,
  });
}

describe("describeTopics pagination bounded by progress and deadline", () => {
  let broker: FakeBroker;
  let client: Client;
  let admin: Admin;
  beforeEach(async () => {
    broker = await FakeBroker.start({ nodeId: 7, topics: [{ name: "t", partitions: 3 }] });
    client = new Client({ bootstrap: broker.bootstrap, requestTimeoutMs: 2_000, retryBackoffMs: 20 });
    admin = new Admin(client);
  });
  afterEach(async () => {
    client.close();
    await broker.close();
  });

  const describeError = (timeoutMs = 10_000) =>
    admin.describeTopics(["t"], { timeoutMs, partitionsPerPage: 2 }).then(
      () => undefined,
      (e: unknown) => e,
    );

  test("an honest paginated answer is reassembled", async () => {
    broker.on(DescribeTopicPartitions, (r: DescribeTopicPartitionsRequest) =>
      r.cursor === null ? page("t", 0, 2, { topicName: "t", partitionIndex: 2 }) : page("t", 2, 1, null),
    );
    const [t] = await admin.describeTopics(["t"], { partitionsPerPage: 2 });
    expect(t?.partitions.map((p) => p.partition)).toEqual([0, 1, 2]);
    expect(broker.received(DescribeTopicPartitions).map((r) => r.request.cursor)).toEqual([
      null,
      { topicName: "t", partitionIndex: 2 },
    ]);
  });

  test("a cursor that never advances is a ProtocolError after two pages", async () => {
    broker.on(DescribeTopicPartitions, (r: DescribeTopicPartitionsRequest) =>
      page("t", r.cursor === null ? 0 : 2, r.cursor === null ? 2 : 0, { topicName: "t", partitionIndex: 2 }),
    );
    const err = await describeError();
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as ProtocolError).code).toBe("SAMSA_ERR_PROTOCOL");
    expect((err as Error).message).toMatch(/does not advance/);
    expect(broker.received(DescribeTopicPartitions)).toHaveLength(2);
  });

  test("a cursor that goes back is a ProtocolError", async () => {
    let n = 0;
    broker.on(DescribeTopicPartitions, () =>
      page("t", n++ * 2, 2, { topicName: "t", partitionIndex: n === 1 ? 5 : 3 }),
    );
    const err = await describeError();
    expect(err).toBeInstanceOf(ProtocolError);
    expect(broker.received(DescribeTopicPartitions)).toHaveLength(2);
  });

  test("a cursor naming a topic not asked for is a ProtocolError", async () => {
    broker.on(DescribeTopicPartitions, () => page("t", 0, 2, { topicName: "zzz", partitionIndex: 0 }));
    const err = await describeError();
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as Error).message).toMatch(/not asked for/);
    expect(broker.received(DescribeTopicPartitions)).toHaveLength(1);
  });

  test("a partition sent twice while paging is a ProtocolError", async () => {
    let n = 0;
    // The cursor advances, but the pages repeat partitions 0 and 1.
    broker.on(DescribeTopicPartitions, () => page("t", 0, 2, { topicName: "t", partitionIndex: 2 + n++ }));
    const err = await describeError();
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as Error).message).toMatch(/twice/);
  });

  test("a page larger than responsePartitionLimit is a ProtocolError", async () => {
    broker.on(DescribeTopicPartitions, () => page("t", 0, 100_000, null));
    const err = await describeError();
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as Error).message).toMatch(/limited to 2/);
  });

  test("a cursor that advances forever ends at the call's deadline with AdminTimeoutError", async () => {
    let next = 0;
    broker.on(DescribeTopicPartitions, () => {
      const from = next;
      next += 2;
      return page("t", from, 2, { topicName: "t", partitionIndex: next });
    });
    const rssBefore = process.memoryUsage.rss();
    const started = Date.now();
    const err = await describeError(1_500);
    const elapsed = Date.now() - started;
    expect(err).toBeInstanceOf(AdminTimeoutError);
    expect((err as AdminTimeoutError).code).toBe("SAMSA_ERR_ADMIN_TIMEOUT");
    expect(elapsed).toBeLessThan(5_000);
    expect(broker.received(DescribeTopicPartitions).length).toBeGreaterThan(2);
    expect(process.memoryUsage.rss() - rssBefore).toBeLessThan(300 * 1024 * 1024);
  });
});
