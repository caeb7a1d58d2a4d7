import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { Admin, AdminOperationError } from "../../../src/admin/index.js";
import { Client } from "../../../src/client.js";
import { InvalidArgumentError } from "../../../src/protocol/errors.js";
import { ErrorCode } from "../../../src/protocol/index.js";
import { produce, unique } from "./helpers.js";

describe("Admin records and log dirs against one broker", () => {
  const bootstrap = inject("kafkaBootstrap");
  let client: Client;
  let admin: Admin;
  let topic: string;
  /** Timestamp of the first record of partition 0; the others follow one ms apart. */
  const t0 = Date.now() - 60_000;
  beforeAll(async () => {
    client = new Client({ bootstrap, clientId: "admin-records-test" });
    admin = new Admin(client);
    topic = unique("admin-records");
    await admin.createTopics([{ name: topic, numPartitions: 2 }]);
    await produce(client, topic, 0, 5, { timestamps: [0, 1, 2, 3, 4].map((i) => t0 + i * 1000) });
    await produce(client, topic, 1, 3);
  });
  afterAll(() => client.close());

  it("lists earliest, latest, by-timestamp and max-timestamp offsets per partition, in input order", async () => {
    const offsets = await admin.listOffsets([
      { topic, partition: 1, spec: "latest" },
      { topic, partition: 0 }, // latest by default
    ]);
    expect(offsets.map((o) => [o.partition, o.offset])).toEqual([
      [1, 3n],
      [0, 5n],
    ]);
    const [earliest] = await admin.listOffsets([{ topic, partition: 0, spec: "earliest" }]);
    expect(earliest?.offset).toBe(0n);
    const [atTime] = await admin.listOffsets([{ topic, partition: 0, spec: { timestamp: t0 + 1500 } }]);
    const [max, future] = await admin.listOffsets([
      { topic, partition: 0, spec: "maxTimestamp" },
      { topic, partition: 1, spec: { timestamp: Date.now() + 3_600_000 } },
    ]);
    // The first record at or after t0+1500 is the third (t0+2000).
    expect(atTime).toMatchObject({ offset: 2n, timestamp: t0 + 2000 });
    expect(max).toMatchObject({ offset: 4n, timestamp: t0 + 4000 });
    expect(future?.offset).toBe(-1n);
    const [committed] = await admin.listOffsets([{ topic, partition: 1 }], { isolationLevel: "readCommitted" });
    expect(committed?.offset).toBe(3n); // no open transaction: the last stable offset is the high watermark
  });

  it("reports a missing partition per item and answers the rest", async () => {
    const err = await admin
      .listOffsets([
        { topic, partition: 0 },
        { topic, partition: 9 },
      ])
      .catch((e) => e);
    expect(err).toBeInstanceOf(AdminOperationError);
    expect(err.failures).toHaveLength(1);
    expect(err.failures[0]).toMatchObject({ index: 1, item: `${topic}-9` });
    expect(err.failures[0].error.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    expect(err.results[0].offset).toBe(5n);
  });

  it("deletes records before an offset, which moves the earliest offset", async () => {
    const other = unique("admin-delete-records");
    await admin.createTopics([{ name: other, numPartitions: 2 }]);
    await produce(client, other, 0, 6);
    await produce(client, other, 1, 4);
    const deleted = await admin.deleteRecords([
      { topic: other, partition: 0, beforeOffset: 4n },
      { topic: other, partition: 1, beforeOffset: -1n }, // everything
    ]);
    expect(deleted).toEqual([
      { topic: other, partition: 0, lowWatermark: 4n },
      { topic: other, partition: 1, lowWatermark: 4n },
    ]);
    const earliest = await admin.listOffsets([
      { topic: other, partition: 0, spec: "earliest" },
      { topic: other, partition: 1, spec: "earliest" },
    ]);
    expect(earliest.map((o) => o.offset)).toEqual([4n, 4n]);
    const err = await admin.deleteRecords([{ topic: other, partition: 0, beforeOffset: 100n }]).catch((e) => e);
    expect(err.failures[0].error.errorCode).toBe(ErrorCode.OFFSET_OUT_OF_RANGE);
  });

  it("describes the broker's log dir with the topic's replicas and sizes", async () => {
    const [broker] = await admin.describeLogDirs();
    const cluster = await admin.describeCluster();
    expect(broker?.broker).toBe(cluster.brokers[0]?.nodeId);
    expect(broker?.logDirs).toHaveLength(1);
    const dir = broker?.logDirs[0];
    expect(dir?.error).toBeUndefined();
    expect(dir?.path.startsWith("/")).toBe(true);
    expect(dir?.totalBytes).toBeGreaterThan(0n);
    expect(dir?.usableBytes).toBeGreaterThan(0n);
    const mine = dir?.replicas.filter((r) => r.topic === topic).sort((a, b) => a.partition - b.partition);
    expect(mine?.map((r) => r.partition)).toEqual([0, 1]);
    expect(mine?.[0]?.size).toBeGreaterThan(0n);
    expect(mine?.[0]?.isFuture).toBe(false);
  });

  it("moves a replica to a log dir of its broker, and refuses a dir the broker lacks", async () => {
    const [broker] = await admin.describeLogDirs();
    const path = broker?.logDirs[0]?.path as string;
    const nodeId = broker?.broker as number;
    // Its current dir: accepted as a no-op.
    expect(await admin.alterReplicaLogDirs([{ topic, partition: 0, broker: nodeId, path }])).toEqual([
      { topic, partition: 0, broker: nodeId, path },
    ]);
    const err = await admin
      .alterReplicaLogDirs([{ topic, partition: 1, broker: nodeId, path: "/nonexistent/samsa" }])
      .catch((e) => e);
    expect(err).toBeInstanceOf(AdminOperationError);
    expect(err.failures[0].error.errorCode).toBe(ErrorCode.LOG_DIR_NOT_FOUND);
  });

  it("refuses bad input before sending anything", async () => {
    const cases: [() => Promise<unknown>, string][] = [
      [() => admin.listOffsets([{ topic: "", partition: 0 }]), "queries[0].topic"],
      [() => admin.listOffsets([{ topic, partition: -1 }]), "queries[0].partition"],
      [() => admin.listOffsets([{ topic, partition: 0, spec: "newest" as never }]), "queries[0].spec"],
      [
        () =>
          admin.listOffsets([
            { topic, partition: 0 },
            { topic, partition: 0, spec: "earliest" },
          ]),
        "queries[1]",
      ],
      [() => admin.deleteRecords([{ topic, partition: 0, beforeOffset: -2n }]), "items[0].beforeOffset"],
      [() => admin.alterReplicaLogDirs([{ topic, partition: 0, broker: 1, path: "relative" }]), "moves[0].path"],
    ];
    for (const [run, argument] of cases) {
      const err = (await run().catch((e: unknown) => e)) as InvalidArgumentError;
      expect(err, argument).toBeInstanceOf(InvalidArgumentError);
      expect(err.argument).toBe(argument);
    }
  });
});
