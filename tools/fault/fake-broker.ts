/**
 * A fake Kafka broker on samsa's generated codec, for the answers a real broker will not
 * give: errors on demand, malformed or truncated frames, wrong correlation ids, connections
 * that drop mid-request, requests that are never answered. A test registers a handler per
 * API; unhandled APIs get sane defaults (ApiVersions, Metadata naming this broker and its
 * topics, FindCoordinator naming this broker, InitProducerId, Produce into an in-memory log)
 * or, for any other API, a closed connection.
 *
 * ```ts
 * const broker = await FakeBroker.start({ topics: [{ name: "t", partitions: 3 }] });
 * broker.on(Produce, (request, version) =>
 *   version >= 10 && broker.received(Produce).length === 1 ? FakeBroker.close() : undefined);
 * const client = new Client({ bootstrap: broker.bootstrap });
 * ```
 *
 * A handler gets the decoded request, its version and header, and a context, and returns:
 * a response object (encoded at the request's version), `undefined` (use the default),
 * `FakeBroker.rawBody(bytes)` (bytes sent after a correct size and response header),
 * `FakeBroker.rawFrame(bytes)` (bytes written as they are, no size prefix added),
 * `FakeBroker.close()` (drop the connection), or `FakeBroker.never()` (never answer: this
 * response and every later one on the connection are held, as a stuck broker's would be —
 * Kafka answers a connection's requests in order). Handlers may be async; responses still
 * leave in request order.
 */
import { randomBytes } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import { FrameDecoder } from "../../src/network/frame-decoder.js";
import type { ApiDefinition } from "../../src/protocol/api.js";
import {
  API_BY_KEY,
  ApiKey,
  ApiVersions,
  createApiVersionsResponse,
  createFindCoordinatorResponse,
  createInitProducerIdResponse,
  createMetadataResponse,
  createMetadataResponseMetadataResponsePartition,
  createMetadataResponseMetadataResponseTopic,
  createProduceResponse,
  createProduceResponsePartitionProduceResponse,
  decodeRequestHeader,
  encodeResponseHeader,
  type FindCoordinatorRequest,
  type FindCoordinatorResponse,
  type InitProducerIdResponse,
  type MetadataRequest,
  type MetadataResponse,
  type ProduceRequest,
  type ProduceResponse,
  type RequestHeader,
} from "../../src/protocol/messages/index.js";
import { Reader } from "../../src/protocol/primitives/reader.js";
import { Writer } from "../../src/protocol/primitives/writer.js";

// biome-ignore lint/suspicious/noExplicitAny: a handler table holds every API's handler.
type AnyApi = ApiDefinition<any, any>;

const CLOSE = Symbol("FakeBroker.close");
const NEVER = Symbol("FakeBroker.never");

/** A reply that is not a response object; build with the FakeBroker statics. */
export type SpecialReply =
  | { readonly kind: typeof CLOSE }
  | { readonly kind: typeof NEVER }
  | { readonly kind: "rawBody"; readonly bytes: Buffer }
  | { readonly kind: "rawFrame"; readonly bytes: Buffer };

/** What a handler may return; `undefined` means "do what the broker does by default". */
export type Reply<Res> = Res | SpecialReply | undefined;

/** The context a handler runs in. */
export interface HandlerContext {
  broker: FakeBroker;
  /** The connection the request came on. */
  connection: FakeConnection;
  /** The default reply for this request (what the broker would answer without the handler). */
  fallback(): Reply<unknown>;
}

/** Handles one API's requests; see the module comment for what it may return. */
export type Handler<Req, Res> = (
  request: Req,
  version: number,
  header: RequestHeader,
  context: HandlerContext,
) => Reply<Res> | Promise<Reply<Res>>;

/** A topic the default Metadata and Produce handlers know. */
export interface FakeTopic {
  name: string;
  /** Partition count; default 1. */
  partitions?: number;
  /** Base64 uuid; default random. */
  topicId?: string;
}

