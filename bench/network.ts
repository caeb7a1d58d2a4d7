/**
 * Round trips per second on one connection: samsa's Connection against the real broker
 * (Metadata for one topic, and ApiVersions) with 1 and 16 requests in flight, next to the raw
 * floor of a Node TCP echo on loopback. Run: `npx tsx bench/network.ts` (starts its own broker,
 * or uses KAFKA_BOOTSTRAP).
 */
import { createServer, connect as netConnect, type Server, type Socket } from "node:net";
import { pathToFileURL } from "node:url";
import { Connection } from "../src/network/connection.js";
import { ApiVersions, createMetadataRequest, Metadata } from "../src/protocol/index.js";
import { startKafka } from "../tools/kafka/harness.js";

/** One measured row. */
export interface RoundTripRow {
  what: string;
  inFlight: number;
  requests: number;
  perSecond: number;
  p50us: number;
  p99us: number;
}

const DURATION_MS = 2000;
const WARMUP_MS = 1000;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
}

/** Keeps `inFlight` calls of `once` going for DURATION_MS; records each latency. */
async function drive(what: string, inFlight: number, once: () => Promise<unknown>): Promise<RoundTripRow> {
  // Warm up both JITs (ours and the broker's) and the connection.
  const warm = performance.now() + WARMUP_MS;
  while (performance.now() < warm) await once();
  const latencies: number[] = [];
  const end = performance.now() + DURATION_MS;
  const started = performance.now();
  const worker = async () => {
    while (performance.now() < end) {
      const t = performance.now();
      await once();
      latencies.push((performance.now() - t) * 1000);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const elapsed = performance.now() - started;
  latencies.sort((a, b) => a - b);
  return {
    what,
    inFlight,
    requests: latencies.length,
    perSecond: Math.round((latencies.length / elapsed) * 1000),
    p50us: Math.round(percentile(latencies, 0.5)),
    p99us: Math.round(percentile(latencies, 0.99)),
  };
}

/** A loopback echo of length-prefixed frames, answered in order: the floor for any client. */
async function echoFloor(inFlight: number): Promise<RoundTripRow> {
  const server: Server = createServer((s) => s.pipe(s));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as { port: number }).port;
  const socket: Socket = netConnect({ host: "127.0.0.1", port });
  socket.setNoDelay(true);
  await new Promise((r) => socket.once("connect", r));
  const waiting: (() => void)[] = [];
  let buffered = 0;
  socket.on("data", (chunk: Buffer) => {
    buffered += chunk.length;
    while (buffered >= 16) {
      buffered -= 16;
      waiting.shift()?.();
    }
  });
  const frame = Buffer.alloc(16, 1);
  const once = () =>
    new Promise<void>((resolve) => {
      waiting.push(resolve);
      socket.write(frame);
    });
  const row = await drive("TCP echo (floor)", inFlight, once);
  socket.destroy();
  server.close();
  return row;
}

/** Runs every row; starts a broker unless `bootstrap` is given. */
export async function runNetworkBench(bootstrap?: string): Promise<RoundTripRow[]> {
  const kafka = bootstrap ? undefined : await startKafka({ mode: "single" });
  const [host, port] = ((bootstrap ?? kafka?.bootstrap ?? "").split(",")[0] as string).split(":");
  const rows: RoundTripRow[] = [];
  try {
    for (const inFlight of [1, 16]) {
      rows.push(await echoFloor(inFlight));
      const c = new Connection({ host: host as string, port: Number(port), maxInFlight: inFlight });
      await c.connect();
      const metadata = createMetadataRequest({ topics: [{ name: "bench-topic", topicId: "AAAAAAAAAAAAAAAAAAAAAA" }] });
      rows.push(await drive("samsa Metadata (1 topic)", inFlight, () => c.request(Metadata, metadata)));
      const versions = { clientSoftwareName: "samsa", clientSoftwareVersion: "0.1.0" };
      rows.push(await drive("samsa ApiVersions", inFlight, () => c.request(ApiVersions, versions)));
      c.close();
    }
  } finally {
    await kafka?.stop();
  }
  return rows;
}

/** Markdown table of the rows. */
export function formatNetworkBench(rows: RoundTripRow[]): string {
  const lines = ["| request | in flight | round trips/s | p50 µs | p99 µs |", "|---|---:|---:|---:|---:|"];
  for (const r of rows)
    lines.push(`| ${r.what} | ${r.inFlight} | ${r.perSecond.toLocaleString("en-US")} | ${r.p50us} | ${r.p99us} |`);
  return lines.join("\n");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  console.log(formatNetworkBench(await runNetworkBench(process.env.KAFKA_BOOTSTRAP)));
}
