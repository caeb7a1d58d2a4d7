import { afterEach, describe, expect, inject, it } from "vitest";
import { Broker, type BrokerOptions } from "../../../src/network/broker.js";
import { parseBootstrap } from "../../../src/network/cluster.js";
import { AbortedError, ConnectionError } from "../../../src/network/errors.js";

const OPTIONS: BrokerOptions = {
  clientId: "broker-test",
  connectTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  reconnectBackoff: { floorMs: 50, ceilingMs: 1000 },
  connectionsMaxIdleMs: 540_000,
};

describe("Broker connections (real broker)", () => {
  const [address] = parseBootstrap(inject("kafkaBootstrap"));
  let broker: Broker | undefined;
  afterEach(() => broker?.close());

  it("one caller's abort does not fail the others sharing the connect attempt (it failed them all)", async () => {
    broker = new Broker(
      { nodeId: 1, host: address?.host as string, port: address?.port as number, rack: null },
      OPTIONS,
    );
    const first = new AbortController();
    const a = broker.connection("control", first.signal);
    const b = broker.connection("control");
    const c = broker.connection("control", new AbortController().signal);
    first.abort();
    await expect(a).rejects.toBeInstanceOf(AbortedError);
    const [cb, cc] = await Promise.all([b, c]);
    expect(cb.ready).toBe(true);
    expect(cc).toBe(cb);
  });

  it("close() while a connection is opening closes that connection too (it was orphaned, keeping the process alive)", async () => {
    broker = new Broker(
      { nodeId: 1, host: address?.host as string, port: address?.port as number, rack: null },
      OPTIONS,
    );
    const opening = broker.connection("produce");
    broker.close();
    const err = await opening.then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(ConnectionError);
    expect(broker.openConnections).toBe(0);
    await expect(broker.connection("produce")).rejects.toBeInstanceOf(ConnectionError);
  });
});
