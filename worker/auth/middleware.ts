/**
 * `authenticate()`: the auth hot path (docs/auth.md "The path, in order") — client header, credentials, client policy, key —
 * ending in `c.var.auth`. Expected failures become the gateway's error envelope here; every refusal
 * also emits an `auth_attempt` event (reason and key prefix, never the key).
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env.js';
import { GatewayError, type ErrorCode } from '../errors.js';
import { emitTelemetry } from '../telemetry/emit.js';
import { log } from '../log.js';
import type { AuthContext } from './context.js';
import { loggableClientName, readApiKey } from './credentials.js';
import { hashApiKey, parseApiKey, type ParsedKey } from './key-format.js';
import { CLIENT_NAME, loadClientPolicy, type ClientPolicy } from './policy.js';
import { keyState, lookupKey, type KeyRecord } from './keys.js';
import type { CacheOutcome } from './cache.js';
import { sessionContextOf } from '../db/session-context.js';

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

async function decide(c: Context<AppEnv>, opts: AuthenticateOptions): Promise<AuthContext> {
  const settings = c.get('settings');
  const ctx = sessionContextOf(c);
  const signal = c.req.raw.signal;
  const headerClient = c.req.header('x-athena-client')?.trim() || undefined;
  const attempt: { clientName: string | null; keyPrefix: string | null } = { clientName: loggableClientName(headerClient), keyPrefix: null };

  const refuse = (reason: string, refusal: Refusal): GatewayError => {
    emitTelemetry(ctx, { kind: 'auth_attempt', requestId: c.get('requestId'), ...attempt, reason });
    const [code, message, hint] = REFUSALS[refusal];
    return new GatewayError(code, message, { hint });
  };
  /** A lookup that could not run: 503, or anonymous admission under AUTH_FAIL_MODE=open. */
  const unavailable = (which: 'policy_unavailable' | 'validation_unavailable', outcome: CacheOutcome<unknown>, clientName: string | undefined): AuthContext => {
    const cause = outcome.ok ? undefined : outcome.cause;
    log('warn', `auth_${which}`, {
      requestId: c.get('requestId'),
      client: attempt.clientName,
      keyPrefix: attempt.keyPrefix,
      reason: outcome.ok ? undefined : outcome.reason,
      cause: describeCause(cause),
    });
    // Failing open needs a client to admit as; without one (verify by key alone) it stays closed.
    if (settings.AUTH_FAIL_MODE === 'open' && opts.allowFailOpen !== false && clientName !== undefined) {
      emitTelemetry(ctx, { kind: 'auth_attempt', requestId: c.get('requestId'), ...attempt, reason: `fail_open:${which}` });
      return { clientName, authenticated: false };
    }
    throw refuse(which, which);
  };
  const noteStale = (what: string, outcome: CacheOutcome<unknown>): void => {
    if (outcome.ok && outcome.source === 'stale') log('warn', 'auth_stale_served', { requestId: c.get('requestId'), what, keyPrefix: attempt.keyPrefix });
  };

  if (!headerClient && opts.client !== 'header-or-key') throw refuse('missing_client_header', 'missing_client_header');
  const credentials = readApiKey(c.req.raw.headers);
  if (credentials.kind === 'conflict') throw refuse('conflicting_credentials', 'conflicting_credentials');
  let parsed: ParsedKey | undefined;
  if (credentials.kind === 'key') {
    parsed = parseApiKey(credentials.key);
    if (!parsed) throw refuse('malformed_key', 'invalid_key'); // before any DB work
    attempt.keyPrefix = parsed.prefix;
  }
  if (headerClient && !CLIENT_NAME.test(headerClient)) throw refuse('unknown_client', 'unknown_client');

  /** The presented key's record if usable, else a refusal. */
  const resolveKey = async (key: ParsedKey, clientName: string | undefined): Promise<KeyRecord | AuthContext> => {
    const outcome = await lookupKey(ctx, await hashApiKey(key.key), signal);
    if (!outcome.ok) return unavailable('validation_unavailable', outcome, clientName);
    noteStale('key', outcome);
    if (outcome.value === null) throw refuse('unknown_key', 'invalid_key');
    const state = keyState(outcome.value, Date.now());
    if (state !== 'active') throw refuse(`${state}_key`, 'invalid_key');
    return outcome.value;
  };

  let key: KeyRecord | undefined;
  let clientName = headerClient;
  if (clientName === undefined) {
    // No client header (verify): the key names its client.
    if (!parsed) throw refuse('missing_key', 'missing_key');
    const found = await resolveKey(parsed, undefined);
    if (!('id' in found)) return found; // unreachable: without a client, unavailable() throws
    key = found;
    clientName = found.clientName;
    attempt.clientName = clientName;
  }

  const policyOutcome = await loadClientPolicy(ctx, clientName, signal);
  if (!policyOutcome.ok) return unavailable('policy_unavailable', policyOutcome, clientName);
  noteStale('policy', policyOutcome);
  const policy: ClientPolicy | null = policyOutcome.value;
  if (policy === null) throw refuse('unknown_client', 'unknown_client');
  if (!policy.isActive) throw refuse('client_inactive', 'client_inactive');
  if (policy.isFrozen) throw refuse('client_frozen', 'client_frozen');

  if (!parsed) {
    if (policy.enforcement === 'required' || opts.requireKey) throw refuse('missing_key', 'missing_key');
    return { clientName, authenticated: false, policy };
  }
  if (!key) {
    const found = await resolveKey(parsed, clientName);
    if (!('id' in found)) return { ...found, policy }; // failed open
    key = found;
  }
  if (key.clientName !== clientName) throw refuse('client_mismatch', 'client_mismatch');
  return {
    clientName,
    authenticated: true,
    policy,
    key: {
      id: key.id,
      prefix: key.prefix,
      scopes: key.scopes,
      expiresAt: key.expiresAt === null ? null : new Date(key.expiresAt).toISOString(),
    },
  };
}

/** Error class plus its kind (budget_timeout, connect_failed) or SQLSTATE; never its message. */
function describeCause(cause: unknown): string | undefined {
  if (!(cause instanceof Error)) return undefined;
  const detail = 'kind' in cause ? cause.kind : 'code' in cause ? cause.code : undefined;
  return typeof detail === 'string' ? `${cause.name}:${detail}` : cause.name;
}
