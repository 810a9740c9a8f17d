/**
 * `authenticate()`: the auth hot path (docs/auth.md "The path, in order") — client header, credentials, key tag (offline), client
 * directory, key — ending in `c.var.auth`. Forged keys and unknown client names are refused from
 * memory; only keys that may be real cost a (cached, single-flight, fair-shared) lookup. Expected
 * failures become the gateway's error envelope; every refusal also emits an `auth_attempt` event
 * (reason and key prefix, never the key).
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env.js';
import { GatewayError, type ErrorCode } from '../errors.js';
import { emitTelemetry } from '../telemetry/emit.js';
import { log } from '../log.js';
import type { AuthContext } from '../auth/context.js';
import { loggableClientName, readApiKey } from '../auth/credentials.js';
import { hashApiKey, parseApiKey, type ParsedKey } from '../../drizzle/key-format.js';
import { CLIENT_NAME, loadClientPolicy, type ClientPolicy } from '../auth/policy.js';
import { keyState, lookupKey, type KeyRecord } from '../auth/keys.js';
import type { CacheOutcome } from '../auth/cache.js';
import { sessionContextOf } from '../db/session-context.js';
import { offlineKeyCheck } from '../auth/key-check.js';
import { directoryFor, listsClient } from '../auth/client-directory.js';
import { checkPrefix } from '../auth/directory.js';
import { refusalsOf } from '../auth/auth-metrics.js';
import { applicableLimit } from '../ratelimit/limit.js';

export type AuthenticateOptions = {
  /** Where the client comes from: the `X-Athena-Client` header (default), or else the key's own client. */
  client?: 'header' | 'header-or-key';
  /** Refuse anonymous access even when the client's enforcement is optional. */
  requireKey?: boolean;
  /** Honour AUTH_FAIL_MODE=open (default true); an endpoint that vouches for a key never fails open. */
  allowFailOpen?: boolean;
};

/** Refusals as (code, message, hint); the reason string goes to telemetry only. */
const REFUSALS = {
  missing_client_header: ['missing_client_header', 'Missing X-Athena-Client header', 'Send X-Athena-Client: <client name>.'],
  conflicting_credentials: ['conflicting_credentials', 'Conflicting API keys in request headers', 'Send the key in one header (X-Athena-Key), or make every key header carry the same key.'],
  missing_key: ['missing_api_key', 'Missing API key', 'Send X-Athena-Key: <key> (also accepted: apikey, x-api-key, Authorization: Bearer <key>).'],
  invalid_key: ['invalid_api_key', 'Invalid API key', 'The key is malformed, unknown, revoked or expired; create a new one with the gateway CLI.'],
  unknown_client: ['unknown_client', 'Unknown client', 'Check the X-Athena-Client header against the registered clients.'],
  client_inactive: ['client_inactive', 'Client is inactive', 'An operator must re-activate this client.'],
  client_frozen: ['client_frozen', 'Client is frozen', 'An operator must unfreeze this client.'],
  client_mismatch: ['key_client_mismatch', 'API key does not belong to this client', 'Use a key created for the client named in X-Athena-Client.'],
  policy_unavailable: ['api_key_policy_unavailable', 'API key policy unavailable', 'The client policy could not be loaded in time; retry after Retry-After seconds.'],
  validation_unavailable: ['api_key_validation_unavailable', 'API key validation unavailable', 'The API key could not be checked in time; retry after Retry-After seconds.'],
} as const satisfies Record<string, readonly [ErrorCode, string, string]>;

type Refusal = keyof typeof REFUSALS;

export const authenticate = (opts: AuthenticateOptions = {}): MiddlewareHandler<AppEnv> =>
  async function authenticate(c, next) {
    c.set('auth', await decide(c, opts));
    await next();
  };

type Attempt = { clientName: string | null; keyPrefix: string | null };

