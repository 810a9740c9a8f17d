/**
 * The one way request code touches a database: acquire a permit from the target's budget, open a
 * Neon session (over HTTP or a WebSocket: DB_TRANSPORT), run `fn`, close it via waitUntil and
 * release the permit once it has closed. A permit bounds what a session has in flight on either
 * transport: a WebSocket session's one connection, an HTTP session's requests.
 */
import type { IsolateView } from '../isolate-view.js';
import { budgetFor, connectsFor } from '../admission/registry.js';
import { transportFor } from './transport.js';
import type { Permit } from '../admission/budget.js';
import type { ConnectWatch } from '../admission/resume-wait.js';
import { noteAcquire } from '../admission/slow-acquire-log.js';
import { openSession, SessionConnectError, type Session, type SessionOptions } from './session.js';
import { openHttpSession } from './http-session.js';
import { acquireThroughResume, watchFirstAnswer } from './resume.js';
import { targetOf, type Target } from './target.js';

export type SessionPurpose = 'auth' | 'policy' | 'tenant' | 'logging' | 'stats' | 'ready' | 'idempotency';

/** A budget timeout as the session context's hook hears of it (no credentials: the target's label). */
export type AdmissionRefusal = { target: string; purpose: SessionPurpose; waitedMs: number; inUse: number; waiting: number };

export type SessionContext = {
  readonly isolate: IsolateView;
  waitUntil(promise: Promise<unknown>): void;
  readonly requestId?: string;
  /** Told when no permit came in time, before the timeout is thrown (the request context records it). */
  onAdmissionRefused?(refusal: AdmissionRefusal): void;
};

/** The session could not be had: no permit in time, the request went away, or no connection. */
export class SessionUnavailableError extends Error {
  constructor(
    readonly kind: 'budget_timeout' | 'cancelled' | 'connect_failed',
    readonly target: Target,
    readonly waitedMs: number,
  ) {
    super(`${kind} for ${target.label} after ${waitedMs} ms`);
    this.name = 'SessionUnavailableError';
  }
}

type WithSessionOptions = {
  /** Overrides DB_ACQUIRE_TIMEOUT_MS (telemetry waits only briefly; 0 = try-acquire). */
  acquireTimeoutMs?: number;
  /** The request's abort signal: a cancelled request leaves the queue instead of waiting. */
  signal?: AbortSignal | undefined;
  /** `refresh` (re-reading a known-good auth entry) is served before other waiters. */
  priority?: 'refresh' | 'normal';
  /** Per-session statement and lock timeout (auth lookups: AUTH_LOOKUP_TIMEOUT_MS); default DB_STATEMENT_TIMEOUT_MS, no lock timeout. */
  lookupTimeoutMs?: number;
  /** `fn` holds a transaction open between its own round trips: a WebSocket session whatever DB_TRANSPORT says. */
  interactive?: boolean;
};

/**
 * Runs `fn` with a session on `databaseUrl` under that target's budget. Throws
 * `SessionUnavailableError('budget_timeout')` when no permit came within the acquire timeout (and
 * tells `ctx.onAdmissionRefused`), `('connect_failed')` when the database cannot be reached or
 * refuses the startup (also when its first query is the one that hears it); other errors of `fn`
 * pass through. The session closes via `waitUntil` and the permit is released once it has closed;
 * when the request is cancelled or outlives DB_PERMIT_LEASE_MS, once its statement was cancelled
 * on the server and the connection ended.
 */
export async function withSession<T>(
  ctx: SessionContext,
  databaseUrl: string,
  purpose: SessionPurpose,
  fn: (session: Session) => Promise<T>,
  opts: WithSessionOptions = {},
): Promise<T> {
  const { settings } = ctx.isolate;
  const target = targetOf(databaseUrl);
  const connects = connectsFor(ctx.isolate.services.budgets, settings, target);
  const acquired = await admit(ctx, target, purpose, opts, connects);
  const lease = leasePermit(acquired.permit, settings.DB_PERMIT_LEASE_MS, opts.signal);
  try {
    // The request went away while it waited: start no I/O on its behalf.
    if (opts.signal?.aborted) throw new SessionUnavailableError('cancelled', target, acquired.waitedMs);
    const started = Date.now();
    const connected = connects.begin(started);
    const statementTimeoutMs = opts.lookupTimeoutMs ?? settings.DB_STATEMENT_TIMEOUT_MS;
    // Connected once the server accepts the startup: a first statement waiting on a lock is not a resume.
    const onAccepted = () => connected('connected', Date.now());
    const sessionOpts: SessionOptions = {
      statementTimeoutMs,
      lockTimeoutMs: statementTimeoutMs,
      connectTimeoutMs: settings.DB_CONNECT_TIMEOUT_MS,
      localWsProxy: settings.NEON_LOCAL_WS_PROXY,
      onAccepted,
    };
    const transport = transportFor(settings.DB_TRANSPORT, target.label, opts.interactive === true);
    const opening = lease.opening(open(transport, databaseUrl, sessionOpts, connects.answeredWithin(started, settings.DB_IDLE_SUSPEND_MS)));
    let session: Session;
    try {
      session = await opening;
    } catch {
      connected('failed', Date.now());
      throw new SessionUnavailableError('connect_failed', target, acquired.waitedMs + Date.now() - started);
    }
    try {
      return await fn(watchFirstAnswer(session, connected));
    } catch (err) {
      // The startup travels with the first query, so a refused startup surfaces here.
      if (err instanceof SessionConnectError) throw new SessionUnavailableError('connect_failed', target, acquired.waitedMs + Date.now() - started);
      throw err;
    } finally {
      connected(undefined, Date.now()); // no query asked: no longer pending either way
    }
  } finally {
    // Closing runs via waitUntil; the lease still reclaims the permit if it never settles.
    ctx.waitUntil(lease.end('close'));
  }
}

