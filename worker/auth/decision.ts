/**
 * The auth decision as steps, in request order: identity from the headers, the offline key check,
 * the client's policy, the key at `now`. Each step answers with a value or a `Refusal` (or an
 * `Unavailable` lookup); none throws, logs telemetry or counts — the middleware does that, once,
 * for whatever `judge` returns (docs/auth.md "The path, in order").
 */
import type { SessionContext } from '../db/with-session.js';
import { log } from '../log.js';
import { hashApiKey, KEY_LENGTH, LEGACY_KEY_LENGTH, parseApiKey, partsOfKnownKey, type ParsedKey } from '../../drizzle/key-format.js';
import type { CacheOutcome } from './cache.js';
import { directoryFor } from './client-directory.js';
import type { AuthContext } from './context.js';
import { readApiKey } from './credentials.js';
import { checkPrefix } from './directory.js';
import { offlineKeyCheck } from './key-check.js';
import { keyState, lookupKey, type KeyRecord } from './keys.js';
import { CLIENT_NAME, loadClientPolicy, policyInMemory, type ClientPolicy } from './policy.js';
import { applicableLimit } from '../ratelimit/limit.js';

export type RefusalName =
  | 'missing_client_header' | 'conflicting_credentials' | 'missing_key' | 'invalid_key' | 'unknown_client'
  | 'client_inactive' | 'client_frozen' | 'client_mismatch';

/** A refusal: what the client is told (`name`), why (`reason`, telemetry only), and what it counts as. */
export type Refusal = { refused: RefusalName; reason: string; counts?: 'forged' | 'unknown_client'; client?: string | undefined };

/** A lookup that could not run: 503, or a read-only unverified admission under AUTH_FAIL_MODE=open. */
export type Unavailable = {
  unavailable: 'policy_unavailable' | 'validation_unavailable';
  outcome: CacheOutcome<unknown>;
  /** The client to admit as when failing open (none: it stays closed). */
  clientName: string | undefined;
  /** The client's policy when it was read before the key lookup failed: its rate limit still counts. */
  policy?: ClientPolicy;
};

export type Verdict = { admitted: AuthContext } | Refusal | Unavailable;

export type DecisionInput = {
  ctx: SessionContext;
  headers: Headers;
  /** The request, for its abort signal: read only by steps that wait (a verdict from memory never does). */
  request: Request;
  /** `header-or-key`: without `X-Athena-Client` the key names its client (verify). */
  clientFrom: 'header' | 'header-or-key';
  requireKey: boolean;
  /** Learnt by the steps, for the telemetry of whatever the verdict is: the presented key's prefix… */
  keyPrefix: string | null;
  /** …and, without a client header, the client the key belongs to. */
  keyClient?: string;
};

const refuse = (refused: RefusalName, reason: string = refused): Refusal => ({ refused, reason });
const forged = (reason: string, client: string | undefined): Refusal => ({ refused: 'invalid_key', reason, counts: 'forged', client });
const unknownClient: Refusal = { refused: 'unknown_client', reason: 'unknown_client', counts: 'unknown_client' };
const isValue = <T extends object>(v: T | Refusal | Unavailable): v is T => !('refused' in v) && !('unavailable' in v);

/** A presented key, parsed, with the SHA-256 hash it is stored and cached under, and its record when cached. */
type PresentedKey = { parsed: ParsedKey; hash: string; cached: KeyRecord | undefined };

/** `tagUnchecked`: the key is not cached, so its tag must be checked (offline, async) before anything else. */
type Identity = { headerClient: string | undefined; key: PresentedKey | undefined; tagUnchecked: boolean };

/** Who the headers say the caller is: client name and parsed key, offline checks included when memory answers them. */
function readIdentity(input: DecisionInput): Identity | Refusal {
  const { ctx, headers } = input;
  const headerClient = headers.get('x-athena-client')?.trim() || undefined;
  if (!headerClient && input.clientFrom !== 'header-or-key') return refuse('missing_client_header');
  const credentials = readApiKey(headers);
  if (credentials.kind === 'conflict') return refuse('conflicting_credentials');
  if (credentials.kind === 'none') return checkedClient(headerClient, undefined);
  const raw = credentials.key;
  if (raw.length !== KEY_LENGTH && raw.length !== LEGACY_KEY_LENGTH) return forged('malformed_key', headerClient);
  // Hashed before parsing: a key cached as found was read from the catalog, so its form needs no pattern.
  const hash = hashApiKey(raw);
  const cached = ctx.isolate.services.keyCache.found(hash);
  const parsed = cached ? partsOfKnownKey(raw) : parseApiKey(raw);
  if (!parsed) return forged('malformed_key', headerClient);
  input.keyPrefix = parsed.prefix;
  const key: PresentedKey = { parsed, hash, cached };
  const known = knownKey(key);
  return known ? checkedKey(input, headerClient, key, known) : { headerClient, key, tagUnchecked: true };
}

