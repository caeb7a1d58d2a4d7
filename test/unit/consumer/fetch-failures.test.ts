/**
 * The fetcher against scripted Fetch answers (no broker): failures that never clear must
 * reach the loop as a FetchError naming the partition, not stall it silently.
 */
import { describe, expect, it } from "vitest";
import type { Client } from "../../../src/client.js";
import { Consumer } from "../../../src/consumer/consumer.js";
import { FetchError } from "../../../src/consumer/errors.js";
import { BackgroundErrors } from "../../../src/network/background-errors.js";
import type { ConnectionRoute } from "../../../src/network/connection-classes.js";
import { ErrorCode } from "../../../src/protocol/error-table.js";
import { KafkaError } from "../../../src/protocol/kafka-error.js";
import { Fetch, type FetchResponse } from "../../../src/protocol/messages/index.js";
import { Reader } from "../../../src/protocol/primitives/reader.js";

const TOPIC_ID = "AAAAAAAAAAAAAAAAAAAAAQ";

/** Just enough of a Client for an assigned consumer: one broker leading "t"-0, Fetch answered by `answer`. */
function scriptedClient(answer: (request: unknown) => FetchResponse) {
  const hub = new BackgroundErrors();
  const reported: Error[] = [];
  hub.on("error", (err) => reported.push(err));
  let fetches = 0;
  const routes: ConnectionRoute[] = [];
  const released: string[] = [];
  const metadata = {
    clusterId: "c",
    controllerId: 1,
    brokers: new Map([[1, { nodeId: 1, host: "h", port: 1, rack: null }]]),
    topics: new Map([
      [
        "t",
        {
          name: "t",
          topicId: TOPIC_ID,
          isInternal: false,
          errorCode: 0,
          partitions: [
            { partition: 0, leaderId: 1, leaderEpoch: 0, replicas: [1], isr: [1], offlineReplicas: [], errorCode: 0 },
          ],
        },
      ],
    ]),
    topicNames: new Map([[TOPIC_ID, "t"]]),
    fetchedAt: Date.now(),
  };
  const connection = {
    versionFor: () => 16,
    request: async (_api: unknown, request: unknown) => {
      fetches++;
      await new Promise((r) => setTimeout(r, 1));
      return answer(request);
    },
  };
  const client = Object.assign(hub, {
    requestTimeoutMs: 1_000,
    cachedMetadata: metadata,
    readyConnection: (_node: number, route: ConnectionRoute) => {
      routes.push(route);
      return connection;
    },
    connection: async (_node: number, route: ConnectionRoute) => {
      routes.push(route);
      return connection;
    },
    releaseConnections: (owner: string) => {
      released.push(owner);
    },
    metadata: async () => metadata,
    invalidateLeader: () => {},
    applyLeaderHint: () => {},
    // No real sockets here: nothing for the I/O thread to read.
    prepareFetchThread: () => {},
  });
  return { client: client as unknown as Client, reported, fetches: () => fetches, routes, released };
}

async function firstError(consumer: Consumer): Promise<unknown> {
  try {
    for await (const _ of consumer.messages({ signal: AbortSignal.timeout(20_000) })) {
      // nothing is ever fetched
    }
  } catch (err) {
    return err;
  }
  return undefined;
}

describe("Fetcher, failures that persist", () => {
  it("a Fetch response that does not decode: after bounded retries the loop throws a FetchError naming the partition", async () => {
    const garbage = Buffer.from("not a fetch response at all");
    const { client, reported, fetches } = scriptedClient(() => Fetch.decodeResponse(new Reader(garbage), 16));
    const consumer = new Consumer(client, { retryBackoffMs: 1 });
    consumer.assign([{ topic: "t", partition: 0, offset: 0n }]);
    const err = await firstError(consumer);
    expect(err).toBeInstanceOf(FetchError);
    expect(err).toMatchObject({ code: "SAMSA_ERR_FETCH", topic: "t", partition: 0, attempts: 10 });
    expect((err as FetchError).message).toContain("t-0");
    expect(fetches()).toBeGreaterThanOrEqual(10);
    // Each failed request was also said on the client's `error` event as it happened.
    expect(reported.length).toBeGreaterThanOrEqual(10);
    await consumer.close();
  });

  it("a persistent NOT_LEADER_OR_FOLLOWER: a FetchError whose cause carries the code reaches the error event, the loop keeps running, fetching goes on", async () => {
    const { client, reported, fetches, routes, released } = scriptedClient(() => ({
      throttleTimeMs: 0,
      errorCode: 0,
      sessionId: 0,
      responses: [
        {
          topic: "",
          topicId: TOPIC_ID,
          partitions: [
            {
              partitionIndex: 0,
              errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER,
              highWatermark: -1n,
              lastStableOffset: -1n,
              logStartOffset: -1n,
              divergingEpoch: { epoch: -1, endOffset: -1n },
              currentLeader: { leaderId: -1, leaderEpoch: -1 },
              snapshotId: { endOffset: -1n, epoch: -1 },
              abortedTransactions: null,
              preferredReadReplica: -1,
              records: null,
            },
          ],
        },
      ],
      nodeEndpoints: [],
    }));
    const consumer = new Consumer(client, { retryBackoffMs: 1 });
    consumer.assign([{ topic: "t", partition: 0, offset: 0n }]);
    // A leader moving is something the cluster recovers from by itself: as Java's consumer
    // keeps polling through it, the loop is not ended (regression: a 3-node soak's group
    // members died when a killed broker's partitions failed 10 fetches in a row).
    let thrown: unknown;
    try {
      for await (const _ of consumer.messages({ signal: AbortSignal.timeout(4_000) })) {
        // nothing is ever fetched
      }
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeUndefined();
    const err = reported.find((e) => e instanceof FetchError);
    expect(err).toMatchObject({ topic: "t", partition: 0, attempts: 10 });
    expect((err as FetchError).cause).toBeInstanceOf(KafkaError);
    expect(((err as FetchError).cause as KafkaError).errorCode).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    expect(consumer.stats().fetch.leaderErrors).toBeGreaterThanOrEqual(10);
    // Not stopped: the partition is still fetched (backing off at most 1 s), so it recovers
    // once the leader does; another streak of 10 would be reported again.
    const before = fetches();
    await new Promise((r) => setTimeout(r, 1_500));
    expect(fetches()).toBeGreaterThan(before);
    await consumer.close();
    // Every Fetch named its API and this consumer's owner (its own fetch socket), and close
    // released that owner's sockets.
    expect(routes.length).toBeGreaterThanOrEqual(10);
    const owners = new Set(routes.map((r) => (typeof r === "string" ? r : `${r.api.apiKey}:${r.owner}`)));
    expect(owners.size).toBe(1);
    const [route] = routes;
    expect(route).toMatchObject({ api: Fetch, owner: expect.stringMatching(/^consumer-\d+$/) });
    expect(released).toEqual([(route as { owner: string }).owner]);
  });
});
