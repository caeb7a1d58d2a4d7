/**
 * The check every options object gets at construction: a key the type does not define is a
 * typo (`compresion`) or a feature samsa does not have (yet), and silently ignoring it would
 * run the client with a default the user meant to change.
 */
import { InvalidArgumentError } from "../errors.js";

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
