/**
 * Client quotas (DescribeClientQuotas, AlterClientQuotas; KIP-546) and SCRAM credentials
 * (DescribeUserScramCredentials, AlterUserScramCredentials; KIP-554). Any broker answers and,
 * in KRaft, forwards changes to the controller. Passwords never leave this process: SCRAM
 * upserts send only the salt and the PBKDF2-salted password, as RFC 5802 stores them.
 */
import { pbkdf2, randomBytes } from "node:crypto";
import { promisify } from "node:util";
import { InvalidArgumentError } from "../protocol/errors.js";
import { kafkaError } from "../protocol/kafka-error.js";
import {
  AlterClientQuotas,
  AlterUserScramCredentials,
  DescribeClientQuotas,
  DescribeUserScramCredentials,
} from "../protocol/messages/index.js";
import { keyedOutcomes, matchOutcomes } from "./outcomes.js";
import type { AdminCall } from "./routing.js";
import {
  checkArray,
  checkEach,
  checkInt,
  checkNonEmpty,
  checkObject,
  checkOneOf,
  checkStrings,
  checkUnique,
  defineOperation,
} from "./validate.js";

const pbkdf2Async = promisify(pbkdf2);

/**
 * A quota entity: entity type (`user`, `client-id`, `ip`) to name, where null is the type's
 * default entity. `{ user: "alice", "client-id": null }` is alice with any client id that has
 * no quota of its own.
 */
export type QuotaEntity = Record<string, string | null>;

/** Matches quota entities of one type: by `name`, the default (`null`), or any (left out). */
export interface QuotaFilterComponent {
  entityType: string;
  match?: string | null;
}

/** Options of {@link describeClientQuotas}. */
export interface DescribeQuotasOptions {
  /** Entity types to match; default any entity. */
  components?: QuotaFilterComponent[];
  /** Only entities with exactly the filtered types (no other types). Default false. */
  strict?: boolean;
}

/** The quotas of one entity, e.g. `{ producer_byte_rate: 1048576 }`. */
export interface EntityQuotas {
  entity: QuotaEntity;
  values: Record<string, number>;
}

/** Changes to one entity's quotas. */
export interface QuotaAlteration {
  entity: QuotaEntity;
  /** Quotas to set, e.g. `{ consumer_byte_rate: 2097152 }`. */
  set?: Record<string, number>;
  /** Quota keys to remove. */
  remove?: string[];
}

/** Options of {@link alterClientQuotas}. */
export interface AlterQuotasOptions {
  /** Check without applying. Default false. */
  validateOnly?: boolean;
}

/** The two SCRAM mechanisms Kafka stores credentials for. */
export type ScramMechanism = "SCRAM-SHA-256" | "SCRAM-SHA-512";

/** A user's SCRAM credentials (never the secrets). */
export interface UserScramCredentials {
  user: string;
  credentials: { mechanism: ScramMechanism | "unknown"; iterations: number }[];
}

/** A credential to create or replace. */
export interface ScramUpsertion {
  user: string;
  mechanism: ScramMechanism;
  password: string;
  /** PBKDF2 iterations, 4096–16384 (Kafka's bounds); default 8192. */
  iterations?: number;
  /** Salt; default 32 random bytes. */
  salt?: Buffer;
}

/** A credential to delete. */
export interface ScramDeletion {
  user: string;
  mechanism: ScramMechanism;
}

const MECHANISMS: readonly ScramMechanism[] = ["SCRAM-SHA-256", "SCRAM-SHA-512"];
/** Kafka's ScramMechanism codes: 0 UNKNOWN, 1 SHA-256, 2 SHA-512. */
const mechanismCode = (m: ScramMechanism) => MECHANISMS.indexOf(m) + 1;

function checkEntity(argument: string, value: unknown): { entityType: string; entityName: string | null }[] {
  const entries = Object.entries(checkObject(argument, value));
  if (entries.length === 0) throw new InvalidArgumentError(argument, "must name at least one entity type");
  return entries.map(([entityType, entityName]) => {
    if (entityName !== null && (typeof entityName !== "string" || entityName === "")) {
      throw new InvalidArgumentError(
        `${argument}.${entityType}`,
        "must be a non-empty string, or null for the default",
      );
    }
    return { entityType, entityName };
  });
}

/** A stable key for an entity, whatever the order of its types. */
function entityKey(parts: readonly { entityType: string; entityName: string | null }[]): string {
  return parts
    .map((p) => `${p.entityType}=${p.entityName === null ? "<default>" : p.entityName}`)
    .sort()
    .join(",");
}

