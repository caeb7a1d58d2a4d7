/**
 * The shapes every batch operation shares between its items and the wire: partitions grouped
 * by topic for a request, and per-item entries of a response turned into outcomes (a value, or
 * the entry's broker error) for `AdminCall.retryItems`.
 */
import { kafkaError } from "../protocol/kafka-error.js";
import { type AdminItemFailure, AdminOperationError } from "./errors.js";
import type { ItemOutcome } from "./routing.js";

/** `topic-partition`, Kafka's own way of naming a partition in messages. */
export function partitionLabel(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

/** The `{ topic, partition }` of an item that carries more (a query, an offset to delete before). */
export function topicPartition(item: { topic: string; partition: number }): { topic: string; partition: number } {
  return { topic: item.topic, partition: item.partition };
}

/** The outcome for a response's error code and message: a value when the code is 0. */
export function outcomeOf<R>(
  errorCode: number,
  errorMessage: string | null | undefined,
  value: () => R,
): ItemOutcome<R> {
  return errorCode === 0 ? { value: value() } : { error: kafkaError(errorCode, errorMessage) };
}

/** A per-item entry of a response: its error code, and the broker's message where the API has one. */
export interface ResponseEntry {
  errorCode: number;
  errorMessage?: string | null;
}

/**
 * The outcomes of the `pending` items from a response: item `i` (the `at`-th pending one) finds
 * its entry with `entryOf` and becomes `value(entry, i)` when the entry's code is 0, the entry's
 * error otherwise. An item the response left out gets no outcome, which `retryItems` reports.
 */
export function matchOutcomes<E extends ResponseEntry, R>(
  pending: readonly number[],
  entryOf: (i: number, at: number) => E | undefined,
  value: (entry: E, i: number) => R,
): Map<number, ItemOutcome<R>> {
  const out = new Map<number, ItemOutcome<R>>();
  for (const [at, i] of pending.entries()) {
    const entry = entryOf(i, at);
    if (entry)
      out.set(
        i,
        outcomeOf(entry.errorCode, entry.errorMessage, () => value(entry, i)),
      );
  }
  return out;
}

/**
 * {@link matchOutcomes} for a response that names its entries: item `i` finds the entry whose
 * `keyOf` is `keys[i]` (a group id, a user) and becomes that key when the entry's code is 0.
 */
export function keyedOutcomes<E extends ResponseEntry>(
  pending: readonly number[],
  keys: readonly string[],
  entries: readonly E[],
  keyOf: (entry: E) => string,
): Map<number, ItemOutcome<string>> {
  const byKey = new Map(entries.map((e) => [keyOf(e), e]));
  return matchOutcomes(
    pending,
    (i) => byKey.get(keys[i]!),
    (e) => keyOf(e),
  );
}

/**
 * The values of outcomes that have no input order of their own (a call that lists what the
 * broker chose), or `AdminOperationError` naming each `item` that failed, as `retryItems` does.
 */
export function valuesOf<R>(operation: string, outcomes: readonly { item: string; outcome: ItemOutcome<R> }[]): R[] {
  const results: (R | undefined)[] = [];
  const failures: AdminItemFailure[] = [];
  for (const [index, { item, outcome }] of outcomes.entries()) {
    if ("value" in outcome) results[index] = outcome.value;
    else failures.push({ index, item, error: outcome.error });
  }
  if (failures.length > 0) throw new AdminOperationError(operation, failures, results);
  return results as R[];
}

/** The same error for every pending item: a request-level error that concerns them all. */
export function failAll(pending: readonly number[], error: ItemOutcome<never>): Map<number, ItemOutcome<never>> {
  return new Map(pending.map((i) => [i, error]));
}

/** The partition entries of a topic/partition response, by `topic-partition`. */
export function byPartition<P extends { partitionIndex: number }>(
  topics: Iterable<{ name: string; partitions: readonly P[] }>,
): Map<string, P> {
  const out = new Map<string, P>();
  for (const t of topics) for (const p of t.partitions) out.set(partitionLabel(t.name, p.partitionIndex), p);
  return out;
}

/**
 * {@link matchOutcomes} for a topic/partition response: item `i` finds its partition entry
 * under its label, `labels[i]` (`topic-partition`).
 */
export function partitionOutcomes<P extends ResponseEntry & { partitionIndex: number }, R>(
  pending: readonly number[],
  labels: readonly string[],
  topics: Iterable<{ name: string; partitions: readonly P[] }>,
  value: (entry: P, i: number) => R,
): Map<number, ItemOutcome<R>> {
  const results = byPartition(topics);
  return matchOutcomes(pending, (i) => results.get(labels[i]!), value);
}

/**
 * Groups items by `key`, in first-seen order: partitions by topic for the nesting of
 * topic/partition requests, input positions by the broker that must receive them.
 */
export function groupBy<K, T>(items: Iterable<T>, key: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = groups.get(k);
    if (list) list.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

/** {@link groupBy} topic. */
export function groupByTopic<T extends { topic: string }>(items: Iterable<T>): Map<string, T[]> {
  return groupBy(items, (item) => item.topic);
}

/** `[{ name, partitionIndexes }]`: the request form of a partition list in several APIs. */
export function topicPartitionIndexes(
  partitions: Iterable<{ topic: string; partition: number }>,
): { name: string; partitionIndexes: number[] }[] {
  return [...groupByTopic(partitions)].map(([name, ps]) => ({ name, partitionIndexes: ps.map((p) => p.partition) }));
}
