/**
 * Exactly-once under crashes, on a 3-node cluster (RF 3, min ISR 2), for both group protocols:
 *
 * 100,000 keyed records in a 6-partition input; two worker processes (test/fault/eos-worker.ts)
 * copy them to a 6-partition output, one transaction per batch with the consumer's offsets in
 * it. Meanwhile the workers are crashed six times: killed with a transaction open before its
 * commit, killed inside `commitTransaction()` (EndTxn written), SIGKILLed by the parent at
 * random points, and the leader of an output partition is SIGKILLed and restarted. Every
 * crashed worker is restarted with the same transactionalId.
 *
 * Judged by Kafka's own Java consumer in read_committed: every input id is in the output
 * exactly once (0 missing, 0 duplicated), the group's committed offsets equal the input's end
 * offsets, and the output log holds more records than were committed (the aborted ones were
 * really written; read_committed hid them). One `FAULT eos-<protocol>: …` line per run.
 */
import { randomUUID } from "node:crypto";
import { appendFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Admin } from "../../src/admin/index.js";
import { Client } from "../../src/client.js";
import { type KafkaCluster, startKafka } from "../../tools/kafka/harness.js";
import { REPO_ROOT } from "../../tools/kafka/paths.js";
import { sleep } from "../helpers/fault-ledger.js";
import { javaConsume } from "../helpers/java-consume.js";
import { scanTopic } from "../helpers/scan-topic.js";
import { ScriptProcess } from "../helpers/script-process.js";
import { createTopic } from "../helpers/topics.js";

const INPUT_RECORDS = 100_000;
const PARTITIONS = 6;
const WORKERS = 2;
/**
 * Input batches of about 100 records (one transaction each) and a pause per transaction: both
 * workers together copy about 1,500 records/s, so the crashes land in the middle of the input.
 */
const INPUT_BATCH_BYTES = 2_048;
const PACE_MS = 100;
/** Progress lines of the running scenario go here (vitest shows console output at the end). */
const PROGRESS_LOG = join(REPO_ROOT, ".cache", "eos-progress.log");
/** Whole-run bound: input produced, processed through every crash, read back. */
const RUN_TIMEOUT_MS = 360_000;

type Fault =
  | { kind: "before-commit" | "during-commit" | "sigkill"; worker: number }
  | { kind: "leader-kill"; outputPartition: number };

/** When (committed output records, all workers) each fault strikes. */
const PLAN: { at: number; fault: Fault }[] = [
  { at: 8_000, fault: { kind: "before-commit", worker: 0 } },
  { at: 20_000, fault: { kind: "during-commit", worker: 1 } },
  { at: 32_000, fault: { kind: "sigkill", worker: 0 } },
  { at: 44_000, fault: { kind: "leader-kill", outputPartition: 0 } },
  { at: 56_000, fault: { kind: "during-commit", worker: 0 } },
  { at: 68_000, fault: { kind: "sigkill", worker: 1 } },
  { at: 78_000, fault: { kind: "before-commit", worker: 1 } },
];

/** A worker slot: its process (restarted under the same transactionalId), and what it reported. */
class WorkerSlot {
  process!: ScriptProcess;
  starts = 0;
  /** Exits nobody planned (an error in the worker: it restarts from the committed offsets). */
  unplannedExits = 0;
  /** Transactions aborted and redone after an error (a rebalance refusing the offsets, …). */
  aborts = 0;
  /** Transactions the current process committed: a crash is planned only once it works. */
  commitsSinceStart = 0;
  readonly stderr: string[] = [];
  #planned = false;
  #stopping = false;

  constructor(
    readonly args: string[],
    readonly onCommit: (records: number) => void,
    readonly onUnplannedExit: (stderr: string) => void,
  ) {
    this.start();
  }