function entityOf(parts: readonly { entityType: string; entityName: string | null }[]): QuotaEntity {
  const entity: QuotaEntity = {};
  for (const p of parts) entity[p.entityType] = p.entityName;
  return entity;
}

/** DescribeClientQuotas. */
export async function describeClientQuotas(
  call: AdminCall,
  options: DescribeQuotasOptions = {},
): Promise<EntityQuotas[]> {
  const components = (
    options.components === undefined ? [] : checkArray<QuotaFilterComponent>("components", options.components, false)
  ).map((c, i) => {
    const o = checkObject(`components[${i}]`, c);
    const entityType = checkNonEmpty(`components[${i}].entityType`, o.entityType);
    if (o.match === undefined) return { entityType, matchType: 2, match: null }; // ANY
    if (o.match === null) return { entityType, matchType: 1, match: null }; // DEFAULT
    return { entityType, matchType: 0, match: checkNonEmpty(`components[${i}].match`, o.match) }; // EXACT
  });
  return call.retryAny(DescribeClientQuotas, { components, strict: options.strict === true }, (r) =>
    (r.entries ?? [])
      .map((e) => ({
        entity: entityOf(e.entity),
        values: Object.fromEntries(e.values.map((v) => [v.key, v.value])),
        key: entityKey(e.entity),
      }))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      .map(({ entity, values }) => ({ entity, values })),
  );
}

/** AlterClientQuotas. Returns the entities in input order. */
export const alterClientQuotas = defineOperation({
  argument: "alterations",
  each: (o, at) => {
    const entity = checkEntity(`${at}.entity`, o.entity);
    const set = Object.entries(o.set === undefined ? {} : checkObject(`${at}.set`, o.set)).map(([key, value]) => {
      if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
        throw new InvalidArgumentError(`${at}.set.${key}`, "must be a finite number ≥ 0");
      }
      return { key, value, remove: false };
    });
    const remove = (o.remove === undefined ? [] : checkArray<string>(`${at}.remove`, o.remove)).map((k, j) => ({
      key: checkNonEmpty(`${at}.remove[${j}]`, k),
      value: 0,
      remove: true,
    }));
    const ops = [...set, ...remove];
    if (ops.length === 0) throw new InvalidArgumentError(at, "must set or remove at least one quota");
    checkUnique(
      `${at}.remove`,
      remove.map((op) => op.key),
    );
    for (const [j, op] of remove.entries()) {
      if (set.some((x) => x.key === op.key)) {
        throw new InvalidArgumentError(`${at}.remove[${j}]`, `quota ${op.key} is both set and removed`);
      }
    }
    return { entity, ops };
  },
  run: async (call, list, options: AlterQuotasOptions): Promise<QuotaEntity[]> => {
    const labels = list.map((a) => entityKey(a.entity));
    checkUnique("alterations", labels);
    const validateOnly = options.validateOnly === true;
    return call.retryItems(labels, async (pending) => {
      const r = await call.sendToAny(AlterClientQuotas, {
        entries: pending.map((i) => list[i] as (typeof list)[number]),
        validateOnly,
      });
      const byKey = new Map(r.entries.map((e) => [entityKey(e.entity), e]));
      return matchOutcomes(
        pending,
        (i) => byKey.get(labels[i]!),
        (_, i) => entityOf(list[i]!.entity),
      );
    });
  },
});

/**
 * DescribeUserScramCredentials for `users` (in input order; a user without credentials fails
 * with RESOURCE_NOT_FOUND) or, when left out, every user that has some (sorted).
 */
export async function describeUserScramCredentials(
  call: AdminCall,
  users?: readonly string[],
): Promise<UserScramCredentials[]> {
  const list = users === undefined ? undefined : checkStrings("users", users);
  if (list) checkUnique("users", list);
  const describe = async (names: string[] | null) => {
    const r = await call.sendToAny(DescribeUserScramCredentials, {
      users: names === null ? null : names.map((name) => ({ name })),
    });
    if (r.errorCode !== 0) throw kafkaError(r.errorCode, r.errorMessage);
    return r.results;
  };
  const toCredentials = (r: Awaited<ReturnType<typeof describe>>[number]): UserScramCredentials => ({
    user: r.user,
    credentials: r.credentialInfos.map((c) => ({
      mechanism: MECHANISMS[c.mechanism - 1] ?? "unknown",
      iterations: c.iterations,
    })),
  });
  if (!list) {
    const results = await call.retry(() => describe(null));
    return results.map(toCredentials).sort((a, b) => (a.user < b.user ? -1 : a.user > b.user ? 1 : 0));
  }
  return call.retryItems(list, async (pending) => {
    const results = await describe(pending.map((i) => list[i] as string));
    const byUser = new Map(results.map((r) => [r.user, r]));
    return matchOutcomes(pending, (i) => byUser.get(list[i]!), toCredentials);
  });
}

