/**
 * samsa/prometheus against a real Prometheus server (Debian's package, tools/observability/
 * prometheus.ts) scraping an example app every second, and a real broker: what Prometheus
 * stores must match what the clients did, to the record, and every query of
 * docs/grafana-dashboard.json must be valid and find data, so the dashboard cannot drift
 * from the metric names.
 */
import { randomUUID } from "node:crypto";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { Client } from "../../../src/client.js";
import type { Consumer } from "../../../src/consumer/consumer.js";
import { TimeoutError } from "../../../src/network/errors.js";
import type { Producer } from "../../../src/producer/producer.js";
import { collectMetrics, DEFINITIONS, type MetricsCollector } from "../../../src/prometheus/index.js";
import { KafkaError } from "../../../src/protocol/kafka-error.js";
import { type PrometheusServer, type PromSample, startPrometheus } from "../../../tools/observability/prometheus.js";
import { createTopic } from "../../helpers/topics.js";
import { concreteExpr, dataPanels, loadDashboard, panelQueries } from "./dashboard.js";
import { type MetricsApp, startMetricsApp } from "./metrics-app.js";

const RECORDS = 5000;
const PARTITIONS = 3;
/** Long enough for a sample to be scraped (1 s) and queried, short of the test timeout. */
const QUERY_WAIT_MS = 30_000;

const byPartition = (samples: PromSample[]) =>
  Object.fromEntries(samples.map((s) => [s.metric.partition ?? "?", s.value]));

