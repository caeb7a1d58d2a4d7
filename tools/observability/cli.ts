/**
 * `npm run observability -- <command>`: the Zipkin and Prometheus servers of the tests, for
 * CI's cache warm-up and for people who want to look at samsa's spans and metrics.
 *
 *   fetch                                  fetch the Zipkin jar and install Prometheus (CI runs it)
 *   start-zipkin                           run Zipkin on 127.0.0.1 until Ctrl-C
 *   start-prometheus --target HOST:PORT [--target HOST:PORT ...] [--scrape-interval-ms N]
 *                                          run Prometheus scraping the targets until Ctrl-C
 */
import { ensurePrometheus, startPrometheus } from "./prometheus.js";
import { ensureZipkinJar, startZipkin } from "./zipkin.js";

const USAGE =
  "usage: npm run observability -- fetch | start-zipkin | start-prometheus --target 127.0.0.1:PORT [--target ...] [--scrape-interval-ms N]";

const say = (line: string) => console.log(line);

/** Values of every `--name VALUE` in `args`. */
function values(args: string[], name: string): string[] {
  return args.flatMap((arg, i) => (arg === name && args[i + 1] !== undefined ? [args[i + 1] as string] : []));
}

/**
 * Keeps a started server in the foreground: Ctrl-C (or SIGTERM) stops it; a server that dies
 * by itself ends the CLI with status 1.
 */
async function foreground(
  name: string,
  server: { pid: number; logFile: string; exited: Promise<number | string>; stop(): Promise<void> },
): Promise<number> {
  say(`${name} pid ${server.pid}; log ${server.logFile}\nCtrl-C stops it`);
  return new Promise((resolve) => {
    let done = false;
    const finish = async (code: number, why: string) => {
      if (done) return;
      done = true;
      say(why);
      await server.stop();
      resolve(code);
    };
    process.once("SIGINT", () => void finish(0, `stopping ${name}`));
    process.once("SIGTERM", () => void finish(0, `stopping ${name}`));
    void server.exited.then((code) => finish(1, `${name} exited by itself (${code}); see ${server.logFile}`));
  });
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "fetch":
      say(await ensureZipkinJar(say));
      say(await ensurePrometheus(say));
      return 0;
    case "start-zipkin": {
      const zipkin = await startZipkin({ log: say });
      say(`Zipkin UI and API: ${zipkin.url}\nspans endpoint:    ${zipkin.spansUrl}`);
      return foreground("Zipkin", zipkin);
    }
    case "start-prometheus": {
      const targets = values(rest, "--target");
      const interval = values(rest, "--scrape-interval-ms")[0];
      if (targets.length === 0) {
        console.error(`start-prometheus needs at least one --target\n${USAGE}`);
        return 2;
      }
      const prometheus = await startPrometheus({
        targets,
        ...(interval !== undefined ? { scrapeIntervalMs: Number(interval) } : {}),
        log: say,
      });
      say(`Prometheus: ${prometheus.url}`);
      return foreground("Prometheus", prometheus);
    }
    default:
      console.error(USAGE);
      return 2;
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  console.error((err as Error).message);
  process.exitCode = 1;
}
