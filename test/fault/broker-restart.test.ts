/**
 * Fault scenario (b): the only broker goes away for 20 s (SIGTERM, then SIGKILL) and comes
 * back while the producer holds ~50k sends in flight. What must hold:
 *
 * - every send made before or during the outage settles: acknowledged after the restart, or
 *   failed no earlier than deliveryTimeoutMs after it was made (the broker being away is
 *   retriable; only the delivery timeout may end it);
 * - 10,000 sends made after the restart are all acknowledged within 20 s;
 * - `close()` settles;
 * - nothing acknowledged is lost, nothing is written twice (idempotent producer).
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "../../src/client.js";
import { type KafkaCluster, startKafka } from "../../tools/kafka/harness.js";
import { Ledger, RssSampler, reportFigures, sleep, waitFor, within } from "../helpers/fault-ledger.js";
import { ProducerLoad } from "../helpers/producer-load.js";
import { scanTopic } from "../helpers/scan-topic.js";
import { createTopic } from "../helpers/topics.js";

const DELIVERY_TIMEOUT_MS = 30_000;
const OUTAGE_MS = 20_000;
const NEW_SENDS = 10_000;
const NEW_SENDS_WITHIN_MS = 20_000;
/** Slack on the delivery timeout: the producer checks expiry on its own clock and timers. */
const EXPIRY_SLACK_MS = 1_000;

describe("producer across a single-node broker restart", () => {
  let kafka: KafkaCluster;
  beforeAll(async () => {
    kafka = await startKafka({ mode: "single" });
  });
  afterAll(async () => {
    await kafka?.stop();
  });

  for (const how of ["SIGTERM", "SIGKILL"] as const) {
    it(`${how}: outage sends settle by deliveryTimeoutMs, new sends succeed, nothing acknowledged is lost`, async () => {
      const topic = `fault-restart-${how.toLowerCase()}-${randomUUID()}`;
      const client = new Client({ bootstrap: kafka.bootstrap, requestTimeoutMs: 5_000, retryBackoffMs: 100 });
      const rss = new RssSampler(500).start();
      const ledger = new Ledger();
      try {
        await createTopic(client, topic, 3, 1);
        const producer = client.producer({ requestTimeoutMs: 5_000, deliveryTimeoutMs: DELIVERY_TIMEOUT_MS });
        const load = new ProducerLoad(producer, ledger, { topic, ratePerSec: 5_000, maxOutstanding: 50_000 }).start();

        await sleep(3_000);
        const ackedBeforeOutage = ledger.acked;
        const nodeId = kafka.nodes[0]?.nodeId as number;
        await kafka.stopNode(nodeId, how);
        const downAt = Date.now();
        await sleep(OUTAGE_MS);
        const inFlightAtRestart = ledger.outstanding;
        await kafka.startNode(nodeId);
        const upAt = Date.now();
        load.stop();
        const lastOutageId = ledger.sent - 1;

        // New sends after the restart: all acknowledged within seconds.
        const fresh = load.burst(NEW_SENDS);
        await waitFor(() => {
          for (let id = fresh.from; id < fresh.to; id++) if (!ledger.isAcked(id)) return false;
          return true;
        }, NEW_SENDS_WITHIN_MS);
        let freshAcked = 0;
        for (let id = fresh.from; id < fresh.to; id++) if (ledger.isAcked(id)) freshAcked++;
        const freshMs = Date.now() - upAt;

        // Everything sent must settle by its delivery timeout (plus slack).
        const settled = await waitFor(() => ledger.outstanding === 0, DELIVERY_TIMEOUT_MS + 10_000);
        const early = load.failures.filter((f) => f.elapsedMs < DELIVERY_TIMEOUT_MS - EXPIRY_SLACK_MS);
        const outageFailed = load.failures.filter((f) => f.id <= lastOutageId).length;
        const closed = await within(producer.close(), 30_000);

        const reader = new Client({ bootstrap: kafka.bootstrap, requestTimeoutMs: 10_000 });
        try {
          await scanTopic(reader, topic, (value) => ledger.read(value));
        } finally {
          reader.close();
        }
        rss.stop();
        const figures = ledger.reconcile();
        reportFigures(`restart-${how.toLowerCase()}`, figures, rss, {
          ackedBeforeOutage,
          inFlightAtRestart,
          outageSendsFailed: outageFailed,
          downMs: upAt - downAt,
          freshAcked: `${freshAcked}/${NEW_SENDS}`,
          freshWaitMs: freshMs,
          earlyFailures: early.length,
          minFailMs: load.failures.reduce((m, f) => Math.min(m, f.elapsedMs), Number.POSITIVE_INFINITY),
          closeSettled: closed.ok,
          errors: load.errorSummary(),
        });
        if (early.length > 0) console.log(`  first early failures: ${JSON.stringify(early.slice(0, 3))}`);

        expect(ackedBeforeOutage).toBeGreaterThan(0);
        expect(inFlightAtRestart).toBeGreaterThan(10_000);
        expect(freshAcked).toBe(NEW_SENDS);
        expect(settled).toBe(true);
        expect(figures.outstanding).toBe(0);
        expect(early.length).toBe(0);
        expect(closed.ok).toBe(true);
        expect(figures.lost).toBe(0);
        expect(figures.duplicated).toBe(0);
        expect(figures.unknown).toBe(0);
      } finally {
        rss.stop();
        client.close();
      }
    }, 300_000);
  }
});
