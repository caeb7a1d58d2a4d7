/**
 * The codecs of the Node peers — kafkajs and @platformatic/kafka, devDependencies of the
 * benchmarks only — driven the way their own producers and consumers drive them, so that
 * codec.ts can time them on the same records as samsa. Neither package exports its protocol
 * layer, so the internals are loaded by file path; a missing package yields a reason, not a throw.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import type { RecordInput } from "../../src/protocol/records/index.js";

/** One peer's Produce encoder and Fetch decoder. */
export interface PeerCodec {
  /** npm package name. */
  readonly name: string;
  /** Installed version. */
  readonly version: string;
  /** The Produce version its producer sends to a Kafka 4.x broker (its newest). */
  readonly produceVersion: number;
  /** The Fetch version its consumer sends to a Kafka 4.x broker (its newest). */
  readonly fetchVersion: number;
  /**
   * A function that encodes one Produce request frame (size prefix included) carrying
   * `records` as one uncompressed batch for partition 0 of `topic`, CRC included: neither peer
   * can leave the CRC out. Converting samsa's record inputs into the peer's message shape
   * (what its producer's `send` does before encoding) happens here, once, outside the timing.
   */
  produceEncoder(topic: string, records: readonly RecordInput[]): () => Buffer | Promise<Buffer>;
  /**
   * Decodes one Fetch response frame (correlation id onward, as the peer's connection hands
   * it over) down to records. Neither peer checks batch CRCs when decoding.
   */
  decodeFetch(frame: Buffer): unknown;
  /** The record values of a `decodeFetch` result, in order (for checking, not timed). */
  fetchedValues(decoded: unknown): Buffer[];
}

/** A loaded peer, or why it could not be loaded. */
export type PeerLoad = { ok: true; codec: PeerCodec } | { ok: false; name: string; reason: string };

const require = createRequire(import.meta.url);

/** The package's root directory, found from its main entry (the exports maps hide the rest). */
function packageRoot(name: string): string {
  let dir = dirname(require.resolve(name));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string };
      if (pkg.name === name) return dir;
    } catch {
      // No package.json here: keep walking up.
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`${name}: package root not found`);
    dir = parent;
  }
}

function packageVersion(root: string): string {
  return (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string }).version;
}

// ---------------------------------------------------------------------------------------------
// kafkajs (CommonJS, src/ shipped as is)

interface KafkajsEncoder {
  readonly buffer: Buffer;
}
interface KafkajsRequest {
  apiKey: number;
  apiVersion: number;
  encode(): Promise<KafkajsEncoder>;
}
type KafkajsProduceProtocol = (args: {
  version: number;
}) => ((args: Record<string, unknown>) => { request: KafkajsRequest }) | undefined;
type KafkajsCreateRequest = (args: {
  correlationId: number;
  clientId: string;
  request: KafkajsRequest;
}) => Promise<KafkajsEncoder>;
interface KafkajsDecoder {
  readInt32(): number;
  readAll(): Buffer;
}
interface KafkajsFetchResponse {
  decode(payload: Buffer): Promise<unknown>;
  parse(data: unknown): Promise<unknown>;
}
interface KafkajsFetched {
  responses: { partitions: { messages: { value: Buffer | null }[] }[] }[];
}

