/**
 * The auth decision as steps, in request order: identity from the headers, the offline key check,
 * the client's policy, the key at `now`. Each step answers with a value or a `Refusal` (or an
 * `Unavailable` lookup); none throws, logs telemetry or counts — the middleware does that, once,
 * for whatever `judge` returns (docs/auth.md "The path, in order").
 */
import type { SessionContext } from '../db/with-session.js';
import { log } from '../log.js';
import { hashApiKey, parseApiKey, type ParsedKey } from '../../drizzle/key-format.js';
import type { CacheOutcome } from './cache.js';
import { directoryFor } from './client-directory.js';
import type { AuthContext } from './context.js';
import { readApiKey } from './credentials.js';
import { checkPrefix } from './directory.js';
import { offlineKeyCheck } from './key-check.js';
import { keyState, lookupKey, type KeyRecord } from './keys.js';
import { CLIENT_NAME, loadClientPolicy, type ClientPolicy } from './policy.js';
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

type Verdict = { admitted: AuthContext } | Refusal | Unavailable;

export type DecisionInput = {
  ctx: SessionContext;
  headers: Headers;
  signal: AbortSignal;
  /** `header-or-key`: without `X-Athena-Client` the key names its client (verify). */
  clientFrom: 'header' | 'header-or-key';
  requireKey: boolean;
  /** Filled in as the steps learn them, for the telemetry of whatever the verdict is. */
  attempt: { clientName: string | null; keyPrefix: string | null };
};

const refuse = (refused: RefusalName, reason: string = refused): Refusal => ({ refused, reason });
const forged = (reason: string, client: string | undefined): Refusal => ({ refused: 'invalid_key', reason, counts: 'forged', client });
const unknownClient: Refusal = { refused: 'unknown_client', reason: 'unknown_client', counts: 'unknown_client' };
const isValue = <T extends object>(v: T | Refusal | Unavailable): v is T => !('refused' in v) && !('unavailable' in v);

/** A presented key, parsed, with the SHA-256 hash it is stored and cached under, and its record when cached. */
type PresentedKey = ParsedKey & { hash: string; cached: KeyRecord | undefined };

type Identity = { headerClient: string | undefined; key: PresentedKey | undefined };

/** Who the headers say the caller is: client name and parsed key, offline checks included. */
async function readIdentity(input: DecisionInput): Promise<Identity | Refusal> {
  const { ctx, headers, attempt } = input;
  const headerClient = headers.get('x-athena-client')?.trim() || undefined;
  if (!headerClient && input.clientFrom !== 'header-or-key') return refuse('missing_client_header');
  const credentials = readApiKey(headers);
  if (credentials.kind === 'conflict') return refuse('conflicting_credentials');
  let key: PresentedKey | undefined;
  if (credentials.kind === 'key') {
    const parsed = parseApiKey(credentials.key);
    if (!parsed) return forged('malformed_key', headerClient);
    attempt.keyPrefix = parsed.prefix;
    const hash = hashApiKey(parsed.key);
    key = { ...parsed, hash, cached: ctx.isolate.services.keyCache.found(hash) };
    const verdict = knownKey(key) ?? (await offlineKeyCheck(ctx.isolate, parsed));
    if (verdict === 'forged') return forged('forged_key', headerClient);
    if (verdict === 'legacy' && !ctx.isolate.settings.AUTH_ACCEPT_LEGACY_KEYS) return refuse('invalid_key', 'legacy_key');
  }
  if (headerClient && !CLIENT_NAME.test(headerClient)) return unknownClient;
  return { headerClient, key };
}

/**
 * A key whose hash is freshly cached as found was read from the catalog, so its tag needs no
 * re-check: the cache-hit path skips the HMAC. (A key signed under a secret since removed from
 * KEY_SIGNING_SECRETS is therefore refused once its entry expires: within AUTH_CACHE_TTL_MS.)
 */
function knownKey(key: PresentedKey): 'signed' | 'legacy' | undefined {
  if (key.cached === undefined) return undefined;
  return key.tag === null ? 'legacy' : 'signed';
}

/** The client's policy if it may use the gateway. */
async function checkPolicy(input: DecisionInput, clientName: string): Promise<ClientPolicy | Refusal | Unavailable> {
  const outcome = await loadClientPolicy(input.ctx, clientName, input.signal);
  if (!outcome.ok) return { unavailable: 'policy_unavailable', outcome, clientName };
  noteStale(input, 'policy', outcome);
  const policy = outcome.value;
  if (policy === null) return unknownClient;
  if (!policy.isActive) return refuse('client_inactive');
  if (policy.isFrozen) return refuse('client_frozen');
  return policy;
}

/**
 * The presented key's record if usable at `now`. A legacy key must carry the prefix of a live key
 * in the directory (of `clientName` when given) before it may cost a lookup.
 */
async function checkKey(input: DecisionInput, key: PresentedKey, clientName: string | undefined, now: () => number): Promise<KeyRecord | Refusal | Unavailable> {
  const { ctx, signal } = input;
  let owner = clientName;
  if (key.tag === null || ctx.isolate.settings.KEY_SIGNING_SECRETS.length === 0) {
    const answer = await directoryFor(ctx, (d) => checkPrefix(d, key.prefix, clientName) !== 'unlisted', signal);
    if (!answer.ok) return { unavailable: 'validation_unavailable', outcome: answer.outcome, clientName };
    if (checkPrefix(answer.directory, key.prefix, clientName) === 'unlisted') return forged('unlisted_prefix', clientName);
    owner ??= answer.directory.prefixOwner.get(key.prefix);
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

/** Runs the steps in order; the first refusal or unavailable lookup ends the decision. */
export async function judge(input: DecisionInput, now: () => number = Date.now): Promise<Verdict> {
  const identity = await readIdentity(input);
  if (!isValue(identity)) return identity;
  const { headerClient, key } = identity;
  if (headerClient === undefined) {
    // No client header (verify): the key names its client.
    if (!key) return refuse('missing_key');
    const record = await checkKey(input, key, undefined, now);
    if (!isValue(record)) return record;
    input.attempt.clientName = record.clientName;
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

function authenticated(key: KeyRecord, policy: ClientPolicy): AuthContext {
  const auth: AuthContext = {
    clientName: key.clientName,
    authenticated: true,
    policy,
    key: { id: key.id, prefix: key.prefix, scopes: key.scopes, expiresAt: key.expiresAt === null ? null : new Date(key.expiresAt).toISOString() },
  };
  return withLimit(auth, key, policy);
}

/** Carries the rate limit that applies (key's own, else the client's) from the records auth already read. */
export function withLimit(auth: AuthContext, key: KeyRecord | undefined, policy: ClientPolicy): AuthContext {
  const rateLimit = applicableLimit(key, policy);
  return rateLimit ? { ...auth, rateLimit } : auth;
}

function noteStale(input: DecisionInput, what: string, outcome: CacheOutcome<unknown>): void {
  if (outcome.ok && outcome.source === 'stale') log('warn', 'auth_stale_served', { requestId: input.ctx.requestId, what, keyPrefix: input.attempt.keyPrefix });
}
