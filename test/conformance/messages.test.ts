/**
 * The generated codec, byte for byte against Kafka's own serializers: every API key, every
 * version from the KIP-896 floor to the newest (unstable included), both directions, plus the
 * headers and data specs. See check.ts for what one test compares.
 *
 * Reproduce one failure: the mismatch line names the spec, version and seed;
 * `randomInstance(model, version, seed)` rebuilds the instance. Explore other instances with
 * SAMSA_CONFORMANCE_SEED=<n>.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type CheckOptions, checkTarget } from "./check.js";
import { Oracle } from "./oracle.js";
import { APIS, apiTargets, dataTargets, specsByName, type Target } from "./targets.js";

const OPTIONS: CheckOptions = {
  instances: 20,
  javaDecodes: 3,
  sizeSweeps: 3,
  baseSeed: Number(process.env.SAMSA_CONFORMANCE_SEED ?? 1),
};

let oracle: Oracle;
const totals = { targets: 0, versions: 0, instances: 0, absentThrown: 0, absentDropped: 0 };

beforeAll(async () => {
  oracle = await Oracle.start();
});

afterAll(async () => {
  await oracle?.close();
  console.log(
    `conformance: ${totals.targets} codecs, ${totals.versions} codec versions, ${totals.instances} random instances, ` +
      `absent-field cases: ${totals.absentThrown} thrown by both, ${totals.absentDropped} dropped by both (base seed ${OPTIONS.baseSeed})`,
  );
});

async function run(target: Target): Promise<void> {
  const result = await checkTarget(oracle, target, OPTIONS);
  totals.targets++;
  totals.versions += target.max - target.min + 1;
  totals.instances += result.instances;
  totals.absentThrown += result.absentThrown;
  totals.absentDropped += result.absentDropped;
  expect(result.instances).toBe((target.max - target.min + 1) * OPTIONS.instances);
  expect(result.mismatches).toEqual([]);
}

for (const api of APIS) {
  describe(`${api.name} (key ${api.apiKey}) v${api.minVersion}-${api.maxCodecVersion}`, () => {
    test("request", async () => run(apiTargets(api, await specsByName()).request));
    test("response", async () => run(apiTargets(api, await specsByName()).response));
  });
}

describe("headers and data specs", () => {
  // Collected before the tests run so each spec gets its own test.
  const names = [
    "ConsumerProtocolAssignment",
    "ConsumerProtocolSubscription",
    "ControlRecordTypeSchema",
    "DefaultPrincipalData",
    "EndTxnMarker",
    "KRaftVersionRecord",
    "LeaderChangeMessage",
    "RequestHeader",
    "ResponseHeader",
    "SnapshotFooterRecord",
    "SnapshotHeaderRecord",
    "VotersRecord",
  ];
  for (const name of names) {
    test(name, async () => {
      const target = dataTargets(await specsByName()).find((t) => t.name === name);
      expect(target, `a generated codec for ${name}`).toBeDefined();
      await run(target as Target);
    });
  }

  test("every header and data spec of the jar is covered above", async () => {
    expect(dataTargets(await specsByName()).map((t) => t.name)).toEqual(names);
  });
});
