/**
 * The `Client` users import: the network layer's Client (connections, metadata,
 * coordinators) plus factories for the clients built on it, which all share its connections.
 */
import { Admin, type AdminOptions } from "./admin/index.js";
import { Consumer } from "./consumer/consumer.js";
import type { ConsumerOptions } from "./consumer/options.js";
import { Cluster } from "./network/cluster.js";
import type { ProducerOptions } from "./producer/options.js";
import { Producer } from "./producer/producer.js";
import type { RecordData } from "./protocol/records/index.js";

/** A connection to a Kafka cluster, shared by the producers, consumers and admin clients made from it. */
export class Client extends Cluster {
  /** A producer that sends through this client's connections. */
  producer<K = RecordData, V = RecordData>(options?: ProducerOptions<K, V>): Producer<K, V> {
    return new Producer<K, V>(this, options);
  }

  /** A consumer that fetches through this client's connections (`subscribe` needs a `groupId`). */
  consumer<K = Buffer | null, V = Buffer | null>(options?: ConsumerOptions<K, V>): Consumer<K, V> {
    return new Consumer<K, V>(this, options);
  }

  /** An admin client that sends through this client's connections. */
  admin(options?: AdminOptions): Admin {
    return new Admin(this, options);
  }
}
