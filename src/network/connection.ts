/**
 * One socket to one broker: TCP or TLS, then ApiVersions negotiation, then SASL. Requests
 * are encoded into one buffer each (a Produce request's large record batches beside it, uncopied:
 * `gather`) and written with one socket write, several in flight at once;
 * Kafka answers each connection's requests in order, so responses are matched against the
 * head of the in-flight queue and its correlation id checked.
 */
import { connect as netConnect } from "node:net";
import { type ConnectionOptions as TlsConnectionOptions, connect as tlsConnect } from "node:tls";
import { type RequestContext, tracing } from "../observability/events.js";
import { Instrumentation } from "../observability/instrumentation.js";
import type { ApiDefinition } from "../protocol/api.js";
import { ErrorCode } from "../protocol/error-table.js";
import { ProtocolError, SamsaError, UnsupportedVersionError } from "../protocol/errors.js";
import { kafkaError } from "../protocol/kafka-error.js";
import {
  ApiVersions,
  type ApiVersionsResponse,
  decodeResponseHeader,
  encodeRequestHeader,
  SaslAuthenticate,
  SaslHandshake,
} from "../protocol/messages/index.js";
import { Reader } from "../protocol/primitives/reader.js";
import { Writer } from "../protocol/primitives/writer.js";
import { Fifo } from "../util/fifo.js";
import {
  AbortedError,
  AuthenticationError,
  ConnectionClosedError,
  ConnectionError,
  RequestTimeoutError,
} from "./errors.js";
import { FrameDecoder } from "./frame-decoder.js";
import { ThreadSocket, type Wire } from "./io-thread.js";
import { type SaslOptions, saslMechanism } from "./sasl/index.js";
import { timeouts } from "./timeouts.js";
import { type NegotiatedVersions, negotiateVersions } from "./versions.js";

/** TLS: `true` for defaults (system CAs, verification on), or node:tls options. */
export type TlsOptions = boolean | TlsConnectionOptions;

/** Options of one connection. */
export interface ConnectionOptions {
  host: string;
  port: number;
  /** `client.id` sent in every request header. Default "samsa". */
  clientId?: string;
  tls?: TlsOptions;
  sasl?: SaslOptions;
  /**
   * Bound on the whole connect: TCP, the TLS handshake, ApiVersions and the SASL exchange. A
   * broker that accepts the connection and then says nothing fails it with ConnectionError
   * within this time. Default 10 s.
   */
  connectTimeoutMs?: number;
  /** Default per-request timeout; default 30 s. */
  requestTimeoutMs?: number;
  /** Requests written but not yet answered; default 5, as the Java client. */
  maxInFlight?: number;
  /** Largest response frame accepted; default 100 MiB. */
  maxFrameBytes?: number;
  /** Sent in ApiVersions (KIP-511). */
  clientSoftwareName?: string;
  clientSoftwareVersion?: string;
  /** Where events and counters go; the `Client` passes its own (one per client). */
  instrumentation?: Instrumentation;
  /**
   * Read the socket on the I/O thread (io-thread.ts) instead of the main thread. Plain TCP
   * only: ignored with `tls`. The broker pool sets it for consumers' fetch connections.
   */
  ioThread?: boolean;
}

/** Per-request options. */
export interface RequestOptions {
  /** Version to use instead of the negotiated one. */
  version?: number;
  /** Overrides the connection's request timeout (a Fetch adds its max wait). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /**
   * The broker sends no response (Produce with acks=0): resolves once the socket has written
   * the request. A request the socket cannot write within the timeout (a broker that stopped
   * reading) rejects with RequestTimeoutError and closes the connection.
   */
  noResponse?: boolean;
  /**
   * About how many bytes the encoded request's own buffer takes (a Produce request: the
   * batches it copies plus a little): allocated at that size once instead of doubling from
   * 256 bytes, which would copy a large request's bytes about twice over.
   */
  sizeHint?: number;
  /**
   * Byte values of GATHER_MIN_BYTES or more go to the socket as they are, not copied into the
   * request's buffer (one gathered write: writev). The caller must leave them unchanged until
   * the request settles and the connection closes or its later requests are written: an
   * aborted or timed-out request's bytes may still be queued in the socket. The producer sets
   * it for its record batches, which nothing changes once built.
   */
  gather?: boolean;
}

