/**
 * `authenticate()`: the auth hot path (docs/auth.md "The path, in order") — client header,
 * credentials, key tag (offline), client directory, key — ending in `c.var.auth`. Forged keys and
 * unknown client names are refused from memory; only keys that may be real cost a (cached,
 * single-flight, fair-shared) lookup. The steps live in auth/decision-steps.ts, run by
 * auth/decision.ts; here, in one place, a decision becomes the auth context, or a counted refusal
 * with an `auth_attempt` event (reason and key prefix, never the key) and the gateway's error envelope.
 */
import type { MiddlewareHandler } from 'hono';
import type { AuthedEnv } from '../env.js';
import { GatewayError, type ErrorCode } from '../errors.js';
import { emitTelemetry } from '../telemetry/emit.js';
import { log } from '../log.js';
import type { RequestContext } from '../request-context.js';
import type { AuthContext } from '../auth/context.js';
import { loggableClientName } from '../auth/credentials.js';
import { listsClient } from '../auth/client-directory.js';
import { judge, withLimit, type Decision, type DecisionRules, type Refusal, type RefusalName, type Unavailable } from '../auth/decision.js';
import { isAdmissionTimeout } from '../auth/auth-query.js';

type AuthenticateOptions = {
  /** Where the client comes from: the `X-Athena-Client` header (default), or else the key's own client. */
  client?: 'header' | 'header-or-key';
  /** Refuse anonymous access even when the client's enforcement is optional. */
  requireKey?: boolean;
  /** Honour AUTH_FAIL_MODE=open (default true); an endpoint that vouches for a key never fails open. */
  allowFailOpen?: boolean;
};

/** What each refusal tells the client, as (code, message, hint); the reason goes to telemetry only. */
const REFUSALS = {
  missing_client_header: ['missing_client_header', 'Missing X-Athena-Client header', 'Send X-Athena-Client: <client name>.'],
  conflicting_credentials: [
    'conflicting_credentials',
    'Conflicting API keys in request headers',
    'Send the key in one header (X-Athena-Key), or make every key header carry the same key.',
  ],
  missing_key: ['missing_api_key', 'Missing API key', 'Send X-Athena-Key: <key> (also accepted: apikey, x-api-key, Authorization: Bearer <key>).'],
  invalid_key: ['invalid_api_key', 'Invalid API key', 'The key is malformed, unknown, revoked or expired; create a new one with the gateway CLI.'],
  unknown_client: ['unknown_client', 'Unknown client', 'Check the X-Athena-Client header against the registered clients.'],
  client_inactive: ['client_inactive', 'Client is inactive', 'An operator must re-activate this client.'],
  client_frozen: ['client_frozen', 'Client is frozen', 'An operator must unfreeze this client.'],
  client_mismatch: ['key_client_mismatch', 'API key does not belong to this client', 'Use a key created for the client named in X-Athena-Client.'],
  policy_unavailable: [
    'api_key_policy_unavailable',
    'API key policy unavailable',
    'The client policy could not be loaded in time; retry after Retry-After seconds.',
  ],
  validation_unavailable: [
    'api_key_validation_unavailable',
    'API key validation unavailable',
    'The API key could not be checked in time; retry after Retry-After seconds.',
  ],
  policy_busy: ['api_key_policy_busy', 'API key policy busy', 'The gateway is at its connection budget for the key catalog; retry after Retry-After seconds.'],
  validation_busy: [
    'api_key_validation_busy',
    'API key validation busy',
    'The gateway is at its connection budget for the key catalog; retry after Retry-After seconds.',
  ],
} as const satisfies Record<RefusalName | Unanswered, readonly [ErrorCode, string, string]>;

/** A lookup that could not run, as answered: busy (the gateway's own permit wait ran out) or unavailable (the catalog failed or was too slow). */
type Unanswered = Unavailable['unavailable'] | 'policy_busy' | 'validation_busy';
const BUSY = { policy_unavailable: 'policy_busy', validation_unavailable: 'validation_busy' } as const satisfies Record<Unavailable['unavailable'], Unanswered>;

