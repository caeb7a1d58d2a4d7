/**
 * Hand-built requests the harness uses to tell that a broker really serves clients. They
 * predate samsa's generated codec and stay deliberately tiny: ApiVersions v0 and Metadata v1
 * are classic (non-flexible) versions every Kafka 4.x broker still accepts.
 */
import { connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";

/** How to reach one listener. */
export interface ProbeTarget {
  host: string;
  port: number;
  /** PEM CA certificate: when set, the probe speaks TLS and verifies the broker with it. */
  ca?: string;
}

/** One entry of an ApiVersions response. */
export interface ApiVersionRange {
  apiKey: number;
  minVersion: number;
  maxVersion: number;
}

const API_VERSIONS = 18;
const METADATA = 3;

function requestFrame(apiKey: number, apiVersion: number, correlationId: number, body: Buffer): Buffer {
  const clientId = Buffer.from("samsa-harness");
  // Request header v1: api_key, api_version, correlation_id, client_id (int16-length string).
  const header = Buffer.alloc(2 + 2 + 4 + 2 + clientId.length);
  header.writeInt16BE(apiKey, 0);
  header.writeInt16BE(apiVersion, 2);
  header.writeInt32BE(correlationId, 4);
  header.writeInt16BE(clientId.length, 8);
  clientId.copy(header, 10);
  const size = Buffer.alloc(4);
  size.writeInt32BE(header.length + body.length, 0);
  return Buffer.concat([size, header, body]);
}

function openSocket(target: ProbeTarget, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket: Socket = target.ca
      ? tlsConnect({ host: target.host, port: target.port, ca: target.ca, servername: "localhost" })
      : netConnect({ host: target.host, port: target.port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connect to ${target.host}:${target.port} timed out`));
    }, timeoutMs);
    socket.once(target.ca ? "secureConnect" : "connect", () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/**
 * One socket to one listener, sending one request at a time. A request resolves with the
 * response body after the correlation id, or with `null` when the broker closes the
 * connection instead of answering.
 */
export class ProbeConnection {
  #socket: Socket;
  #buffered: Buffer = Buffer.alloc(0);
  #closed = false;
  #waiter: ((frame: Buffer | null) => void) | undefined;
  #correlationId = 0;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on("data", (chunk: Buffer) => {
      this.#buffered = Buffer.concat([this.#buffered, chunk]);
      if (this.#buffered.length < 4) return;
      const size = this.#buffered.readInt32BE(0);
      if (this.#buffered.length < 4 + size) return;
      const frame = this.#buffered.subarray(4, 4 + size);
      this.#buffered = this.#buffered.subarray(4 + size);
      this.#deliver(frame);
    });
    socket.on("close", () => {
      this.#closed = true;
      this.#deliver(null);
    });
    socket.on("error", () => {});
  }

  /** Connects (with TLS when `target.ca` is set). */
  static async open(target: ProbeTarget, timeoutMs = 5000): Promise<ProbeConnection> {
    return new ProbeConnection(await openSocket(target, timeoutMs));
  }

  #deliver(frame: Buffer | null): void {
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.(frame);
  }

  /** Sends one request; see the class comment for what it resolves with. */
  request(apiKey: number, apiVersion: number, body: Buffer, timeoutMs = 5000): Promise<Buffer | null> {
    if (this.#closed) return Promise.resolve(null);
    const correlationId = ++this.#correlationId;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiter = undefined;
        reject(new Error(`no response within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiter = (frame) => {
        clearTimeout(timer);
        if (frame === null) resolve(null);
        else if (frame.readInt32BE(0) !== correlationId)
          reject(new Error(`correlation id ${frame.readInt32BE(0)}, expected ${correlationId}`));
        else resolve(frame.subarray(4));
      };
      this.#socket.write(requestFrame(apiKey, apiVersion, correlationId, body));
    });
  }

  /** Closes the socket. */
  close(): void {
    this.#socket.destroy();
  }
}

/** Opens a connection, sends one request, closes; see {@link ProbeConnection.request}. */
export async function roundTrip(
  target: ProbeTarget,
  apiKey: number,
  apiVersion: number,
  body: Buffer,
  timeoutMs = 5000,
): Promise<Buffer | null> {
  const connection = await ProbeConnection.open(target, timeoutMs);
  try {
    return await connection.request(apiKey, apiVersion, body, timeoutMs);
  } finally {
    connection.close();
  }
}

function int16String(value: string): Buffer {
  const bytes = Buffer.from(value);
  const out = Buffer.alloc(2 + bytes.length);
  out.writeInt16BE(bytes.length, 0);
  bytes.copy(out, 2);
  return out;
}

/**
 * SASL/PLAIN by hand (SaslHandshake v1, then SaslAuthenticate v0) on an open connection.
 * Resolves with SaslAuthenticate's error code: 0 when the broker accepted the credentials.
 */
export async function saslPlain(connection: ProbeConnection, username: string, password: string): Promise<number> {
  const handshake = await connection.request(17, 1, int16String("PLAIN"));
  if (handshake === null) throw new Error("connection closed during SaslHandshake");
  const handshakeError = handshake.readInt16BE(0);
  if (handshakeError !== 0) return handshakeError;
  const token = Buffer.from(`\0${username}\0${password}`);
  const body = Buffer.alloc(4 + token.length);
  body.writeInt32BE(token.length, 0);
  token.copy(body, 4);
  const response = await connection.request(36, 0, body);
  if (response === null) throw new Error("connection closed during SaslAuthenticate");
  return response.readInt16BE(0);
}

/** Sends ApiVersions v0 and returns the broker's API ranges; throws on an error code. */
export async function probeApiVersions(target: ProbeTarget, timeoutMs?: number): Promise<ApiVersionRange[]> {
  const body = await roundTrip(target, API_VERSIONS, 0, Buffer.alloc(0), timeoutMs);
  if (body === null) throw new Error(`${target.host}:${target.port} closed the connection on ApiVersions`);
  const errorCode = body.readInt16BE(0);
  if (errorCode !== 0) throw new Error(`ApiVersions error code ${errorCode}`);
  const count = body.readInt32BE(2);
  const ranges: ApiVersionRange[] = [];
  for (let i = 0, at = 6; i < count; i++, at += 6) {
    ranges.push({
      apiKey: body.readInt16BE(at),
      minVersion: body.readInt16BE(at + 2),
      maxVersion: body.readInt16BE(at + 4),
    });
  }
  return ranges;
}

/** Metadata v1 for no topics; resolves with the ids of the brokers the cluster lists. */
export async function probeBrokerIds(target: ProbeTarget, timeoutMs?: number): Promise<number[]> {
  // Metadata v1 body: topics array; an empty (not null) array asks for no topics.
  const request = Buffer.alloc(4);
  request.writeInt32BE(0, 0);
  const body = await roundTrip(target, METADATA, 1, request, timeoutMs);
  if (body === null) throw new Error(`${target.host}:${target.port} closed the connection on Metadata`);
  const ids: number[] = [];
  const count = body.readInt32BE(0);
  let at = 4;
  for (let i = 0; i < count; i++) {
    ids.push(body.readInt32BE(at));
    at += 4;
    at += 2 + body.readInt16BE(at); // host
    at += 4; // port
    const rackLength = body.readInt16BE(at);
    at += 2 + Math.max(0, rackLength);
  }
  return ids.sort((a, b) => a - b);
}
