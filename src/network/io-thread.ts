/**
 * Sockets read on a second thread. On the main thread a socket is read only between other work:
 * while a consumer decodes one Fetch response, the next one waits in the kernel, the broker
 * soon stops sending (the receive window fills), and copying the 6 MiB out then costs the
 * main thread milliseconds per response on top of the decoding. A ThreadSocket does its reads
 * (and frame splitting) on one shared worker thread instead, so a response streams in while the
 * previous one is decoded and reaches the main thread as one transferred buffer per frame.
 *
 * Used for consumers' fetch connections over plain TCP (the ones that move bulk data towards
 * the client); TLS sockets stay on the main thread, because TLS options may hold functions
 * that cannot cross to another thread. The thread holds no Kafka state: ApiVersions, SASL,
 * correlation and timeouts stay in Connection, which sees a ThreadSocket as it sees a socket.
 * The worker keeps the process alive only while one of its sockets is open, as a socket would.
 */
import { EventEmitter } from "node:events";
import { Worker } from "node:worker_threads";
import type { SamsaError } from "../protocol/errors.js";
import { FrameTooLargeError } from "./errors.js";
import { IO_THREAD_SOURCE } from "./io-thread-worker.js";

/** What Connection uses of a socket; a net.Socket, a tls.TLSSocket and a ThreadSocket all are one. */
export interface Wire {
  write(data: Uint8Array, callback?: (err?: Error | null) => void): boolean;
  /** Holds writes until {@link uncork}, which hands them over together (net and TLS sockets). */
  cork?(): void;
  uncork?(): void;
  destroy(): void;
  setNoDelay(noDelay?: boolean): unknown;
  on(event: "drain" | "close", listener: () => void): unknown;
  on(event: "error", listener: (err: Error) => void): unknown;
  on(event: "data", listener: (chunk: Buffer) => void): unknown;
  once(event: "connect" | "secureConnect", listener: () => void): unknown;
  once(event: "error", listener: (err: NodeJS.ErrnoException) => void): unknown;
  removeAllListeners(event: string): unknown;
}

let worker: Worker | undefined;
/** Resolves once the current worker runs (its start-up takes ~20-30 ms). */
let online: Promise<void> | undefined;
let isOnline = false;
let nextId = 1;
const sockets = new Map<number, ThreadSocket>();

type ThreadMessage =
  | ["connect", number]
  | ["frame", number, ArrayBuffer]
  | ["error", number, string, string | undefined]
  | ["tooLarge", number, number]
  | ["close", number];

function thread(): Worker {
  if (worker !== undefined) return worker;
  const w = new Worker(IO_THREAD_SOURCE, { eval: true, name: "samsa-io" });
  online = new Promise((resolve) =>
    w.once("online", () => {
      if (worker === w) isOnline = true;
      resolve();
    }),
  );
  w.on("message", (m: ThreadMessage) => sockets.get(m[1])?.receive(m));
  const lost = (err: Error) => {
    // The thread itself failed (never seen; an out-of-memory would do it): its sockets are gone.
    if (worker === w) {
      worker = undefined;
      online = undefined;
      isOnline = false;
    }
    for (const socket of [...sockets.values()]) socket.receive(["error", socket.id, err.message, "ERR_IO_THREAD"]);
    for (const socket of [...sockets.values()]) socket.receive(["close", socket.id]);
  };
  w.on("error", lost);
  w.on("exit", (code) => lost(new Error(`I/O thread exited with code ${code}`)));
  // After the listeners: adding a "message" listener refs the thread's port again.
  w.unref();
  worker = w;
  return w;
}

/** Starts the thread ahead of the first socket, so its start-up overlaps other work. */
export function startIoThread(): void {
  thread();
}

/** True once the thread runs: a socket opened now does not wait for its start-up. */
export function ioThreadOnline(): boolean {
  return isOnline;
}

/** Resolves once the thread runs (starting it if needed). */
export function whenIoThreadOnline(): Promise<void> {
  thread();
  return online as Promise<void>;
}

/**
 * A plain TCP socket read on the I/O thread. Frames reach `onFrame` whole; a frame larger
 * than `maxFrameBytes` fails the socket through `onBadFrame` with FrameTooLargeError. Emits
 * "connect", "error" and "close" like a net.Socket ("drain" never: writes are handed to the
 * thread, whose socket queues them).
 */
export class ThreadSocket extends EventEmitter {
  readonly id = nextId++;
  readonly #onFrame: (frame: Buffer) => void;
  readonly #onBadFrame: (err: SamsaError) => void;
  readonly #maxFrameBytes: number;
  #closed = false;

  constructor(
    host: string,
    port: number,
    maxFrameBytes: number,
    onFrame: (frame: Buffer) => void,
    onBadFrame: (err: SamsaError) => void,
  ) {
    super();
    this.#onFrame = onFrame;
    this.#onBadFrame = onBadFrame;
    this.#maxFrameBytes = maxFrameBytes;
    const w = thread();
    sockets.set(this.id, this);
    if (sockets.size === 1) w.ref();
    w.postMessage(["open", this.id, host, port, maxFrameBytes]);
  }

  /** Hands `data` to the thread (copied: the caller may reuse its buffer); true, as nothing queues here. */
  write(data: Uint8Array, callback?: (err?: Error | null) => void): boolean {
    if (this.#closed) {
      if (callback) queueMicrotask(() => callback(new Error("socket closed")));
      return true;
    }
    const copy = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
    worker?.postMessage(["write", this.id, copy], [copy]);
    if (callback) queueMicrotask(() => callback(null));
    return true;
  }

  destroy(): void {
    if (this.#closed) return;
    worker?.postMessage(["destroy", this.id]);
    this.#release();
    queueMicrotask(() => this.emit("close"));
  }

  /** The thread sets TCP_NODELAY itself. */
  setNoDelay(): this {
    return this;
  }

  /** A message from the thread about this socket. */
  receive(m: ThreadMessage): void {
    if (this.#closed) return;
    switch (m[0]) {
      case "frame":
        try {
          this.#onFrame(Buffer.from(m[2]));
        } finally {
          if (!this.#closed) worker?.postMessage(["ack", this.id]);
        }
        return;
      case "connect":
        this.emit("connect");
        return;
      case "error": {
        const err = new Error(m[2]) as NodeJS.ErrnoException;
        if (m[3] !== undefined) err.code = m[3];
        this.emit("error", err);
        return;
      }
      case "tooLarge":
        this.#onBadFrame(new FrameTooLargeError(m[2], this.#maxFrameBytes));
        return;
      case "close":
        this.#release();
        this.emit("close");
        return;
    }
  }

  #release(): void {
    this.#closed = true;
    sockets.delete(this.id);
    if (sockets.size === 0) worker?.unref();
  }
}
