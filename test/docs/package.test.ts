/**
 * The package as a user gets it: `npm pack` (which builds dist/ through `prepack`), the
 * tarball installed into an empty project, then `require("samsa")` from CommonJS and
 * `import … from "samsa"` from an ES module, each talking to the broker. samsa ships ES
 * modules only; CommonJS loads them through Node's require(esm) (Node 20.19+), which works
 * because no module in dist/ uses top-level await.
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { REPO_ROOT } from "./examples.js";

const run = promisify(execFile);
const npm = process.platform === "win32" ? "npm.cmd" : "npm";

/** What `npm pack --json` reports of one tarball. */
interface PackReport {
  filename: string;
  files: { path: string }[];
}

const COMMONJS = `
const samsa = require("samsa");
const protocol = require("samsa/protocol");
const { Client, SamsaError, InvalidArgumentError, KafkaError, ClosedError, isRetriable } = samsa;
let invalid;
try {
  new Client({ bootstrap: "" });
} catch (err) {
  invalid = { isSamsaError: err instanceof SamsaError, isInvalidArgument: err instanceof InvalidArgumentError, code: err.code };
}
(async () => {
  const esm = await import("samsa");
  const client = new Client({ bootstrap: process.env.KAFKA_BOOTSTRAP });
  const cluster = await client.admin().describeCluster();
  client.close();
  console.log(JSON.stringify({
    exports: [Client, SamsaError, InvalidArgumentError, KafkaError, ClosedError, isRetriable].map((x) => typeof x),
    invalid,
    sameClassAsImport: esm.Client === Client,
    protocolApiKeyProduce: protocol.ApiKey.Produce,
    answered: cluster.brokers.length > 0,
  }));
})().catch((err) => { console.error(err); process.exitCode = 1; });
`;

const ESM = `
import { Client, KafkaError, SamsaError } from "samsa";
import { ApiKey } from "samsa/protocol";

const client = new Client({ bootstrap: process.env.KAFKA_BOOTSTRAP });
const producer = client.producer({ compression: "zstd" }); // the optional codec, from the installed package
const report = await producer.send({ topic: process.env.TOPIC, key: "k", value: "from the tarball" });
await producer.close();
client.close();
console.log(JSON.stringify({
  exports: [Client, KafkaError, SamsaError].map((x) => typeof x),
  apiKeyFetch: ApiKey.Fetch,
  topic: report.topic,
  offset: String(report.offset),
}));
`;

describe("the packed tarball", () => {
  let work: string;
  let pack: PackReport;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "samsa-pack-"));
    // `prepack` runs `npm run build`, so dist/ is what src/ is now.
    const { stdout } = await run(npm, ["pack", "--json", "--pack-destination", work], {
      cwd: REPO_ROOT,
      maxBuffer: 64 << 20,
    });
    const reports = JSON.parse(stdout.slice(stdout.indexOf("["))) as PackReport[];
    if (reports.length !== 1 || !reports[0]) throw new Error(`npm pack reported ${reports.length} tarballs`);
    pack = reports[0];
    const app = join(work, "app");
    await mkdir(app);
    await writeFile(join(app, "package.json"), JSON.stringify({ name: "samsa-pack-check", private: true }));
    await run(npm, ["install", "--no-audit", "--no-fund", "--prefer-offline", join(work, pack.filename)], {
      cwd: app,
    });
    await writeFile(join(app, "check.cjs"), COMMONJS);
    await writeFile(join(app, "check.mjs"), ESM);
  }, 120_000);

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("holds dist/, LICENSE, README.md and package.json, and nothing else", async () => {
    const paths = pack.files.map((f) => f.path);
    expect(paths).toEqual(expect.arrayContaining(["LICENSE", "README.md", "package.json"]));
    expect(paths).toEqual(expect.arrayContaining(["dist/index.js", "dist/index.d.ts", "dist/protocol/index.js"]));
    expect(
      paths.filter((p) => !p.startsWith("dist/") && !["LICENSE", "README.md", "package.json"].includes(p)),
    ).toEqual([]);
    const license = await readFile(join(REPO_ROOT, "LICENSE"), "utf8");
    expect(license).toContain("Apache License\n                           Version 2.0, January 2004");
    expect(license).toContain("END OF TERMS AND CONDITIONS");
  });

  it("installs, and require('samsa') works from CommonJS", async () => {
    const app = join(work, "app");
    expect(await readdir(join(app, "node_modules", "samsa", "dist"))).toContain("index.js");
    const { stdout } = await run(process.execPath, ["check.cjs"], {
      cwd: app,
      env: { ...process.env, KAFKA_BOOTSTRAP: inject("kafkaBootstrap") },
    });
    expect(JSON.parse(stdout)).toEqual({
      exports: ["function", "function", "function", "function", "function", "function"],
      invalid: { isSamsaError: true, isInvalidArgument: true, code: "SAMSA_ERR_INVALID_ARGUMENT" },
      sameClassAsImport: true, // require and import load the same module: no dual-package hazard
      protocolApiKeyProduce: 0,
      answered: true,
    });
  });

  it("import { Client } from 'samsa' works from an ES module, with the optional zstd codec", async () => {
    const topic = `pack-check-${Date.now().toString(36)}`;
    const { stdout } = await run(process.execPath, ["check.mjs"], {
      cwd: join(work, "app"),
      env: { ...process.env, KAFKA_BOOTSTRAP: inject("kafkaBootstrap"), TOPIC: topic },
    });
    expect(JSON.parse(stdout)).toEqual({
      exports: ["function", "function", "function"],
      apiKeyFetch: 1,
      topic,
      offset: "0",
    });
  });
});
