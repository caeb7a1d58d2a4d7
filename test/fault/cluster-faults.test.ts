/**
 * Fault scenarios on one shared 3-node cluster (RF 3, min ISR 2):
 *
 * (c) a rolling restart (SIGTERM, one node at a time) under produce and group load;
 * (d) three group-member processes, one SIGKILLed and replaced, for both group protocols;
 * (e) a soak: 20k records/s produced and consumed while a random broker is SIGKILLed and
 *     restarted every 60 s, for SAMSA_SOAK_SECONDS (default 600; 120 under CI), with RSS
 *     flat after warm-up.
 *
 * Each prints one `FAULT <scenario>: …` line with its figures.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "../../src/client.js";
import { type KafkaCluster, startKafka } from "../../tools/kafka/harness.js";
import { Ledger, RssSampler, reportFigures, SeenIds, sleep, waitFor, within } from "../helpers/fault-ledger.js";
import { GroupReader } from "../helpers/group-reader.js";
import { MemberProcess } from "../helpers/member-process.js";
import { ProducerLoad } from "../helpers/producer-load.js";
import { scanTopic } from "../helpers/scan-topic.js";
import { createTopic } from "../helpers/topics.js";

const SOAK_SECONDS = Number(process.env.SAMSA_SOAK_SECONDS ?? (process.env.CI ? 120 : 600));
const SOAK_RATE = 20_000;
const SOAK_KILL_EVERY_MS = 60_000;
/** RSS may move this much between the medians of the second and the last quarter. */
const RSS_TOLERANCE = 0.15;
/** Shortest soak whose RSS is judged for flatness (warm-up takes the first minutes). */
const RSS_MIN_SOAK_SECONDS = 300;
/** Whatever the length, the test process stays under this (the 600 s soak peaked at 479 MB). */
const RSS_CEILING_MB = 1024;

