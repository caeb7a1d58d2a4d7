/**
 * A connection still opening when its owner releases its sockets (a consumer closed right
 * after subscribing, while its fetch socket was being opened ahead of the join) must not end
 * up open and unowned: the open fails with ClosedError and the socket is closed.
 */
import { afterEach, describe, expect, it } from "vitest";
import { Client } from "../../../src/client.js";
import { newConnectionOwner } from "../../../src/network/connection-classes.js";
import { ClosedError } from "../../../src/protocol/errors.js";
import { ApiVersions, Fetch } from "../../../src/protocol/messages/index.js";
import { FakeBroker } from "../../../tools/fault/fake-broker.js";

let broker: FakeBroker | undefined;
let client: Client | undefined;
afterEach(async () => {
  client?.close();
  await broker?.close();
  broker = client = undefined;
});

describe("Broker.releaseOwner while a connection opens", () => {
  it("the opening connection is closed and its caller gets ClosedError; a later open works", async () => {
    broker = await FakeBroker.start();
    client = new Client({ bootstrap: broker.bootstrap });
    await client.metadata([]);
    const owner = newConnectionOwner("consumer");
    const route = { api: Fetch, owner };
    let release: () => void = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    // The owner's socket is accepted but its ApiVersions is answered only once released.
    broker.once(ApiVersions, async (_request, _version, _header, context) => {
      await held;
      return context.fallback() as never;
    });
    const opening = client.connection(broker.nodeId, route);
    const asked = () => broker?.requests.filter((r) => r.apiKey === ApiVersions.apiKey) ?? [];
    await waitFor(() => asked().length === 2);
    const socket = asked()[1]?.connection;
    client.releaseConnections(owner);
    release();
    await expect(opening).rejects.toBeInstanceOf(ClosedError);
    await waitFor(() => socket?.closed === true);
    expect(client.readyConnection(broker.nodeId, route)).toBeUndefined();
    // The slot was dropped, not poisoned: the same owner can open again.
    const again = await client.connection(broker.nodeId, route);
    expect(again.closed).toBe(false);
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(condition()).toBe(true);
}