/** The tag check of a key that is not cached, then the checks that follow it. */
async function checkTag(input: DecisionInput, headerClient: string | undefined, key: PresentedKey): Promise<Identity | Refusal> {
  return checkedKey(input, headerClient, key, await offlineKeyCheck(input.ctx.isolate, key.parsed));
}

function checkedKey(input: DecisionInput, headerClient: string | undefined, key: PresentedKey, verdict: 'signed' | 'forged' | 'legacy'): Identity | Refusal {
  if (verdict === 'forged') return forged('forged_key', headerClient);
  if (verdict === 'legacy' && !input.ctx.isolate.settings.AUTH_ACCEPT_LEGACY_KEYS) return refuse('invalid_key', 'legacy_key');
  return checkedClient(headerClient, key);
}

function checkedClient(headerClient: string | undefined, key: PresentedKey | undefined): Identity | Refusal {
  if (headerClient && !CLIENT_NAME.test(headerClient)) return unknownClient;
  return { headerClient, key, tagUnchecked: false };
}

/**
 * A key whose hash is freshly cached as found was read from the catalog, so its tag needs no
 * re-check: the cache-hit path skips the HMAC. (A key signed under a secret since removed from
 * KEY_SIGNING_SECRETS is therefore refused once its entry expires: within AUTH_CACHE_TTL_MS.)
 */
function knownKey(key: PresentedKey): 'signed' | 'legacy' | undefined {
  if (key.cached === undefined) return undefined;
  return key.parsed.tag === null ? 'legacy' : 'signed';
}

/** Whether the client may use the gateway under `policy` (null: no such client). */
function admissible(policy: ClientPolicy | null): ClientPolicy | Refusal {
  if (policy === null) return unknownClient;
  if (!policy.isActive) return refuse('client_inactive');
  if (policy.isFrozen) return refuse('client_frozen');
  return policy;
}

/** The client's policy if it may use the gateway. */
async function checkPolicy(input: DecisionInput, clientName: string): Promise<ClientPolicy | Refusal | Unavailable> {
  const outcome = await loadClientPolicy(input.ctx, clientName, input.request.signal);
  if (!outcome.ok) return { unavailable: 'policy_unavailable', outcome, clientName };
  noteStale(input, 'policy', outcome);
  return admissible(outcome.value);
}

/** A legacy key (or any key while no signing secret is set) must be listed in the directory before a lookup. */
const needsListing = (input: DecisionInput, key: PresentedKey): boolean => key.parsed.tag === null || input.ctx.isolate.settings.KEY_SIGNING_SECRETS.length === 0;

/**
 * The presented key's record if usable at `now`. A legacy key must carry the prefix of a live key
 * in the directory (of `clientName` when given) before it may cost a lookup.
 */
async function checkKey(input: DecisionInput, key: PresentedKey, clientName: string | undefined, now: () => number): Promise<KeyRecord | Refusal | Unavailable> {
  const { ctx } = input;
  const { signal } = input.request;
  const { prefix } = key.parsed;
  let owner = clientName;
  if (needsListing(input, key)) {
    const answer = await directoryFor(ctx, (d) => checkPrefix(d, prefix, clientName) !== 'unlisted', signal);
    if (!answer.ok) return { unavailable: 'validation_unavailable', outcome: answer.outcome, clientName };
    if (checkPrefix(answer.directory, prefix, clientName) === 'unlisted') return forged('unlisted_prefix', clientName);
    owner ??= answer.directory.prefixOwner.get(prefix);
  }
  if (key.cached) return usable(key.cached, now); // read from the catalog moments ago: no lookup
  const outcome = await lookupKey(ctx, key.hash, owner ?? BY_KEY_OWNER, signal);
  if (!outcome.ok) return { unavailable: 'validation_unavailable', outcome, clientName };
  noteStale(input, 'key', outcome);
  if (outcome.value === null) return refuse('invalid_key', 'unknown_key');
  return usable(outcome.value, now);
}

/** The record if the key may be used at `now` (revocation and expiry are judged at use time). */
function usable(record: KeyRecord, now: () => number): KeyRecord | Refusal {
  const state = keyState(record, now());
  return state === 'active' ? record : refuse('invalid_key', `${state}_key`);
}

