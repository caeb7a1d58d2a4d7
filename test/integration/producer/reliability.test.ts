/**
 * Regression tests for what users hit first with the producer and the client under it
 * (the reliability issue): each test is named after what broke.
 */
import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { Client } from "../../../src/client.js";
import { TimeoutError } from "../../../src/network/errors.js";
import { ClosedError, InvalidArgumentError } from "../../../src/protocol/errors.js";
import { readBack } from "../../helpers/read-back.js";
import { createTopic } from "../../helpers/topics.js";

/** Sockets this process holds open (TCP handles), to prove a closed client opens none. */
function tcpHandles(): number {
  return process.getActiveResourcesInfo().filter((r) => r === "TCPSocketWrap" || r === "TCPWRAP").length;
}

describe("producer and client reliability (real broker)", () => {
  const bootstrap = inject("kafkaBootstrap");
  let client: Client;
  beforeAll(() => {
    client = new Client({ bootstrap });
  });
  afterAll(() => client.close());

  for (const lingerMs of [0, 5]) {
    it(`close() settles after 1,000 fire-and-forget sends (lingerMs ${lingerMs}; it used to hang forever)`, async () => {
      const topic = `ff-close-${randomUUID()}`;
      await createTopic(client, topic, 3);
      const producer = client.producer({ lingerMs });
      let acked = 0;
      let failed = 0;
      for (let i = 0; i < 1000; i++) {
        producer.send({ topic, value: String(i) }, (err) => {
          if (err) failed++;
          else acked++;
        });
      }
      await producer.close();
      expect({ acked, failed }).toEqual({ acked: 1000, failed: 0 });
      expect(producer.stats()).toMatchObject({ bufferedBytes: 0, inFlightBatches: 0, readyBatches: 0 });
      const back = await readBack(client, topic);
      expect(new Set(back.map((r) => r.value?.toString())).size).toBe(1000);
    });
  }

  it("flush() settles after one acknowledged fire-and-forget send (it used to hang)", async () => {
    const topic = `ff-flush-${randomUUID()}`;
    await createTopic(client, topic, 1);
    const producer = client.producer();
    const offsets: bigint[] = [];
    producer.send({ topic, value: "one" }, (err, md) => {
      if (!err && md) offsets.push(md.offset);
    });
    await producer.flush();
    expect(offsets).toEqual([0n]);
    await producer.close();
  });

  it("a closed Client fails admin and producer calls at once with ClosedError and opens no socket (it used to reconnect)", async () => {
    const own = new Client({ bootstrap });
    const admin = own.admin();
    await admin.listTopics();
    own.close();
    const before = tcpHandles();
    await expect(admin.listTopics()).rejects.toBeInstanceOf(ClosedError);
    await expect(own.metadata(["x"])).rejects.toMatchObject({ code: "SAMSA_ERR_CLOSED" });
    await expect(own.producer().send({ topic: "x", value: "y" })).rejects.toBeInstanceOf(ClosedError);
    expect(own.closed).toBe(true);
    expect(tcpHandles()).toBeLessThanOrEqual(before);
  });

  it("new Client({}) throws InvalidArgumentError naming bootstrap (it threw TypeError: bootstrap is not iterable)", () => {
    expect(() => new Client({} as never)).toThrow(InvalidArgumentError);
    try {
      new Client({} as never);
    } catch (err) {
      expect((err as InvalidArgumentError).argument).toBe("bootstrap");
    }
    expect(() => new Client({ bootstrap: 9092 } as never)).toThrow(/bootstrap: must be a string or an array/);
  });

  it("unknown options are a typed error naming the option (compresion was ignored)", () => {
    expect(() => client.producer({ compresion: "zstd" } as never)).toThrow(
      expect.objectContaining({ code: "SAMSA_ERR_INVALID_ARGUMENT", argument: "compresion" }),
    );
    expect(() => client.producer({ compresion: "zstd" } as never)).toThrow(/did you mean compression\?/);
    expect(() => client.producer({ lingerMS: 5 } as never)).toThrow(expect.objectContaining({ argument: "lingerMS" }));
    expect(() => new Client({ bootstrap, requestTimeotMs: 5 } as never)).toThrow(/did you mean requestTimeoutMs\?/);
  });

  describe("with no broker listening", () => {
    let server: Server;
    let port: number;
    beforeAll(async () => {
      // Take a free port, then close it: connecting there is refused.
      server = createServer();
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      port = (server.address() as { port: number }).port;
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    it("a send fails after maxBlockMs with a TimeoutError whose message and cause name ECONNREFUSED (it said only 'not present in metadata')", async () => {
      const own = new Client({ bootstrap: `127.0.0.1:${port}`, requestTimeoutMs: 1000 });
      const producer = own.producer({ maxBlockMs: 2500, requestTimeoutMs: 1000, deliveryTimeoutMs: 1005, lingerMs: 0 });
      const started = Date.now();
      const err = await producer.send({ topic: "nowhere", value: "v" }).then(
        () => undefined,
        (e: Error) => e,
      );
      const elapsed = Date.now() - started;
      expect(err).toBeInstanceOf(TimeoutError);
      expect(err?.message).toMatch(/not present in metadata after maxBlockMs \(2500 ms\).*ECONNREFUSED/);
      let cause: unknown = err?.cause;
      const chain: string[] = [];
      while (cause instanceof Error) {
        chain.push(cause.message);
        cause = cause.cause;
      }
      expect(chain.join(" | ")).toMatch(/ECONNREFUSED/);
      expect(elapsed).toBeGreaterThanOrEqual(2400);
      await producer.close();
      own.close();
    });
  });
});
