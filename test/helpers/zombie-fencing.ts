/**
 * Test helper for the transactional producer's suites: the zombie-fencing scenario that
 * transactions.test.ts (the default broker, transaction.version 2 on Kafka 4.x) and
 * transactions-tv1.test.ts (a transaction.version=1 broker) both run, with its assertions.
 * What differs is the broker, i.e. the `client` passed in, and the names; a suite adds its
 * own checks (the TV1 one: the requests sent) with the transactional id this returns.
 */
import { randomUUID } from "node:crypto";
import { expect } from "vitest";
import type { Client } from "../../src/client.js";
import { ProducerFencedError, TransactionAbortableError } from "../../src/producer/errors.js";
import { KafkaError } from "../../src/protocol/kafka-error.js";
import { createTopic } from "./topics.js";
import { readIsolated, sortedValues } from "./transactional-read.js";

/** What the scenario used, for the calling test's own checks. */
export interface ZombieFencingRun {
  topic: string;
  transactionalId: string;
}

/**
 * A producer ("zombie") opens a transaction and sends; a second producer with the same
 * transactional id (the "successor") initializes, which aborts the zombie's transaction and
 * bumps the epoch. Asserts that the zombie's next send fails with a fencing error (or the
 * leader's INVALID_PRODUCER_EPOCH), that its commit — or the abort after an abortable commit
 * failure — is ProducerFencedError, that it is then in "fatalError" and fails fast, and that
 * read_committed sees only the successor's record while read_uncommitted also sees the
 * zombie's first one. `name` prefixes the topic (one partition) and the transactional id.
 */
export async function expectZombieFenced(client: Client, name: string): Promise<ZombieFencingRun> {
  const topic = `${name}-${randomUUID()}`;
  await createTopic(client, topic, 1);
  const transactionalId = `${name}-${randomUUID()}`;
  const zombie = client.producer({ transactionalId, lingerMs: 0 });
  await zombie.beginTransaction();
  await zombie.send({ topic, value: "zombie-1" });

  // The new instance: InitProducerId aborts the zombie's open transaction and bumps the epoch.
  const successor = client.producer({ transactionalId });
  await successor.initTransactions();

  const sendError = await zombie.send({ topic, value: "zombie-2" }).then(
    () => undefined,
    (e: unknown) => e,
  );
  // KIP-588: the leader answers INVALID_PRODUCER_EPOCH (abortable) or the producer is fenced outright.
  expect(
    sendError instanceof ProducerFencedError ||
      (sendError instanceof KafkaError &&
        (sendError.errorName === "INVALID_PRODUCER_EPOCH" || sendError.errorName === "PRODUCER_FENCED")),
    String(sendError),
  ).toBe(true);
  const commitError = await zombie.commitTransaction().then(
    () => undefined,
    (e: unknown) => e,
  );
  if (commitError instanceof TransactionAbortableError) {
    // The send only failed the transaction; ending it at the coordinator shows the fencing.
    await expect(zombie.abortTransaction()).rejects.toBeInstanceOf(ProducerFencedError);
  } else {
    expect(commitError).toBeInstanceOf(ProducerFencedError);
  }
  expect(zombie.transactionState).toBe("fatalError");
  // Fatal: every later call fails fast with the same error.
  await expect(zombie.beginTransaction()).rejects.toBeInstanceOf(ProducerFencedError);
  await expect(zombie.send({ topic, value: "zombie-3" })).rejects.toBeInstanceOf(ProducerFencedError);
  await zombie.close();

  await successor.transaction(async (tx) => {
    await tx.send({ topic, value: "successor-1" });
  });
  await successor.close();
  expect(sortedValues(await readIsolated(client, topic, 1))).toEqual(["successor-1"]);
  // zombie-2 and zombie-3 were refused; zombie-1 reached the log in the aborted transaction.
  expect(sortedValues(await readIsolated(client, topic, 0))).toEqual(["successor-1", "zombie-1"]);
  return { topic, transactionalId };
}