interface Pending {
  correlationId: number;
  // biome-ignore lint/suspicious/noExplicitAny: each entry decodes its own API's response.
  api: ApiDefinition<any, any>;
  version: number;
  /** The request's bytes: one buffer, or the parts of a gathered one (record batches not copied). */
  frame: Uint8Array[];
  deadline: number;
  timeoutMs: number;
  noResponse: boolean;
  /** Written to the socket (so it may have reached the broker). */
  written: boolean;
  /** The caller gave up (abort): the response is read and dropped. */
  abandoned: boolean;
  /** Resolve with the whole response frame instead of decoding it (negotiation). */
  raw: boolean;
  resolve(value: unknown): void;
  reject(err: Error): void;
  cleanup?: () => void;
  /** Set when someone traces requests (events.ts `samsa:network:request`). */
  trace: RequestContext | undefined;
  started: number;
  /** Resolved or rejected already (an aborted request is rejected again when the connection closes). */
  settled: boolean;
}

const DEFAULT_MAX_FRAME = 100 * 1024 * 1024;

/**
 * Milliseconds since `started` (a `performance.now()`), rounded to the microsecond: the
 * digits past it are timer noise, and they made log lines read `0.8341239999`.
 */
const elapsedMs = (started: number) => Math.round((performance.now() - started) * 1000) / 1000;

/**
 * Writes a request's parts as one socket write: corked, so that a net or TLS socket hands them
 * to the kernel in one gathered write (writev) rather than one write each; `callback` runs once
 * all are written. Returns what the last write returned (false: wait for "drain").
 */
function writeFrame(socket: Wire, parts: Uint8Array[], callback?: (err?: Error | null) => void): boolean {
  if (parts.length === 1) return socket.write(parts[0] as Uint8Array, callback);
  socket.cork?.();
  let accepted = true;
  for (let i = 0; i < parts.length; i++) {
    accepted = socket.write(parts[i] as Uint8Array, i === parts.length - 1 ? callback : undefined);
  }
  socket.uncork?.();
  return accepted;
}

/** A connection to one broker; see the module comment. */
export class Connection {
  readonly host: string;
  readonly port: number;
  /** `host:port`, for messages. */
  readonly address: string;
  readonly #options: ConnectionOptions;
  readonly #maxInFlight: number;
  readonly #requestTimeoutMs: number;
  #socket: Wire | undefined;
  #state: "new" | "connecting" | "negotiating" | "ready" | "closed" = "new";
  #closeError: SamsaError | undefined;
  #correlationId = 0;
  readonly #inFlight: Pending[] = [];
  /** `noResponse` requests handed to the socket whose write has not completed yet. */
  readonly #unwritten = new Set<Pending>();
  /** Set when connectTimeoutMs passed before the connection was ready: the connect's error. */
  #connectTimedOut: ConnectionError | undefined;
  readonly #waiting = new Fifo<Pending>();
  #writable = true;
  #versions: NegotiatedVersions | undefined;
  #apiVersions: ApiVersionsResponse | undefined;
  #reauthTimer: NodeJS.Timeout | undefined;
  #reauthenticating = false;
  #reauthRunning = false;
  #authentications = 0;
  #connectPromise: Promise<void> | undefined;
  readonly #closeListeners: ((err: SamsaError) => void)[] = [];
  readonly #inst: Instrumentation;

