import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { alive, type KafkaCluster, type KafkaClusterInfo, startKafka } from "../../../tools/kafka/harness.js";
import { REPO_ROOT } from "../../../tools/kafka/paths.js";
import { isPortFree } from "../../../tools/kafka/ports.js";
import { ProbeConnection, probeApiVersions, probeBrokerIds, roundTrip, saslPlain } from "../../../tools/kafka/probe.js";

const HOST = "127.0.0.1";
const ApiKey = { Produce: 0, Fetch: 1, Metadata: 3, ApiVersions: 18 } as const;

function allPorts(kafka: KafkaClusterInfo): number[] {
  return kafka.nodes.flatMap((n) => [n.port, n.controllerPort, ...(n.sslPort === undefined ? [] : [n.sslPort])]);
}

async function expectStoppedCleanly(kafka: KafkaClusterInfo): Promise<void> {
  for (const node of kafka.nodes) expect(alive(node.pid), `JVM ${node.pid} still alive`).toBe(false);
  expect(existsSync(kafka.dataDir)).toBe(false);
  for (const port of allPorts(kafka)) expect(await isPortFree(port), `port ${port} still taken`).toBe(true);
}

function expectCoreApis(apis: { apiKey: number; minVersion: number; maxVersion: number }[]): void {
  const keys = new Set(apis.map((a) => a.apiKey));
  for (const key of Object.values(ApiKey)) expect(keys.has(key), `API key ${key} advertised`).toBe(true);
  for (const api of apis) expect(api.maxVersion).toBeGreaterThanOrEqual(api.minVersion);
  // Kafka 4.x advertises far more than the ~20 APIs of old brokers.
  expect(apis.length).toBeGreaterThan(40);
}

describe.sequential("Kafka harness", () => {
  const running: KafkaCluster[] = [];
  afterAll(async () => {
    await Promise.all(running.map((k) => k.stop()));
  });

  it("single mode serves ApiVersions and Metadata, then stops leaving nothing behind", async () => {
    const kafka = await startKafka({ mode: "single" });
    running.push(kafka);
    expect(kafka.nodes).toHaveLength(1);
    expect(kafka.bootstrap).toBe(`${HOST}:${kafka.nodes[0]?.port}`);
    expect(kafka.startupMs).toBeGreaterThan(0);
    expect(existsSync(kafka.nodes[0]?.logFile ?? "")).toBe(true);
    const port = kafka.nodes[0]?.port as number;
    expectCoreApis(await probeApiVersions({ host: HOST, port }));
    expect(await probeBrokerIds({ host: HOST, port })).toEqual([1]);
    await kafka.stop();
    await expectStoppedCleanly(kafka);
  });

  it("cluster mode runs three brokers that all see each other", async () => {
    const kafka = await startKafka({ mode: "cluster" });
    running.push(kafka);
    expect(kafka.nodes.map((n) => n.nodeId)).toEqual([1, 2, 3]);
    expect(kafka.bootstrap.split(",")).toHaveLength(3);
    for (const node of kafka.nodes) {
      expectCoreApis(await probeApiVersions({ host: HOST, port: node.port }));
      expect(await probeBrokerIds({ host: HOST, port: node.port })).toEqual([1, 2, 3]);
    }
    await kafka.stop();
    await expectStoppedCleanly(kafka);
  });

  it("secure mode: SASL_PLAINTEXT and SASL_SSL listeners, known users, no access without SASL", async () => {
    const kafka = await startKafka({ mode: "secure" });
    running.push(kafka);
    const node = kafka.nodes[0];
    if (!node?.sslPort || !kafka.caFile || !kafka.users) throw new Error("secure mode info incomplete");
    const ca = readFileSync(kafka.caFile, "utf8");
    // ApiVersions is allowed before authentication on both listeners.
    expectCoreApis(await probeApiVersions({ host: HOST, port: node.port }));
    expectCoreApis(await probeApiVersions({ host: HOST, port: node.sslPort, ca }));
    // Anything else before SASL: the broker closes the connection without an answer.
    const metadataV1AllTopics = Buffer.from([0xff, 0xff, 0xff, 0xff]);
    expect(await roundTrip({ host: HOST, port: node.port }, ApiKey.Metadata, 1, metadataV1AllTopics)).toBeNull();
    expect(await roundTrip({ host: HOST, port: node.sslPort, ca }, ApiKey.Metadata, 1, metadataV1AllTopics)).toBeNull();
    // The known users authenticate with PLAIN on both listeners; a wrong password is
    // refused with SASL_AUTHENTICATION_FAILED (58).
    for (const target of [
      { host: HOST, port: node.port },
      { host: HOST, port: node.sslPort, ca },
    ]) {
      for (const user of Object.values(kafka.users)) {
        const connection = await ProbeConnection.open(target);
        expect(await saslPlain(connection, user.username, user.password)).toBe(0);
        // Authenticated: Metadata is answered now.
        expect(await connection.request(ApiKey.Metadata, 1, metadataV1AllTopics)).not.toBeNull();
        connection.close();
      }
      const wrong = await ProbeConnection.open(target);
      expect(await saslPlain(wrong, kafka.users.alice.username, "not-the-password")).toBe(58);
      wrong.close();
    }
    // A TLS client that does not trust the test CA is refused by certificate verification.
    await expect(probeApiVersions({ host: HOST, port: node.sslPort, ca: "" })).rejects.toThrow();
    await kafka.stop();
    await expectStoppedCleanly(kafka);
  });

  it("leaves no JVM and no data folder when the process that started Kafka is SIGKILLed", async () => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", join(REPO_ROOT, "test/tools/kafka/fixtures/hold-kafka.ts")],
      {
        cwd: REPO_ROOT,
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    const info = await new Promise<KafkaClusterInfo>((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        const line = out.split("\n").find((l) => l.startsWith("{"));
        if (line && out.includes("\n")) resolve(JSON.parse(line) as KafkaClusterInfo);
      });
      child.on("exit", (code) => reject(new Error(`fixture exited with ${code}`)));
    });
    const pid = info.nodes[0]?.pid as number;
    expect(alive(pid)).toBe(true);
    expect(existsSync(info.dataDir)).toBe(true);
    child.kill("SIGKILL");
    const deadline = Date.now() + 30_000;
    while ((alive(pid) || existsSync(info.dataDir)) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 200));
    await expectStoppedCleanly(info);
  });
});
