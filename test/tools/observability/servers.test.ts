/**
 * The real Zipkin and Prometheus servers the tracing and metrics tests run against: each
 * starts on 127.0.0.1 only, stores and answers what it is given, and stops leaving no process,
 * port or data folder behind.
 */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { dirname } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { alive } from "../../../tools/kafka/harness.js";
import { isPortFree } from "../../../tools/kafka/ports.js";
import {
  PrometheusQueryError,
  type PrometheusServer,
  startPrometheus,
} from "../../../tools/observability/prometheus.js";
import { startZipkin, type ZipkinServer } from "../../../tools/observability/zipkin.js";

/**
 * Local addresses of the sockets listening on `port`, from /proc/net/tcp{,6} (hex, as the
 * kernel writes them): what `ss -ltn` shows, without needing iproute2.
 */
function listeningAddresses(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  const found: string[] = [];
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, "utf8").split("\n").slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (state !== "0A" || !local?.endsWith(`:${hexPort}`)) continue; // 0A = LISTEN
      found.push(local.slice(0, -5));
    }
  }
  return found;
}

/** 127.0.0.1 as /proc/net/tcp writes it, and as an IPv4-mapped address in /proc/net/tcp6. */
const LOOPBACK_V4 = "0100007F";
const LOOPBACK_V4_MAPPED = "0000000000000000FFFF00000100007F";

async function expectStopped(server: { pid: number; port: number; stop(): Promise<void> }): Promise<void> {
  await server.stop();
  expect(alive(server.pid), `pid ${server.pid} still alive`).toBe(false);
  expect(await isPortFree(server.port), `port ${server.port} still taken`).toBe(true);
}

describe.sequential("Zipkin", () => {
  let zipkin: ZipkinServer | undefined;
  afterAll(async () => {
    await zipkin?.stop();
  });

  it("listens on 127.0.0.1 only, stores a v2 span and returns it by trace id, then stops", async () => {
    zipkin = await startZipkin();
    expect(zipkin.url).toBe(`http://127.0.0.1:${zipkin.port}`);
    const addresses = listeningAddresses(zipkin.port);
    expect(addresses.length).toBeGreaterThan(0);
    for (const address of addresses) expect([LOOPBACK_V4, LOOPBACK_V4_MAPPED]).toContain(address);

    const traceId = randomBytes(16).toString("hex");
    const spanId = randomBytes(8).toString("hex");
    const nowMicros = Date.now() * 1000;
    // Zipkin lower-cases span and service names, so the test sends them lower-case.
    const span = {
      traceId,
      id: spanId,
      name: "send orders",
      kind: "PRODUCER",
      timestamp: nowMicros,
      duration: 1234,
      localEndpoint: { serviceName: "samsa-test" },
      tags: { "messaging.system": "kafka", "messaging.destination.name": "orders" },
    };
    const posted = await fetch(zipkin.spansUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify([span]),
      signal: AbortSignal.timeout(10_000),
    });
    expect(posted.status).toBe(202);

    // The HTTP collector answers 202 before storing: poll, bounded, for the trace.
    let trace: (typeof span)[] = [];
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      const got = await fetch(`${zipkin.url}/api/v2/trace/${traceId}`, { signal: AbortSignal.timeout(5000) });
      if (got.status === 200) {
        trace = (await got.json()) as (typeof span)[];
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(trace).toHaveLength(1);
    const stored = trace[0];
    expect(stored?.traceId).toBe(traceId);
    expect(stored?.id).toBe(spanId);
    expect(stored?.name).toBe("send orders");
    expect(stored?.kind).toBe("PRODUCER");
    expect(stored?.duration).toBe(1234);
    expect(stored?.localEndpoint.serviceName).toBe("samsa-test");
    expect(stored?.tags).toEqual({ "messaging.system": "kafka", "messaging.destination.name": "orders" });

    const services = await fetch(`${zipkin.url}/api/v2/services`, { signal: AbortSignal.timeout(5000) });
    expect(await services.json()).toEqual(["samsa-test"]);

    await expectStopped(zipkin);
  });
});

