/**
 * The one way request code touches a database: acquire a permit from the target's budget, open a
 * Neon session, run `fn`, close it via waitUntil and release the permit once it has closed.
 */
import type { Isolate } from '../isolate.js';
import { budgetFor } from '../admission/registry.js';
import { noteAcquire } from '../admission/slow-acquire-log.js';
import { openSession, SessionConnectError, type Session } from './session.js';
import { targetOf, type Target } from './target.js';

export type SessionPurpose = 'auth' | 'policy' | 'tenant' | 'logging' | 'stats' | 'ready' | 'idempotency';

/** A budget timeout as the session context's hook hears of it (no credentials: the target's label). */
export type AdmissionRefusal = { target: string; purpose: SessionPurpose; waitedMs: number; inUse: number; waiting: number };

export type SessionContext = {
  readonly isolate: Isolate;
  waitUntil(promise: Promise<unknown>): void;
  readonly requestId?: string;
  /** Told when no permit came in time, before the timeout is thrown (the request scope records it). */
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
};

/**
 * Runs `fn` with a session on `databaseUrl` under that target's budget. Throws
 * `SessionUnavailableError('budget_timeout')` when no permit came within the acquire timeout (and
 * tells `ctx.onAdmissionRefused`), `('connect_failed')` when the database cannot be reached or
 * refuses the startup (also when its first query is the one that hears it); other errors of `fn`
 * pass through. The session closes via `waitUntil` and the permit is released once it has closed,
 * or at once when the request is cancelled.
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
  const budget = budgetFor(ctx.isolate, target);
  const acquired = await budget.acquire({ timeoutMs: opts.acquireTimeoutMs ?? settings.DB_ACQUIRE_TIMEOUT_MS, signal: opts.signal, priority: opts.priority });
  if (!acquired.ok && acquired.reason === 'cancelled') throw new SessionUnavailableError('cancelled', target, acquired.waitedMs);
  if (!acquired.ok) {
    const snap = budget.snapshot();
    ctx.onAdmissionRefused?.({ target: target.label, purpose, waitedMs: acquired.waitedMs, inUse: snap.inUse, waiting: snap.waiting });
    throw new SessionUnavailableError('budget_timeout', target, acquired.waitedMs);
  }
  noteAcquire(ctx, target, purpose, acquired.waitedMs, budget);
  const release = () => acquired.permit.release(); // idempotent
  // A request cancelled mid-session never runs its remaining code (workerd drops it), so the abort
  // event — the request's own — gives the permit back instead of leaving it to the lease.
  opts.signal?.addEventListener('abort', release, { once: true });
  let handedToClose = false;
  try {
    // The request went away while it waited: start no I/O on its behalf.
    if (opts.signal?.aborted) throw new SessionUnavailableError('cancelled', target, acquired.waitedMs);
    const started = Date.now();
    let session: Session;
    try {
      session = await openSession(databaseUrl, {
        statementTimeoutMs: opts.lookupTimeoutMs ?? settings.DB_STATEMENT_TIMEOUT_MS,
        lockTimeoutMs: opts.lookupTimeoutMs,
        connectTimeoutMs: settings.DB_CONNECT_TIMEOUT_MS,
        localWsProxy: settings.NEON_LOCAL_WS_PROXY,
      });
    } catch {
      throw new SessionUnavailableError('connect_failed', target, acquired.waitedMs + Date.now() - started);
    }
    try {
      return await fn(session);
    } catch (err) {
      // The startup travels with the first query, so a refused startup surfaces here.
      if (err instanceof SessionConnectError) throw new SessionUnavailableError('connect_failed', target, acquired.waitedMs + Date.now() - started);
      throw err;
    } finally {
      // The permit covers the connection until it is closed, so open sessions per target never
      // exceed DB_POOL_MAX; the lease still reclaims it if the close never settles.
      ctx.waitUntil(session.close().finally(release));
      handedToClose = true;
    }
  } finally {
    if (!handedToClose) release(); // connect failed: no session to close
  }
}