/**
 * Holds `permit` for a session: the permit covers the connection until it has closed — and, when
 * the request gives up (its abort event, or the lease running out on the request's own timer), until
 * the server was asked to cancel what it runs and the connection is gone — so no permit is free
 * while its backend runs. `opening` hands it the session being opened; `end` releases it once.
 */
function leasePermit(permit: Permit, leaseMs: number, signal: AbortSignal | undefined) {
  let opening: Promise<Session> | undefined;
  let ended: Promise<void> | undefined;
  const end = (how: 'close' | 'abort'): Promise<void> => {
    clearTimeout(leaseTimer);
    signal?.removeEventListener('abort', onAbort);
    const done = opening
      ? opening.then(
          (s) => (how === 'abort' ? s.abort() : s.close()),
          () => undefined,
        )
      : Promise.resolve();
    return (ended ??= done.finally(() => permit.release()));
  };
  const onAbort = (): void => void end('abort');
  const leaseTimer = setTimeout(onAbort, leaseMs);
  signal?.addEventListener('abort', onAbort, { once: true });
  return {
    opening: (p: Promise<Session>): Promise<Session> => {
      opening = p;
      return p;
    },
    end,
  };
}

/**
 * A session on `transport`. Over HTTP no startup is answered apart from the statement, so a
 * statement waiting on a lock cannot be told from a resuming database: on a target that answered
 * within DB_IDLE_SUSPEND_MS (`awake`) the session counts as connected at once (no extended permit
 * wait); on one silent for longer it counts as connecting until its first answer, as a WebSocket startup does
 * (docs/operations.md "Resume after idle").
 */
function open(transport: 'http' | 'ws', databaseUrl: string, sessionOpts: SessionOptions, awake: boolean): Promise<Session> {
  if (transport === 'ws') return openSession(databaseUrl, sessionOpts);
  if (awake) sessionOpts.onAccepted?.();
  return Promise.resolve(openHttpSession(databaseUrl, sessionOpts));
}

/** A permit of `target`'s budget, or the `SessionUnavailableError` that says why none came. */
async function admit(
  ctx: SessionContext,
  target: Target,
  purpose: SessionPurpose,
  opts: WithSessionOptions,
  connects: ConnectWatch,
): Promise<{ permit: Permit; waitedMs: number }> {
  const { settings } = ctx.isolate;
  const budget = budgetFor(ctx.isolate.services.budgets, settings, target);
  // A wait that runs out while the target's sessions are still connecting (a resume) is extended
  // once; telemetry stays best-effort and gives up as before.
  const acq = { timeoutMs: opts.acquireTimeoutMs ?? settings.DB_ACQUIRE_TIMEOUT_MS, signal: opts.signal, priority: opts.priority };
  const acquired = await acquireThroughResume(budget, purpose === 'logging' ? undefined : connects, acq, settings.DB_CONNECT_TIMEOUT_MS);
  if (!acquired.ok && acquired.reason === 'cancelled') throw new SessionUnavailableError('cancelled', target, acquired.waitedMs);
  if (!acquired.ok) {
    const snap = budget.snapshot();
    ctx.onAdmissionRefused?.({ target: target.label, purpose, waitedMs: acquired.waitedMs, inUse: snap.inUse, waiting: snap.waiting });
    throw new SessionUnavailableError('budget_timeout', target, acquired.waitedMs);
  }
  const slow = { tracker: ctx.isolate.services.slowAcquire, thresholdMs: settings.DB_ACQUIRE_SLOW_MS, requestId: ctx.requestId };
  noteAcquire(slow, target, purpose, acquired.waitedMs, budget);
  return acquired;
}