/** AlterUserScramCredentials: the shared request of upserts and deletions. */
async function alterScram(
  call: AdminCall,
  labels: string[],
  build: (i: number) => Promise<{
    deletion?: { name: string; mechanism: number };
    upsertion?: {
      name: string;
      mechanism: number;
      iterations: number;
      salt: Buffer;
      saltedPassword: Buffer;
    };
  }>,
  users: string[],
): Promise<string[]> {
  // Salting is PBKDF2 at thousands of iterations: done once, not again per retry.
  const built = await Promise.all(users.map((_, i) => build(i)));
  return call.retryItems(labels, async (pending) => {
    const r = await call.sendToAny(AlterUserScramCredentials, {
      deletions: pending.flatMap((i) => (built[i]?.deletion ? [built[i].deletion] : [])),
      upsertions: pending.flatMap((i) => (built[i]?.upsertion ? [built[i].upsertion] : [])),
    });
    return keyedOutcomes(pending, users, r.results, (x) => x.user);
  });
}

/**
 * Creates or replaces SCRAM credentials; returns the users in input order. One credential per user per call: Kafka refuses a
 * request naming a user twice (DUPLICATE_RESOURCE), so that is checked here.
 */
export async function upsertUserScramCredentials(
  call: AdminCall,
  upsertions: readonly ScramUpsertion[],
): Promise<string[]> {
  const list = checkEach("upsertions", upsertions, (o, at) => {
    if (o.salt !== undefined && (!Buffer.isBuffer(o.salt) || o.salt.length === 0)) {
      throw new InvalidArgumentError(`${at}.salt`, "must be a non-empty Buffer");
    }
    if (typeof o.password !== "string" || o.password === "") {
      throw new InvalidArgumentError(`${at}.password`, "must be a non-empty string");
    }
    return {
      user: checkNonEmpty(`${at}.user`, o.user),
      mechanism: checkOneOf(`${at}.mechanism`, o.mechanism, MECHANISMS),
      password: o.password,
      iterations: o.iterations === undefined ? 8192 : checkInt(`${at}.iterations`, o.iterations, 4096, 16384),
      salt: (o.salt as Buffer | undefined) ?? randomBytes(32),
    };
  });
  const users = list.map((u) => u.user);
  checkUnique("upsertions", users);
  return alterScram(
    call,
    users,
    async (i) => {
      const u = list[i] as (typeof list)[number];
      const sha256 = u.mechanism === "SCRAM-SHA-256";
      // Kafka's ScramFormatter: Hi(password, salt, i) = PBKDF2-HMAC over the UTF-8 password.
      const saltedPassword = await pbkdf2Async(
        u.password,
        u.salt,
        u.iterations,
        sha256 ? 32 : 64,
        sha256 ? "sha256" : "sha512",
      );
      return {
        upsertion: {
          name: u.user,
          mechanism: mechanismCode(u.mechanism),
          iterations: u.iterations,
          salt: u.salt,
          saltedPassword,
        },
      };
    },
    users,
  );
}

/** Deletes SCRAM credentials; one per user per call, as for upserts. */
export async function deleteUserScramCredentials(
  call: AdminCall,
  deletions: readonly ScramDeletion[],
): Promise<string[]> {
  const list = checkEach("deletions", deletions, (o, at) => {
    return {
      user: checkNonEmpty(`${at}.user`, o.user),
      mechanism: checkOneOf(`${at}.mechanism`, o.mechanism, MECHANISMS),
    };
  });
  const users = list.map((d) => d.user);
  checkUnique("deletions", users);
  return alterScram(
    call,
    users.map((u, i) => `${u} ${(list[i] as (typeof list)[number]).mechanism}`),
    async (i) => {
      const d = list[i] as (typeof list)[number];
      return { deletion: { name: d.user, mechanism: mechanismCode(d.mechanism) } };
    },
    users,
  );
}
