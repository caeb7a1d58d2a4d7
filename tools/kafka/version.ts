/**
 * The one place samsa pins Apache Kafka. The broker harness, the code generator (which reads
 * the message specs inside `kafka-clients`) and the Java conformance oracle all use it.
 * Every Kafka artifact must share this version: mixing them fails at run time.
 */
export const KAFKA_VERSION = "4.3.1";

/** The Scala build of the broker jar (`kafka_2.13`). */
export const SCALA_BINARY_VERSION = "2.13";
