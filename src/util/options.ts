/**
 * The check every options object gets at construction: a key the type does not define is a
 * typo (`compresion`) or a feature samsa does not have (yet), and silently ignoring it would
 * run the client with a default the user meant to change.
 */
import { InvalidArgumentError } from "../protocol/errors.js";

/** Every key of an options type, checked by the compiler: `satisfies Record<keyof T, true>`. */
export type OptionKeys<T> = Record<keyof T, true>;

/** Edit distance, for "did you mean" (short option names only, so quadratic is fine). */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j] as number;
      const cost = a[i - 1]?.toLowerCase() === b[j - 1]?.toLowerCase() ? 0 : 1;
      row[j] = Math.min(above + 1, (row[j - 1] as number) + 1, diagonal + cost);
      diagonal = above;
    }
  }
  return row[b.length] as number;
}

/**
 * Throws InvalidArgumentError naming the first key of `options` that `known` lacks, with the
 * nearest known key when one is close. Keys whose value is undefined are checked too.
 */
export function rejectUnknownOptions(options: object, known: Record<string, true>, what: string): void {
  for (const key of Object.keys(options)) {
    if (Object.hasOwn(known, key)) continue;
    let best: string | undefined;
    let bestDistance = 3;
    for (const candidate of Object.keys(known)) {
      const d = distance(key, candidate);
      if (d < bestDistance) {
        best = candidate;
        bestDistance = d;
      }
    }
    throw new InvalidArgumentError(
      key,
      `is not a ${what} option${best ? ` (did you mean ${best}?)` : ""}; known: ${Object.keys(known).join(", ")}`,
    );
  }
}

/** Checks that `options` is an object and names no unknown key; the first step of every resolver. */
export function checkOptionsObject(options: unknown, known: Record<string, true>, what: string): void {
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw new InvalidArgumentError("options", `${what} options must be an object`);
  }
  rejectUnknownOptions(options, known, what);
}

const INT32_MAX = 2_147_483_647;

/** An integer option from `min` to `max` (default INT32_MAX, the wire's limit), or `fallback` when absent. */
export function intOption(options: object, name: string, fallback: number, min: number, max = INT32_MAX): number {
  const value = (options as Record<string, unknown>)[name] ?? fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(name, `must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

/** A boolean option, or `fallback` when absent. */
export function boolOption(options: object, name: string, fallback: boolean): boolean {
  const value = (options as Record<string, unknown>)[name] ?? fallback;
  if (typeof value !== "boolean") throw new InvalidArgumentError(name, `must be a boolean, got ${String(value)}`);
  return value;
}

/** One of a few string values, or `fallback` when absent (undefined fallback: required). */
export function oneOfOption<T extends string>(
  options: object,
  name: string,
  allowed: readonly T[],
  fallback: T | undefined,
): T {
  const value = (options as Record<string, unknown>)[name] ?? fallback;
  if (!allowed.includes(value as T)) {
    throw new InvalidArgumentError(
      name,
      `must be one of ${allowed.map((a) => `"${a}"`).join(", ")}, got ${JSON.stringify(value)}`,
    );
  }
  return value as T;
}

/** A non-empty string option, or undefined when absent. */
export function optionalStringOption(options: object, name: string): string | undefined {
  const value = (options as Record<string, unknown>)[name];
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value === "") throw new InvalidArgumentError(name, "must be a non-empty string");
  return value;
}

/** A function option, or undefined when absent. */
export function optionalFunctionOption<F>(options: object, name: string): F | undefined {
  const value = (options as Record<string, unknown>)[name];
  if (value !== undefined && typeof value !== "function") throw new InvalidArgumentError(name, "must be a function");
  return value as F | undefined;
}
