import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // The JSON report is what .ci/run turns into its "N passed, N failed" line.
    reporters: ["default", "json"],
    outputFile: { json: ".cache/test-report.json" },
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          // The fuzz tests run ~100k frames: seconds alone, more beside a busy broker.
          testTimeout: 60_000,
        },
      },
      {
        // Our bytes against Kafka's own serializers, driven through a Java program (jars only,
        // no broker).
        test: {
          name: "conformance",
          include: ["test/conformance/**/*.test.ts"],
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
      {
        test: {
          name: "integration",
          // test/docs: every README and docs/ example run against the broker, and the packed tarball.
          include: ["test/integration/**/*.test.ts", "test/tools/**/*.test.ts", "test/docs/**/*.test.ts"],
          globalSetup: ["tools/kafka/global-setup.ts"],
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
      {
        // Kill, pause and restart brokers of a 3-node cluster; count what was lost. Each file
        // starts its own cluster.
        test: {
          name: "fault",
          include: ["test/fault/**/*.test.ts"],
          testTimeout: 300_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
