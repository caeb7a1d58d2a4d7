/**
 * The example application of the Prometheus tests: a node:http server on a free port of
 * 127.0.0.1 that serves a prom-client registry at /metrics, as docs/observability.md tells
 * users to, and counts the scrapes it answered.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { AnyRegistry } from "../../../src/prometheus/index.js";

/** A running metrics endpoint. */
export interface MetricsApp {
  /** `127.0.0.1:PORT`, the form Prometheus's static targets take. */
  target: string;
  /** Scrapes answered so far. */
  readonly scrapes: number;
  close(): Promise<void>;
}

/** Starts serving `registry` at `http://127.0.0.1:<free port>/metrics`. */
export async function startMetricsApp(registry: AnyRegistry): Promise<MetricsApp> {
  let scrapes = 0;
  const server: Server = createServer((req, res) => {
    if (req.method !== "GET" || req.url?.split("?")[0] !== "/metrics") {
      res.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (body) => {
        res.writeHead(200, { "Content-Type": registry.contentType }).end(body);
        scrapes++;
      },
      (err: unknown) => res.writeHead(500, { "Content-Type": "text/plain" }).end(String(err)),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    target: `127.0.0.1:${port}`,
    get scrapes() {
      return scrapes;
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        // Prometheus keeps its scrape connection alive; close() would wait for it otherwise.
        server.closeAllConnections();
      });
    },
  };
}
