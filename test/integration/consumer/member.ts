/**
 * Test helper: one group member with its own client (as a separate process would have),
 * consuming in the background at a throttled pace and recording what it was handed and
 * which rebalance callbacks it saw.
 */
import { Client } from "../../../src/client.js";
import type { Consumer } from "../../../src/consumer/consumer.js";
import type { ConsumerOptions } from "../../../src/consumer/options.js";
import type { TopicPartition } from "../../../src/consumer/partition.js";

/** Pace of the background loop: a pause of `sleepMs` every `every` records. */
export interface Throttle {
  every: number;
  sleepMs: number;
}

/** A background group member; see the module comment. */
export class Member {
  readonly name: string;
  readonly client: Client;
  readonly consumer: Consumer;
  /** Partition and offset of every record handed out, in order. */
  readonly seen: { partition: number; offset: bigint }[] = [];
  readonly assigned: TopicPartition[][] = [];
  readonly revoked: TopicPartition[][] = [];
  readonly lost: TopicPartition[][] = [];
  error: unknown;
  #loop: Promise<void> | undefined;

  constructor(bootstrap: string, name: string, options: ConsumerOptions) {
    this.name = name;
    this.client = new Client({ bootstrap, clientId: name });
    this.consumer = this.client.consumer({ autoOffsetReset: "earliest", ...options });
  }

  /** Subscribes and starts the background loop. */
  start(topics: string | string[] | RegExp, throttle: Throttle = { every: 50, sleepMs: 5 }): this {
    this.consumer.subscribe(topics, {
      assigned: async (ps) => {
        this.assigned.push(ps);
      },
      revoked: async (ps) => {
        // Async on purpose: the group waits for it.
        await new Promise((r) => setTimeout(r, 10));
        this.revoked.push(ps);
      },
      lost: (ps) => {
        this.lost.push(ps);
      },
    });
    this.#loop = (async () => {
      try {
        for await (const m of this.consumer) {
          this.seen.push({ partition: m.partition, offset: m.offset });
          if (this.seen.length % throttle.every === 0) await new Promise((r) => setTimeout(r, throttle.sleepMs));
        }
      } catch (err) {
        this.error = err;
      }
    })();
    return this;
  }

  /** Partitions owned now. */
  get partitions(): number[] {
    return this.consumer
      .assignment()
      .map((tp) => tp.partition)
      .sort((a, b) => a - b);
  }

  /** Closes the consumer (commit, revoke, leave), then the client. */
  async close(): Promise<void> {
    await this.consumer.close();
    await this.#loop;
    this.client.close();
  }

  /** A crash: connections drop, nothing is committed or left. */
  async kill(): Promise<void> {
    this.client.close();
    await this.consumer.close().catch(() => {});
    await this.#loop;
  }
}

/** Polls `condition` every 50 ms until it holds or `timeoutMs` passes (then throws, naming `what`). */
export async function until(what: string, condition: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Every record handed out by `members`, as "partition:offset" → times handed out. */
export function handedOut(members: readonly Member[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of members) {
    for (const s of m.seen) {
      const key = `${s.partition}:${s.offset}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return counts;
}

/** True when, within each member's lifetime, each partition's offsets strictly increase. */
export function ordered(member: Member): boolean {
  const last = new Map<number, bigint>();
  for (const s of member.seen) {
    const prev = last.get(s.partition);
    if (prev !== undefined && s.offset <= prev) return false;
    last.set(s.partition, s.offset);
  }
  return true;
}