  constructor(options: ConnectionOptions) {
    this.#options = options;
    this.#inst = options.instrumentation ?? new Instrumentation(options.clientId ?? "samsa");
    this.host = options.host;
    this.port = options.port;
    this.address = `${options.host}:${options.port}`;
    this.#maxInFlight = options.maxInFlight ?? 5;
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  }

  /** True once negotiated (and authenticated) and until closed. */
  get ready(): boolean {
    return this.#state === "ready";
  }

  /** True when this connection's socket is read on the I/O thread (`ioThread`, plain TCP). */
  get onIoThread(): boolean {
    return this.#options.ioThread === true && !this.#options.tls;
  }

  /** True once closed, for whatever reason. */
  get closed(): boolean {
    return this.#state === "closed";
  }

  /** Requests written and not yet answered. */
  get inFlightCount(): number {
    return this.#inFlight.length;
  }

  /** The broker's ApiVersions response (API ranges, features). */
  get apiVersions(): ApiVersionsResponse | undefined {
    return this.#apiVersions;
  }

  /** The negotiated versions; undefined before {@link connect} resolves. */
  get versions(): NegotiatedVersions | undefined {
    return this.#versions;
  }

  /** Called once when the connection closes (broker, timeout, or {@link close}). */
  onClose(listener: (err: SamsaError) => void): void {
    this.#closeListeners.push(listener);
  }

  /** Opens the socket, negotiates versions and authenticates. Safe to call more than once. */
  connect(): Promise<void> {
    this.#connectPromise ??= this.#connect();
    return this.#connectPromise;
  }