/** One broker as the default Metadata and FindCoordinator name it. */
export interface FakeNode {
  nodeId: number;
  host: string;
  port: number;
  rack?: string | null;
}

/** Options of {@link FakeBroker.start}. */
export interface FakeBrokerOptions {
  /** Default 1. */
  nodeId?: number;
  /** Default a random id. */
  clusterId?: string;
  /** Port to listen on (127.0.0.1); default a free one. */
  port?: number;
  topics?: readonly FakeTopic[];
  /**
   * The brokers Metadata lists; default only this one. Use it to make a client go to
   * addresses of your choosing (other fake brokers, a closed port).
   */
  brokers?: () => readonly FakeNode[];
  /** API key → [min, max] advertised by ApiVersions; default the codec's range for every API. */
  apiVersions?: ReadonlyMap<number, readonly [number, number]>;
}

/** One request the broker received, in arrival order. */
export interface ReceivedRequest {
  apiKey: number;
  name: string;
  version: number;
  header: RequestHeader;
  /** The decoded request (undefined if it could not be decoded). */
  request: unknown;
  connection: FakeConnection;
  at: number;
}

/** One accepted client connection. */
export class FakeConnection {
  /** 1, 2, … in accept order. */
  readonly id: number;
  readonly socket: Socket;
  /** Responses are held from the first `never()` on. */
  stuck = false;
  #tail: Promise<void> = Promise.resolve();

  constructor(id: number, socket: Socket) {
    this.id = id;
    this.socket = socket;
  }

  get closed(): boolean {
    return this.socket.destroyed;
  }

  /** Drops the connection. */
  close(): void {
    this.socket.destroy();
  }

  /** @internal Runs `step` after every earlier response was written. */
  inOrder(step: () => Promise<void>): void {
    this.#tail = this.#tail.then(step, step);
  }
}

/** Partition log of the default Produce handler. */
interface FakeLog {
  /** Record batches as produced, with the base offset the broker assigned. */
  batches: { baseOffset: bigint; records: Buffer }[];
  endOffset: bigint;
}

/** The fake broker; see the module comment. */
export class FakeBroker {
  readonly nodeId: number;
  readonly clusterId: string;
  readonly host = "127.0.0.1";
  readonly #server: Server;
  readonly #handlers = new Map<number, Handler<unknown, unknown>>();
  readonly #topics = new Map<string, { name: string; topicId: string; partitions: number }>();
  readonly #logs = new Map<string, FakeLog>();
  readonly #brokers: (() => readonly FakeNode[]) | undefined;
  readonly #apiVersions: ReadonlyMap<number, readonly [number, number]> | undefined;
  readonly #connections = new Set<FakeConnection>();
  #connectionCount = 0;
  #producerIds = 1000n;
  /** Every request received, in order. */
  readonly requests: ReceivedRequest[] = [];
  port = 0;

  private constructor(options: FakeBrokerOptions) {
    this.nodeId = options.nodeId ?? 1;
    this.clusterId = options.clusterId ?? randomBytes(16).toString("base64url").slice(0, 22);
    this.#brokers = options.brokers;
    this.#apiVersions = options.apiVersions;
    for (const t of options.topics ?? []) this.addTopic(t);
    this.#server = createServer({ noDelay: true }, (socket) => this.#accept(socket));
  }

