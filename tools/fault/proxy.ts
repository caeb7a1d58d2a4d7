/**
 * A TCP fault proxy for Kafka: clients bootstrap through it and stay behind it, because every
 * broker address they can learn (Metadata, FindCoordinator, DescribeCluster, and the KIP-951
 * NodeEndpoints of Produce, Fetch, ShareFetch and ShareAcknowledge responses) is rewritten to
 * one of the proxy's own listeners, one per upstream broker, opened lazily on 127.0.0.1.
 * Faults switch on and off at run time: latency per direction, random resets, blackholes and
 * in-flight corruption of Produce record batches.
 *
 * It parses frames in both directions: requests to learn each correlation id's API key and
 * version (responses do not say which request they answer), responses to rewrite the few
 * that carry addresses. Everything else is forwarded as the broker sent it.
 *
 *     client ──► listener(upstream A) ──► Pipe(toBroker) ──► broker A
 *            ◄──                      ◄── Pipe(toClient) ◄──
 *
 * ```ts
 * const proxy = await FaultProxy.start({ upstream: kafka.bootstrap });
 * const client = new Client({ bootstrap: proxy.bootstrap });
 * proxy.setLatency({ toClient: 50 });
 * await proxy.blackhole(3_000);
 * await proxy.close();
 * ```
 */
import { createServer, connect as netConnect, type Server, type Socket } from "node:net";
import { FrameDecoder } from "../../src/network/frame-decoder.js";
import type { ApiDefinition } from "../../src/protocol/api.js";
import {
  API_BY_KEY,
  ApiKey,
  ApiVersions,
  type ApiVersionsResponse,
  decodeRequestHeader,
  decodeResponseHeader,
  encodeResponseHeader,
  Produce,
} from "../../src/protocol/messages/index.js";
import { Reader } from "../../src/protocol/primitives/reader.js";
import { Writer } from "../../src/protocol/primitives/writer.js";

/** Responses that can carry a broker address, hence are decoded and rewritten. */
const ADDRESS_APIS: ReadonlySet<number> = new Set([
  ApiKey.Metadata,
  ApiKey.FindCoordinator,
  ApiKey.DescribeCluster,
  ApiKey.Produce,
  ApiKey.Fetch,
  ApiKey.ShareFetch,
  ApiKey.ShareAcknowledge,
]);

/** Largest frame the proxy accepts in either direction. */
const MAX_FRAME_BYTES = 256 * 1024 * 1024;

/** Frames below this size are copied behind their size prefix and written once. */
const SMALL_FRAME_BYTES = 16 * 1024;

/** A record batch v2 header is 61 bytes; shorter `records` fields are not batches. */
const BATCH_HEADER_BYTES = 61;

/** Options of {@link FaultProxy.start}. */
export interface FaultProxyOptions {
  /** The brokers to bootstrap from: `host:port`, comma-separated or a list. */
  upstream: string | readonly string[];
  /** Diagnostic lines (listener opened, rewrite failed). Default: silent. */
  log?: (line: string) => void;
}

/** Added one-way delay in ms; each direction on its own. */
export interface Latency {
  /** Client → broker. */
  toBroker?: number;
  /** Broker → client. */
  toClient?: number;
}

/** Random resets; both may be set. A reset closes client and upstream socket with a TCP RST. */
export interface ResetFault {
  /** Probability, per frame forwarded in either direction, that its connection is reset first. */
  perFrame?: number;
  /** Probability, per connection and per second, that the connection is reset. */
  perSecond?: number;
}

/** Counters since the proxy started. */
export interface FaultProxyStats {
  /** Client connections accepted. */
  accepted: number;
  /** Client connections open now. */
  open: number;
  /** Connections the proxy reset (random resets and {@link FaultProxy.resetAll}). */
  resets: number;
  framesToBroker: number;
  framesToClient: number;
  /** Responses whose broker addresses were rewritten. */
  rewritten: number;
  /** Record batches corrupted in Produce requests. */
  corruptedBatches: number;
  /** Frames that could not be decoded for rewriting (their connection was closed). */
  errors: number;
}

/** One proxied client connection: the accepted socket and its upstream socket. */
interface Link {
  client: Socket;
  upstream: Socket;
  /** Request API key and version by correlation id, until the response passes. */
  pending: Map<number, { apiKey: number; version: number }>;
  closed: boolean;
}

interface Listener {
  upstream: string;
  server: Server;
  port: number;
}

