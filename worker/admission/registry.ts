/**
 * The isolate's budgets, one per normalized connection target (docs/auth.md "Admission budget"): URLs that reach the same
 * database as the same role share one budget — exactly when auth and logging would share a pool.
 * Wires the pure budget to the real clock and timers; the state persists across requests.
 */
import type { Target } from '../db/target.js';
import type { Settings } from '../config.js';
import { CLIENT_CHECK_INTERVAL_MS } from '../db/bounded-query.js';
import { systemClock } from './clock.js';
import { createBudget, type Budget, type BudgetSnapshot } from './budget.js';
import { createConnectWatch, type ConnectWatch } from './resume-wait.js';
import type { SlowAcquireCounts, SlowAcquireTracker } from './slow-acquire.js';

/** The isolate's budgets by target key (one of its services), each with its target's pending connects. */
export type Budgets = Map<string, { target: Target; budget: Budget; connects: ConnectWatch }>;

/** The budget of `target` among `budgets`, created on first use from `settings`. */
export function budgetFor(budgets: Budgets, settings: Settings, target: Target): Budget {
  const existing = budgets.get(target.key);
  if (existing) return existing.budget;
  const budget = createBudget({
    permits: settings.DB_POOL_MAX,
    timeoutMs: settings.DB_ACQUIRE_TIMEOUT_MS,
    leaseMs: settings.DB_PERMIT_LEASE_MS,
    reclaimGraceMs: reclaimGraceMs(settings),
    ...systemClock,
  });
  budgets.set(target.key, { target, budget, connects: createConnectWatch() });
  return budget;
}

/** The connects pending on `target` (created with its budget). */
export function connectsFor(budgets: Budgets, settings: Settings, target: Target): ConnectWatch {
  budgetFor(budgets, settings, target);
  const entry = budgets.get(target.key);
  if (!entry) throw new Error(`no budget for ${target.label}`);
  return entry.connects;
}

/**
 * How long a reclaimed lease stays busy: its holder, if alive, aborts the session on its own timer
 * at the lease (a cancel request bounded by the connect timeout); if gone, its connection went with
 * it, and the server ends the backend within a statement timeout (or the socket check) of that.
 */
function reclaimGraceMs(settings: Settings): number {
  return Math.max(settings.DB_STATEMENT_TIMEOUT_MS, settings.AUTH_LOOKUP_TIMEOUT_MS) + CLIENT_CHECK_INTERVAL_MS + settings.DB_CONNECT_TIMEOUT_MS;
}

/** One target's counters, labelled without credentials (`host:port/database`). */
type TargetSnapshot = BudgetSnapshot & SlowAcquireCounts & { target: string };

/** Snapshot of every budget, with its target's slow acquires (for `/__gateway/status` and tests). */
export function admissionSnapshot(budgets: Budgets, slowAcquire: SlowAcquireTracker): TargetSnapshot[] {
  return [...budgets.values()].map(({ target, budget }) => ({ target: target.label, ...budget.snapshot(), ...slowAcquire.counts(target.key) }));
}