describe("samsa/prometheus against a real Prometheus", () => {
  const bootstrap = inject("kafkaBootstrap");
  const run = randomUUID().slice(0, 8);
  const clientId = `prom-test-${run}`;
  const topic = `prom-${run}`;
  const groupId = `prom-group-${run}`;
  const registry = new Registry();
  let client: Client;
  let producer: Producer;
  let consumer: Consumer;
  let collector: MetricsCollector;
  let app: MetricsApp;
  let prometheus: PrometheusServer;

  const scalar = async (expr: string, want: number) =>
    (await prometheus.waitForQuery(expr, (s) => s.length === 1 && s[0]?.value === want, QUERY_WAIT_MS))[0]?.value;

  beforeAll(async () => {
    client = new Client({ bootstrap, clientId });
    // Small batches and one batch per partition per fetch: several of each, so the
    // histograms and the lag have something to show.
    producer = client.producer({ batchBytes: 4096 });
    consumer = client.consumer({
      groupId,
      autoOffsetReset: "earliest",
      maxPartitionBytes: 1,
      maxBufferedBytes: 1,
    });
    collector = collectMetrics({ registry, clients: [{ client, producers: [producer], consumers: [consumer] }] });
    app = await startMetricsApp(registry);
    prometheus = await startPrometheus({ targets: [app.target], scrapeIntervalMs: 1000 });
    await createTopic(client, topic, PARTITIONS);
  });

  afterAll(async () => {
    const bounded = (p: Promise<unknown> | undefined) =>
      Promise.race([p?.catch(() => {}), new Promise((r) => setTimeout(r, 15_000).unref())]);
    await bounded(consumer?.close());
    await bounded(producer?.close());
    client?.close();
    collector?.close();
    await bounded(app?.close());
    await bounded(prometheus?.stop());
  });

  it("serves the exposition format with prom-client's content type, every metric named with the prefix", async () => {
    const response = await fetch(`http://${app.target}/metrics`, { signal: AbortSignal.timeout(5000) });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const body = await response.text();
    for (const name of Object.keys(DEFINITIONS)) expect(body).toContain(`# TYPE samsa_${name} `);
    // Prometheus scraped it and found it up.
    const up = await prometheus.query(`up{instance="${app.target}"}`);
    expect(up.map((s) => s.value)).toEqual([1]);
    expect(app.scrapes).toBeGreaterThan(0);
  });

  it(`counts exactly the ${RECORDS} records produced, per partition, labelled client_id/topic/partition`, async () => {
    const records = Array.from({ length: RECORDS }, (_, i) => ({
      topic,
      partition: i % PARTITIONS,
      key: `key-${i}`,
      value: `value-${i}`,
    }));
    // One record first, scraped before the rest: a series Prometheus first sees at its final
    // value has no increase for rate() (the dashboard test needs one), as in an application
    // that produces steadily rather than in one burst between two scrapes.
    const [head, ...rest] = records;
    await producer.send(head as (typeof records)[number]);
    await scalar(`sum(samsa_records_produced_total{topic="${topic}"})`, 1);
    const reports = await producer.send(rest);
    expect(reports).toHaveLength(RECORDS - 1);
    expect(producer.stats().recordsAcknowledged).toBe(RECORDS);

    expect(await scalar(`sum(samsa_records_produced_total{topic="${topic}"})`, RECORDS)).toBe(RECORDS);
    const perPartition = await prometheus.query(`samsa_records_produced_total{topic="${topic}"}`);
    expect(byPartition(perPartition)).toEqual({ "0": 1667, "1": 1667, "2": 1666 });
    for (const s of perPartition) {
      expect(s.metric).toMatchObject({ client_id: clientId, topic, job: "samsa", instance: app.target });
    }
    // Wire bytes: what ProducerStats counted, and at least the values' bytes.
    const bytes = await prometheus.waitForQuery(
      `sum(samsa_produced_bytes_total{topic="${topic}"})`,
      (s) => s[0]?.value === producer.stats().bytesAcknowledged,
      QUERY_WAIT_MS,
    );
    expect(bytes[0]?.value).toBeGreaterThan(RECORDS * "value-0".length);
    // One histogram observation per acknowledged batch.
    const batches = producer.stats().batchesAcknowledged;
    expect(await scalar(`sum(samsa_batch_size_records_count{topic="${topic}"})`, batches)).toBe(batches);
    expect(await scalar(`sum(samsa_batch_size_records_sum{topic="${topic}"})`, RECORDS)).toBe(RECORDS);
    expect(await scalar(`sum(samsa_produce_ack_latency_seconds_count{topic="${topic}"})`, batches)).toBe(batches);
    // No compression: the ratio is 1.
    expect(await scalar(`samsa_compression_ratio{topic="${topic}"}`, 1)).toBe(1);
  });

  it("consumes them in a group: lag is seen above 0, then 0 on every partition; records_consumed sums to the count", async () => {
    consumer.subscribe(topic);
    const batches = consumer.batches({ signal: AbortSignal.timeout(60_000) })[Symbol.asyncIterator]();
    const first = await batches.next();
    let seen = first.done ? 0 : first.value.messages.length;
    expect(seen).toBeGreaterThan(0);
    // Holding the first batch: with one batch per partition per fetch and a 1-byte prefetch
    // bound, the fetcher stops short of the end, so the lag Prometheus scrapes is above 0.
    const behind = await prometheus.waitForQuery(
      `max(samsa_consumer_lag{topic="${topic}", group="${groupId}"})`,
      (s) => (s[0]?.value ?? 0) > 0,
      QUERY_WAIT_MS,
    );
    expect(behind[0]?.value).toBeLessThan(RECORDS);
    while (seen < RECORDS) {
      const next = await batches.next();
      if (next.done) break;
      seen += next.value.messages.length;
    }
    await batches.return?.();
    expect(seen).toBe(RECORDS);

    const lag = await prometheus.waitForQuery(
      `samsa_consumer_lag{topic="${topic}"}`,
      (s) => s.length === PARTITIONS && s.every((x) => x.value === 0),
      QUERY_WAIT_MS,
    );
    for (const s of lag) expect(s.metric).toMatchObject({ client_id: clientId, group: groupId, topic });
    expect(lag.map((s) => s.metric.partition).sort()).toEqual(["0", "1", "2"]);
    expect(await scalar(`sum(samsa_records_consumed_total{topic="${topic}", group="${groupId}"})`, RECORDS)).toBe(
      RECORDS,
    );
    const consumed = await prometheus.query(`samsa_records_consumed_total{topic="${topic}"}`);
    expect(byPartition(consumed)).toEqual({ "0": 1667, "1": 1667, "2": 1666 });
    const rebalances = await prometheus.waitForQuery(
      `samsa_rebalances_total{group="${groupId}"}`,
      (s) => s.length === 1 && (s[0]?.value ?? 0) >= 1,
      QUERY_WAIT_MS,
    );
    expect(rebalances[0]?.metric).toMatchObject({ client_id: clientId, group: groupId });
    expect(["classic", "consumer"]).toContain(rebalances[0]?.metric.protocol);
  });

  it("labels request latency by API and reads connections and buffered bytes from stats() at scrape", async () => {
    const apis = await prometheus.waitForQuery(
      `sum by (api) (samsa_request_latency_seconds_count{client_id="${clientId}"})`,
      (s) => ["Metadata", "Produce", "Fetch"].every((api) => s.some((x) => x.metric.api === api && x.value > 0)),
      QUERY_WAIT_MS,
    );
    expect(apis.length).toBeGreaterThanOrEqual(3);
    expect(client.stats().connections).toBeGreaterThan(0);
    const connections = await prometheus.waitForQuery(
      `samsa_connections{client_id="${clientId}"}`,
      (s) => s.length === 1 && (s[0]?.value ?? 0) > 0,
      QUERY_WAIT_MS,
    );
    // Every open connection was opened once (the client may have opened and closed others since).
    const opened = await prometheus.query(`samsa_connections_opened_total{client_id="${clientId}"}`);
    expect(opened[0]?.value).toBeGreaterThanOrEqual(connections[0]?.value ?? Number.POSITIVE_INFINITY);
    // Everything is acknowledged: nothing buffered, nothing in flight.
    expect(await scalar(`samsa_producer_buffered_bytes{client_id="${clientId}"}`, 0)).toBe(0);
    expect(await scalar(`samsa_producer_in_flight_batches{client_id="${clientId}"}`, 0)).toBe(0);
    const consumerBuffered = await prometheus.query(`samsa_consumer_buffered_bytes{client_id="${clientId}"}`);
    expect(consumerBuffered).toHaveLength(1);
  });

  it("counts a batch the broker refuses (MESSAGE_TOO_LARGE) in errors_total by event and Kafka error name", async () => {
    const small = `prom-small-${run}`;
    await createTopic(client, small, 1, 1, [{ name: "max.message.bytes", value: "1024" }]);
    const strict = client.producer({ lingerMs: 0 });
    try {
      const err = await strict.send({ topic: small, value: Buffer.alloc(8192, 1) }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(KafkaError);
      expect((err as KafkaError).errorName).toBe("MESSAGE_TOO_LARGE");
      expect(strict.stats().batchesFailed).toBe(1);
    } finally {
      await strict.close();
    }
    const failed = await prometheus.waitForQuery(
      `samsa_errors_total{client_id="${clientId}", event="producer:batch-failed", error="MESSAGE_TOO_LARGE"}`,
      (s) => s.length === 1 && s[0]?.value === 1,
      QUERY_WAIT_MS,
    );
    expect(failed[0]?.value).toBe(1);
  });

  it("counts the retries of a batch to a deleted topic by error, then its failure at deliveryTimeoutMs", async () => {
    const doomed = `prom-deleted-${run}`;
    await createTopic(client, doomed, 1);
    const patient = client.producer({
      lingerMs: 0,
      requestTimeoutMs: 1000,
      deliveryTimeoutMs: 3000,
      retryBackoffMs: 100,
      retryBackoffMaxMs: 200,
      allowAutoTopicCreation: false,
    });
    let retries = 0;
    let cause = "";
    try {
      await patient.send({ topic: doomed, value: "before" });
      // The producer's metadata still names the partition's leader, which now refuses it
      // (UNKNOWN_TOPIC_ID with topic ids, UNKNOWN_TOPIC_OR_PARTITION before): retriable.
      await client.admin().deleteTopics([doomed]);
      const err = await patient.send({ topic: doomed, value: "after" }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TimeoutError);
      expect((err as Error).cause).toBeInstanceOf(KafkaError);
      cause = ((err as Error).cause as KafkaError).errorName;
      expect(["UNKNOWN_TOPIC_ID", "UNKNOWN_TOPIC_OR_PARTITION"]).toContain(cause);
      retries = patient.stats().retries;
      expect(retries).toBeGreaterThan(0);
    } finally {
      await patient.close();
    }
    expect(
      await scalar(`sum(samsa_retries_total{client_id="${clientId}", topic="${doomed}", error="${cause}"})`, retries),
    ).toBe(retries);
    expect(
      await scalar(
        `sum(samsa_errors_total{client_id="${clientId}", event="producer:batch-failed", error="SAMSA_ERR_TIMEOUT"})`,
        1,
      ),
    ).toBe(1);
  });

  it("every query of docs/grafana-dashboard.json is valid PromQL and finds at least one series", async () => {
    const dashboard = loadDashboard();
    expect(dashboard.uid).toBe("samsa-kafka-client");
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.templating.list.map((v) => v.name)).toEqual(["datasource", "client_id"]);
    for (const panel of dataPanels(dashboard)) {
      // Grafana's own variable syntax, not a template string.
      expect(panel.datasource, panel.title).toEqual({ type: "prometheus", uid: ["$", "{datasource}"].join("") });
      expect(panel.gridPos, panel.title).toBeDefined();
    }
    const queries = panelQueries(dashboard);
    expect(queries.length).toBeGreaterThanOrEqual(10);
    // Every metric the outlet defines except the connection counters (the $client_id
    // variable's source) appears on the dashboard.
    const all = queries.map((q) => q.expr).join("\n");
    for (const name of Object.keys(DEFINITIONS)) {
      if (name === "connections_opened_total" || name === "connections_closed_total") continue;
      expect(all, name).toContain(`samsa_${name}`);
    }
    // The variable's own query finds our client.
    const ids = await prometheus.query(`group by (client_id) (samsa_connections_opened_total)`);
    expect(ids.map((s) => s.metric.client_id)).toContain(clientId);

    // A 5-minute window covers the whole test, so the quantiles have observations to work on.
    const empty: string[] = [];
    for (const q of queries) {
      const expr = concreteExpr(q.expr, { clientIds: [clientId], window: "5m" });
      const samples = await prometheus.query(expr); // throws PrometheusQueryError for invalid PromQL
      if (!samples.some((s) => Number.isFinite(s.value))) empty.push(`${q.panel} ${q.refId}: ${expr}`);
    }
    expect(empty).toEqual([]);
  });

  it("watch() adds a client read at scrape; the function it returns removes it again", async () => {
    const otherId = `prom-watched-${run}`;
    const other = new Client({ bootstrap, clientId: otherId });
    try {
      await other.metadata([topic]);
      const connections = () => registry.getSingleMetricAsString("samsa_connections");
      expect(await connections()).not.toContain(otherId);
      const unwatch = collector.watch(other);
      expect(await connections()).toContain(`samsa_connections{client_id="${otherId}"} ${other.stats().connections}`);
      unwatch();
      expect(await connections()).not.toContain(otherId);
    } finally {
      other.close();
    }
  });

  it("refuses bad options, naming the option", () => {
    expect(() => collectMetrics({ registry: new Registry(), prefix: "9bad" })).toThrow(/^prefix: /);
    expect(() => collectMetrics({ registry: new Registry(), clients: [{} as never] })).toThrow(/^clients\[0\]: /);
    expect(() => collectMetrics({ registry: new Registry(), buckets: { latencySeconds: [1, 0.5] } })).toThrow(
      /^buckets\.latencySeconds: /,
    );
  });

  it("close() unsubscribes and removes the metrics from the registry", async () => {
    const other = new Registry();
    const second = collectMetrics({ registry: other, prefix: "second_" });
    expect(other.getSingleMetric("second_records_produced_total")).toBeDefined();
    // A second collector on the same registry and prefix is refused, not double-counted.
    expect(() => collectMetrics({ registry: other, prefix: "second_" })).toThrow(/already holds second_/);
    second.close();
    expect(other.getMetricsAsArray()).toHaveLength(0);
    const after = client.producer();
    try {
      await after.send({ topic, partition: 0, value: "after close" });
    } finally {
      await after.close();
    }
    expect((await other.metrics()).trim()).toBe("");
    // The first collector still counts it.
    const produced = await registry.getSingleMetricAsString("samsa_records_produced_total");
    expect(produced).toContain(
      `samsa_records_produced_total{client_id="${clientId}",topic="${topic}",partition="0"} 1668`,
    );
  });
});