  async #connect(): Promise<void> {
    if (this.#state !== "new") throw this.#closeError ?? new ConnectionError(this.address, "already closed");
    this.#state = "connecting";
    const timeoutMs = this.#options.connectTimeoutMs ?? 10_000;
    const deadline = Date.now() + timeoutMs;
    const decoder = new FrameDecoder(this.#options.maxFrameBytes ?? DEFAULT_MAX_FRAME, (frame) => this.#onFrame(frame));
    const socket = await this.#openSocket(decoder, timeoutMs);
    this.#socket = socket;
    // What follows TCP (and TLS) is bounded by the same deadline: a broker, or anything else
    // listening on its port, that accepts and then never answers ApiVersions or SASL would
    // otherwise hold the connect for a request timeout per step of the exchange.
    let phase = "ApiVersions";
    const timer = setTimeout(
      () => {
        this.#connectTimedOut = new ConnectionError(
          this.address,
          `connect timed out after ${timeoutMs} ms (connectTimeoutMs) waiting for ${phase}`,
        );
        this.close(this.#connectTimedOut);
      },
      Math.max(0, deadline - Date.now()),
    );
    if (this.#options.tls) socket.on("data", (chunk: Buffer) => this.#feed(decoder, chunk.length, chunk, true));
    socket.on("drain", () => {
      this.#writable = true;
      this.#pump();
    });
    socket.on("error", (err) => this.#fail(new ConnectionClosedError(this.address, true, err.message, { cause: err })));
    socket.on("close", () => this.#fail(new ConnectionClosedError(this.address, true, "closed by the broker")));
    timeouts.watch(this);
    this.#state = "negotiating";
    try {
      await this.#negotiate();
      if (this.#inst.wants("network:connection-opened")) {
        this.#inst.emit("network:connection-opened", {
          clientId: this.#inst.clientId,
          address: this.address,
          tls: this.#options.tls !== undefined && this.#options.tls !== false,
          durationMs: timeoutMs - (deadline - Date.now()),
        });
      }
      phase = "SASL authentication";
      if (this.#options.sasl) await this.#authenticate();
    } catch (err) {
      const error =
        this.#connectTimedOut ??
        (err instanceof SamsaError ? err : new ConnectionError(this.address, (err as Error).message, { cause: err }));
      this.close(error);
      throw error;
    } finally {
      clearTimeout(timer);
    }
    if (this.closed) throw this.#connectTimedOut ?? this.#closeError;
    this.#state = "ready";
    this.#pump();
  }

  /** Bytes from the socket into the decoder: a fresh chunk (TLS) or an `onread` read; a bad frame fails the connection. */
  #feed(decoder: FrameDecoder, n: number, buf: Buffer, chunk: boolean): void {
    try {
      if (chunk) decoder.push(buf);
      else decoder.onRead(n, buf);
    } catch (err) {
      this.#fail(err as SamsaError);
    }
  }

  /**
   * Plain TCP reads through `onread` into memory the decoder picks, or on the I/O thread
   * (`ioThread`), which hands over whole frames; TLS streams chunks.
   */
  #openSocket(decoder: FrameDecoder, timeoutMs: number): Promise<Wire> {
    const { host, port } = this;
    const tls = this.#options.tls;
    return new Promise((resolve, reject) => {
      let socket: Wire;
      if (!tls && this.#options.ioThread === true) {
        socket = new ThreadSocket(
          host,
          port,
          this.#options.maxFrameBytes ?? DEFAULT_MAX_FRAME,
          (frame) => this.#onFrame(frame),
          (err) => this.#fail(err),
        );
      } else if (tls) {
        const base = tls === true ? {} : tls;
        // SNI must be a host name; for an IP literal Node would warn and the name is useless.
        const servername = base.servername ?? (/^[\d.:]+$/.test(host) ? undefined : host);
        socket = tlsConnect({ ...base, host, port, ...(servername ? { servername } : {}) });
      } else {
        socket = netConnect({
          host,
          port,
          onread: {
            buffer: () => decoder.readBuffer(),
            callback: (n: number, buf: Uint8Array) => {
              this.#feed(decoder, n, buf as Buffer, false);
              return true;
            },
          },
        });
      }
      const timer = setTimeout(() => {
        socket.destroy();
        reject(
          new ConnectionError(
            this.address,
            `connect timed out after ${timeoutMs} ms (connectTimeoutMs) waiting for ${tls ? "TCP and the TLS handshake" : "TCP"}`,
          ),
        );
      }, timeoutMs);
      socket.once(tls ? "secureConnect" : "connect", () => {
        clearTimeout(timer);
        socket.removeAllListeners("error");
        socket.setNoDelay(true);
        resolve(socket);
      });
      socket.once("error", (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        socket.destroy();
        // A certificate the client does not trust is an authentication failure: retrying
        // cannot fix it, so it must not look like a transient connection error.
        if (tls && (err.code?.startsWith("ERR_TLS") || /certificate|self.signed|SSL|TLS/i.test(err.message))) {
          reject(new AuthenticationError(this.address, `TLS: ${err.message}`, { cause: err }));
        } else {
          reject(new ConnectionError(this.address, err.message, { cause: err }));
        }
      });
    });
  }

  /** ApiVersions at our newest version, falling back to what the broker says it speaks. */
  async #negotiate(): Promise<void> {
    const request = {
      clientSoftwareName: this.#options.clientSoftwareName ?? "samsa",
      clientSoftwareVersion: this.#options.clientSoftwareVersion ?? "0.1.0",
    };
    let version = ApiVersions.maxVersion;
    for (let attempt = 0; attempt < 2; attempt++) {
      const frame = (await this.#send(ApiVersions, request, version, {}, true, true)) as unknown as Buffer;
      // An ApiVersions response always has header v0. When the broker lacks our version it
      // answers in v0 with UNSUPPORTED_VERSION and its own range for ApiVersions.
      const r = new Reader(frame);
      decodeResponseHeader(r, 0);
      const errorCode = frame.length >= 6 ? frame.readInt16BE(4) : -1;
      if (errorCode === ErrorCode.UNSUPPORTED_VERSION) {
        const fallback = ApiVersions.decodeResponse(r, 0);
        const theirs = fallback.apiKeys.find((k) => k.apiKey === ApiVersions.apiKey);
        version = Math.min(ApiVersions.maxVersion, theirs?.maxVersion ?? 0);
        continue;
      }
      const response = ApiVersions.decodeResponse(r, version);
      if (response.errorCode !== 0) throw kafkaError(response.errorCode);
      this.#apiVersions = response;
      this.#versions = negotiateVersions(response);
      return;
    }
    throw new UnsupportedVersionError(`${this.address}: ApiVersions negotiation failed`);
  }

  async #authenticate(): Promise<void> {
    const sasl = this.#options.sasl as SaslOptions;
    const mechanism = saslMechanism(sasl);
    const handshake = await this.#send(
      SaslHandshake,
      { mechanism: mechanism.name },
      this.#versionOf(SaslHandshake),
      {},
      true,
    );
    if (handshake.errorCode !== 0) {
      throw new AuthenticationError(
        this.address,
        `SaslHandshake for ${mechanism.name} refused: ${kafkaError(handshake.errorCode).message} (enabled: ${handshake.mechanisms.join(", ")})`,
      );
    }
    const session = await mechanism.start({ broker: this.address });
    const version = this.#versionOf(SaslAuthenticate);
    let challenge: Buffer | null = null;
    let lifetimeMs = 0n;
    for (;;) {
      let bytes: Buffer | null;
      try {
        bytes = await session.step(challenge);
      } catch (err) {
        if (err instanceof AuthenticationError) throw err;
        throw new AuthenticationError(this.address, err instanceof Error ? err.message : String(err), { cause: err });
      }
      if (bytes === null) break;
      const response = await this.#send(SaslAuthenticate, { authBytes: bytes }, version, {}, true);
      if (response.errorCode !== 0) {
        throw new AuthenticationError(
          this.address,
          response.errorMessage ?? kafkaError(response.errorCode).errorMessage,
        );
      }
      challenge = response.authBytes;
      lifetimeMs = response.sessionLifetimeMs;
    }
    this.#authentications++;
    if (this.#inst.wants("network:connection-authenticated")) {
      this.#inst.emit("network:connection-authenticated", {
        clientId: this.#inst.clientId,
        address: this.address,
        mechanism: mechanism.name,
        reauthentication: this.#authentications > 1,
        sessionLifetimeMs: Number(lifetimeMs),
      });
    }
    this.#scheduleReauth(Number(lifetimeMs));
  }

  /** Successful SASL authentications on this connection: 1 + re-authentications (KIP-368). */
  get authentications(): number {
    return this.#authentications;
  }

  /**
   * KIP-368: the broker closes a connection whose session outlives its lifetime, so
   * re-authenticate at 85–95% of it (jittered so many connections do not align).
   */
  #scheduleReauth(lifetimeMs: number): void {
    clearTimeout(this.#reauthTimer);
    if (!(lifetimeMs > 0)) return;
    const delay = Math.max(100, lifetimeMs * (0.85 + Math.random() * 0.1));
    this.#reauthTimer = setTimeout(() => {
      this.#reauthenticating = true;
      this.#maybeReauthenticate();
    }, delay);
    this.#reauthTimer.unref();
  }

  /** Re-authenticates once nothing is in flight; user requests wait meanwhile. */
  #maybeReauthenticate(): void {
    // #onFrame calls this after every response, including those of the re-authentication's
    // own requests: start the exchange once, not again per response.
    if (!this.#reauthenticating || this.#reauthRunning || this.#inFlight.length > 0 || this.closed) return;
    this.#reauthRunning = true;
    this.#authenticate().then(
      () => {
        this.#reauthRunning = false;
        this.#reauthenticating = false;
        this.#pump();
      },
      (err) => this.close(err instanceof SamsaError ? err : new AuthenticationError(this.address, String(err))),
    );
  }

  #versionOf(api: ApiDefinition<unknown, unknown>): number {
    const versions = this.#versions;
    if (!versions) throw new UnsupportedVersionError(`${this.address}: versions not negotiated yet`);
    return versions.versionFor(api);
  }

  /** The version this connection uses for `api` (throws UnsupportedVersionError if none). */
  versionFor(api: ApiDefinition<unknown, unknown>): number {
    return this.#versionOf(api);
  }

  /**
   * Sends one request and resolves with the decoded response. Rejects with a KafkaError only
   * for errors the caller asked to be thrown; top-level error codes stay in the response.
   */
  request<Req, Res>(api: ApiDefinition<Req, Res>, request: Req, options: RequestOptions = {}): Promise<Res> {
    if (this.closed) return Promise.reject(this.#closeError);
    let version: number;
    try {
      version = options.version ?? this.#versionOf(api as ApiDefinition<unknown, unknown>);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#send(api, request, version, options, false);
  }

  #send<Req, Res>(
    api: ApiDefinition<Req, Res>,
    request: Req,
    version: number,
    options: RequestOptions,
    internal: boolean,
    raw = false,
  ): Promise<Res> {
    if (options.signal?.aborted) return Promise.reject(new AbortedError(`${api.name} request aborted`));
    this.#correlationId = (this.#correlationId + 1) | 0;
    const correlationId = this.#correlationId;
    let frame: Uint8Array[];
    let frameBytes: number;
    try {
      // Gathering (asked for): large byte values go to the socket as they are, beside the
      // request's other bytes, instead of being copied into one buffer (see #write).
      const w = new Writer(Math.max(256, options.sizeHint ?? 0), options.gather === true);
      const sizeAt = w.reserveInt32();
      encodeRequestHeader(
        w,
        {
          requestApiKey: api.apiKey,
          requestApiVersion: version,
          correlationId,
          clientId: this.#options.clientId ?? "samsa",
        },
        api.requestHeaderVersion(version),
      );
      api.encodeRequest(w, request, version);
      frameBytes = w.length;
      w.fillInt32(sizeAt, frameBytes - 4);
      frame = w.finishParts();
    } catch (err) {
      return Promise.reject(err);
    }
    const timeoutMs = options.timeoutMs ?? this.#requestTimeoutMs;
    const inst = this.#inst;
    inst.requests++;
    inst.bytesSent += frameBytes;
    let trace: RequestContext | undefined;
    if (tracing.request.hasSubscribers || inst.logs("trace")) {
      trace = {
        clientId: inst.clientId,
        address: this.address,
        apiKey: api.apiKey,
        apiName: api.name,
        apiVersion: version,
        correlationId,
        requestBytes: frameBytes,
      };
      if (tracing.request.start.hasSubscribers) tracing.request.start.publish(trace);
    }
    return new Promise<Res>((resolve, reject) => {
      const pending: Pending = {
        correlationId,
        api,
        version,
        frame,
        deadline: 0,
        timeoutMs,
        noResponse: options.noResponse === true,
        written: false,
        abandoned: false,
        raw,
        resolve: resolve as (value: unknown) => void,
        reject,
        trace,
        started: trace ? performance.now() : 0,
        settled: false,
      };
      const signal = options.signal;
      if (signal) {
        const onAbort = () => {
          if (this.#waiting.removeWhere((p) => p === pending).length === 0) pending.abandoned = true;
          this.#reject(pending, new AbortedError(`${api.name} request aborted`), true);
        };
        signal.addEventListener("abort", onAbort, { once: true });
        pending.cleanup = () => signal.removeEventListener("abort", onAbort);
      }
      // Negotiation and authentication bypass the queue: they are what makes it ready.
      if (internal) this.#write(pending);
      else {
        this.#waiting.push(pending);
        this.#pump();
      }
    });
  }

  /** Writes waiting requests while the socket accepts them and in-flight room remains. */
  #pump(): void {
    while (
      this.#waiting.length > 0 &&
      this.#state === "ready" &&
      this.#writable &&
      !this.#reauthenticating &&
      this.#inFlight.length < this.#maxInFlight
    ) {
      this.#write(this.#waiting.shift() as Pending);
    }
  }

  #write(pending: Pending): void {
    const socket = this.#socket;
    if (!socket || this.closed) {
      this.#reject(pending, this.#closeError ?? new ConnectionClosedError(this.address, false, "not connected"));
      return;
    }
    pending.written = true;
    pending.deadline = Date.now() + pending.timeoutMs;
    if (pending.noResponse) {
      // Never in flight, so the write itself is what the timeout covers: the promise settles
      // when the socket has written the frame, and checkTimeouts fails one it has not.
      this.#unwritten.add(pending);
      const accepted = writeFrame(socket, pending.frame, (err) => {
        if (!this.#unwritten.delete(pending)) return; // already timed out or closed
        pending.cleanup?.();
        if (err) this.#reject(pending, new ConnectionClosedError(this.address, true, err.message, { cause: err }));
        else this.#resolve(pending, undefined, 0);
      });
      if (!accepted) this.#writable = false;
    } else {
      this.#inFlight.push(pending);
      // One socket write per request (a gathered one is corked: one writev); `false` means
      // the kernel buffer is full: stop until 'drain'.
      if (!writeFrame(socket, pending.frame)) this.#writable = false;
    }
  }

  /** Settles a request with its answer; counts and traces it. */
  #resolve(pending: Pending, value: unknown, responseBytes: number): void {
    // The frame lost its 4-byte size prefix in the decoder.
    if (responseBytes > 0) this.#inst.bytesReceived += responseBytes + 4;
    if (pending.settled) return;
    pending.settled = true;
    const t = pending.trace;
    if (t) {
      t.responseBytes = responseBytes;
      t.durationMs = elapsedMs(pending.started);
      const code = (value as { errorCode?: unknown } | undefined)?.errorCode;
      if (typeof code === "number") t.errorCode = code;
      if (tracing.request.asyncEnd.hasSubscribers) tracing.request.asyncEnd.publish(t);
      this.#logRequest(t, `answered in ${t.durationMs} ms`);
    }
    pending.resolve(value);
  }

  /**
   * The trace line of a settled request (`err` for a failure's error, as pino names it; an
   * aborted request has none, so a log search for errors does not find it).
   */
  #logRequest(t: RequestContext, outcome: string): void {
    if (!this.#inst.logs("trace")) return;
    const { clientId: _, error, ...fields } = t;
    this.#inst.logger.trace(
      { event: "network:request", ...fields, ...(error && !t.aborted ? { err: error } : {}) },
      `${t.apiName} v${t.apiVersion} to ${t.address} ${outcome}`,
    );
  }

  /**
   * Rejects a request; traces it, and counts it in `requestErrors` unless `aborted`: the
   * client itself gave it up (the caller's signal, or `close()` without a reason, as a
   * closing consumer or client does). A Fetch long poll cut short by `consumer.close()` did
   * not fail, and counting it would make every clean shutdown look like a broker problem.
   */
  #reject(pending: Pending, err: Error, aborted = false): void {
    if (pending.settled) return;
    pending.settled = true;
    if (!aborted) this.#inst.requestErrors++;
    const t = pending.trace;
    if (t) {
      t.error = err;
      if (aborted) t.aborted = true;
      t.durationMs = elapsedMs(pending.started);
      if (tracing.request.error.hasSubscribers) tracing.request.error.publish(t);
      this.#logRequest(t, aborted ? `aborted after ${t.durationMs} ms: ${err.message}` : `failed: ${err.message}`);
    }
    pending.reject(err);
  }

  #onFrame(frame: Buffer): void {
    const pending = this.#inFlight.shift();
    if (!pending) {
      this.#fail(new ProtocolError(`${this.address}: a response arrived with no request in flight`));
      return;
    }
    pending.cleanup?.();
    if (frame.length < 4 || frame.readInt32BE(0) !== pending.correlationId) {
      const got = frame.length >= 4 ? frame.readInt32BE(0) : "none";
      this.#reject(
        pending,
        new ProtocolError(
          `${this.address}: correlation id ${got}, expected ${pending.correlationId} (${pending.api.name})`,
        ),
      );
      this.#fail(new ProtocolError(`${this.address}: responses out of order`));
      return;
    }
    if (!pending.abandoned) {
      if (pending.raw) {
        this.#resolve(pending, frame, frame.length);
      } else {
        try {
          const r = new Reader(frame);
          decodeResponseHeader(r, pending.api.responseHeaderVersion(pending.version));
          this.#resolve(pending, pending.api.decodeResponse(r, pending.version), frame.length);
        } catch (err) {
          this.#reject(pending, err as Error);
        }
      }
    }
    if (this.#reauthenticating) this.#maybeReauthenticate();
    this.#pump();
  }

  /** Called by the shared timeout sweep: closes the connection if a request is overdue. */
  checkTimeouts(now: number): void {
    for (const pending of this.#unwritten) {
      if (now > pending.deadline) {
        // The broker stopped reading: the socket's buffers are full and nothing drains them.
        this.#unwritten.delete(pending);
        pending.cleanup?.();
        this.#reject(pending, new RequestTimeoutError(this.address, pending.api.name, pending.timeoutMs));
        this.#fail(new ConnectionClosedError(this.address, true, `request not written within ${pending.timeoutMs} ms`));
        return;
      }
    }
    for (const pending of this.#inFlight) {
      if (now > pending.deadline) {
        const err = new RequestTimeoutError(this.address, pending.api.name, pending.timeoutMs);
        // Responses come in order: a late answer would be matched against the wrong request,
        // so the connection is closed, as the Java client does.
        pending.cleanup?.();
        this.#inFlight.splice(this.#inFlight.indexOf(pending), 1);
        this.#reject(pending, err);
        this.#fail(new ConnectionClosedError(this.address, true, `request timed out after ${pending.timeoutMs} ms`));
        return;
      }
    }
  }

  #fail(err: SamsaError): void {
    this.close(err);
  }

  /**
   * Closes the socket. Requests in flight reject with ConnectionClosedError
   * (`mayHaveReachedBroker` true); queued ones with the same error and false. Without a
   * `reason` the client is closing it: those requests count as aborted, not as errors.
   */
  close(reason?: SamsaError): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    const cause = reason ?? new ConnectionClosedError(this.address, false, "closed by the client");
    this.#closeError = cause;
    clearTimeout(this.#reauthTimer);
    timeouts.unwatch(this);
    this.#socket?.destroy();
    // The requests' errors name the reason once, not the closing error's whole sentence again.
    const why = cause instanceof ConnectionClosedError ? cause.reason : cause.message;
    const aborted = reason === undefined;
    for (const pending of this.#inFlight.splice(0)) {
      pending.cleanup?.();
      this.#reject(pending, new ConnectionClosedError(this.address, true, why, { cause }), aborted);
    }
    for (const pending of this.#unwritten) {
      pending.cleanup?.();
      this.#reject(pending, new ConnectionClosedError(this.address, true, why, { cause }), aborted);
    }
    this.#unwritten.clear();
    for (const pending of this.#waiting.drain()) {
      pending.cleanup?.();
      this.#reject(pending, new ConnectionClosedError(this.address, false, why, { cause }), aborted);
    }
    if (this.#inst.wants("network:connection-closed")) {
      this.#inst.emit("network:connection-closed", {
        clientId: this.#inst.clientId,
        address: this.address,
        ...(reason ? { error: reason } : {}),
      });
    }
    for (const listener of this.#closeListeners.splice(0)) listener(cause);
  }
}