  /** Starts a broker on 127.0.0.1. */
  static async start(options: FakeBrokerOptions = {}): Promise<FakeBroker> {
    const broker = new FakeBroker(options);
    await new Promise<void>((resolve, reject) => {
      broker.#server.once("error", reject);
      broker.#server.listen(options.port ?? 0, "127.0.0.1", () => {
        broker.#server.off("error", reject);
        resolve();
      });
    });
    const address = broker.#server.address();
    if (address === null || typeof address === "string") throw new Error("FakeBroker: no port");
    broker.port = address.port;
    return broker;
  }

  /** Drop the connection instead of answering. */
  static close(): SpecialReply {
    return { kind: CLOSE };
  }

  /** Never answer (this and every later response on the connection). */
  static never(): SpecialReply {
    return { kind: NEVER };
  }

  /** Send `bytes` as the response body, after a correct size prefix and response header. */
  static rawBody(bytes: Buffer): SpecialReply {
    return { kind: "rawBody", bytes };
  }

  /** Write `bytes` exactly as given: size prefix and header are the caller's (or missing). */
  static rawFrame(bytes: Buffer): SpecialReply {
    return { kind: "rawFrame", bytes };
  }

  /** `127.0.0.1:port`. */
  get bootstrap(): string {
    return `${this.host}:${this.port}`;
  }

  /** This broker as Metadata names it. */
  get node(): FakeNode {
    return { nodeId: this.nodeId, host: this.host, port: this.port };
  }

  /** Connections open now. */
  get connections(): readonly FakeConnection[] {
    return [...this.#connections];
  }

  /** Adds a topic the defaults know (Metadata lists it, Produce appends to it). */
  addTopic(topic: FakeTopic): void {
    const partitions = topic.partitions ?? 1;
    const topicId = topic.topicId ?? randomBytes(16).toString("base64url").slice(0, 22);
    this.#topics.set(topic.name, { name: topic.name, topicId, partitions });
    for (let p = 0; p < partitions; p++) this.#logs.set(`${topic.name}/${p}`, { batches: [], endOffset: 0n });
  }

  /** The record batches the default Produce handler stored for a partition, in order. */
  log(topic: string, partition: number): readonly { baseOffset: bigint; records: Buffer }[] {
    return this.#logs.get(`${topic}/${partition}`)?.batches ?? [];
  }

  /** Handles `api` with `handler` (replacing an earlier one). */
  on<Req, Res>(api: ApiDefinition<Req, Res>, handler: Handler<Req, Res>): this {
    this.#handlers.set(api.apiKey, handler as Handler<unknown, unknown>);
    return this;
  }

  /** Handles the next `api` request with `handler`, then goes back to what was there before. */
  once<Req, Res>(api: ApiDefinition<Req, Res>, handler: Handler<Req, Res>): this {
    const previous = this.#handlers.get(api.apiKey);
    this.#handlers.set(api.apiKey, (request, version, header, context) => {
      if (previous) this.#handlers.set(api.apiKey, previous);
      else this.#handlers.delete(api.apiKey);
      return (handler as Handler<unknown, unknown>)(request, version, header, context);
    });
    return this;
  }

  /** Removes the handler of `api` (back to the default). */
  off(api: AnyApi): this {
    this.#handlers.delete(api.apiKey);
    return this;
  }

  /** The requests of `api` received so far, decoded. */
  received<Req>(api: ApiDefinition<Req, unknown>): { request: Req; version: number; header: RequestHeader }[] {
    return this.requests
      .filter((r) => r.apiKey === api.apiKey)
      .map((r) => ({ request: r.request as Req, version: r.version, header: r.header }));
  }

  /** Drops every open connection. */
  dropConnections(): number {
    const all = [...this.#connections];
    for (const c of all) c.close();
    return all.length;
  }

  /** Stops listening and drops every connection. */
  async close(): Promise<void> {
    this.dropConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(socket: Socket): void {
    const connection = new FakeConnection(++this.#connectionCount, socket);
    this.#connections.add(connection);
    const decoder = new FrameDecoder(256 * 1024 * 1024, (frame) => this.#onRequest(connection, frame));
    socket.on("data", (chunk: Buffer) => {
      try {
        decoder.push(chunk);
      } catch {
        socket.destroy();
      }
    });
    socket.on("error", () => socket.destroy());
    socket.on("close", () => this.#connections.delete(connection));
  }

  #onRequest(connection: FakeConnection, frame: Buffer): void {
    const apiKey = frame.readInt16BE(0);
    const version = frame.readInt16BE(2);
    const correlationId = frame.readInt32BE(4);
    const api = API_BY_KEY[apiKey] as AnyApi | undefined;
    // ApiVersions above our range: answer v0 with UNSUPPORTED_VERSION and our range, as Kafka does.
    if (apiKey === ApiKey.ApiVersions && version > ApiVersions.maxCodecVersion) {
      connection.inOrder(async () =>
        this.#write(connection, correlationId, ApiVersions, 0, this.#unsupportedApiVersions()),
      );
      return;
    }
    let header: RequestHeader;
    let request: unknown;
    try {
      if (!api) throw new Error(`unknown API key ${apiKey}`);
      const r = new Reader(frame);
      header = decodeRequestHeader(r, api.requestHeaderVersion(version));
      request = api.decodeRequest(r, version);
    } catch {
      this.requests.push({
        apiKey,
        name: api?.name ?? `api-${apiKey}`,
        version,
        header: { requestApiKey: apiKey, requestApiVersion: version, correlationId, clientId: null },
        request: undefined,
        connection,
        at: Date.now(),
      });
      connection.close();
      return;
    }
    this.requests.push({ apiKey, name: api.name, version, header, request, connection, at: Date.now() });
    // Produce with acks=0 gets no response at all.
    const noResponse = apiKey === ApiKey.Produce && (request as ProduceRequest).acks === 0;
    const fallback = () => this.#default(api, request, version, header);
    const handler = this.#handlers.get(apiKey);
    const reply: Promise<Reply<unknown>> = (async () => {
      const r = handler ? await handler(request, version, header, { broker: this, connection, fallback }) : undefined;
      return r === undefined ? fallback() : r;
    })();
    connection.inOrder(async () => {
      let r: Reply<unknown>;
      try {
        r = await reply;
      } catch {
        connection.close();
        return;
      }
      if (noResponse && !isSpecial(r)) return;
      this.#write(connection, correlationId, api, version, r);
    });
  }

  #write(connection: FakeConnection, correlationId: number, api: AnyApi, version: number, reply: Reply<unknown>): void {
    if (connection.stuck || connection.closed) return;
    if (reply === undefined) {
      connection.close();
      return;
    }
    if (isSpecial(reply)) {
      switch (reply.kind) {
        case CLOSE:
          connection.close();
          return;
        case NEVER:
          connection.stuck = true;
          return;
        case "rawFrame":
          connection.socket.write(reply.bytes);
          return;
        case "rawBody": {
          const w = new Writer(reply.bytes.length + 16);
          const at = w.reserveInt32();
          encodeResponseHeader(w, { correlationId }, api.responseHeaderVersion(version));
          w.raw(reply.bytes);
          w.fillInt32(at, w.pos - 4);
          connection.socket.write(w.finish());
          return;
        }
      }
    }
    const w = new Writer(256);
    const at = w.reserveInt32();
    encodeResponseHeader(w, { correlationId }, api.responseHeaderVersion(version));
    try {
      api.encodeResponse(w, reply, version);
    } catch {
      // A response the version cannot carry is the test author's bug: make it loud.
      connection.close();
      throw new Error(`FakeBroker: the ${api.name} v${version} reply does not encode`);
    }
    w.fillInt32(at, w.pos - 4);
    connection.socket.write(w.finish());
  }

  /** What the broker answers without a handler; undefined closes the connection. */
  #default(api: AnyApi, request: unknown, version: number, _header: RequestHeader): Reply<unknown> {
    switch (api.apiKey) {
      case ApiKey.ApiVersions:
        return this.#apiVersionsResponse();
      case ApiKey.Metadata:
        return this.#metadataResponse(request as MetadataRequest);
      case ApiKey.FindCoordinator:
        return this.#findCoordinatorResponse(request as FindCoordinatorRequest, version);
      case ApiKey.InitProducerId:
        return createInitProducerIdResponse({
          producerId: this.#producerIds++,
          producerEpoch: 0,
        }) satisfies InitProducerIdResponse;
      case ApiKey.Produce:
        return this.#produceResponse(request as ProduceRequest);
      default:
        return undefined;
    }
  }

  #apiVersionsResponse() {
    const apiKeys = [];
    for (const api of API_BY_KEY) {
      if (!api) continue;
      const range = this.#apiVersions ? this.#apiVersions.get(api.apiKey) : ([api.minVersion, api.maxVersion] as const);
      if (range) apiKeys.push({ apiKey: api.apiKey, minVersion: range[0], maxVersion: range[1] });
    }
    return createApiVersionsResponse({ apiKeys });
  }

  #unsupportedApiVersions() {
    return createApiVersionsResponse({
      errorCode: 35,
      apiKeys: [{ apiKey: ApiKey.ApiVersions, minVersion: ApiVersions.minVersion, maxVersion: ApiVersions.maxVersion }],
    });
  }

  #metadataResponse(request: MetadataRequest): MetadataResponse {
    const brokers = (this.#brokers?.() ?? [this.node]).map((b) => ({
      nodeId: b.nodeId,
      host: b.host,
      port: b.port,
      rack: b.rack ?? null,
    }));
    const names = request.topics === null ? [...this.#topics.keys()] : request.topics.map((t) => t.name);
    const topics = names.map((name) => {
      const t = name === null ? undefined : this.#topics.get(name);
      if (!t) return createMetadataResponseMetadataResponseTopic({ errorCode: 3, name });
      return createMetadataResponseMetadataResponseTopic({
        name: t.name,
        topicId: t.topicId,
        partitions: Array.from({ length: t.partitions }, (_, p) =>
          createMetadataResponseMetadataResponsePartition({
            partitionIndex: p,
            leaderId: this.nodeId,
            leaderEpoch: 0,
            replicaNodes: [this.nodeId],
            isrNodes: [this.nodeId],
          }),
        ),
      });
    });
    return createMetadataResponse({ brokers, clusterId: this.clusterId, controllerId: this.nodeId, topics });
  }

  #findCoordinatorResponse(request: FindCoordinatorRequest, version: number): FindCoordinatorResponse {
    const { nodeId, host, port } = this.node;
    if (version <= 3) return createFindCoordinatorResponse({ nodeId, host, port });
    return createFindCoordinatorResponse({
      coordinators: request.coordinatorKeys.map((key) => ({
        key,
        nodeId,
        host,
        port,
        errorCode: 0,
        errorMessage: null,
      })),
    });
  }

  #produceResponse(request: ProduceRequest): ProduceResponse {
    const byId = new Map([...this.#topics.values()].map((t) => [t.topicId, t.name]));
    return createProduceResponse({
      responses: request.topicData.map((topic) => ({
        name: topic.name,
        topicId: topic.topicId,
        partitionResponses: topic.partitionData.map((p) => {
          const name = topic.name !== "" ? topic.name : (byId.get(topic.topicId) ?? "");
          const log = this.#logs.get(`${name}/${p.index}`);
          if (!log)
            return createProduceResponsePartitionProduceResponse({ index: p.index, errorCode: 3, baseOffset: -1n });
          const records = Buffer.from(p.records ?? Buffer.alloc(0));
          const baseOffset = log.endOffset;
          // A batch v2 header: lastOffsetDelta at bytes 23-26; one batch per partition (KIP-896 floor).
          const count = records.length >= 27 ? records.readInt32BE(23) + 1 : 0;
          log.batches.push({ baseOffset, records });
          log.endOffset += BigInt(count);
          return createProduceResponsePartitionProduceResponse({ index: p.index, baseOffset, logStartOffset: 0n });
        }),
      })),
    });
  }
}

function isSpecial(reply: unknown): reply is SpecialReply {
  if (reply === null || typeof reply !== "object" || !("kind" in reply)) return false;
  const kind = (reply as { kind: unknown }).kind;
  return kind === CLOSE || kind === NEVER || kind === "rawBody" || kind === "rawFrame";
}