export const authenticate = (opts: AuthenticateOptions = {}): MiddlewareHandler<AuthedEnv> => {
  const rules: DecisionRules = { clientFrom: opts.client ?? 'header', requireKey: opts.requireKey ?? false };
  const allowFailOpen = opts.allowFailOpen !== false;
  return function authenticate(c, next) {
    const ctx = c.get('ctx');
    const { raw } = c.req;
    const judged = judge(ctx, raw, rules);
    // A decision from memory is a plain value: the chain goes on without a promise or frame of ours.
    if (!(judged instanceof Promise)) {
      c.set('auth', contextOf(ctx, raw.headers, judged, allowFailOpen));
      return next();
    }
    return judged.then((decision) => {
      c.set('auth', contextOf(ctx, raw.headers, decision, allowFailOpen));
      return next();
    });
  };
};

/** The verdict as the request's auth context; a refusal (or an unavailable lookup that may not fail open) is thrown. */
function contextOf(ctx: RequestContext, headers: Headers, decision: Decision, allowFailOpen: boolean): AuthContext {
  const { verdict } = decision;
  if ('admitted' in verdict) return verdict.admitted;
  const attempt = attemptOf(headers, decision);
  if ('refused' in verdict) throw refused(ctx, attempt, verdict);
  return unavailable(ctx, attempt, verdict, allowFailOpen);
}

/** The attempt as telemetry records it: the client named (the key's, else the loggable header value) and the key prefix. */
type Attempt = { clientName: string | null; keyPrefix: string | null };

function attemptOf(headers: Headers, decision: Decision): Attempt {
  return { clientName: decision.keyClient ?? loggableClientName(headers.get('x-athena-client') ?? undefined), keyPrefix: decision.keyPrefix };
}

/** Counts the refusal, records its `auth_attempt` event, and builds the error to throw. */
function refused(ctx: RequestContext, attempt: Attempt, r: Refusal | { refused: Unanswered; reason: string }): GatewayError {
  const counters = ctx.services.authRefusals;
  if ('counts' in r && r.counts === 'forged') counters.forged(r.client !== undefined && listsClient(ctx.services.directory, r.client) ? r.client : undefined);
  if ('counts' in r && r.counts === 'unknown_client') counters.unknownClient();
  emitTelemetry(ctx, { kind: 'auth_attempt', requestId: ctx.requestId, ...attempt, reason: r.reason });
  const [code, message, hint] = REFUSALS[r.refused];
  return new GatewayError(code, message, { hint });
}

/** A lookup that could not run: 503, or a read-only unverified admission under AUTH_FAIL_MODE=open. */
function unavailable(ctx: RequestContext, attempt: Attempt, u: Unavailable, allowFailOpen: boolean): AuthContext {
  const { settings, requestId } = ctx;
  const { clientName, keyPrefix } = attempt;
  const cause = u.outcome.ok ? undefined : u.outcome.cause;
  const reason = u.outcome.ok ? undefined : u.outcome.reason;
  const answer: Unanswered = isAdmissionTimeout(cause) ? BUSY[u.unavailable] : u.unavailable;
  log('warn', `auth_${answer}`, { requestId, client: clientName, keyPrefix, reason, cause: describeCause(cause) });
  // Failing open needs a client to admit as; without one (verify by key alone) it stays closed.
  const mayFailOpen = settings.AUTH_FAIL_MODE === 'open' && settings.AUTH_FAIL_OPEN_SCOPES !== 'none' && allowFailOpen;
  if (!mayFailOpen || u.clientName === undefined || reason === 'cancelled') throw refused(ctx, attempt, { refused: answer, reason: answer });
  emitTelemetry(ctx, { kind: 'auth_attempt', requestId, clientName, keyPrefix, reason: `fail_open:${answer}` });
  log('warn', 'auth_fail_open_admitted', { requestId, client: clientName, keyPrefix, scopes: settings.AUTH_FAIL_OPEN_SCOPES });
  ctx.services.authRefusals.failOpen(u.clientName);
  const auth: AuthContext = { clientName: u.clientName, authenticated: false, failOpen: true };
  // A key lookup failed after the policy was read: the client's limit still counts.
  return u.policy ? withLimit({ ...auth, policy: u.policy }, undefined, u.policy) : auth;
}

/** Error class plus its kind (budget_timeout, connect_failed) or SQLSTATE; never its message. */
function describeCause(cause: unknown): string | undefined {
  if (!(cause instanceof Error)) return undefined;
  const detail = 'kind' in cause ? cause.kind : 'code' in cause ? cause.code : undefined;
  return typeof detail === 'string' ? `${cause.name}:${detail}` : cause.name;
}