describe("3-node cluster faults", () => {
  let kafka: KafkaCluster;
  let admin: Client;
  beforeAll(async () => {
    kafka = await startKafka({ mode: "cluster" });
    admin = new Client({ bootstrap: kafka.bootstrap, requestTimeoutMs: 10_000, retryBackoffMs: 100 });
  });
  afterAll(async () => {
    admin?.close();
    await kafka?.stop();
  });

  const clientOptions = () => ({ bootstrap: kafka.bootstrap, requestTimeoutMs: 10_000, retryBackoffMs: 100 });

  /** Waits for a started node to be back in every partition's ISR it left (no URPs). */
  async function waitInSync(topic: string, timeoutMs = 60_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      try {
        const md = await admin.metadata([topic], { maxAgeMs: 0 });
        const t = md.topics.get(topic);
        if (t?.partitions.every((p) => p.isr.length === 3 && p.leaderId >= 0)) return true;
      } catch {
        // A broker restarting: try again.
      }
      await sleep(500);
    }
    return false;
  }

  it("c: a rolling restart under load loses and duplicates nothing", async () => {
    const topic = `fault-roll-${randomUUID()}`;
    await createTopic(admin, topic, 6, 3);
    const ledger = new Ledger();
    const seen = new SeenIds();
    const rss = new RssSampler(500).start();
    const producerClient = new Client(clientOptions());
    const groupId = `fault-roll-${randomUUID()}`;
    const readers = [0, 1].map(() => new GroupReader(clientOptions(), { groupId }, seen).start(topic));
    try {
      const producer = producerClient.producer({ requestTimeoutMs: 10_000, deliveryTimeoutMs: 120_000 });
      const load = new ProducerLoad(producer, ledger, { topic, ratePerSec: 5_000, maxOutstanding: 50_000 }).start();
      await sleep(5_000);
      for (const node of kafka.nodes.map((n) => n.nodeId)) {
        await kafka.stopNode(node, "SIGTERM");
        await sleep(5_000);
        await kafka.startNode(node);
        await waitInSync(topic);
      }
      await sleep(3_000);
      load.stop();
      const settled = await waitFor(() => ledger.outstanding === 0, 130_000);
      const caughtUp = await waitFor(() => seen.missing(ledger) === 0, 60_000);
      const closed = await within(producer.close(), 30_000);
      for (const r of readers) await r.stop();
      const group = seen.figures(ledger);
      await scanTopic(admin, topic, (value) => ledger.read(value));
      rss.stop();
      const figures = ledger.reconcile();
      reportFigures("c-rolling-restart", figures, rss, {
        groupSeen: group.seen,
        groupMissing: group.missing,
        groupRedelivered: group.redelivered,
        closeSettled: closed.ok,
        consumerErrors: readers.filter((r) => r.error !== undefined).length,
        errors: load.errorSummary(),
      });
      for (const r of readers) if (r.error !== undefined) console.log(`  consumer error: ${String(r.error)}`);
      expect(settled).toBe(true);
      expect(figures.failed).toBe(0);
      expect(figures.lost).toBe(0);
      expect(figures.duplicated).toBe(0);
      expect(figures.unknown).toBe(0);
      expect(caughtUp).toBe(true);
      expect(group.missing).toBe(0);
      expect(readers.map((r) => r.error)).toEqual([undefined, undefined]);
      expect(closed.ok).toBe(true);
    } finally {
      rss.stop();
      for (const r of readers) await r.stop(5_000);
      producerClient.close();
    }
  }, 420_000);

  for (const protocol of ["consumer", "classic"] as const) {
    it(`d: three member processes (${protocol}), one SIGKILLed and replaced: at-least-once, nothing missing`, async () => {
      const topic = `fault-members-${protocol}-${randomUUID()}`;
      await createTopic(admin, topic, 6, 3);
      const groupId = `fault-members-${protocol}-${randomUUID()}`;
      const ledger = new Ledger();
      const seen = new SeenIds();
      const rss = new RssSampler(500).start();
      const producerClient = new Client(clientOptions());
      const members = [0, 1, 2].map(() => new MemberProcess(kafka.bootstrap, topic, groupId, protocol, seen));
      try {
        const producer = producerClient.producer({ requestTimeoutMs: 10_000, deliveryTimeoutMs: 120_000 });
        const load = new ProducerLoad(producer, ledger, { topic, ratePerSec: 3_000, maxOutstanding: 50_000 }).start();
        const allAssigned = await waitFor(() => members.every((m) => m.assignments.length > 0), 30_000);
        await sleep(5_000);
        const victim = members[1] as MemberProcess;
        const receivedBeforeKill = victim.received;
        await victim.kill();
        await sleep(5_000);
        members.push(new MemberProcess(kafka.bootstrap, topic, groupId, protocol, seen));
        await sleep(10_000);
        load.stop();
        const settled = await waitFor(() => ledger.outstanding === 0, 60_000);
        const caughtUp = await waitFor(() => seen.missing(ledger) === 0, 90_000);
        const closed = await within(producer.close(), 30_000);
        const exits = await Promise.all(members.map((m) => m.stop()));
        const group = seen.figures(ledger);
        await scanTopic(admin, topic, (value) => ledger.read(value));
        rss.stop();
        const figures = ledger.reconcile();
        reportFigures(`d-members-${protocol}`, figures, rss, {
          groupSeen: group.seen,
          groupMissing: group.missing,
          groupRedelivered: group.redelivered,
          victimReceived: receivedBeforeKill,
          perMember: members.map((m) => m.received).join("/"),
          exits: exits.join("/"),
          closeSettled: closed.ok,
          errors: load.errorSummary(),
        });
        if (!caughtUp)
          for (const m of members) if (m.stderr) console.log(`  member stderr: ${m.stderr.slice(0, 2_000)}`);
        expect(allAssigned).toBe(true);
        expect(receivedBeforeKill).toBeGreaterThan(0);
        expect(settled).toBe(true);
        expect(figures.failed).toBe(0);
        expect(figures.lost).toBe(0);
        expect(figures.duplicated).toBe(0);
        expect(caughtUp).toBe(true);
        expect(group.missing).toBe(0);
        // The survivors and the replacement left cleanly; the victim died of SIGKILL.
        expect(exits).toEqual([0, "SIGKILL", 0, 0]);
        expect(closed.ok).toBe(true);
      } finally {
        rss.stop();
        for (const m of members) await m.stop(5_000);
        producerClient.close();
      }
    }, 300_000);
  }

  it(
    `e: soak for ${SOAK_SECONDS} s at ${SOAK_RATE}/s with a broker SIGKILLed every 60 s`,
    async () => {
      const topic = `fault-soak-${randomUUID()}`;
      await createTopic(admin, topic, 6, 3);
      const capacity = Math.ceil(SOAK_RATE * SOAK_SECONDS * 1.1) + 200_000;
      const ledger = new Ledger(capacity);
      const seen = new SeenIds(capacity);
      const producerClient = new Client(clientOptions());
      const groupId = `fault-soak-${randomUUID()}`;
      const readers = [0, 1].map(() => new GroupReader(clientOptions(), { groupId }, seen).start(topic));
      const rss = new RssSampler(1_000).start();
      const kills: string[] = [];
      try {
        const producer = producerClient.producer({ requestTimeoutMs: 10_000, deliveryTimeoutMs: 120_000 });
        const load = new ProducerLoad(producer, ledger, {
          topic,
          ratePerSec: SOAK_RATE,
          maxOutstanding: 200_000,
        }).start();
        const started = Date.now();
        const end = started + SOAK_SECONDS * 1000;
        // A kill at 30 s, 90 s, 150 s, …: each node down ~10 s, then restarted and waited for.
        let nextKill = started + 30_000;
        while (Date.now() < end) {
          if (Date.now() >= nextKill && end - Date.now() > 20_000) {
            const ids = kafka.nodes.map((n) => n.nodeId);
            const victim = ids[Math.floor(Math.random() * ids.length)] as number;
            const at = Math.round((Date.now() - started) / 1000);
            await kafka.stopNode(victim, "SIGKILL");
            await sleep(10_000);
            await kafka.startNode(victim);
            kills.push(`${victim}@${at}s`);
            nextKill += SOAK_KILL_EVERY_MS;
          }
          await sleep(Math.max(0, Math.min(1_000, end - Date.now())));
        }
        load.stop();
        const producedFor = (Date.now() - started) / 1000;
        const settled = await waitFor(() => ledger.outstanding === 0, 130_000);
        const caughtUp = await waitFor(() => seen.missing(ledger) === 0, 120_000);
        // The RSS window is the run itself, not the drain and read-back after it.
        rss.stop();
        const closed = await within(producer.close(), 30_000);
        for (const r of readers) await r.stop();
        const group = seen.figures(ledger);
        await scanTopic(admin, topic, (value) => ledger.read(value));
        const figures = ledger.reconcile();
        const memory = rss.summary();
        const drift = memory.q4MedianMB / memory.q2MedianMB - 1;
        reportFigures(`e-soak-${SOAK_SECONDS}s`, figures, rss, {
          ratePerSec: Math.round(ledger.sent / producedFor),
          kills: kills.join(","),
          rssDrift: `${(drift * 100).toFixed(1)}%`,
          groupSeen: group.seen,
          groupMissing: group.missing,
          groupRedelivered: group.redelivered,
          closeSettled: closed.ok,
          consumerErrors: readers.filter((r) => r.error !== undefined).length,
          errors: load.errorSummary(),
        });
        for (const r of readers) if (r.error !== undefined) console.log(`  consumer error: ${String(r.error)}`);
        expect(kills.length).toBeGreaterThanOrEqual(Math.floor((SOAK_SECONDS - 30) / 60));
        expect(settled).toBe(true);
        expect(figures.lost).toBe(0);
        expect(figures.duplicated).toBe(0);
        expect(figures.unknown).toBe(0);
        expect(caughtUp).toBe(true);
        expect(group.missing).toBe(0);
        expect(readers.map((r) => r.error)).toEqual([undefined, undefined]);
        // Flatness needs a warmed-up process: in CI's 120 s version the heap is still growing
        // into its working size (RSS q2 → q4 +41% in one run, with 0 lost), so the bound is
        // asserted from RSS_MIN_SOAK_SECONDS on (the 600 s soak of npm run test:fault: −14.8%).
        if (SOAK_SECONDS >= RSS_MIN_SOAK_SECONDS) expect(Math.abs(drift)).toBeLessThanOrEqual(RSS_TOLERANCE);
        // Bounded all the same: no soak may grow past a fixed ceiling.
        expect(memory.maxMB).toBeLessThan(RSS_CEILING_MB);
        expect(closed.ok).toBe(true);
      } finally {
        rss.stop();
        for (const r of readers) await r.stop(5_000);
        producerClient.close();
      }
    },
    (SOAK_SECONDS + 600) * 1000,
  );
});
