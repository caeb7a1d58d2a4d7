import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { Admin, AdminOperationError } from "../../../src/admin/index.js";
import { Client } from "../../../src/client.js";
import { InvalidArgumentError } from "../../../src/protocol/errors.js";
import { ErrorCode, KafkaError } from "../../../src/protocol/index.js";
import { InitProducerId } from "../../../src/protocol/messages/index.js";
import { eventually, produce, unique } from "./helpers.js";

describe("Admin transactions, quotas, SCRAM and tokens against one broker", () => {
  const bootstrap = inject("kafkaBootstrap");
  let client: Client;
  let admin: Admin;
  beforeAll(() => {
    client = new Client({ bootstrap, clientId: "admin-txn-test" });
    admin = new Admin(client);
  });
  afterAll(() => client.close());

  it("lists, describes and fences an open transaction, and describes its producer on the partition", async () => {
    const topic = unique("admin-txn");
    const transactionalId = unique("admin-txn-id");
    await admin.createTopics([{ name: topic, numPartitions: 1 }]);
    // The first transactional id of a run creates and loads __transaction_state: retry until it serves.
    const { node, init } = await eventually(async () => {
      const node = await client.coordinator("transaction", transactionalId);
      const init = await (await client.connection(node.nodeId, "control")).request(InitProducerId, {
        transactionalId,
        transactionTimeoutMs: 60_000,
        producerId: -1n,
        producerEpoch: -1,
        enable2Pc: false,
        keepPreparedTxn: false,
      });
      if (init.errorCode !== 0) client.invalidateCoordinator("transaction", transactionalId);
      expect(init.errorCode).toBe(0);
      return { node, init };
    }, 60_000);
    const { producerId, producerEpoch } = init;
    // Produce v12 adds the partition to the transaction itself (KIP-890, transaction.version 2).
    await produce(client, topic, 0, 3, { transaction: { transactionalId, producerId, producerEpoch } });

    const [txn] = await admin.describeTransactions([transactionalId]);
    expect(txn).toMatchObject({
      transactionalId,
      state: "Ongoing",
      producerId,
      transactionTimeoutMs: 60_000,
      partitions: [{ topic, partitions: [0] }],
      coordinator: node.nodeId,
    });
    expect(txn?.producerEpoch).toBeGreaterThanOrEqual(producerEpoch);
    expect(txn?.startTimeMs).toBeGreaterThan(Date.now() - 60_000);

    const ongoing = await admin.listTransactions({ states: ["Ongoing"] });
    expect(ongoing.find((t) => t.transactionalId === transactionalId)).toEqual({
      transactionalId,
      producerId,
      state: "Ongoing",
      coordinator: node.nodeId,
    });
    const byProducer = await admin.listTransactions({ producerIds: [producerId] });
    expect(byProducer.map((t) => t.transactionalId)).toEqual([transactionalId]);
    const byPattern = await admin.listTransactions({ transactionalIdPattern: `^${transactionalId}$` });
    expect(byPattern.map((t) => t.transactionalId)).toEqual([transactionalId]);

    const [producers] = await admin.describeProducers([{ topic, partition: 0 }]);
    const state = producers?.activeProducers.find((p) => p.producerId === producerId);
    expect(state).toMatchObject({ currentTxnStartOffset: 0n, lastSequence: 2 });
    const [uncommitted, stable] = await Promise.all([
      admin.listOffsets([{ topic, partition: 0 }]),
      admin.listOffsets([{ topic, partition: 0 }], { isolationLevel: "readCommitted" }),
    ]);
    expect(uncommitted[0]?.offset).toBe(3n);
    expect(stable[0]?.offset).toBe(0n); // the open transaction holds the last stable offset back

    const [fenced] = await admin.fenceProducers([transactionalId]);
    expect(fenced?.transactionalId).toBe(transactionalId);
    expect(fenced?.producerId).toBe(producerId);
    expect(fenced?.producerEpoch).toBeGreaterThan(txn?.producerEpoch as number);
    // Fencing aborted the open transaction (InitProducerId answers CONCURRENT_TRANSACTIONS, which
    // is retried, until the abort completes) and left the id with the new epoch and no transaction.
    const [after] = await admin.describeTransactions([transactionalId]);
    expect(after).toMatchObject({ state: "Empty", producerEpoch: fenced?.producerEpoch, partitions: [] });
    await eventually(async () => {
      const [lso] = await admin.listOffsets([{ topic, partition: 0 }], { isolationLevel: "readCommitted" });
      expect(lso?.offset).toBe(4n); // three records and the abort marker
    });
    const unknown = await admin.describeTransactions([unique("admin-no-txn")]).catch((e) => e);
    expect(unknown).toBeInstanceOf(AdminOperationError);
    expect(unknown.failures[0].error.errorCode).toBe(ErrorCode.TRANSACTIONAL_ID_NOT_FOUND);
  });

  it("sets, describes and removes client quotas", async () => {
    const user = unique("quota-user");
    const clientId = unique("quota-client");
    const entity = { user, "client-id": clientId };
    await admin.alterClientQuotas([{ entity: { user }, set: { producer_byte_rate: 1_048_576 } }], {
      validateOnly: true,
    });
    expect(await admin.describeClientQuotas({ components: [{ entityType: "user", match: user }] })).toEqual([]);
    expect(
      await admin.alterClientQuotas([
        { entity: { user }, set: { producer_byte_rate: 1_048_576, consumer_byte_rate: 2_097_152 } },
        { entity, set: { request_percentage: 50 } },
      ]),
    ).toEqual([{ user }, entity]);
    await eventually(async () => {
      const found = await admin.describeClientQuotas({ components: [{ entityType: "user", match: user }] });
      // Sorted by entity: "client-id=…,user=…" before "user=…".
      expect(found).toEqual([
        { entity, values: { request_percentage: 50 } },
        { entity: { user }, values: { producer_byte_rate: 1_048_576, consumer_byte_rate: 2_097_152 } },
      ]);
      const strict = await admin.describeClientQuotas({
        components: [{ entityType: "user", match: user }],
        strict: true,
      });
      expect(strict.map((e) => e.entity)).toEqual([{ user }]);
    });
    await admin.alterClientQuotas([
      { entity: { user }, remove: ["producer_byte_rate", "consumer_byte_rate"] },
      { entity, remove: ["request_percentage"] },
    ]);
    await eventually(async () => {
      expect(await admin.describeClientQuotas({ components: [{ entityType: "user", match: user }] })).toEqual([]);
    });
    const err = await admin.alterClientQuotas([{ entity: { user }, set: { no_such_quota: 1 } }]).catch((e) => e);
    expect(err).toBeInstanceOf(AdminOperationError);
    expect(err.failures[0].error.errorCode).toBe(ErrorCode.INVALID_REQUEST);
  });

  it("upserts, describes and deletes SCRAM credentials", async () => {
    const user = unique("scram-user");
    expect(
      await admin.upsertUserScramCredentials([
        { user, mechanism: "SCRAM-SHA-256", password: "s3cret", iterations: 4096 },
      ]),
    ).toEqual([user]);
    await admin.upsertUserScramCredentials([{ user, mechanism: "SCRAM-SHA-512", password: "s3cret" }]);
    await eventually(async () => {
      const [described] = await admin.describeUserScramCredentials([user]);
      expect(described?.credentials.sort((a, b) => a.mechanism.localeCompare(b.mechanism))).toEqual([
        { mechanism: "SCRAM-SHA-256", iterations: 4096 },
        { mechanism: "SCRAM-SHA-512", iterations: 8192 },
      ]);
      expect((await admin.describeUserScramCredentials()).some((u) => u.user === user)).toBe(true);
    });
    expect(await admin.deleteUserScramCredentials([{ user, mechanism: "SCRAM-SHA-256" }])).toEqual([user]);
    await eventually(async () => {
      const [described] = await admin.describeUserScramCredentials([user]);
      expect(described?.credentials).toEqual([{ mechanism: "SCRAM-SHA-512", iterations: 8192 }]);
    });
    const missing = await admin.describeUserScramCredentials([unique("nobody")]).catch((e) => e);
    expect(missing).toBeInstanceOf(AdminOperationError);
    expect(missing.failures[0].error.errorCode).toBe(ErrorCode.RESOURCE_NOT_FOUND);
  });

  it("refuses delegation tokens on a connection without SASL", async () => {
    const err = await admin.createDelegationToken().catch((e) => e);
    expect(err).toBeInstanceOf(KafkaError);
    expect(err.errorCode).toBe(ErrorCode.DELEGATION_TOKEN_REQUEST_NOT_ALLOWED);
    const described = await admin.describeDelegationTokens().catch((e) => e);
    expect(described).toBeInstanceOf(KafkaError);
    expect(described.errorCode).toBe(ErrorCode.DELEGATION_TOKEN_REQUEST_NOT_ALLOWED);
  });

  it("refuses bad input before sending anything", async () => {
    const cases: [() => Promise<unknown>, string][] = [
      [
        () =>
          admin.upsertUserScramCredentials([{ user: "u", mechanism: "SCRAM-SHA-256", password: "p", iterations: 100 }]),
        "upsertions[0].iterations",
      ],
      [() => admin.deleteUserScramCredentials([{ user: "u", mechanism: "MD5" as never }]), "deletions[0].mechanism"],
      [
        () =>
          admin.upsertUserScramCredentials([
            { user: "u", mechanism: "SCRAM-SHA-256", password: "p" },
            { user: "u", mechanism: "SCRAM-SHA-512", password: "p" },
          ]),
        "upsertions[1]",
      ],
      [() => admin.alterClientQuotas([{ entity: {}, set: { a: 1 } }]), "alterations[0].entity"],
      [() => admin.alterClientQuotas([{ entity: { user: "u" } }]), "alterations[0]"],
      [() => admin.alterClientQuotas([{ entity: { user: "u" }, set: { a: -1 } }]), "alterations[0].set.a"],
      [() => admin.fenceProducers([""]), "transactionalIds[0]"],
      [() => admin.describeTransactions(["t", "t"]), "transactionalIds[1]"],
      [() => admin.createDelegationToken({ owner: "alice" }), "owner"],
      [() => admin.renewDelegationToken(Buffer.alloc(0)), "hmac"],
    ];
    for (const [run, argument] of cases) {
      const err = (await run().catch((e: unknown) => e)) as InvalidArgumentError;
      expect(err, argument).toBeInstanceOf(InvalidArgumentError);
      expect(err.argument).toBe(argument);
    }
  });
});
