/**
 * Vitest global setup for integration tests: one single-node broker for the whole run, or
 * the broker named by `KAFKA_BOOTSTRAP` when set (e.g. one started with `npm run kafka -- start`).
 * Tests read the address with `inject("kafkaBootstrap")`. `KAFKA_TRANSACTION_VERSION=1` formats
 * that broker with `transaction.version=1`, so the whole suite (transactions.test.ts's TV1
 * branches included) runs against the pre-KIP-890-part-2 transaction protocol.
 */
import type { TestProject } from "vitest/node";
import { startKafka } from "./harness.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** `host:port` list of the broker the integration tests use. */
    kafkaBootstrap: string;
  }
}

/** Starts (or reuses) the broker and returns the teardown. */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const existing = process.env.KAFKA_BOOTSTRAP;
  if (existing) {
    project.provide("kafkaBootstrap", existing);
    return undefined;
  }
  const tv = process.env.KAFKA_TRANSACTION_VERSION;
  const transactionVersion = tv === undefined || tv === "" ? undefined : Number(tv);
  if (
    transactionVersion !== undefined &&
    transactionVersion !== 0 &&
    transactionVersion !== 1 &&
    transactionVersion !== 2
  ) {
    throw new Error(`KAFKA_TRANSACTION_VERSION must be 0, 1 or 2; got ${tv}`);
  }
  const kafka = await startKafka({
    mode: "single",
    log: (line) => console.log(`[kafka] ${line}`),
    ...(transactionVersion !== undefined ? { transactionVersion } : {}),
  });
  project.provide("kafkaBootstrap", kafka.bootstrap);
  return () => kafka.stop();
}
