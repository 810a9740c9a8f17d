/**
 * The one way request code touches a database: acquire a permit from the target's budget, open a
 * Neon session, run `fn`, close via waitUntil, release the permit in `finally`.
 */
import type { Isolate } from '../isolate.js';
import { openSession, type Session } from './session.js';
import { targetOf, type Target } from './target.js';

export type SessionPurpose = 'auth' | 'policy' | 'tenant' | 'logging' | 'stats' | 'ready';

export type SessionContext = {
  isolate: Isolate;
  waitUntil(promise: Promise<unknown>): void;
  requestId?: string;
};

/** The session could not be had: no permit in time, or the database refused the connection. */
export class SessionUnavailableError extends Error {
  constructor(
    readonly kind: 'budget_timeout' | 'connect_failed',
    readonly target: Target,
    readonly waitedMs: number,
  ) {
    super(`${kind} for ${target.label} after ${waitedMs} ms`);
    this.name = 'SessionUnavailableError';
  }
}

export type WithSessionOptions = {
  /** Overrides DB_ACQUIRE_TIMEOUT_MS (telemetry waits only briefly). */
  acquireTimeoutMs?: number;
};

export async function withSession<T>(
  ctx: SessionContext,
  databaseUrl: string,
  purpose: SessionPurpose,
  fn: (session: Session) => Promise<T>,
  opts: WithSessionOptions = {},
): Promise<T> {
  const { settings } = ctx.isolate;
  const target = targetOf(databaseUrl);
  // TODO(auth issue): acquire a permit from ctx.isolate.budgets here, honouring opts.acquireTimeoutMs.
  void purpose;
  void opts;
  const started = Date.now();
  let session: Session;
  try {
    session = await openSession(databaseUrl, {
      statementTimeoutMs: settings.DB_STATEMENT_TIMEOUT_MS,
      localWsProxy: settings.NEON_LOCAL_WS_PROXY,
    });
  } catch {
    throw new SessionUnavailableError('connect_failed', target, Date.now() - started);
  }
  try {
    return await fn(session);
  } finally {
    ctx.waitUntil(session.close());
  }
}
