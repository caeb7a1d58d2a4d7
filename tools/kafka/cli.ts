/**
 * `npm run kafka -- <command>`: a local broker for people who want one to play with.
 *
 *   start [--mode single|cluster|secure] [--transaction-version 0|1|2]
 *                                          start in the background and print how to reach it
 *                                          (`--transaction-version 1`: a broker without KIP-890
 *                                          part 2, for the producer's older transaction path)
 *   stop                                   stop it and remove its data
 *   status                                 say whether it runs and answers
 *   env                                    print `export KAFKA_BOOTSTRAP=…` for it, for
 *                                          `eval "$(npm run --silent kafka -- env)"`
 *   fetch                                  only fetch the jars (CI warms the cache with it)
 */
import { existsSync } from "node:fs";
import { readFile, rm, writeFile } from "node:fs/promises";
import { type KafkaClusterInfo, type KafkaMode, startKafka, stopPids } from "./harness.js";
import { ensureKafkaJars } from "./jars.js";
import { CLI_STATE_FILE } from "./paths.js";
import { probeApiVersions } from "./probe.js";

const MODES: readonly KafkaMode[] = ["single", "cluster", "secure"];

async function readState(): Promise<KafkaClusterInfo | undefined> {
  if (!existsSync(CLI_STATE_FILE)) return undefined;
  return JSON.parse(await readFile(CLI_STATE_FILE, "utf8")) as KafkaClusterInfo;
}

/** The broker this CLI recorded, or undefined after telling `report` that there is none. */
async function recordedState(
  missing: string,
  report: (line: string) => void = console.log,
): Promise<KafkaClusterInfo | undefined> {
  const state = await readState();
  if (!state) report(missing);
  return state;
}

function describe(info: KafkaClusterInfo): string {
  const lines = [`mode:       ${info.mode}`, `bootstrap:  ${info.bootstrap}`];
  if (info.transactionVersion !== undefined) lines.push(`txn ver.:   transaction.version=${info.transactionVersion}`);
  if (info.sslBootstrap) lines.push(`SASL_SSL:   ${info.sslBootstrap}`, `CA file:    ${info.caFile}`);
  if (info.users)
    lines.push(
      `users:      ${Object.values(info.users)
        .map((u) => `${u.username}/${u.password}`)
        .join(", ")} (admin is super-user)`,
    );
  lines.push(
    `cluster id: ${info.clusterId}`,
    `pids:       ${info.nodes.map((n) => n.pid).join(" ")}`,
    `logs:       ${info.logDir}`,
  );
  return lines.join("\n");
}

/**
 * The shell line that points examples and tests at the broker: the harness picks free ports,
 * so the address changes from one start to the next, and the README's quickstart and
 * `docs/` examples read it from `KAFKA_BOOTSTRAP`.
 */
function envLine(info: KafkaClusterInfo): string {
  return `export KAFKA_BOOTSTRAP=${info.bootstrap}`;
}

async function stop(): Promise<void> {
  const state = await recordedState("no broker started by this CLI is recorded");
  if (!state) return;
  await stopPids(state.nodes.map((n) => n.pid));
  await rm(state.dataDir, { recursive: true, force: true });
  await rm(CLI_STATE_FILE, { force: true });
  console.log(`stopped ${state.mode} Kafka (${state.bootstrap})`);
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "fetch":
      console.log(await ensureKafkaJars((line) => console.log(line)));
      return 0;
    case "start": {
      const modeAt = rest.indexOf("--mode");
      const mode = (modeAt >= 0 ? rest[modeAt + 1] : "single") as KafkaMode;
      if (!MODES.includes(mode)) {
        console.error(`--mode must be one of ${MODES.join(", ")}; got ${String(mode)}`);
        return 2;
      }
      const tvAt = rest.indexOf("--transaction-version");
      const tv = tvAt >= 0 ? Number(rest[tvAt + 1]) : undefined;
      if (tv !== undefined && tv !== 0 && tv !== 1 && tv !== 2) {
        console.error(`--transaction-version must be 0, 1 or 2; got ${String(rest[tvAt + 1])}`);
        return 2;
      }
      if (await readState()) await stop();
      const { stop: _stop, ...info } = await startKafka({
        mode,
        detached: true,
        log: (line) => console.log(line),
        ...(tv !== undefined ? { transactionVersion: tv } : {}),
      });
      await writeFile(CLI_STATE_FILE, JSON.stringify(info, null, 2));
      console.log(describe(info));
      console.log(`\n${envLine(info)}   # or: eval "$(npm run --silent kafka -- env)"`);
      return 0;
    }
    case "env": {
      const state = await recordedState(
        "no broker started by this CLI is recorded (npm run kafka -- start)",
        console.error,
      );
      if (!state) return 1;
      console.log(envLine(state));
      return 0;
    }
    case "stop":
      await stop();
      return 0;
    case "status": {
      const state = await recordedState("not running (nothing recorded)");
      if (!state) return 1;
      console.log(describe(state));
      const first = state.nodes[0];
      try {
        if (!first) throw new Error("no nodes recorded");
        const apis = await probeApiVersions({ host: "127.0.0.1", port: first.port }, 3000);
        console.log(`answering:  yes (${apis.length} API keys)`);
        return 0;
      } catch (err) {
        console.log(`answering:  no (${(err as Error).message})`);
        return 1;
      }
    }
    default:
      console.error(
        "usage: npm run kafka -- start [--mode single|cluster|secure] [--transaction-version 0|1|2] | stop | status | env | fetch",
      );
      return 2;
  }
}

process.exitCode = await main(process.argv.slice(2));
