/**
 * The two packaged outlets check their options alike: an unknown name (a typo) throws
 * InvalidArgumentError naming it and the nearest known one, before anything is subscribed or
 * registered. collectMetrics() used to ignore unknown names (user try).
 */
import * as diagnostics from "node:diagnostics_channel";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { instrument, uninstall } from "../../../src/otel/index.js";
import { collectMetrics } from "../../../src/prometheus/index.js";
import { InvalidArgumentError } from "../../../src/protocol/errors.js";

/** What a call threw (the test fails if it did not). */
function thrown(fn: () => unknown): InvalidArgumentError {
  try {
    fn();
  } catch (err) {
    return err as InvalidArgumentError;
  }
  throw new Error("did not throw");
}

const statsClient = { instrumentation: { clientId: "c" }, stats: () => ({ connections: 0 }) };
const statsProducer = { stats: () => ({ bufferedBytes: 0, inFlightBatches: 0 }) };

afterEach(() => uninstall());

describe("unknown options of the outlets", () => {
  it("collectMetrics() rejects an unknown option by name, as instrument() does, registering nothing", () => {
    const registry = new Registry();
    const err = thrown(() => collectMetrics({ registry, prefx: "app_" } as never));
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect([err.code, err.argument, err.message]).toEqual([
      "SAMSA_ERR_INVALID_ARGUMENT",
      "prefx",
      "prefx: is not a samsa/prometheus collectMetrics() option (did you mean prefix?); known: registry, prefix, clients, buckets",
    ]);
    expect(registry.getMetricsAsArray()).toHaveLength(0);
    expect(diagnostics.hasSubscribers("samsa:producer:batch-acknowledged")).toBe(false);

    const otel = thrown(() => instrument({ pollspans: true } as never));
    expect(otel).toBeInstanceOf(InvalidArgumentError);
    expect(otel.message).toBe(
      "pollspans: is not a samsa/otel instrument() option (did you mean pollSpans?); known: tracerProvider, propagator, processParent, pollSpans, requestSpans",
    );
  });

  it("collectMetrics() rejects unknown bucket names and unknown fields of a watched client", () => {
    const registry = new Registry();
    const bucket = thrown(() => collectMetrics({ registry, buckets: { latencySecond: [0.1] } as never }));
    expect([bucket.constructor, bucket.argument, bucket.message]).toEqual([
      InvalidArgumentError,
      "latencySecond",
      "latencySecond: is not a samsa/prometheus buckets option (did you mean latencySeconds?); known: latencySeconds, batchSizeBytes, batchSizeRecords",
    ]);
    // `producer` for `producers` would watch the client alone and leave the producer's gauges empty.
    const field = thrown(() =>
      collectMetrics({ registry, clients: [{ client: statsClient, producer: [statsProducer] } as never] }),
    );
    expect([field.constructor, field.argument, field.message]).toEqual([
      InvalidArgumentError,
      "clients[0].producer",
      "clients[0].producer: is not a field of { client, producers?, consumers? }",
    ]);
    expect(thrown(() => collectMetrics({ registry, buckets: [0.1] as never })).message).toBe(
      "buckets: must be an object of bucket bounds",
    );
    expect(thrown(() => collectMetrics(null as never)).message).toBe(
      "options: samsa/prometheus collectMetrics() options must be an object",
    );
    expect(registry.getMetricsAsArray()).toHaveLength(0);
  });

  it("known options still work, a client alone or with its producers", () => {
    const registry = new Registry();
    const metrics = collectMetrics({
      registry,
      prefix: "app_",
      clients: [statsClient as never, { client: statsClient as never, producers: [statsProducer as never] }],
      buckets: { latencySeconds: [0.01, 0.1] },
    });
    try {
      expect(registry.getSingleMetric("app_records_produced_total")).toBeDefined();
    } finally {
      metrics.close();
    }
    expect(registry.getMetricsAsArray()).toHaveLength(0);
  });
});