/**
 * Forwards frames one way, in order, each no earlier than its arrival plus the latency of
 * that direction (frames in the same window are delayed together, not one after another),
 * and none while a blackhole holds.
 */
class Pipe {
  readonly #queue: { frame: Buffer; due: number }[] = [];
  #head = 0;
  #running = false;
  #paused = false;

  constructor(
    private readonly proxy: FaultProxy,
    private readonly link: Link,
    private readonly from: Socket,
    private readonly to: Socket,
    private readonly latency: () => number,
    private readonly transform: (frame: Buffer) => Buffer | Promise<Buffer>,
    private readonly onForward: () => void,
  ) {}

  push(frame: Buffer): void {
    this.#queue.push({ frame, due: Date.now() + this.latency() });
    if (!this.#running) void this.#run();
  }

  async #run(): Promise<void> {
    this.#running = true;
    try {
      while (this.#head < this.#queue.length && !this.link.closed) {
        const hold = this.proxy.blackholeEnds;
        if (hold) {
          await hold;
          continue;
        }
        const item = this.#queue[this.#head] as { frame: Buffer; due: number };
        const wait = item.due - Date.now();
        if (wait > 0) {
          await new Promise((r) => setTimeout(r, wait));
          continue;
        }
        this.#head++;
        if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
          this.#queue.splice(0, this.#head);
          this.#head = 0;
        }
        if (this.proxy.shouldResetNow()) {
          this.proxy.reset(this.link);
          return;
        }
        let out: Buffer;
        try {
          out = await this.transform(item.frame);
        } catch (err) {
          this.proxy.fail(this.link, err as Error);
          return;
        }
        if (this.link.closed) return;
        this.onForward();
        let ok: boolean;
        if (out.length < SMALL_FRAME_BYTES) {
          // One write per small frame: a copy is cheaper than a second syscall.
          const framed = Buffer.allocUnsafe(4 + out.length);
          framed.writeInt32BE(out.length, 0);
          out.copy(framed, 4);
          ok = this.to.write(framed);
        } else {
          const size = Buffer.allocUnsafe(4);
          size.writeInt32BE(out.length, 0);
          this.to.cork();
          this.to.write(size);
          ok = this.to.write(out);
          this.to.uncork();
        }
        if (!ok && !this.#paused) {
          // Backpressure: stop reading the source until the destination drains.
          this.#paused = true;
          this.from.pause();
          this.to.once("drain", () => {
            this.#paused = false;
            this.from.resume();
          });
        }
      }
    } finally {
      this.#running = false;
    }
    if (this.#queue.length === this.#head) {
      this.#queue.length = 0;
      this.#head = 0;
    }
  }
}

