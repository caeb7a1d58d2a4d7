/**
 * Regression: one delivery timeout wedged an idempotent partition for good. Batches whose CRC
 * was corrupted in flight got CORRUPT_MESSAGE (nothing written) until their delivery timeout;
 * the next batch then carried a sequence past the broker's expectation, and every later send
 * to that partition hit OUT_OF_ORDER_SEQUENCE_NUMBER forever. Now a lost sequenced batch
 * bumps the epoch (KIP-360) and sending resumes.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { Client } from "../../../src/client.js";
import { TimeoutError } from "../../../src/network/errors.js";
import { FaultProxy } from "../../../tools/fault/proxy.js";
import { readBack } from "../../helpers/read-back.js";
import { createTopic } from "../../helpers/topics.js";

describe("idempotent producer after a delivery timeout (real broker behind a fault proxy)", () => {
  const bootstrap = inject("kafkaBootstrap");
  let proxy: FaultProxy;
  let client: Client;
  beforeAll(async () => {
    proxy = await FaultProxy.start({ upstream: bootstrap });
    client = new Client({ bootstrap: proxy.bootstrap });
  });
  afterAll(async () => {
    client?.close();
    await proxy?.close();
  });

  it("sends again after batches timed out on CORRUPT_MESSAGE (it retried OUT_OF_ORDER_SEQUENCE_NUMBER forever)", async () => {
    const topic = `seq-gap-${randomUUID()}`;
    await createTopic(client, topic, 1);
    const producer = client.producer({ deliveryTimeoutMs: 3_000, requestTimeoutMs: 2_000, lingerMs: 5 });
    const first = await producer.send(Array.from({ length: 1000 }, (_, i) => ({ topic, value: `a${i}` })));
    expect(first.at(-1)?.offset).toBe(999n);

    proxy.corruptProduce(5_000);
    const doomed = await Promise.allSettled(
      Array.from({ length: 3 }, (_, k) =>
        producer.send(Array.from({ length: 1000 }, (_, i) => ({ topic, value: `lost-${k}-${i}` }))),
      ),
    );
    expect(proxy.stats.corruptedBatches).toBeGreaterThan(0);
    for (const r of doomed) {
      expect(r.status).toBe("rejected");
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(TimeoutError);
      expect(String((r as PromiseRejectedResult).reason.message)).toMatch(/CORRUPT_MESSAGE/);
    }
    await new Promise((r) => setTimeout(r, Math.max(0, 5_100 - 3_000)));

    // The link is clean again: new sends go through, without a retry storm.
    const retriesBefore = producer.stats().retries;
    const after = await producer.send(Array.from({ length: 1000 }, (_, i) => ({ topic, value: `b${i}` })));
    expect(after).toHaveLength(1000);
    expect(producer.stats().retries - retriesBefore).toBeLessThan(5);
    await producer.close();

    const values = (await readBack(client, topic)).map((r) => r.value?.toString() ?? "");
    expect(values.filter((v) => v.startsWith("a"))).toHaveLength(1000);
    expect(values.filter((v) => v.startsWith("b"))).toHaveLength(1000);
    expect(values.filter((v) => v.startsWith("lost"))).toHaveLength(0);
  });
});
