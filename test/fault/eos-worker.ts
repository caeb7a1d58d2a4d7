/**
 * One consume-transform-produce worker as its own process, for the exactly-once scenario
 * (test/fault/exactly-once.test.ts). Usage (through tsx):
 *
 *   node --import tsx test/fault/eos-worker.ts <bootstrap> <input> <output> <groupId>
 *        <consumer|classic> <transactionalId> <paceMs>
 *
 * Each input batch becomes one transaction: every record is copied to the same partition of
 * `output` (key and value unchanged), then `sendOffsets(consumer)` adds the consumer's
 * positions and the transaction commits; then the loop sleeps `paceMs`, so that an input lasts
 * long enough for every planned crash. A signal arms a crash in the next transaction:
 * - SIGUSR1, `before-commit`: records acknowledged and offsets added, commit not called (an
 *   open transaction that the next InitProducerId with this transactionalId must abort);
 * - SIGUSR2, `during-commit`: records acknowledged, then `commitTransaction()` called and the
 *   process killed before its answer is awaited (EndTxn written, or about to be).
 * A transaction that fails (a rebalance refuses its offsets, a leader moves) is aborted and the
 * consumer goes back to the group's committed offsets, so its batch is processed again; a
 * fenced producer, or any other error, exits 1, and a restart resumes from the committed
 * offsets. It prints `C <records>` after each commit, `R <error>` after each abort,
 * `A <partitions>` on each assignment and `X <point>` just before a crash; SIGTERM ends the
 * loop, closes cleanly and exits 0.
 */
import { Client } from "../../src/client.js";
import { isFatalTransactionError } from "../../src/producer/index.js";

const [bootstrap, input, output, groupId, protocol, transactionalId, paceArg] = process.argv.slice(2);
if (
  !bootstrap ||
  !input ||
  !output ||
  !groupId ||
  (protocol !== "consumer" && protocol !== "classic") ||
  !transactionalId
) {
  process.stderr.write("usage: eos-worker.ts <bootstrap> <input> <output> <groupId> <protocol> <txnId> <paceMs>\n");
  process.exit(2);
}
const paceMs = Number(paceArg ?? 50);
let crash: "before-commit" | "during-commit" | undefined;
process.on("SIGUSR1", () => {
  crash = "before-commit";
});
process.on("SIGUSR2", () => {
  crash = "during-commit";
});

const client = new Client({ bootstrap, clientId: `eos-${process.pid}`, requestTimeoutMs: 10_000, retryBackoffMs: 100 });
client.on("error", () => {
  // Background errors (a killed broker's connections) heal by themselves; the parent counts.
});
const consumer = client.consumer({
  groupId,
  groupProtocol: protocol,
  autoCommit: false,
  autoOffsetReset: "earliest",
  isolationLevel: "read_committed",
  // Small batches: many transactions, so crashes land in the middle of the input.
  maxPartitionBytes: 4096,
  ...(protocol === "classic" ? { sessionTimeoutMs: 8_000, heartbeatIntervalMs: 1_000 } : {}),
});
const producer = client.producer({ transactionalId, transactionTimeoutMs: 20_000, requestTimeoutMs: 10_000 });
const stop = new AbortController();
process.on("SIGTERM", () => stop.abort());

function die(): never {
  process.kill(process.pid, "SIGKILL");
  throw new Error("unreachable");
}

try {
  await producer.initTransactions();
  consumer.subscribe(input, {
    assigned: (ps) => {
      process.stdout.write(`A ${ps.map((p) => p.partition).join(",")}\n`);
    },
  });
  for await (const batch of consumer.batches({ signal: stop.signal })) {
    if (batch.messages.length === 0) continue;
    try {
      await producer.beginTransaction();
      for (const m of batch.messages) {
        producer.send({ topic: output, partition: batch.partition, key: m.key, value: m.value }, () => {});
      }
      await producer.sendOffsets(consumer);
      if (crash !== undefined) {
        await producer.flush();
        process.stdout.write(`X ${crash}\n`);
        if (crash === "before-commit") die();
        void producer.commitTransaction().catch(() => {});
        // Microtasks (the EndTxn encode and write) run before setImmediate callbacks.
        setImmediate(die);
        await new Promise(() => {});
      }
      await producer.commitTransaction();
      process.stdout.write(`C ${batch.messages.length}\n`);
    } catch (err) {
      // Fenced: another instance owns the transactional id now; this one must stop.
      if (isFatalTransactionError(err, "EndTxn") || producer.transactionState === "fatalError") throw err;
      // Anything else (a rebalance refusing the offsets, a leader moving): abort, and go back
      // to the committed offsets so that the aborted batch is processed again (Java's examples
      // do it by hand: resetToLastCommittedPositions).
      process.stdout.write(`R ${(err as Error).message.replaceAll("\n", " ")}\n`);
      await producer.abortTransaction();
      consumer.seekToCommitted();
    }
    await new Promise((r) => setTimeout(r, paceMs));
  }
  await consumer.close();
  await producer.close();
  client.close();
  process.exit(0);
} catch (err) {
  process.stderr.write(`eos worker error: ${(err as Error).stack ?? String(err)}\n`);
  client.close();
  process.exit(1);
}
