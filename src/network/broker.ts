/**
 * The connections samsa keeps to one broker: one per purpose, because Kafka answers a
 * connection's requests in order and a Fetch long-poll must never delay a Produce or a
 * Heartbeat. Connections open lazily, reconnect with backoff after a failure, and close
 * after sitting idle.
 */

import { ClosedError, type SamsaError } from "../protocol/errors.js";
import { type BackoffOptions, backoffDelay, sleep } from "./backoff.js";
import { Connection, type ConnectionOptions } from "./connection.js";
import { type ConnectionClass, slotClass } from "./connection-classes.js";
import { AbortedError, AuthenticationError, ConnectionError } from "./errors.js";
import { ioThreadOnline, whenIoThreadOnline } from "./io-thread.js";
import { timeouts } from "./timeouts.js";

/** What a connection is for: a latency class (see connection-classes.ts). */
export type ConnectionPurpose = ConnectionClass;

/** A broker as metadata describes it. */
export interface BrokerNode {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}

/** Options shared by all connections to all brokers. */
export interface BrokerOptions extends Omit<ConnectionOptions, "host" | "port"> {
  reconnectBackoff: BackoffOptions;
  /** Close a connection unused for this long. */
  connectionsMaxIdleMs: number;
  /** Fetch connections are read on the I/O thread (ClientOptions.ioThread). */
  fetchIoThread?: boolean;
}

interface Slot {
  connection: Connection | undefined;
  connecting: Promise<Connection> | undefined;
  failures: number;
  /** No new attempt before this time (backoff after a failure). */
  notBefore: number;
  lastUsed: number;
  /** Its owner released it (releaseOwner) while it may still be opening. */
  released: boolean;
}

/** Connections to one broker; see the module comment. */
export class Broker {
  node: BrokerNode;
  readonly #options: BrokerOptions;
  /** By slot key: a class, or `class:owner` for the per-owner classes (connection-classes.ts). */
  readonly #slots = new Map<string, Slot>();
  /** Connections replaced in their slot (#upgrade), closed once idle. */
  readonly #retired = new Set<Connection>();
  #closed = false;

  constructor(node: BrokerNode, options: BrokerOptions) {
    this.node = node;
    this.#options = options;
    timeouts.watch(this);
  }

  /** `host:port`. */
  get address(): string {
    return `${this.node.host}:${this.node.port}`;
  }

