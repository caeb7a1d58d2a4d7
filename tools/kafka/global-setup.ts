/**
 * Vitest global setup for integration tests: one single-node broker for the whole run, or
 * the broker named by `KAFKA_BOOTSTRAP` when set (e.g. one started with `npm run kafka -- start`).
 * Tests read the address with `inject("kafkaBootstrap")`.
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
  const kafka = await startKafka({ mode: "single", log: (line) => console.log(`[kafka] ${line}`) });
  project.provide("kafkaBootstrap", kafka.bootstrap);
  return () => kafka.stop();
}
