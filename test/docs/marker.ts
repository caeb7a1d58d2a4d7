/** Printed on stdout by a docs example's last line (runtime.ts `end`), read by examples.ts. */
export const DONE_MARKER = "\u0001docs-example-done";