describe.sequential("Prometheus", () => {
  let prometheus: PrometheusServer | undefined;
  let target: Server | undefined;
  let scrapes = 0;
  afterAll(async () => {
    await prometheus?.stop();
    await new Promise<void>((resolve) => (target ? target.close(() => resolve()) : resolve()));
  });

  it("rejects targets off the loopback and bad scrape intervals, naming the option", async () => {
    await expect(startPrometheus({ targets: ["10.0.0.1:9100"] })).rejects.toThrow(/^targets: "10\.0\.0\.1:9100"/);
    await expect(startPrometheus({ targets: [] })).rejects.toThrow(/^targets must list/);
    await expect(startPrometheus({ targets: ["127.0.0.1:1"], scrapeIntervalMs: 10 })).rejects.toThrow(
      /^scrapeIntervalMs must be an integer from 100/,
    );
  });

  it("scrapes a text-format target on 127.0.0.1, answers queries, rejects a bad expression, then stops", async () => {
    target = createServer((req, res) => {
      if (req.url !== "/metrics") {
        res.writeHead(404).end();
        return;
      }
      scrapes++;
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
      res.end(
        "# HELP samsa_test_total A counter for the harness test.\n# TYPE samsa_test_total counter\nsamsa_test_total 42\n",
      );
    });
    await new Promise<void>((resolve) => target?.listen(0, "127.0.0.1", resolve));
    const address = target.address();
    if (address === null || typeof address === "string") throw new Error("no address");
    const instance = `127.0.0.1:${address.port}`;

    prometheus = await startPrometheus({ targets: [instance], scrapeIntervalMs: 500 });
    expect(prometheus.url).toBe(`http://127.0.0.1:${prometheus.port}`);
    const dataDir = dirname(prometheus.configFile);
    expect(readFileSync(prometheus.configFile, "utf8")).toContain('"scrape_interval": "500ms"');
    for (const local of listeningAddresses(prometheus.port)) expect([LOOPBACK_V4, LOOPBACK_V4_MAPPED]).toContain(local);

    // startPrometheus resolves once every target has been scraped once.
    const up = await prometheus.query("up");
    expect(up.map((s) => [s.metric.instance, s.value])).toEqual([[instance, 1]]);

    const samples = await prometheus.waitForQuery("samsa_test_total", (s) => s[0]?.value === 42, 30_000);
    expect(samples).toHaveLength(1);
    expect(samples[0]?.metric).toEqual({ __name__: "samsa_test_total", instance, job: "samsa" });
    expect(scrapes).toBeGreaterThanOrEqual(1);

    expect(await prometheus.query("samsa_test_total * 2")).toMatchObject([{ value: 84 }]);
    expect(await prometheus.query("scalar(samsa_test_total)")).toMatchObject([{ metric: {}, value: 42 }]);

    const range = await prometheus.queryRange("samsa_test_total", { start: Date.now() - 60_000, stepMs: 1000 });
    expect(range).toHaveLength(1);
    expect(range[0]?.values.length).toBeGreaterThan(0);
    for (const point of range[0]?.values ?? []) expect(point.value).toBe(42);

    const bad = await prometheus.query("sum(samsa_test_total").catch((err: unknown) => err);
    expect(bad).toBeInstanceOf(PrometheusQueryError);
    expect((bad as PrometheusQueryError).code).toBe("SAMSA_ERR_PROMETHEUS_QUERY");
    expect((bad as PrometheusQueryError).errorType).toBe("bad_data");
    expect((bad as PrometheusQueryError).message).toMatch(/parse error/);
    // A rejected expression ends waitForQuery at once rather than at its timeout.
    await expect(prometheus.waitForQuery("sum(", () => true, 60_000)).rejects.toBeInstanceOf(PrometheusQueryError);
    await expect(prometheus.waitForQuery("samsa_test_total", (s) => s[0]?.value === 7, 1000)).rejects.toThrow(
      /did not satisfy the predicate within 1000 ms; last samples: .*"value":42/,
    );

    await expectStopped(prometheus);
    expect(existsSync(dataDir), `${dataDir} left behind`).toBe(false);
  });
});
