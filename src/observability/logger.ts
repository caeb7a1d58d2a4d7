/**
 * The logger outlet: any pino-compatible logger (`trace` … `error`, each called as
 * `(fields, message)`; `isLevelEnabled` and `child` used when present), and the default one
 * samsa uses without it: warnings and errors as one line each on stderr, debug lines too when
 * `NODE_DEBUG` names `samsa`. The default logger prints an identical line at most once every
 * 30 s, so a broker outage cannot flood stderr.
 */
import { debuglog } from "node:util";
import type { LogLevel } from "./events.js";

/** One level's method: structured fields first, then the message (pino's order). */
export type LogMethod = (fields: Record<string, unknown>, message: string) => void;

/** What samsa needs of a logger; pino's `Logger` fits, as do most of its look-alikes. */
export interface Logger {
  trace: LogMethod;
  debug: LogMethod;
  info: LogMethod;
  warn: LogMethod;
  error: LogMethod;
  /** pino's: asked before building a line's fields, so disabled levels cost nothing. */
  isLevelEnabled?(level: string): boolean;
  /** The current level's name, consulted when `isLevelEnabled` is missing. */
  level?: string;
  /** pino's: samsa calls `child({ lib: "samsa" })` once, so its lines can be told apart. */
  child?(bindings: Record<string, unknown>): Logger;
}

const ORDER: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: 100 };

/** Whether `logger` writes lines of `level`. */
export function levelEnabled(logger: Logger, level: LogLevel): boolean {
  if (typeof logger.isLevelEnabled === "function") return logger.isLevelEnabled(level);
  const current = typeof logger.level === "string" ? ORDER[logger.level] : undefined;
  return current === undefined || (ORDER[level] as number) >= current;
}

const QUIET_MS = 30_000;
const MAX_REMEMBERED = 256;

/** Field values as one line shows them: errors by message, bigints as digits. */
function show(value: unknown): string {
  if (value instanceof Error) return JSON.stringify(value.message);
  if (typeof value === "string") return /^[\w.:/-]+$/.test(value) ? value : JSON.stringify(value);
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "object" && value !== null) {
    return JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
  }
  return String(value);
}

/**
 * The logger samsa uses when none is given: see the module comment. `write` is where lines
 * go (stderr unless a test says otherwise).
 */
export class DefaultLogger implements Logger {
  readonly level: LogLevel;
  readonly #write: (line: string) => void;
  readonly #lastPrinted = new Map<string, number>();

  constructor(write: (line: string) => void = (line) => process.stderr.write(line)) {
    this.#write = write;
    this.level = debuglog("samsa").enabled ? "debug" : "warn";
  }

  isLevelEnabled(level: string): boolean {
    return (ORDER[level] ?? 0) >= (ORDER[this.level] as number);
  }

  trace: LogMethod = (fields, message) => this.#line("trace", fields, message);
  debug: LogMethod = (fields, message) => this.#line("debug", fields, message);
  info: LogMethod = (fields, message) => this.#line("info", fields, message);
  warn: LogMethod = (fields, message) => this.#line("warn", fields, message);
  error: LogMethod = (fields, message) => this.#line("error", fields, message);

  #line(level: LogLevel, fields: Record<string, unknown>, message: string): void {
    if (!this.isLevelEnabled(level)) return;
    let line = `samsa ${level.toUpperCase()} ${message}`;
    for (const [key, value] of Object.entries(fields)) {
      if (key === "msg" || key === "err" || value === undefined) continue;
      line += ` ${key}=${show(value)}`;
    }
    const now = Date.now();
    const last = this.#lastPrinted.get(line);
    if (last !== undefined && now - last < QUIET_MS) return;
    if (this.#lastPrinted.size >= MAX_REMEMBERED) this.#lastPrinted.clear();
    this.#lastPrinted.set(line, now);
    this.#write(`${line}\n`);
  }
}

/** Checks a `logger` option: every level method present. */
export function isLogger(value: unknown): value is Logger {
  if (value === null || typeof value !== "object") return false;
  const l = value as Record<string, unknown>;
  return ["trace", "debug", "info", "warn", "error"].every((m) => typeof l[m] === "function");
}
