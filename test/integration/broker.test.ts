import { expect, inject, it } from "vitest";
import { probeApiVersions, probeBrokerIds } from "../../tools/kafka/probe.js";

// The broker every integration test shares: started by tools/kafka/global-setup.ts, or the
// one KAFKA_BOOTSTRAP names.
it("the shared integration broker answers ApiVersions and Metadata", async () => {
  const bootstrap = inject("kafkaBootstrap");
  const [host, port] = (bootstrap.split(",")[0] as string).split(":");
  const target = { host: host as string, port: Number(port) };
  const apis = await probeApiVersions(target);
  expect(apis.find((a) => a.apiKey === 18)?.maxVersion).toBeGreaterThanOrEqual(3);
  expect((await probeBrokerIds(target)).length).toBeGreaterThanOrEqual(1);
});