/** What one request's auth decision needs: its context, and how it refuses or fails open. */
function toolsFor(c: Context<AppEnv>, opts: AuthenticateOptions, attempt: Attempt) {
  const settings = c.get('settings');
  const ctx = sessionContextOf(c);
  const refusals = refusalsOf(ctx.isolate);
  const refuse = (reason: string, refusal: Refusal): GatewayError => {
    emitTelemetry(ctx, { kind: 'auth_attempt', requestId: c.get('requestId'), ...attempt, reason });
    const [code, message, hint] = REFUSALS[refusal];
    return new GatewayError(code, message, { hint });
  };
  /** A lookup that could not run: 503, or a read-only unverified admission under AUTH_FAIL_MODE=open. */
  const unavailable = (which: 'policy_unavailable' | 'validation_unavailable', outcome: CacheOutcome<unknown>, clientName: string | undefined): AuthContext => {
    const cause = outcome.ok ? undefined : outcome.cause;
    const reason = outcome.ok ? undefined : outcome.reason;
    log('warn', `auth_${which}`, { requestId: c.get('requestId'), client: attempt.clientName, keyPrefix: attempt.keyPrefix, reason, cause: describeCause(cause) });
    // Failing open needs a client to admit as; without one (verify by key alone) it stays closed.
    const mayFailOpen = settings.AUTH_FAIL_MODE === 'open' && settings.AUTH_FAIL_OPEN_SCOPES !== 'none' && opts.allowFailOpen !== false;
    if (mayFailOpen && clientName !== undefined && reason !== 'cancelled') {
      emitTelemetry(ctx, { kind: 'auth_attempt', requestId: c.get('requestId'), ...attempt, reason: `fail_open:${which}` });
      log('warn', 'auth_fail_open_admitted', { requestId: c.get('requestId'), client: attempt.clientName, keyPrefix: attempt.keyPrefix, scopes: settings.AUTH_FAIL_OPEN_SCOPES });
      refusals.failOpen(clientName);
      return { clientName, authenticated: false, failOpen: true };
    }
    throw refuse(which, which);
  };
  const noteStale = (what: string, outcome: CacheOutcome<unknown>): void => {
    if (outcome.ok && outcome.source === 'stale') log('warn', 'auth_stale_served', { requestId: c.get('requestId'), what, keyPrefix: attempt.keyPrefix });
  };
  return { settings, ctx, refusals, refuse, unavailable, noteStale, signal: c.req.raw.signal };
}

type Tools = ReturnType<typeof toolsFor>;

async function decide(c: Context<AppEnv>, opts: AuthenticateOptions): Promise<AuthContext> {
  const headerClient = c.req.header('x-athena-client')?.trim() || undefined;
  const attempt: Attempt = { clientName: loggableClientName(headerClient), keyPrefix: null };
  const t = toolsFor(c, opts, attempt);

  if (!headerClient && opts.client !== 'header-or-key') throw t.refuse('missing_client_header', 'missing_client_header');
  const credentials = readApiKey(c.req.raw.headers);
  if (credentials.kind === 'conflict') throw t.refuse('conflicting_credentials', 'conflicting_credentials');
  let parsed: ParsedKey | undefined;
  if (credentials.kind === 'key') {
    parsed = parseApiKey(credentials.key);
    if (!parsed) throw forged(t, 'malformed_key', headerClient);
    attempt.keyPrefix = parsed.prefix;
    const verdict = await offlineKeyCheck(t.ctx.isolate, parsed);
    if (verdict === 'forged') throw forged(t, 'forged_key', headerClient);
    if (verdict === 'legacy' && !t.settings.AUTH_ACCEPT_LEGACY_KEYS) throw t.refuse('legacy_key', 'invalid_key');
  }
  if (headerClient && !CLIENT_NAME.test(headerClient)) throw unknownClient(t);

  if (headerClient === undefined) {
    // No client header (verify): the key names its client.
    if (!parsed) throw t.refuse('missing_key', 'missing_key');
    const key = await resolveKey(t, parsed, undefined);
    if (!('id' in key)) return key; // unreachable: without a client, unavailable() throws
    attempt.clientName = key.clientName;
    const policy = await admitClient(t, key.clientName);
    if (!('isActive' in policy)) return policy;
    return authenticated(key, policy);
  }
  const policy = await admitClient(t, headerClient);
  if (!('isActive' in policy)) return policy; // failed open
  if (!parsed) {
    if (policy.enforcement === 'required' || opts.requireKey) throw t.refuse('missing_key', 'missing_key');
    return withLimit({ clientName: headerClient, authenticated: false, policy }, undefined, policy);
  }
  const key = await resolveKey(t, parsed, headerClient);
  if (!('id' in key)) return withLimit({ ...key, policy }, undefined, policy); // failed open: the client's limit still counts
  if (key.clientName !== headerClient) throw t.refuse('client_mismatch', 'client_mismatch');
  return authenticated(key, policy);
}

