/**
 * Hostile bytes into every response decoder (and the header and data decoders, which read
 * what other group members wrote): truncated frames, flipped bytes, lengths and counts
 * replaced by huge or negative values, garbage appended, inserted or deleted. Every decode
 * must either succeed or throw ProtocolError: never another error (a RangeError from an
 * allocation sized by a hostile length, a TypeError from a missing field) and never a hang.
 *
 * Frames start from valid encodings of random instances made from the specs, which is why
 * this lives with the conformance tests: the specs come from the Kafka jar (no JVM runs).
 */
import { afterAll, describe, expect, test } from "vitest";
import { ProtocolError } from "../../src/protocol/errors.js";
import { Reader } from "../../src/protocol/primitives/reader.js";
import { encodeRecordingLengths, mutateFrame, Rng, truncationPoints } from "../fuzz-helpers.js";
import { randomInstance, seedOf } from "./random.js";
import { APIS, apiTargets, dataTargets, specsByName, type Target } from "./targets.js";

/** Valid instances per version that mutations start from. */
const BASES = 8;
/** Random mutations per base instance. */
const MUTATIONS = 80;
/** Truncation points swept over the first base instance of each version. */
const TRUNCATIONS = 64;
/** A frame of a few kilobytes taking this long to decode means a loop gone wrong (loose: a loaded box pauses). */
const SLOW_FRAME_MS = 1000;
const BASE_SEED = Number(process.env.SAMSA_FUZZ_SEED ?? 1);

const totals = { frames: 0, decoded: 0, protocolErrors: 0, ms: 0, slowestMs: 0 };

afterAll(() => {
  console.log(
    `fuzz: ${totals.frames} frames in ${Math.round(totals.ms)} ms of decoding (${totals.decoded} decoded, ` +
      `${totals.protocolErrors} ProtocolError; slowest frame ${totals.slowestMs.toFixed(2)} ms; base seed ${BASE_SEED})`,
  );
});

/** Decodes one frame; returns a problem description, or null when the outcome is allowed. */
function decodeOne(target: Target, version: number, bytes: Buffer): string | null {
  const started = performance.now();
  let problem: string | null = null;
  try {
    target.decode(new Reader(bytes), version);
    totals.decoded++;
  } catch (err) {
    if (err instanceof ProtocolError) totals.protocolErrors++;
    else problem = `threw ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`;
  }
  const ms = performance.now() - started;
  totals.frames++;
  totals.ms += ms;
  if (ms > totals.slowestMs) totals.slowestMs = ms;
  if (ms > SLOW_FRAME_MS && problem === null) problem = `took ${ms.toFixed(0)} ms`;
  return problem;
}

function fuzzTarget(target: Target): { frames: number; problems: string[] } {
  const problems: string[] = [];
  let frames = 0;
  const report = (where: string, problem: string | null): void => {
    frames++;
    // The first few per target are enough to see the pattern; the count says how many.
    if (problem !== null && problems.length < 20) problems.push(`${where}: ${problem}`);
  };
  for (let v = target.min; v <= target.max; v++) {
    for (let i = 0; i < BASES; i++) {
      const seed = seedOf(BASE_SEED, "fuzz", target.name, v, i);
      // A smaller budget than the conformance test: many small frames find more than a few big ones.
      const instance = randomInstance(target.model, v, seed, { budget: 200 });
      const { frame, lengths } = encodeRecordingLengths((w) => target.encode(w, instance, v));
      const rng = new Rng(seedOf(seed, "mutations"));
      const where = `${target.name} v${v} seed ${seed}`;
      if (i === 0) {
        for (const at of truncationPoints(rng, frame, lengths, TRUNCATIONS)) {
          report(`${where} truncated at ${at} of ${frame.length}`, decodeOne(target, v, frame.subarray(0, at)));
        }
      }
      for (let m = 0; m < MUTATIONS; m++) {
        const mutation = mutateFrame(rng, frame, lengths);
        report(`${where} mutation ${m} (${mutation.detail})`, decodeOne(target, v, mutation.bytes));
      }
    }
  }
  return { frames, problems };
}

for (const api of APIS) {
  test(`${api.name} response decoder (key ${api.apiKey}, v${api.minVersion}-${api.maxCodecVersion})`, async () => {
    const { frames, problems } = fuzzTarget(apiTargets(api, await specsByName()).response);
    expect(problems).toEqual([]);
    expect(frames).toBeGreaterThanOrEqual((api.maxCodecVersion - api.minVersion + 1) * BASES * MUTATIONS);
  });
}

describe("header and data decoders", () => {
  test("every header and data spec", async () => {
    const problems: string[] = [];
    for (const target of dataTargets(await specsByName())) problems.push(...fuzzTarget(target).problems);
    expect(problems).toEqual([]);
  });
});

test("at least 100,000 frames went through the decoders", () => {
  // Runs last (tests in a file run in order): the sum over all of the above.
  expect(totals.frames).toBeGreaterThanOrEqual(100_000);
});