function loadKafkajs(): PeerCodec {
  const root = packageRoot("kafkajs");
  const load = (path: string): unknown => require(join(root, path));
  const produce = load("src/protocol/requests/produce/index.js") as { protocol: KafkajsProduceProtocol };
  const createRequest = load("src/protocol/request.js") as KafkajsCreateRequest;
  const Decoder = load("src/protocol/decoder.js") as new (buf: Buffer) => KafkajsDecoder;
  const fetchV11 = load("src/protocol/requests/fetch/v11/response.js") as KafkajsFetchResponse;
  // What Broker.lookupRequest(Produce) returns once v7 is negotiated.
  const produceV7 = produce.protocol({ version: 7 });
  if (!produceV7) throw new Error("kafkajs: Produce v7 not found");
  return {
    name: "kafkajs",
    version: packageVersion(root),
    produceVersion: 7,
    fetchVersion: 11,
    produceEncoder(topic, records) {
      // kafkajs messages: { key, value, timestamp, headers }; the producer passes them through.
      const messages = records.map((r) => ({ key: r.key, value: r.value, timestamp: r.timestamp }));
      const topicData = [{ topic, partitions: [{ partition: 0, messages }] }];
      let correlationId = 0;
      // Broker.produce → lookupRequest(Produce) → Connection.send → createRequest → socket.write(.buffer).
      return async () => {
        const { request } = produceV7({ acks: -1, timeout: 30000, compression: 0, topicData });
        const encoder = await createRequest({ correlationId: correlationId++, clientId: "bench", request });
        return encoder.buffer;
      };
    },
    async decodeFetch(frame) {
      // Connection.processData: the frame's correlation id is read, the rest goes to
      // response.decode, whose result goes to response.parse.
      const decoder = new Decoder(frame);
      decoder.readInt32();
      return fetchV11.parse(await fetchV11.decode(decoder.readAll()));
    },
    fetchedValues(decoded) {
      const out: Buffer[] = [];
      for (const t of (decoded as KafkajsFetched).responses)
        for (const p of t.partitions) for (const m of p.messages) if (m.value) out.push(m.value);
      return out;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// @platformatic/kafka (ESM, compiled dist/)

interface PlatformaticWriter {
  readonly buffer: Buffer;
  appendInt16(value: number): PlatformaticWriter;
  appendInt32(value: number): PlatformaticWriter;
  appendString(value: string, compact?: boolean): PlatformaticWriter;
  appendTaggedFields(): PlatformaticWriter;
  appendFrom(other: PlatformaticWriter): PlatformaticWriter;
  prependLength(): PlatformaticWriter;
}
interface PlatformaticReader {
  readInt32(): number;
  skip(n: number): void;
}
interface PlatformaticMessage {
  key: Buffer | null;
  value: Buffer | null;
  headers: Map<Buffer, Buffer>;
  topic: string;
  partition: number;
  timestamp: bigint;
}
interface PlatformaticFetched {
  responses: { partitions: { records?: { records: { value: Buffer | null }[] }[] }[] }[];
}

async function loadPlatformatic(): Promise<PeerCodec> {
  const root = packageRoot("@platformatic/kafka");
  const load = (path: string): Promise<unknown> => import(pathToFileURL(join(root, path)).href);
  const { Writer } = (await load("dist/protocol/writer.js")) as { Writer: { create(): PlatformaticWriter } };
  const { Reader } = (await load("dist/protocol/reader.js")) as { Reader: { from(buf: Buffer): PlatformaticReader } };
  const produceV11 = (await load("dist/apis/producer/produce-v11.js")) as {
    createRequest(acks: number, timeout: number, messages: PlatformaticMessage[], options: object): PlatformaticWriter;
  };
  const fetchV17 = (await load("dist/apis/consumer/fetch-v17.js")) as {
    parseResponse(correlationId: number, apiKey: number, apiVersion: number, reader: PlatformaticReader): unknown;
  };
  return {
    name: "@platformatic/kafka",
    version: packageVersion(root),
    produceVersion: 11,
    fetchVersion: 17,
    produceEncoder(topic, records) {
      // What Producer.send hands to the Produce API: serialised key/value Buffers, a Map of
      // headers, topic, partition, and the timestamp as a bigint (its message schema's type).
      const messages: PlatformaticMessage[] = records.map((r) => ({
        key: (r.key ?? null) as Buffer | null,
        value: r.value as Buffer | null,
        headers: new Map(),
        topic,
        partition: 0,
        timestamp: BigInt(r.timestamp ?? 0),
      }));
      let correlationId = 0;
      return () => {
        // Connection.send: request header v2 (classic client id string, tagged fields), then
        // the payload from createRequest, then the size prefix; `.buffer` is what it writes.
        const writer = Writer.create()
          .appendInt16(0)
          .appendInt16(11)
          .appendInt32(correlationId++)
          .appendString("bench", false)
          .appendTaggedFields();
        return writer.appendFrom(produceV11.createRequest(-1, 30000, messages, {})).prependLength().buffer;
      };
    },
    decodeFetch(frame) {
      // Connection.#onData: correlation id, the header's (empty) tagged fields, then the parser.
      const reader = Reader.from(frame);
      const correlationId = reader.readInt32();
      reader.skip(1);
      return fetchV17.parseResponse(correlationId, 1, 17, reader);
    },
    fetchedValues(decoded) {
      const out: Buffer[] = [];
      for (const t of (decoded as PlatformaticFetched).responses)
        for (const p of t.partitions)
          for (const b of p.records ?? []) for (const r of b.records) if (r.value) out.push(r.value);
      return out;
    },
  };
}

/** The first line of an error's message (Node's "Cannot find module" adds the require stack). */
function reason(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split("\n")[0] as string;
}

/** Loads both peers; a peer that is not installed (or fails to load) comes back with the reason. */
export async function loadPeers(): Promise<PeerLoad[]> {
  const out: PeerLoad[] = [];
  try {
    out.push({ ok: true, codec: loadKafkajs() });
  } catch (err) {
    out.push({ ok: false, name: "kafkajs", reason: reason(err) });
  }
  try {
    out.push({ ok: true, codec: await loadPlatformatic() });
  } catch (err) {
    out.push({ ok: false, name: "@platformatic/kafka", reason: reason(err) });
  }
  return out;
}
