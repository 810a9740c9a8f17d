/**
 * The isolate's snapshot as a counter batch carries it (drizzle/fleet-snapshot.ts): its id and
 * uptime, budgets per target, refusals by code, requests and latency per route family, telemetry
 * drops by reason. Read from memory when a batch is sent, never per request.
 */
import { MAX_CODES, MAX_TARGETS, type BudgetCounts, type IsolateSnapshot } from '../../drizzle/fleet-snapshot.js';
import { admissionSnapshot } from '../admission/registry.js';
import type { IsolateView } from '../isolate-view.js';
import { telemetrySnapshot } from '../telemetry/task.js';

const CODE = /^[a-z0-9_]{1,48}$/;

/**
 * At most MAX_CODES codes: the most frequent ones, the rest summed under `other` (a code outside
 * the wire pattern counts there too).
 */
export function boundedCodes(byCode: Readonly<Record<string, number>>): Record<string, number> {
  const entries = Object.entries(byCode).sort((a, b) => b[1] - a[1]);
  const out: Record<string, number> = {};
  let other = 0;
  for (const [code, n] of entries) {
    if (CODE.test(code) && code !== 'other' && Object.keys(out).length < MAX_CODES - 1) out[code] = n;
    else other += n;
  }
  if (other > 0) out.other = other;
  return out;
}

/** The busiest MAX_TARGETS targets (in use plus waiting), labels cut to the wire bound. */
export function boundedBudgets(budgets: readonly BudgetCounts[]): BudgetCounts[] {
  return [...budgets]
    .sort((a, b) => b.in_use + b.waiting - (a.in_use + a.waiting))
    .slice(0, MAX_TARGETS)
    .map((b) => ({ ...b, target: b.target.replace(/[\u0000@]/g, '').slice(0, 255) || '?' }));
}

export function isolateSnapshot(isolate: IsolateView, now: number): IsolateSnapshot {
  const telemetry = telemetrySnapshot(isolate.services.telemetry);
  return {
    isolate_id: isolate.services.fleet.id,
    started_at: new Date(isolate.startedAt).toISOString(),
    at: new Date(now).toISOString(),
    uptime_ms: Math.max(0, now - isolate.startedAt),
    budgets: boundedBudgets(
      admissionSnapshot(isolate.services.budgets, isolate.services.slowAcquire).map((b) => ({
        target: b.target,
        in_use: b.inUse,
        size: b.size,
        waiting: b.waiting,
        slow_acquires: b.slowAcquires,
        timeouts: b.timeouts,
        acquired: b.acquired,
      })),
    ),
    refusals: boundedCodes(isolate.services.refusals.byCode),
    routes: isolate.services.fleet.routes(),
    telemetry: { accepted: telemetry.accepted, dropped: { ...telemetry.droppedByReason } },
  };
}