/** The client's policy if it may use the gateway, else a refusal (or a fail-open admission). */
async function admitClient(t: Tools, clientName: string): Promise<ClientPolicy | AuthContext> {
  const outcome = await loadClientPolicy(t.ctx, clientName, t.signal);
  if (!outcome.ok) return t.unavailable('policy_unavailable', outcome, clientName);
  t.noteStale('policy', outcome);
  const policy = outcome.value;
  if (policy === null) throw unknownClient(t);
  if (!policy.isActive) throw t.refuse('client_inactive', 'client_inactive');
  if (policy.isFrozen) throw t.refuse('client_frozen', 'client_frozen');
  return policy;
}

/**
 * The presented key's record if usable, else a refusal. A legacy key must carry the prefix of a
 * live key in the directory (of `clientName` when given) before it may cost a lookup.
 */
async function resolveKey(t: Tools, key: ParsedKey, clientName: string | undefined): Promise<KeyRecord | AuthContext> {
  let owner = clientName;
  if (key.tag === null || t.settings.KEY_SIGNING_SECRETS.length === 0) {
    const answer = await directoryFor(t.ctx, (d) => checkPrefix(d, key.prefix, clientName) !== 'unlisted', t.signal);
    if (!answer.ok) return t.unavailable('validation_unavailable', answer.outcome, clientName);
    if (checkPrefix(answer.directory, key.prefix, clientName) === 'unlisted') throw forged(t, 'unlisted_prefix', clientName);
    owner ??= answer.directory.prefixOwner.get(key.prefix);
  }
  const outcome = await lookupKey(t.ctx, await hashApiKey(key.key), owner ?? BY_KEY_OWNER, t.signal);
  if (!outcome.ok) return t.unavailable('validation_unavailable', outcome, clientName);
  t.noteStale('key', outcome);
  if (outcome.value === null) throw t.refuse('unknown_key', 'invalid_key');
  const state = keyState(outcome.value, Date.now());
  if (state !== 'active') throw t.refuse(`${state}_key`, 'invalid_key');
  return outcome.value;
}

/** Fair-share owner of key lookups whose client is not known before the lookup (verify by a signed key alone). */
const BY_KEY_OWNER = '(by key)';

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
function withLimit(auth: AuthContext, key: KeyRecord | undefined, policy: ClientPolicy): AuthContext {
  const rateLimit = applicableLimit(key, policy);
  return rateLimit ? { ...auth, rateLimit } : auth;
}

/** A key the gateway did not mint: counted (against the named client only when it is a real one), 401. */
function forged(t: Tools, reason: string, clientName: string | undefined): GatewayError {
  t.refusals.forged(clientName !== undefined && listsClient(t.ctx.isolate, clientName) ? clientName : undefined);
  return t.refuse(reason, 'invalid_key');
}

function unknownClient(t: Tools): GatewayError {
  t.refusals.unknownClient();
  return t.refuse('unknown_client', 'unknown_client');
}

/** Error class plus its kind (budget_timeout, connect_failed) or SQLSTATE; never its message. */
function describeCause(cause: unknown): string | undefined {
  if (!(cause instanceof Error)) return undefined;
  const detail = 'kind' in cause ? cause.kind : 'code' in cause ? cause.code : undefined;
  return typeof detail === 'string' ? `${cause.name}:${detail}` : cause.name;
}
