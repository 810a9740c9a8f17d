/**
 * The isolate's budgets, one per normalized connection target (docs/auth.md "Admission budget"): URLs that reach the same
 * database as the same role share one budget — exactly when auth and logging would share a pool.
 * Wires the pure budget to the real clock and timers; the state persists across requests.
 */
import type { Isolate } from '../isolate.js';
import type { Target } from '../db/target.js';
import { systemClock } from './clock.js';
import { createBudget, type Budget, type BudgetSnapshot } from './budget.js';
import { slowAcquireCounts } from './slow-acquire-log.js';
import type { SlowAcquireCounts } from './slow-acquire.js';

/** The isolate's budgets by target key (one of its services). */
export type Budgets = Map<string, { target: Target; budget: Budget }>;

/** The budget of `target` in this isolate, created on first use from the isolate's settings. */
export function budgetFor(isolate: Isolate, target: Target): Budget {
  const budgets = isolate.services.budgets;
  const existing = budgets.get(target.key);
  if (existing) return existing.budget;
  const { settings } = isolate;
  const budget = createBudget({
    permits: settings.DB_POOL_MAX,
    timeoutMs: settings.DB_ACQUIRE_TIMEOUT_MS,
    leaseMs: settings.DB_PERMIT_LEASE_MS,
    ...systemClock,
  });
  budgets.set(target.key, { target, budget });
  return budget;
}

/** One target's counters, labelled without credentials (`host:port/database`). */
type TargetSnapshot = BudgetSnapshot & SlowAcquireCounts & { target: string };

/** Snapshot of every budget of this isolate (for `/__gateway/status` and tests). */
export function admissionSnapshot(isolate: Isolate): TargetSnapshot[] {
  return [...isolate.services.budgets.values()].map(({ target, budget }) => ({ target: target.label, ...budget.snapshot(), ...slowAcquireCounts(isolate, target) }));
}

