/**
 * Delegation tokens (KIP-48): create, renew, expire and describe. Any broker answers and, in
 * KRaft, forwards changes to the controller. Brokers refuse these requests on connections that
 * did not authenticate with SASL (DELEGATION_TOKEN_REQUEST_NOT_ALLOWED), and the cluster must
 * set `delegation.token.secret.key` (else DELEGATION_TOKEN_AUTH_DISABLED).
 */
import { InvalidArgumentError } from "../protocol/errors.js";
import { kafkaError } from "../protocol/kafka-error.js";
import {
  CreateDelegationToken,
  DescribeDelegationToken,
  ExpireDelegationToken,
  RenewDelegationToken,
} from "../protocol/messages/index.js";
import type { AdminCall } from "./routing.js";
import { checkArray, checkInt, checkNonEmpty } from "./validate.js";

/** Options of {@link createDelegationToken}. */
export interface CreateTokenOptions {
  /** Create the token for another principal (`User:bob`, Kafka 3.3+); default the caller. */
  owner?: string;
  /** Principals allowed to renew the token, e.g. `["User:ops"]`. */
  renewers?: string[];
  /** Maximum lifetime; default the broker's `delegation.token.max.lifetime.ms`. */
  maxLifetimeMs?: number;
}

/** A delegation token. Times are ms since the epoch. */
export interface DelegationToken {
  tokenId: string;
  /** The secret: with the token id it authenticates as the owner (SCRAM with `tokenauth`). */
  hmac: Buffer;
  /** `User:name` of the owner. */
  owner: string;
  /** `User:name` of whoever created it (differs from `owner` when created for someone else). */
  requester: string;
  issueTimestamp: number;
  expiryTimestamp: number;
  maxTimestamp: number;
  /** Principals that may renew it ({@link describeDelegationTokens} only). */
  renewers: string[];
}

/** Options of {@link describeDelegationTokens}. */
export interface DescribeTokensOptions {
  /** Only tokens of these owners (`User:alice`); default every token the caller may describe. */
  owners?: string[];
}

function parsePrincipal(argument: string, value: unknown): { principalType: string; principalName: string } {
  const p = checkNonEmpty(argument, value);
  const colon = p.indexOf(":");
  if (colon <= 0 || colon === p.length - 1) {
    throw new InvalidArgumentError(argument, `must be Type:name, e.g. User:alice; got ${p}`);
  }
  return { principalType: p.slice(0, colon), principalName: p.slice(colon + 1) };
}

/** A token's owner and requester as `Type:name`; a token without a requester was requested by its owner. */
function ownerAndRequester(t: {
  principalType: string;
  principalName: string;
  tokenRequesterPrincipalType: string;
  tokenRequesterPrincipalName: string;
}): { owner: string; requester: string } {
  const owner = `${t.principalType}:${t.principalName}`;
  const requester = t.tokenRequesterPrincipalType
    ? `${t.tokenRequesterPrincipalType}:${t.tokenRequesterPrincipalName}`
    : owner;
  return { owner, requester };
}

function checkHmac(hmac: unknown): Buffer {
  if (!Buffer.isBuffer(hmac) || hmac.length === 0) throw new InvalidArgumentError("hmac", "must be a non-empty Buffer");
  return hmac;
}

/** CreateDelegationToken. */
export async function createDelegationToken(
  call: AdminCall,
  options: CreateTokenOptions = {},
): Promise<DelegationToken> {
  const owner = options.owner === undefined ? null : parsePrincipal("owner", options.owner);
  const renewers =
    options.renewers === undefined
      ? []
      : checkArray<string>("renewers", options.renewers, false).map((r, i) => parsePrincipal(`renewers[${i}]`, r));
  const maxLifetimeMs = checkPeriod("maxLifetimeMs", options.maxLifetimeMs, 1);
  return call.retry(async () => {
    const connection = await call.anyBroker(CreateDelegationToken);
    if (owner && connection.versionFor(CreateDelegationToken) < 3) {
      throw new InvalidArgumentError("owner", "needs CreateDelegationToken v3 (Kafka 3.3+)");
    }
    const r = await call.send(connection, CreateDelegationToken, {
      ownerPrincipalType: owner?.principalType ?? null,
      ownerPrincipalName: owner?.principalName ?? null,
      renewers,
      maxLifetimeMs,
    });
    if (r.errorCode !== 0) throw kafkaError(r.errorCode);
    return {
      tokenId: r.tokenId,
      hmac: r.hmac,
      ...ownerAndRequester(r),
      issueTimestamp: Number(r.issueTimestampMs),
      expiryTimestamp: Number(r.expiryTimestampMs),
      maxTimestamp: Number(r.maxTimestampMs),
      renewers: (options.renewers ?? []).slice(),
    };
  });
}

/** What renewing or expiring a token answers: its new expiry, epoch milliseconds. */
type Expiry = { expiryTimestamp: number };

/** RenewDelegationToken: pushes the expiry out by `renewPeriodMs` (default the broker's renew interval). */
export async function renewDelegationToken(call: AdminCall, hmac: Buffer, renewPeriodMs?: number): Promise<Expiry> {
  const request = { hmac: checkHmac(hmac), renewPeriodMs: checkPeriod("renewPeriodMs", renewPeriodMs, 0) };
  return call.retryAny(RenewDelegationToken, request, expiryOf);
}

/**
 * ExpireDelegationToken: moves the expiry to now + `periodMs` (the request's `expiryTimePeriodMs`);
 * left out (or negative) expires the token at once.
 */
export async function expireDelegationToken(call: AdminCall, hmac: Buffer, periodMs?: number): Promise<Expiry> {
  const request = { hmac: checkHmac(hmac), expiryTimePeriodMs: checkPeriod("expiryTimePeriodMs", periodMs, -1) };
  return call.retryAny(ExpireDelegationToken, request, expiryOf);
}

/** A token period on the wire: -1 when left out (the broker's default, or "at once"), else checked. */
function checkPeriod(argument: string, periodMs: number | undefined, min: number): bigint {
  return periodMs === undefined ? -1n : BigInt(checkInt(argument, periodMs, min, Number.MAX_SAFE_INTEGER));
}

function expiryOf(r: { expiryTimestampMs: bigint }): Expiry {
  return { expiryTimestamp: Number(r.expiryTimestampMs) };
}

/** DescribeDelegationToken. */
export async function describeDelegationTokens(
  call: AdminCall,
  options: DescribeTokensOptions = {},
): Promise<DelegationToken[]> {
  const owners =
    options.owners === undefined
      ? null
      : checkArray<string>("owners", options.owners).map((o, i) => parsePrincipal(`owners[${i}]`, o));
  return call.retryAny(DescribeDelegationToken, { owners }, (r) =>
    r.tokens.map((t) => ({
      tokenId: t.tokenId,
      hmac: t.hmac,
      ...ownerAndRequester(t),
      issueTimestamp: Number(t.issueTimestamp),
      expiryTimestamp: Number(t.expiryTimestamp),
      maxTimestamp: Number(t.maxTimestamp),
      renewers: t.renewers.map((x) => `${x.principalType}:${x.principalName}`),
    })),
  );
}