/** Fair-share owner of key lookups whose client is not known before the lookup (verify by a signed key alone). */
const BY_KEY_OWNER = '(by key)';

/**
 * Runs the steps in order; the first refusal or unavailable lookup ends the decision. A request
 * that memory decides (cached key, directory answering) gets its verdict without a promise.
 */
export function judge(input: DecisionInput, now: () => number = Date.now): Verdict | Promise<Verdict> {
  const identity = readIdentity(input);
  if (!isValue(identity)) return identity;
  return (identity.tagUnchecked ? undefined : fromMemory(input, identity, now)) ?? judgeAsync(input, identity, now);
}

/**
 * `judgeAsync` for a cached, usable key whose client's policy the directory answers from memory,
 * in the same order and with the same answers; undefined as soon as a step would have to wait.
 */
function fromMemory(input: DecisionInput, { headerClient, key }: Identity, now: () => number): Verdict | undefined {
  const record = key?.cached;
  if (!key || !record || needsListing(input, key)) return undefined;
  if (headerClient === undefined) {
    const usableRecord = usable(record, now);
    if (!isValue(usableRecord)) return usableRecord;
    input.keyClient = record.clientName;
    const policy = policyInMemory(input.ctx, record.clientName);
    if (policy === undefined) return undefined;
    const admissibleOne = admissible(policy);
    return isValue(admissibleOne) ? { admitted: authenticated(record, admissibleOne) } : admissibleOne;
  }
  const policy = policyInMemory(input.ctx, headerClient);
  if (policy === undefined) return undefined;
  const admissibleOne = admissible(policy);
  if (!isValue(admissibleOne)) return admissibleOne;
  const usableRecord = usable(record, now);
  if (!isValue(usableRecord)) return usableRecord;
  if (record.clientName !== headerClient) return refuse('client_mismatch');
  return { admitted: authenticated(record, admissibleOne) };
}

async function judgeAsync(input: DecisionInput, first: Identity, now: () => number): Promise<Verdict> {
  const identity = first.tagUnchecked && first.key ? await checkTag(input, first.headerClient, first.key) : first;
  if (!isValue(identity)) return identity;
  const { headerClient, key } = identity;
  if (headerClient === undefined) {
    // No client header (verify): the key names its client.
    if (!key) return refuse('missing_key');
    const record = await checkKey(input, key, undefined, now);
    if (!isValue(record)) return record;
    input.keyClient = record.clientName;
    const policy = await checkPolicy(input, record.clientName);
    return isValue(policy) ? { admitted: authenticated(record, policy) } : policy;
  }
  const policy = await checkPolicy(input, headerClient);
  if (!isValue(policy)) return policy;
  if (!key) {
    if (policy.enforcement === 'required' || input.requireKey) return refuse('missing_key');
    return { admitted: withLimit({ clientName: headerClient, authenticated: false, policy }, undefined, policy) };
  }
  const record = await checkKey(input, key, headerClient, now);
  if ('unavailable' in record) return { ...record, policy };
  if (!isValue(record)) return record;
  if (record.clientName !== headerClient) return refuse('client_mismatch');
  return { admitted: authenticated(record, policy) };
}

/**
 * The admitted context of each cached key record, built once and reused while its policy is the
 * same object: records and policies are replaced on reload, never changed, so neither is this.
 */
const admittedContexts = new WeakMap<KeyRecord, { policy: ClientPolicy; auth: AuthContext }>();

function authenticated(key: KeyRecord, policy: ClientPolicy): AuthContext {
  const memo = admittedContexts.get(key);
  if (memo?.policy === policy) return memo.auth;
  const keyContext = Object.freeze({ id: key.id, prefix: key.prefix, scopes: key.scopes, expiresAt: key.expiresAt === null ? null : new Date(key.expiresAt).toISOString() });
  const auth = Object.freeze(withLimit({ clientName: key.clientName, authenticated: true, policy, key: keyContext }, key, policy));
  admittedContexts.set(key, { policy, auth });
  return auth;
}

/** Carries the rate limit that applies (key's own, else the client's) from the records auth already read. */
export function withLimit(auth: AuthContext, key: KeyRecord | undefined, policy: ClientPolicy): AuthContext {
  const rateLimit = applicableLimit(key, policy);
  return rateLimit ? { ...auth, rateLimit } : auth;
}

function noteStale(input: DecisionInput, what: string, outcome: CacheOutcome<unknown>): void {
  if (outcome.ok && outcome.source === 'stale') log('warn', 'auth_stale_served', { requestId: input.ctx.requestId, what, keyPrefix: input.keyPrefix });
}