/** The proxy; see the module comment. Create with {@link FaultProxy.start}. */
export class FaultProxy {
  readonly #log: (line: string) => void;
  readonly #bootstrap: string[];
  /** Upstream `host:port` → its listener. */
  readonly #listeners = new Map<string, Listener>();
  readonly #opening = new Map<string, Promise<Listener>>();
  readonly #links = new Set<Link>();
  #latency: Required<Latency> = { toBroker: 0, toClient: 0 };
  #reset: Required<ResetFault> = { perFrame: 0, perSecond: 0 };
  #resetTimer: NodeJS.Timeout | undefined;
  #blackholeEnds: Promise<void> | undefined;
  #blackholeTimer: NodeJS.Timeout | undefined;
  #blackholeRelease: (() => void) | undefined;
  #corruptUntil = 0;
  #closed = false;
  readonly #stats: FaultProxyStats = {
    accepted: 0,
    open: 0,
    resets: 0,
    framesToBroker: 0,
    framesToClient: 0,
    rewritten: 0,
    corruptedBatches: 0,
    errors: 0,
  };

  private constructor(options: FaultProxyOptions) {
    this.#log = options.log ?? (() => {});
    const list = typeof options.upstream === "string" ? options.upstream.split(",") : [...options.upstream];
    this.#bootstrap = list.map((a) => a.trim()).filter((a) => a.length > 0);
    if (this.#bootstrap.length === 0) throw new Error("FaultProxy: upstream names no broker");
  }

  /** Starts a proxy with one listener per upstream bootstrap address. */
  static async start(options: FaultProxyOptions): Promise<FaultProxy> {
    const proxy = new FaultProxy(options);
    for (const upstream of proxy.#bootstrap) await proxy.listenerFor(upstream);
    return proxy;
  }

  /** The proxy's bootstrap list, `127.0.0.1:port,…`, one per upstream bootstrap address. */
  get bootstrap(): string {
    return this.#bootstrap.map((u) => `127.0.0.1:${(this.#listeners.get(u) as Listener).port}`).join(",");
  }

  /** Upstream `host:port` → local `127.0.0.1:port`, for every listener opened so far. */
  get addresses(): ReadonlyMap<string, string> {
    return new Map([...this.#listeners].map(([u, l]) => [u, `127.0.0.1:${l.port}`]));
  }

  /** A copy of the counters. */
  get stats(): FaultProxyStats {
    return { ...this.#stats, open: this.#links.size };
  }

  /** Resolves while a blackhole holds; undefined when traffic flows. */
  get blackholeEnds(): Promise<void> | undefined {
    return this.#blackholeEnds;
  }

  /** The listener that forwards to `upstream` (`host:port`), opened on first use. */
  async listenerFor(upstream: string): Promise<{ port: number }> {
    const known = this.#listeners.get(upstream);
    if (known) return known;
    let opening = this.#opening.get(upstream);
    if (!opening) {
      opening = this.#listen(upstream);
      this.#opening.set(upstream, opening);
    }
    return opening;
  }

  async #listen(upstream: string): Promise<Listener> {
    if (this.#closed) throw new Error("FaultProxy: closed");
    const server = createServer({ noDelay: true }, (socket) => this.#accept(upstream, socket));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("FaultProxy: listener has no port");
    const listener: Listener = { upstream, server, port: address.port };
    this.#listeners.set(upstream, listener);
    this.#opening.delete(upstream);
    this.#log(`proxy 127.0.0.1:${listener.port} -> ${upstream}`);
    return listener;
  }

  /** Sets the added latency; omitted directions become 0. */
  setLatency(latency: Latency): void {
    this.#latency = {
      toBroker: nonNegative(latency.toBroker ?? 0, "toBroker"),
      toClient: nonNegative(latency.toClient ?? 0, "toClient"),
    };
  }

  /** Sets random resets; `null` or `{}` turns them off. */
  setResets(fault: ResetFault | null): void {
    const perFrame = probability(fault?.perFrame ?? 0, "perFrame");
    const perSecond = probability(fault?.perSecond ?? 0, "perSecond");
    this.#reset = { perFrame, perSecond };
    clearInterval(this.#resetTimer);
    this.#resetTimer = undefined;
    if (perSecond > 0) {
      this.#resetTimer = setInterval(() => {
        for (const link of [...this.#links]) if (Math.random() < perSecond) this.reset(link);
      }, 1000);
      this.#resetTimer.unref();
    }
  }

  /**
   * Holds all traffic, both directions, for `ms`: connections are accepted and kept, bytes
   * are read and queued, nothing is forwarded; afterwards what was queued flows in order (a
   * partition that heals, as TCP retransmission would deliver it). Resolves when it ends.
   * A second call while one holds extends it.
   */
  blackhole(ms: number): Promise<void> {
    nonNegative(ms, "ms");
    if (!this.#blackholeEnds) {
      this.#blackholeEnds = new Promise<void>((resolve) => {
        this.#blackholeRelease = resolve;
      });
    }
    clearTimeout(this.#blackholeTimer);
    this.#blackholeTimer = setTimeout(() => this.endBlackhole(), ms);
    return this.#blackholeEnds;
  }

  /** Ends a blackhole now (no-op without one). */
  endBlackhole(): void {
    clearTimeout(this.#blackholeTimer);
    const release = this.#blackholeRelease;
    this.#blackholeEnds = undefined;
    this.#blackholeRelease = undefined;
    release?.();
  }

  /**
   * For `ms`, flips the last byte of every record batch of every Produce request in flight,
   * so its CRC-32C no longer matches and the broker answers CORRUPT_MESSAGE (2). The client's
   * own buffer is untouched: a retry after the window carries the good bytes.
   */
  corruptProduce(ms: number): void {
    this.#corruptUntil = Date.now() + nonNegative(ms, "ms");
  }

  /** Stops corrupting now. */
  stopCorrupting(): void {
    this.#corruptUntil = 0;
  }

  /** Resets every open connection now; returns how many. */
  resetAll(): number {
    const links = [...this.#links];
    for (const link of links) this.reset(link);
    return links.length;
  }

  /** Turns every fault off (latency 0, no resets, blackhole released, no corruption). */
  clearFaults(): void {
    this.setLatency({});
    this.setResets(null);
    this.endBlackhole();
    this.stopCorrupting();
  }

  /** Closes the listeners and every connection. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.clearFaults();
    for (const link of [...this.#links]) this.#drop(link, false);
    await Promise.all(
      [...this.#listeners.values()].map((l) => new Promise<void>((resolve) => l.server.close(() => resolve()))),
    );
  }

  /** @internal Decides a per-frame reset. */
  shouldResetNow(): boolean {
    return this.#reset.perFrame > 0 && Math.random() < this.#reset.perFrame;
  }

  /** @internal Resets one connection (RST on both sides). */
  reset(link: Link): void {
    if (link.closed) return;
    this.#stats.resets++;
    this.#drop(link, true);
  }

  /** @internal A frame could not be handled: count it and close its connection. */
  fail(link: Link, err: Error): void {
    this.#stats.errors++;
    this.#log(`proxy: closing a connection: ${err.message}`);
    this.#drop(link, false);
  }

  #drop(link: Link, rst: boolean): void {
    if (link.closed) return;
    link.closed = true;
    this.#links.delete(link);
    for (const socket of [link.client, link.upstream]) {
      if (rst && !socket.destroyed && socket.readyState === "open") {
        try {
          socket.resetAndDestroy();
          continue;
        } catch {
          // Not connected yet: a plain destroy does.
        }
      }
      socket.destroy();
    }
  }

  /** One direction of `link`: delayed by that direction's latency and counted in its stats. */
  #pipe(
    link: Link,
    direction: keyof Latency,
    from: Socket,
    to: Socket,
    transform: (frame: Buffer) => Buffer | Promise<Buffer>,
  ): Pipe {
    const counter = direction === "toBroker" ? "framesToBroker" : "framesToClient";
    return new Pipe(
      this,
      link,
      from,
      to,
      () => this.#latency[direction],
      transform,
      () => this.#stats[counter]++,
    );
  }

  #accept(upstream: string, client: Socket): void {
    if (this.#closed) {
      client.destroy();
      return;
    }
    this.#stats.accepted++;
    const { host, port } = splitAddress(upstream);
    const upstreamSocket = netConnect({ host, port, noDelay: true });
    const link: Link = { client, upstream: upstreamSocket, pending: new Map(), closed: false };
    this.#links.add(link);
    const toBroker = this.#pipe(link, "toBroker", client, upstreamSocket, (frame) => this.#onRequest(link, frame));
    const toClient = this.#pipe(link, "toClient", upstreamSocket, client, (frame) => this.#onResponse(link, frame));
    const wire = (socket: Socket, pipe: Pipe) => {
      const decoder = new FrameDecoder(MAX_FRAME_BYTES, (frame) => pipe.push(frame));
      socket.on("data", (chunk: Buffer) => {
        try {
          decoder.push(chunk);
        } catch (err) {
          this.fail(link, err as Error);
        }
      });
      socket.on("error", () => this.#drop(link, false));
      socket.on("close", () => this.#drop(link, false));
    };
    wire(client, toBroker);
    wire(upstreamSocket, toClient);
  }

  /** Client → broker: remember what each correlation id asked; corrupt Produce batches. */
  #onRequest(link: Link, frame: Buffer): Buffer {
    const apiKey = frame.readInt16BE(0);
    const version = frame.readInt16BE(2);
    const correlationId = frame.readInt32BE(4);
    let expectsResponse = true;
    if (apiKey === ApiKey.Produce) {
      const r = new Reader(frame);
      decodeRequestHeader(r, Produce.requestHeaderVersion(version));
      if (Date.now() < this.#corruptUntil) {
        // The records fields are views of `frame`: flipping a byte there changes what is sent.
        const request = Produce.decodeRequest(r, version);
        for (const topic of request.topicData) {
          for (const partition of topic.partitionData) {
            const records = partition.records;
            if (records && records.length > BATCH_HEADER_BYTES) {
              const last = records.length - 1;
              records[last] = (records[last] as number) ^ 0xff;
              this.#stats.corruptedBatches++;
            }
          }
        }
        expectsResponse = request.acks !== 0;
      } else {
        // transactionalId, then acks: acks=0 gets no response, so nothing to remember.
        if (version >= 9) r.compactNullableString("transactionalId");
        else r.nullableString("transactionalId");
        expectsResponse = r.int16("acks") !== 0;
      }
    }
    if (expectsResponse) link.pending.set(correlationId, { apiKey, version });
    return frame;
  }

  /** Broker → client: rewrite addresses; clamp ApiVersions to what the codec decodes. */
  #onResponse(link: Link, frame: Buffer): Buffer | Promise<Buffer> {
    const correlationId = frame.readInt32BE(0);
    const request = link.pending.get(correlationId);
    if (!request) return frame;
    link.pending.delete(correlationId);
    const { apiKey, version } = request;
    if (apiKey === ApiKey.ApiVersions) return clampApiVersions(frame, version);
    if (!ADDRESS_APIS.has(apiKey)) return frame;
    // biome-ignore lint/suspicious/noExplicitAny: any API's response, walked generically.
    const api = API_BY_KEY[apiKey] as ApiDefinition<any, any>;
    if (version > api.maxCodecVersion || version < api.minVersion) {
      throw new Error(`${api.name} v${version} is outside the codec's range; its addresses cannot be rewritten`);
    }
    const r = new Reader(frame);
    const headerVersion = api.responseHeaderVersion(version);
    decodeResponseHeader(r, headerVersion);
    const response = api.decodeResponse(r, version);
    const endpoints: { host: string; port: number }[] = [];
    collectEndpoints(response, endpoints);
    if (endpoints.length === 0) return frame;
    const encode = (): Buffer => {
      this.#stats.rewritten++;
      const w = new Writer(frame.length + 64);
      encodeResponseHeader(w, { correlationId }, headerVersion);
      api.encodeResponse(w, response, version);
      return w.finish();
    };
    const point = (e: { host: string; port: number }, listener: { port: number }) => {
      e.host = "127.0.0.1";
      e.port = listener.port;
    };
    // Known brokers rewrite synchronously (no promise per Fetch response).
    if (endpoints.every((e) => this.#listeners.has(`${e.host}:${e.port}`))) {
      for (const e of endpoints) point(e, this.#listeners.get(`${e.host}:${e.port}`) as Listener);
      return encode();
    }
    return (async () => {
      for (const e of endpoints) point(e, await this.listenerFor(`${e.host}:${e.port}`));
      return encode();
    })();
  }
}

/**
 * Every `{ host: string, port: number }` object inside a decoded response (brokers,
 * coordinators, node endpoints). Entries with an empty host or a port ≤ 0 are error
 * placeholders (FindCoordinator v0-3 on error) and stay as they are.
 */
function collectEndpoints(value: unknown, out: { host: string; port: number }[]): void {
  if (value === null || typeof value !== "object" || Buffer.isBuffer(value)) return;
  if (Array.isArray(value)) {
    for (const v of value) collectEndpoints(v, out);
    return;
  }
  const o = value as Record<string, unknown>;
  if (typeof o.host === "string" && typeof o.port === "number" && o.host !== "" && o.port > 0) {
    out.push(o as unknown as { host: string; port: number });
  }
  for (const key in o) {
    const v = o[key];
    if (v !== null && typeof v === "object") collectEndpoints(v, out);
  }
}

/**
 * Lowers the advertised max version of each address-carrying API to the newest the codec
 * decodes, so a client never picks a version whose addresses the proxy could not rewrite.
 * The response header of ApiVersions is always v0.
 */
function clampApiVersions(frame: Buffer, version: number): Buffer {
  // UNSUPPORTED_VERSION (35): the broker answered in v0 with its own range; pass it on.
  if (frame.length >= 6 && frame.readInt16BE(4) === 35) return frame;
  const r = new Reader(frame);
  decodeResponseHeader(r, 0);
  const response: ApiVersionsResponse = ApiVersions.decodeResponse(r, version);
  let changed = false;
  for (const k of response.apiKeys) {
    const api = API_BY_KEY[k.apiKey];
    if (api && ADDRESS_APIS.has(k.apiKey) && k.maxVersion > api.maxCodecVersion) {
      k.maxVersion = api.maxCodecVersion;
      changed = true;
    }
  }
  if (!changed) return frame;
  const w = new Writer(frame.length + 16);
  encodeResponseHeader(w, { correlationId: frame.readInt32BE(0) }, 0);
  ApiVersions.encodeResponse(w, response, version);
  return w.finish();
}

function splitAddress(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(":");
  const port = Number(address.slice(at + 1));
  if (at <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new Error(`FaultProxy: "${address}" is not host:port`);
  }
  return { host: address.slice(0, at).replace(/^\[(.*)\]$/, "$1"), port };
}

function nonNegative(value: number, name: string): number {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`FaultProxy: ${name} must be ≥ 0 ms, got ${value}`);
  return value;
}

function probability(value: number, name: string): number {
  if (!(value >= 0 && value <= 1)) throw new RangeError(`FaultProxy: ${name} must lie in [0, 1], got ${value}`);
  return value;
}
