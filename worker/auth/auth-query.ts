/**
 * One auth query on the auth target: under its budget (a refresh of a known-good entry ahead of
 * first-time lookups), within the fair share of the client it is for, and with its own
 * `statement_timeout` and `lock_timeout` (AUTH_LOOKUP_TIMEOUT_MS) so a blocked catalog table costs
 * a permit for that long at most. A first-time lookup over its client's share waits — on its own
 * timer — for one of that client's lookups to end; the share wait and the permit wait together
 * stay within DB_ACQUIRE_TIMEOUT_MS. The caller's request signal ends either wait when it aborts.
 */
import type { Settings } from '../config.js';
import { SessionUnavailableError, withSession, type SessionContext, type SessionPurpose } from '../db/with-session.js';
import type { Session } from '../db/session.js';
import { createShareGate, shareCap, type ShareGate } from './fair-share.js';
import type { LoadContext } from './cache.js';
import { pollFor } from '../admission/poll.js';
import { systemClock } from '../admission/clock.js';

/** Bound on distinct owners with their own counters (the rest share one row). */
const MAX_SHARE_OWNERS = 1000;

/** The client already has its share of the auth budget in lookups. */
class ShareExceededError extends Error {
  constructor() {
    super('client lookup share exceeded');
    this.name = 'ShareExceededError';
  }
}

/**
 * True when a lookup failed on the gateway's own admission (no permit, or its client's share stayed
 * full, within the acquire timeout): the catalog was never asked, so the answer is "busy", not "down".
 */
export function isAdmissionTimeout(cause: unknown): boolean {
  return cause instanceof ShareExceededError || (cause instanceof SessionUnavailableError && cause.kind === 'budget_timeout');
}

/** The isolate's fair-share gate for auth lookups (one of its services). */
export const createAuthShareGate = (settings: Settings): ShareGate =>
  createShareGate({ cap: shareCap(settings.DB_POOL_MAX, settings.AUTH_CLIENT_MAX_SHARE), maxOwners: MAX_SHARE_OWNERS });

/**
 * Runs `fn` on an auth session for `owner` (a client name; undefined = not counted against any
 * client's share, e.g. the one directory load per isolate). Throws `ShareExceededError` without
 * touching the budget when `owner`'s share stays full for the whole acquire timeout.
 */
export async function authQuery<T>(
  ctx: SessionContext,
  purpose: Extract<SessionPurpose, 'auth' | 'policy'>,
  owner: string | undefined,
  lc: LoadContext,
  fn: (session: Session) => Promise<T>,
): Promise<T> {
  const { settings } = ctx.isolate;
  const gate = ctx.isolate.services.shareGate;
  const deadline = Date.now() + settings.DB_ACQUIRE_TIMEOUT_MS;
  if (owner !== undefined && lc.refresh)
    gate.enter(owner); // single-flight bounds refreshes: one per key
  else if (owner !== undefined && !gate.tryEnter(owner)) {
    const entered = await pollFor(systemClock, () => (gate.tryEnter(owner) ? true : undefined), deadline, lc.signal);
    if (!entered.ok) {
      if (entered.reason === 'timeout') gate.refused(owner);
      throw new ShareExceededError();
    }
  }
  // Leaves the share at once when the request is cancelled: workerd may never run the `finally`
  // of a cancelled request, and a share slot, unlike a permit, has no lease to reclaim it.
  let left = owner === undefined;
  const leave = (): void => {
    if (left || owner === undefined) return;
    left = true;
    gate.leave(owner);
  };
  lc.signal?.addEventListener('abort', leave, { once: true });
  try {
    return await withSession(ctx, settings.authDatabaseUrl, purpose, fn, {
      acquireTimeoutMs: Math.max(1, deadline - Date.now()),
      signal: lc.signal,
      priority: lc.refresh ? 'refresh' : 'normal',
      lookupTimeoutMs: settings.AUTH_LOOKUP_TIMEOUT_MS,
    });
  } finally {
    lc.signal?.removeEventListener('abort', leave);
    leave();
  }
}
