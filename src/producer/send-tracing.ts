/**
 * The `samsa:producer:send` span around one `send` call (observability/events.ts), taken
 * only while someone subscribes to it: the untraced path never comes here. `start` lets the
 * subscriber hand back trace headers, which go into every record of the call (copies: the
 * caller's records are not touched); `asyncEnd` fires once every record is acknowledged and
 * `error` before it when one failed.
 */
import { type SendContext, tracing } from "../observability/events.js";
import type { RecordData, RecordHeaderInput } from "../protocol/records/index.js";
import type { ProducerRecord, SendCallback, SendInput } from "./api.js";
import type { RecordMetadata } from "./delivery.js";

type Untraced = (input: SendInput<unknown, unknown>, callback: SendCallback) => boolean;

/** `record` with the `extra` headers it does not have yet after its own, whatever form its headers took. */
function withHeaders(
  record: ProducerRecord<unknown, unknown>,
  extra: RecordHeaderInput[],
): ProducerRecord<unknown, unknown> {
  const own = record.headers;
  if (own === undefined) return { ...record, headers: extra };
  const headers: RecordHeaderInput[] = Array.isArray(own)
    ? [...(own as RecordHeaderInput[])]
    : Object.entries(own as Record<string, RecordData>).map(([key, value]) => ({ key, value }));
  // A record that carries its own trace context keeps it (the application chose its creation context).
  for (const h of extra) if (!headers.some((o) => o.key === h.key)) headers.push(h);
  return { ...record, headers };
}

/**
 * Runs one `send` call inside the span; answers in the form the caller chose (a promise
 * without `callback`). Records that are not objects go through as they are, so `send` itself
 * reports them.
 */
export function tracedSend(
  clientId: string,
  propagate: boolean,
  input: SendInput<unknown, unknown>,
  callback: SendCallback | undefined,
  send: Untraced,
): Promise<RecordMetadata | RecordMetadata[]> | boolean {
  const single = !Array.isArray(input);
  const records = (single ? [input] : input) as readonly ProducerRecord<unknown, unknown>[];
  const first = records[0] as ProducerRecord<unknown, unknown> | undefined;
  const context: SendContext = {
    clientId,
    topic: typeof first?.topic === "string" ? first.topic : "",
    partition: single ? first?.partition : undefined,
    records: records.length,
    key: single ? first?.key : undefined,
    propagate,
  };
  tracing.send.start.publish(context);
  const extra = context.traceHeaders;
  let traced: SendInput<unknown, unknown> = input;
  if (propagate && extra && extra.length > 0 && records.every((r) => r !== null && typeof r === "object")) {
    traced = single
      ? withHeaders(input as ProducerRecord<unknown, unknown>, extra)
      : records.map((r) => withHeaders(r, extra));
  }
  const finish: SendCallback = (err, result) => {
    if (err) {
      context.error = err;
      tracing.send.error.publish(context);
    } else if (single && result) {
      const m = result as RecordMetadata;
      context.partitionWritten = m.partition;
      context.offset = m.offset;
    }
    tracing.send.asyncEnd.publish(context);
  };
  if (callback) {
    try {
      return send(traced, (err, result) => {
        finish(err, result);
        (callback as (e: Error | null, r?: unknown) => void)(err, result);
      });
    } finally {
      tracing.send.end.publish(context);
    }
  }
  return new Promise((resolve, reject) => {
    try {
      send(traced, (err, result) => {
        finish(err, result);
        if (err) reject(err);
        else resolve(result as RecordMetadata | RecordMetadata[]);
      });
    } finally {
      tracing.send.end.publish(context);
    }
  });
}
