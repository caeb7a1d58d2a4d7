/**
 * What `import … from "samsa"` resolves to inside a docs example run by examples.test.ts: the
 * library's source, unchanged, plus the few helpers the example prelude uses. The one addition
 * to the library's behaviour: a consumer still open `DOCS_STOP_CONSUMERS_MS` after it was made
 * gets `close()`d, as another part of an application would, so a `for await` loop over it ends
 * (docs/consumer.md: "the loop runs until consumer.close() (from anywhere)").
 */
import { type Admin, Client, type Consumer, type Producer } from "../../src/index.js";
import { DONE_MARKER } from "./marker.js";

export * from "../../src/index.js";

const stopAfterMs = Number(process.env.DOCS_STOP_CONSUMERS_MS ?? 12_000);
const consumersOf = new Map<Client, Consumer<unknown, unknown>[]>();

const makeConsumer = Client.prototype.consumer;
Client.prototype.consumer = function consumer(this: Client, ...args: Parameters<typeof makeConsumer>) {
  const made = makeConsumer.apply(this, args) as Consumer<unknown, unknown>;
  consumersOf.set(this, [...(consumersOf.get(this) ?? []), made]);
  setTimeout(() => {
    console.error(`[docs] closing a consumer still open after ${stopAfterMs} ms, so its loop ends`);
    made.close().catch((err: unknown) => console.error("[docs] consumer.close() failed:", err));
  }, stopAfterMs).unref();
  return made as never;
} as typeof makeConsumer;

/** What the prelude made for an example; `end` closes it. */
interface Prelude {
  client: Client;
  producer?: Producer;
  admin?: Admin;
}

let prelude: Prelude | undefined;

/** The prelude's client (made once). */
export function preludeClient(bootstrap: string): Client {
  prelude ??= { client: new Client({ bootstrap, clientId: "docs-example" }) };
  return prelude.client;
}

/** The prelude's producer, closed by `end`. */
export function preludeProducer(bootstrap: string): Producer {
  const client = preludeClient(bootstrap);
  (prelude as Prelude).producer ??= client.producer();
  return (prelude as Prelude).producer as Producer;
}

/** The prelude's admin client (it holds no connections of its own). */
export function preludeAdmin(bootstrap: string): Admin {
  const client = preludeClient(bootstrap);
  (prelude as Prelude).admin ??= client.admin();
  return (prelude as Prelude).admin as Admin;
}

/**
 * A topic made for this example: a fresh name, `partitions` partitions, `records` records
 * (`key-i` / `value-i`, spread over the partitions by key) already acknowledged.
 */
export async function preludeTopic(bootstrap: string, partitions: number, records: number): Promise<string> {
  const client = preludeClient(bootstrap);
  const name = `docs-example-${process.pid}-${Date.now().toString(36)}`;
  await preludeAdmin(bootstrap).createTopics([{ name, numPartitions: partitions }]);
  const producer = client.producer({ lingerMs: 0 });
  await producer.send(
    Array.from({ length: records }, (_, i) => ({ topic: name, key: `key-${i}`, value: `value-${i}` })),
  );
  await producer.close();
  return name;
}

/**
 * Runs after the example's last line: closes what the prelude made (its producer, the
 * consumers made from its client, the client), then prints DONE_MARKER. The test then expects
 * the process to exit by itself; if it does not, the resources still open are printed.
 */
export async function end(): Promise<void> {
  if (prelude) {
    await prelude.producer?.close();
    await Promise.all((consumersOf.get(prelude.client) ?? []).map((c) => c.close()));
    prelude.client.close();
  }
  process.stdout.write(`\n${DONE_MARKER}\n`);
  setTimeout(() => {
    console.error(`[docs] still running after the example ended; open: ${process.getActiveResourcesInfo().join(", ")}`);
  }, 2_000).unref();
}
