/**
 * Runs work under a budget permit, releasing it in `finally` whatever the work does. The worker
 * holds its permit across a session's whole life instead (db/with-session.ts); this is the budget
 * test's way to hold and return permits in bulk.
 */
import type { AcquireOptions, Budget } from '../../worker/admission/budget.js';

export type PermitOutcome<T> = { ok: true; value: T; waitedMs: number } | { ok: false; reason: 'timeout' | 'cancelled'; waitedMs: number };

export async function withPermit<T>(budget: Budget, opts: AcquireOptions, fn: () => Promise<T>): Promise<PermitOutcome<T>> {
  const acquired = await budget.acquire(opts);
  if (!acquired.ok) return acquired;
  try {
    return { ok: true, value: await fn(), waitedMs: acquired.waitedMs };
  } finally {
    acquired.permit.release();
  }
}