  start(): void {
    this.starts++;
    this.commitsSinceStart = 0;
    const p = new ScriptProcess("test/fault/eos-worker.ts", this.args, (line) => {
      if (line.startsWith("C ")) {
        this.commitsSinceStart++;
        this.onCommit(Number(line.slice(2)));
      } else if (line.startsWith("R ")) {
        this.aborts++;
      }
    });
    this.process = p;
    void p.exited.then(() => {
      if (p.stderr) this.stderr.push(p.stderr.slice(0, 2_000));
      if (this.#stopping) return;
      if (!this.#planned) {
        this.unplannedExits++;
        this.onUnplannedExit(p.stderr.slice(0, 500));
      }
      this.#planned = false;
      this.start();
    });
  }

  /** Crashes the worker: by arming a crash point in its next transaction, or by SIGKILL. */
  async crash(kind: "before-commit" | "during-commit" | "sigkill"): Promise<"crashed" | "forced"> {
    this.#planned = true;
    const p = this.process;
    if (kind === "sigkill") {
      await p.kill();
      return "crashed";
    }
    p.child.kill(kind === "before-commit" ? "SIGUSR1" : "SIGUSR2");
    // A worker with no partitions has no next transaction: kill it after a while instead.
    let forced = false;
    const timer = setTimeout(() => {
      forced = true;
      p.child.kill("SIGKILL");
    }, 20_000);
    await p.exited;
    clearTimeout(timer);
    return forced ? "forced" : "crashed";
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    await this.process.stop();
  }
}

describe("exactly-once under crashes (3 nodes)", () => {
  let kafka: KafkaCluster;
  let admin: Client;
  let ops: Admin;
  beforeAll(async () => {
    kafka = await startKafka({ mode: "cluster" });
    admin = new Client({ bootstrap: kafka.bootstrap, requestTimeoutMs: 10_000, retryBackoffMs: 100 });
    ops = admin.admin();
  });
  afterAll(async () => {
    admin?.close();
    await kafka?.stop();
  });

  /** Whether the group's committed offset of every input partition equals its end offset. */
  async function atInputEnd(groupId: string, input: string, ends: Map<number, bigint>): Promise<boolean> {
    try {
      // Partitions named: a fetch of "all" would not wait for pending transactional offsets.
      const partitions = [...ends.keys()].map((partition) => ({ topic: input, partition }));
      const committed = await ops.listGroupOffsets(groupId, { requireStable: true, partitions });
      return [...ends].every(
        ([p, end]) => committed.find((c) => c.topic === input && c.partition === p)?.offset === end,
      );
    } catch {
      return false; // a coordinator moving during the leader kill
    }
  }

  for (const protocol of ["classic", "consumer"] as const) {
    it(
      `${protocol} group: 0 missing, 0 duplicated, offsets at the input's end`,
      async () => {
        const id = randomUUID().slice(0, 8);
        const input = `eos-in-${protocol}-${id}`;
        const output = `eos-out-${protocol}-${id}`;
        const groupId = `eos-${protocol}-${id}`;
        await createTopic(admin, input, PARTITIONS, 3);
        await createTopic(admin, output, PARTITIONS, 3);

        // The input: ids 0..99,999 as values, keyed, acknowledged by all in-sync replicas.
        const producer = admin.producer({ batchBytes: INPUT_BATCH_BYTES });
        const sends: Promise<unknown>[] = [];
        for (let i = 0; i < INPUT_RECORDS; i++)
          sends.push(producer.send({ topic: input, key: `k${i}`, value: `${i}` }));
        await Promise.all(sends);
        await producer.close();
        const ends = new Map(
          (await ops.listOffsets([...Array(PARTITIONS).keys()].map((p) => ({ topic: input, partition: p })))).map(
            (o) => [o.partition, o.offset],
          ),
        );
        expect([...ends.values()].reduce((a, b) => a + b, 0n)).toBe(BigInt(INPUT_RECORDS));

        let committedRecords = 0;
        const progress = (what: string) =>
          appendFileSync(
            PROGRESS_LOG,
            `${new Date().toISOString()} ${protocol} committed=${committedRecords} ${what}\n`,
          );
        const workers = [...Array(WORKERS).keys()].map(
          (w) =>
            new WorkerSlot(
              [kafka.bootstrap, input, output, groupId, protocol, `${groupId}-w${w}`, String(PACE_MS)],
              (n) => {
                committedRecords += n;
              },
              (stderr) => progress(`w${w} exited unplanned: ${stderr.replaceAll("\n", " | ")}`),
            ),
        );
        const faults: string[] = [];
        const restarts: Promise<void>[] = [];
        const started = Date.now();
        progress("workers started");
        try {
          for (const step of PLAN) {
            const f = step.fault;
            // A crash strikes a worker that is working (it committed since its last start).
            const ready = () =>
              committedRecords >= step.at &&
              (f.kind === "leader-kill" || (workers[f.worker] as WorkerSlot).commitsSinceStart > 0);
            while (!ready() && Date.now() - started < RUN_TIMEOUT_MS / 2) await sleep(100);
            if (f.kind === "leader-kill") {
              const md = await admin.metadata([output], { maxAgeMs: 0 });
              const leader = md.topics.get(output)?.partitions.find((p) => p.partition === f.outputPartition)?.leaderId;
              expect(leader).toBeGreaterThanOrEqual(0);
              progress(`killing node ${leader}, the leader of ${output}-${f.outputPartition}`);
              await kafka.stopNode(leader as number, "SIGKILL");
              faults.push(`leader-kill(node ${leader})@${committedRecords}`);
              // Restarted in the background: the next crashes strike while it is down or catching up.
              restarts.push(
                sleep(3_000)
                  .then(() => kafka.startNode(leader as number))
                  .then(() => progress(`node ${leader} back`)),
              );
            } else {
              const how = await (workers[f.worker] as WorkerSlot).crash(f.kind);
              faults.push(`${f.kind}(w${f.worker}${how === "forced" ? ", forced" : ""})@${committedRecords}`);
              progress(faults.at(-1) as string);
            }
          }
          await Promise.all(restarts);
          // Done when the group's committed offsets reach the input's end offsets.
          let done = false;
          while (!done && Date.now() - started < RUN_TIMEOUT_MS) {
            done = await atInputEnd(groupId, input, ends);
            if (!done) {
              progress("waiting for the committed offsets to reach the input's end");
              await sleep(1_000);
            }
          }
          expect(done, `committed offsets did not reach the input's end; faults: ${faults.join(" ")}`).toBe(true);
        } finally {
          await Promise.all(workers.map((w) => w.stop()));
        }

        progress("done; reading back with Java");
        // Kafka's Java consumer, read_committed: every id exactly once.
        const records = await javaConsume(kafka.bootstrap, output, INPUT_RECORDS * 2, {
          isolationLevel: "read_committed",
          idleTimeoutMs: 10_000,
          untilIdle: true,
        });
        const counts = new Uint8Array(INPUT_RECORDS);
        let foreign = 0;
        for (const r of records) {
          const n = Number(r.value);
          if (Number.isInteger(n) && n >= 0 && n < INPUT_RECORDS) counts[n] = Math.min(255, (counts[n] as number) + 1);
          else foreign++;
        }
        let missing = 0;
        let duplicated = 0;
        for (const c of counts) {
          if (c === 0) missing++;
          if (c > 1) duplicated++;
        }
        // Raw log (read_uncommitted, control batches skipped): the aborted records are there.
        const raw = await scanTopic(admin, output, () => {});
        const kills = faults.length;
        const workerRestarts = workers.reduce((a, w) => a + w.starts - 1, 0);
        const aborts = workers.reduce((a, w) => a + w.aborts, 0);
        const unplanned = workers.reduce((a, w) => a + w.unplannedExits, 0);
        console.log(
          `FAULT eos-${protocol}: input=${INPUT_RECORDS} readCommitted=${records.length} missing=${missing} dup=${duplicated} foreign=${foreign} rawLog=${raw} faults=${kills} workerRestarts=${workerRestarts} unplannedExits=${unplanned} abortedAndRedone=${aborts} seconds=${Math.round((Date.now() - started) / 1000)} plan=[${faults.join(" ")}]`,
        );
        expect({ missing, duplicated, foreign, read: records.length }).toEqual({
          missing: 0,
          duplicated: 0,
          foreign: 0,
          read: INPUT_RECORDS,
        });
        expect(kills).toBeGreaterThanOrEqual(5);
        expect(raw).toBeGreaterThan(INPUT_RECORDS);
        expect(await atInputEnd(groupId, input, ends)).toBe(true);
      },
      RUN_TIMEOUT_MS + 120_000,
    );
  }
});
