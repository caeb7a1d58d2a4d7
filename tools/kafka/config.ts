/**
 * Builds `server.properties` and the log4j2 configuration for one harness node. Only the
 * settings a test cluster needs differ from Kafka's defaults; each says why.
 */

/** The three cluster shapes the harness can start. */
export type KafkaMode = "single" | "cluster" | "secure";

/** Known users of the secure mode. `admin` is the one super-user; `alice` is ordinary. */
export const SECURE_USERS = {
  admin: { username: "admin", password: "admin-secret" },
  alice: { username: "alice", password: "alice-secret" },
} as const;

/** Ports and folders of one node. */
export interface NodePlan {
  nodeId: number;
  /** Client port (PLAINTEXT, or SASL_PLAINTEXT in secure mode). */
  port: number;
  /** SASL_SSL client port; secure mode only. */
  sslPort?: number;
  controllerPort: number;
  dataDir: string;
}

/** Everything `nodeProperties` needs besides the node itself. */
export interface ClusterPlan {
  mode: KafkaMode;
  nodes: NodePlan[];
  /** Secure mode: PEM files written by tls.ts. */
  tls?: { keystorePem: string; caPem: string };
}

function jaas(module: "plain" | "scram" | "oauthbearer", users: boolean): string {
  const { admin, alice } = SECURE_USERS;
  if (module === "scram") return "org.apache.kafka.common.security.scram.ScramLoginModule required;";
  // With no server callback handler configured, Kafka validates OAUTHBEARER tokens with its
  // unsecured validator: unsigned JWTs whose "sub" claim is the principal. Test use only.
  if (module === "oauthbearer") return "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;";
  // The broker logs in as admin when it talks to itself; user_<name> entries are the
  // credentials the listener accepts for PLAIN.
  const accepted = users
    ? ` user_${admin.username}="${admin.password}" user_${alice.username}="${alice.password}"`
    : "";
  return `org.apache.kafka.common.security.plain.PlainLoginModule required username="${admin.username}" password="${admin.password}"${accepted};`;
}

/** `server.properties` for one node of the plan. */
export function nodeProperties(plan: ClusterPlan, node: NodePlan): string {
  const host = "127.0.0.1";
  const voters = plan.nodes.map((n) => `${n.nodeId}@${host}:${n.controllerPort}`).join(",");
  const rf = plan.nodes.length >= 3 ? 3 : 1;
  const minIsr = plan.nodes.length >= 3 ? 2 : 1;
  const props: Record<string, string | number> = {
    "process.roles": "broker,controller",
    "node.id": node.nodeId,
    // Static quorum: every node is formatted alike, no --standalone needed.
    "controller.quorum.voters": voters,
    "controller.listener.names": "CONTROLLER",
    "log.dirs": node.dataDir,
    "num.partitions": 1,
    "default.replication.factor": rf,
    "min.insync.replicas": minIsr,
    "offsets.topic.replication.factor": rf,
    "offsets.topic.num.partitions": 10,
    "transaction.state.log.replication.factor": rf,
    "transaction.state.log.min.isr": minIsr,
    "share.coordinator.state.topic.replication.factor": rf,
    "share.coordinator.state.topic.min.isr": minIsr,
    // Tests join groups all the time; the default 3 s delay would dominate their run time.
    "group.initial.rebalance.delay.ms": 0,
    // KIP-848 defaults are 5 s; fast tests need fast heartbeats.
    "group.consumer.heartbeat.interval.ms": 500,
    "group.consumer.min.heartbeat.interval.ms": 500,
    "group.consumer.session.timeout.ms": 10000,
    "group.consumer.min.session.timeout.ms": 6000,
    // Few threads: three JVMs share two cores.
    "num.network.threads": 2,
    "num.io.threads": 4,
    "num.recovery.threads.per.data.dir": 1,
    "background.threads": 4,
    // Tests write fixed timestamps from 2023 (deterministic records); time retention would
    // delete them at its first check, 30 s after start, and consumers would see the log start
    // jump past unread records (OFFSET_OUT_OF_RANGE). Test brokers keep everything.
    "log.retention.ms": -1,
    "auto.create.topics.enable": "true",
    "delete.topic.enable": "true",
  };
  if (plan.mode === "secure") {
    const tls = plan.tls;
    if (!tls || node.sslPort === undefined) throw new Error("secure mode needs TLS files and an SSL port");
    Object.assign(props, {
      listeners: `SASL_PLAINTEXT://${host}:${node.port},SASL_SSL://${host}:${node.sslPort},CONTROLLER://${host}:${node.controllerPort}`,
      "advertised.listeners": `SASL_PLAINTEXT://${host}:${node.port},SASL_SSL://${host}:${node.sslPort}`,
      // The controller listener authenticates too, so the broker's own calls to it carry the
      // admin principal and the one super-user stays the only one.
      "listener.security.protocol.map": "CONTROLLER:SASL_PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL",
      "inter.broker.listener.name": "SASL_PLAINTEXT",
      "sasl.mechanism.inter.broker.protocol": "PLAIN",
      "sasl.mechanism.controller.protocol": "PLAIN",
      "sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER",
      // KIP-368: sessions expire after 5 s, so clients' re-authentication runs in every test
      // that holds a connection longer than that.
      "connections.max.reauth.ms": 5000,
      // Enables delegation tokens (KIP-48), which authenticate over SCRAM with tokenauth=true.
      "delegation.token.secret.key": "samsa-test-delegation-token-secret",
      "listener.name.controller.sasl.enabled.mechanisms": "PLAIN",
      "listener.name.controller.plain.sasl.jaas.config": jaas("plain", true),
      "listener.name.sasl_plaintext.plain.sasl.jaas.config": jaas("plain", true),
      "listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config": jaas("scram", false),
      "listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config": jaas("scram", false),
      "listener.name.sasl_plaintext.oauthbearer.sasl.jaas.config": jaas("oauthbearer", false),
      "listener.name.sasl_ssl.oauthbearer.sasl.jaas.config": jaas("oauthbearer", false),
      "listener.name.sasl_ssl.plain.sasl.jaas.config": jaas("plain", true),
      "listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config": jaas("scram", false),
      "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config": jaas("scram", false),
      "ssl.keystore.type": "PEM",
      "ssl.keystore.location": tls.keystorePem,
      "ssl.truststore.type": "PEM",
      "ssl.truststore.location": tls.caPem,
      "ssl.client.auth": "none",
      "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
      "super.users": `User:${SECURE_USERS.admin.username}`,
      "allow.everyone.if.no.acl.found": "false",
    });
  } else {
    Object.assign(props, {
      listeners: `PLAINTEXT://${host}:${node.port},CONTROLLER://${host}:${node.controllerPort}`,
      "advertised.listeners": `PLAINTEXT://${host}:${node.port}`,
      "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
      "inter.broker.listener.name": "PLAINTEXT",
    });
  }
  return `${Object.entries(props)
    .map(([key, value]) => `${key}=${value}`)
    .join("\n")}\n`;
}

/** log4j2 configuration: everything to stdout, which the harness sends to the node's log file. */
export const LOG4J2_PROPERTIES = `status = warn
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = OUT
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.state.name = state.change.logger
logger.state.level = WARN
logger.request.name = kafka.request.logger
logger.request.level = WARN
`;
