/**
 * Input checks shared by the admin operations. Every check runs before the first request, so
 * a bad argument costs no round trip and never leaves half a batch applied; each error names
 * the argument (`topics[2].numPartitions`) and the allowed range.
 */
import { InvalidArgumentError } from "../protocol/errors.js";
import type { AdminCall } from "./routing.js";

/** Kafka's topic name rule: 1–249 of `[a-zA-Z0-9._-]`, and not `.` or `..`. */
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

/** Throws unless `value` is a legal topic name. */
export function checkTopicName(argument: string, value: unknown): string {
  if (typeof value !== "string" || value === "") throw new InvalidArgumentError(argument, "must be a non-empty string");
  if (!TOPIC_NAME.test(value) || value === "." || value === "..") {
    throw new InvalidArgumentError(
      argument,
      `${JSON.stringify(value)} is not a legal topic name (1-249 characters of a-z A-Z 0-9 . _ -, not "." or "..")`,
    );
  }
  return value;
}

/** Throws unless `value` is a non-empty string (group ids, transactional ids, principals). */
export function checkNonEmpty(argument: string, value: unknown): string {
  if (typeof value !== "string" || value === "") throw new InvalidArgumentError(argument, "must be a non-empty string");
  return value;
}

/** Throws unless `value` is an integer in [min, max]. */
export function checkInt(argument: string, value: unknown, min: number, max = 2147483647): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(argument, `must be an integer in [${min}, ${max}], got ${String(value)}`);
  }
  return value;
}

/** Throws unless `value` is a bigint ≥ min (offsets, timestamps). Accepts safe integers too. */
export function checkLong(argument: string, value: unknown, min: bigint): bigint {
  let v: bigint | undefined;
  if (typeof value === "bigint") v = value;
  else if (typeof value === "number" && Number.isSafeInteger(value)) v = BigInt(value);
  if (v === undefined || v < min || v > 9223372036854775807n) {
    throw new InvalidArgumentError(argument, `must be an integer (bigint) ≥ ${min}, got ${String(value)}`);
  }
  return v;
}

/** Throws unless `value` is one of `allowed`. */
export function checkOneOf<T extends string>(argument: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(argument, `must be one of ${allowed.join(", ")}; got ${JSON.stringify(value)}`);
  }
  return value as T;
}

/** Throws unless `value` is an array; `nonEmpty` also refuses `[]`. */
export function checkArray<T>(argument: string, value: unknown, nonEmpty = true): readonly T[] {
  if (!Array.isArray(value)) throw new InvalidArgumentError(argument, "must be an array");
  if (nonEmpty && value.length === 0) throw new InvalidArgumentError(argument, "must not be empty");
  return value as T[];
}

/** Throws unless `value` is an array of non-empty strings (states, principals…); `nonEmpty` as for {@link checkArray}. */
export function checkStrings(argument: string, value: unknown, nonEmpty = true): string[] {
  return checkArray<unknown>(argument, value, nonEmpty).map((s, i) => checkNonEmpty(`${argument}[${i}]`, s));
}

/** Throws unless `value` is a non-empty list of distinct non-empty strings (group or transactional ids). */
export function checkIds(argument: string, value: unknown): string[] {
  const list = checkStrings(argument, value);
  checkUnique(argument, list);
  return list;
}

/**
 * Checks a non-empty array of plain objects: `check` gets each item, checked to be an object,
 * with its argument name (`topics[2]`) for the errors it throws, and returns the checked item.
 */
export function checkEach<T>(
  argument: string,
  value: unknown,
  check: (item: Record<string, unknown>, at: string) => T,
): T[] {
  return checkArray<unknown>(argument, value).map((item, i) => {
    const at = `${argument}[${i}]`;
    return check(checkObject(at, item), at);
  });
}

/** Throws unless `value` is a plain object. */
export function checkObject(argument: string, value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new InvalidArgumentError(argument, "must be an object");
  }
  return value as Record<string, unknown>;
}

/**
 * Throws when two items share a key. A batch that names one topic twice would reach the broker
 * as a request Kafka rejects as a whole (or, worse, applies twice), so it is refused here.
 */
export function checkUnique(argument: string, keys: readonly string[]): void {
  const seen = new Set<string>();
  for (const [i, key] of keys.entries()) {
    if (seen.has(key)) throw new InvalidArgumentError(`${argument}[${i}]`, `duplicate item ${key}`);
    seen.add(key);
  }
}

/** Checks a `{ topic, partition }` pair and returns it. */
export function checkPartition(argument: string, value: unknown): { topic: string; partition: number } {
  const o = checkObject(argument, value);
  return {
    topic: checkTopicName(`${argument}.topic`, o.topic),
    partition: checkInt(`${argument}.partition`, o.partition, 0),
  };
}

/** An admin operation as {@link defineOperation} makes it: the call, the list argument, the options. */
export type Operation<O, R> = (call: AdminCall, items: unknown, options?: O) => Promise<R>;

/**
 * An operation's opening, written once: the returned function checks its list argument
 * (before any request, so a bad list costs no round trip), defaults the options to `{}`, and
 * hands both to `run`, which states only what differs. The list is either objects named
 * `argument`, each checked by `each` as {@link checkEach} does, or distinct ids named `ids`
 * (group or transactional ids, checked by {@link checkIds}).
 */
export function defineOperation<T, O, R>(spec: {
  argument: string;
  each: (item: Record<string, unknown>, at: string) => T;
  run: (call: AdminCall, list: T[], options: O) => Promise<R>;
}): Operation<O, R>;
export function defineOperation<O, R>(spec: {
  ids: string;
  run: (call: AdminCall, ids: string[], options: O) => Promise<R>;
}): Operation<O, R>;
export function defineOperation<O, R>(spec: {
  argument?: string;
  each?: (item: Record<string, unknown>, at: string) => unknown;
  ids?: string;
  // Method syntax: its parameters are bivariant, so both overloads' `run` fit.
  run(call: AdminCall, list: unknown, options: O): Promise<R>;
}): Operation<O, R> {
  const { argument, each, ids, run } = spec;
  return async (call, items, options) => {
    const list = ids === undefined ? checkEach(argument!, items, each!) : checkIds(ids, items);
    return run(call, list, options === undefined ? ({} as O) : options);
  };
}
