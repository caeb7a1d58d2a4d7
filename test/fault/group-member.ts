/**
 * A consumer-group member as its own process, for fault scenario (d): the parent SIGKILLs
 * it to crash it. Usage (through tsx):
 *
 *   node --import tsx test/fault/group-member.ts <bootstrap> <topic> <groupId> <consumer|classic>
 *
 * It prints `R <id>,<id>,…` for every batch it was handed, before the next batch (stdout to a
 * pipe is synchronous on Linux, so what was printed reached the parent even if the process
 * dies right after), `A <partitions>` on each assignment, and exits 0 after a clean close on
 * SIGTERM. Offsets are auto-committed, so the group is at-least-once: a record handed out is
 * printed before its offset can be committed.
 */
import { Client } from "../../src/client.js";

const [bootstrap, topic, groupId, protocol] = process.argv.slice(2);
if (!bootstrap || !topic || !groupId || (protocol !== "consumer" && protocol !== "classic")) {
  process.stderr.write("usage: group-member.ts <bootstrap> <topic> <groupId> <consumer|classic>\n");
  process.exit(2);
}

const client = new Client({ bootstrap, clientId: `member-${process.pid}`, requestTimeoutMs: 10_000 });
const consumer = client.consumer({
  groupId,
  groupProtocol: protocol,
  autoOffsetReset: "earliest",
  autoCommitIntervalMs: 500,
  // Classic: the broker's minimum is 6 s; a crashed member's partitions wait this long.
  ...(protocol === "classic" ? { sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000 } : {}),
});
const stop = new AbortController();
process.on("SIGTERM", () => stop.abort());

consumer.subscribe(topic, {
  assigned: (ps) => {
    process.stdout.write(`A ${ps.map((p) => p.partition).join(",")}\n`);
  },
});

try {
  for await (const batch of consumer.batches({ signal: stop.signal })) {
    if (batch.messages.length === 0) continue;
    process.stdout.write(`R ${batch.messages.map((m) => m.value?.toString() ?? "").join(",")}\n`);
  }
  await consumer.close();
  client.close();
  process.exit(0);
} catch (err) {
  process.stderr.write(`member error: ${(err as Error).stack ?? String(err)}\n`);
  client.close();
  process.exit(1);
}
