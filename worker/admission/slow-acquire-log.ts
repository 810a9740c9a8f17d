/**
 * Wires the slow-acquire policy to the isolate and the log: one tracker per isolate (its counts
 * persist across requests), a `db_acquire_slow` warning when the policy says so.
 */
import type { Target } from '../db/target.js';
import type { Settings } from '../config.js';
import { log } from '../log.js';
import { systemClock } from './clock.js';
import { createSlowAcquireTracker, type SlowAcquireTracker } from './slow-acquire.js';

/** At most one warning per target per this interval; the next line says how many were skipped. */
const SLOW_ACQUIRE_WARN_INTERVAL_MS = 10_000;

/** The isolate's slow-acquire tracker (one of its services). */
export const createSlowAcquireLog = (settings: Settings) =>
  createSlowAcquireTracker({ thresholdMs: settings.DB_ACQUIRE_SLOW_MS, warnIntervalMs: SLOW_ACQUIRE_WARN_INTERVAL_MS, now: systemClock.now });

/** The tracker to count in, the threshold the warning names, and the request that waited. */
type Where = { tracker: SlowAcquireTracker; thresholdMs: number; requestId?: string | undefined };

/** Call after a permit was granted: counts the wait, warns when it was slow (rate-limited). */
export function noteAcquire(at: Where, target: Target, purpose: string, waitedMs: number, budget: { snapshot(): { inUse: number; waiting: number } }): void {
  const verdict = at.tracker.record(target.key, waitedMs);
  if (!verdict.warn) return;
  const { inUse, waiting } = budget.snapshot();
  log('warn', 'db_acquire_slow', {
    requestId: at.requestId,
    target: target.label,
    purpose,
    waitedMs,
    thresholdMs: at.thresholdMs,
    inUse,
    waiting,
    notLoggedSinceLast: verdict.suppressed,
  });
}