  /** Open connections, for tests and metrics. */
  get openConnections(): number {
    let n = 0;
    for (const slot of this.#slots.values()) if (slot.connection && !slot.connection.closed) n++;
    return n;
  }

  /** The open connection of slot `key`, if there is one; never opens one (no promise: hot paths). */
  readyConnection(key: string): Connection | undefined {
    const slot = this.#slots.get(key);
    const c = slot?.connection;
    if (!slot || !c || c.closed || this.#closed) return undefined;
    slot.lastUsed = Date.now();
    return c;
  }

  /**
   * The ready connection of slot `key` (see connection-classes.ts), opening one if needed. Concurrent callers share one
   * attempt, which no caller's signal can abort: each caller's own signal only ends its own
   * wait. After a failure the next attempt waits out a jittered exponential backoff, so a
   * dead broker is not hammered; an authentication failure is not retried at all.
   */
  connection(key: string, signal?: AbortSignal): Promise<Connection> {
    if (this.#closed) return Promise.reject(this.#closedError());
    let slot = this.#slots.get(key);
    if (!slot) {
      slot = { connection: undefined, connecting: undefined, failures: 0, notBefore: 0, lastUsed: 0, released: false };
      this.#slots.set(key, slot);
    }
    slot.lastUsed = Date.now();
    if (slot.connection && !slot.connection.closed) return Promise.resolve(slot.connection);
    slot.connecting ??= this.#open(slot, key);
    if (!signal) return slot.connecting;
    if (signal.aborted) return Promise.reject(new AbortedError("connect aborted", { cause: signal.reason }));
    const shared = slot.connecting;
    return new Promise<Connection>((resolve, reject) => {
      const onAbort = () => reject(new AbortedError("connect aborted", { cause: signal.reason }));
      signal.addEventListener("abort", onAbort, { once: true });
      shared.then(
        (c) => {
          signal.removeEventListener("abort", onAbort);
          resolve(c);
        },
        (err: unknown) => {
          signal.removeEventListener("abort", onAbort);
          reject(err);
        },
      );
    });
  }

  /** Retriable: a broker closed because it left the metadata is replaced by the next lookup. */
  #closedError(): ConnectionError {
    return new ConnectionError(this.address, "this broker's connections were closed (it left the cluster metadata)");
  }

  async #open(slot: Slot, key: string): Promise<Connection> {
    try {
      const wait = slot.notBefore - Date.now();
      if (wait > 0) await sleep(wait);
      if (this.#closed) throw this.#closedError();
      const wantsThread = this.#wantsThread(key);
      // The thread still starting: open on the main thread now, move once it runs (#upgrade).
      const connection = this.#newConnection(wantsThread && ioThreadOnline());
      await connection.connect();
      if (this.#closed || slot.released) {
        // close() or releaseOwner() ran while this connection was opening: do not orphan it.
        connection.close();
        throw slot.released && !this.#closed ? new ClosedError("connection owner (released)") : this.#closedError();
      }
      slot.failures = 0;
      this.#install(slot, connection);
      if (wantsThread && !connection.onIoThread) void this.#upgrade(slot, connection);
      return connection;
    } catch (err) {
      slot.failures++;
      // A wrong password stays wrong: back off to the ceiling at once (no reconnect storm).
      const attempt = err instanceof AuthenticationError ? 30 : slot.failures - 1;
      slot.notBefore = Date.now() + backoffDelay(attempt, this.#options.reconnectBackoff);
      throw err;
    } finally {
      slot.connecting = undefined;
    }
  }

  #wantsThread(key: string): boolean {
    const tls = this.#options.tls;
    return this.#options.fetchIoThread === true && (tls === undefined || tls === false) && slotClass(key) === "fetch";
  }

  #newConnection(ioThread: boolean): Connection {
    const { fetchIoThread: _, ...options } = this.#options;
    return new Connection({ ...options, host: this.node.host, port: this.node.port, ioThread });
  }

  #install(slot: Slot, connection: Connection): void {
    slot.connection = connection;
    connection.onClose(() => {
      if (slot.connection === connection) slot.connection = undefined;
    });
  }

  /**
   * A fetch connection opened on the main thread while the I/O thread was starting: once the
   * thread runs, a second connection is opened on it and takes the slot; the first one closes
   * when its last request is answered (#retired, swept below). Callers that took the slot's
   * connection per request (the fetch loop does, each round) move over by themselves; the
   * broker's fetch session is not tied to a connection. Any failure keeps the first connection.
   */
  async #upgrade(slot: Slot, first: Connection): Promise<void> {
    await whenIoThreadOnline();
    const current = () => !this.#closed && !slot.released && slot.connection === first && !first.closed;
    if (!current()) return;
    const next = this.#newConnection(true);
    try {
      await next.connect();
    } catch {
      return;
    }
    if (!current()) {
      next.close();
      return;
    }
    this.#install(slot, next);
    this.#retired.add(first);
    this.#sweepRetired();
  }

  /** Closes retired connections that have nothing in flight. */
  #sweepRetired(): void {
    for (const c of this.#retired) {
      if (c.closed) this.#retired.delete(c);
      else if (c.inFlightCount === 0) {
        this.#retired.delete(c);
        c.close();
      }
    }
  }

  /** Idle sweep, called by the shared timer. */
  checkTimeouts(now: number): void {
    if (this.#retired.size > 0) this.#sweepRetired();
    for (const slot of this.#slots.values()) {
      const c = slot.connection;
      if (c && !c.closed && c.inFlightCount === 0 && now - slot.lastUsed > this.#options.connectionsMaxIdleMs) {
        c.close();
        slot.connection = undefined;
      }
    }
  }

  /** Closes and forgets the slots of one owner (a consumer or member that closed). */
  releaseOwner(owner: string): void {
    const suffix = `:${owner}`;
    for (const [key, slot] of this.#slots) {
      if (!key.endsWith(suffix)) continue;
      slot.released = true;
      slot.connection?.close();
      this.#slots.delete(key);
    }
  }

  /** Closes every connection to this broker. */
  close(reason?: SamsaError): void {
    this.#closed = true;
    timeouts.unwatch(this);
    for (const slot of this.#slots.values()) slot.connection?.close(reason);
    this.#slots.clear();
    for (const c of this.#retired) c.close(reason);
    this.#retired.clear();
  }
}
