/**
 * The fleet view (docs/operations.md "Fleet view"): per-second rates and latency quantiles computed
 * from two cumulative snapshots of each isolate (drizzle/fleet-snapshot.ts), and fleet totals.
 * The flusher serves it as `GET /fleet`; the CLI computes the same from `isolate_snapshots` rows.
 * Pure: snapshots and a clock value in, a JSON-safe document out.
 */
import { DROP_REASONS, ROUTE_FAMILIES, STATUS_COLUMNS, type FamilyCounts, type RouteFamily, type StatusColumn } from './fleet-snapshot.js';
import { latencyQuantile, round } from './fleet-quantile.js';
import { sumRoutes, windowOf, zeroDrops, type Drops, type IsolatePair, type Window } from './fleet-window.js';

/** A permit (or an auth lookup's fair share) that did not come within the acquire timeout (503). */
const BUSY_CODES = ['database_busy', 'api_key_validation_busy', 'api_key_policy_busy'];
/** A database that could not be reached, failed the session or did not answer in time (503). */
const DOWN_CODES = ['database_unavailable', 'api_key_validation_unavailable', 'api_key_policy_unavailable'];

type StatusRates = Record<StatusColumn, number>;
export type Quantiles = { p50: number | null; p99: number | null; requests: number };

export type BudgetView = { target: string; in_use: number; size: number; waiting: number; slow_acquires_per_s: number; timeouts_per_s: number };

export type IsolateView = {
  id: string;
  started_at: string;
  uptime_ms: number;
  /** How old the latest snapshot is at the view's `at`. */
  age_ms: number;
  /** Seconds the rates cover: between the two snapshots, or since the isolate started when only one is known. */
  window_s: number;
  requests_per_s: number;
  status_per_s: StatusRates;
  /** Permit timeouts (`database_busy`, `api_key_*_busy`) and failing databases (`database_unavailable`, `api_key_*_unavailable`). */
  busy_per_s: number;
  down_per_s: number;
  refusals_per_s: Record<string, number>;
  latency_ms: Partial<Record<RouteFamily, Quantiles>>;
  permits: { in_use: number; size: number; waiting: number; slow_acquires_per_s: number; timeouts_per_s: number };
  budgets: BudgetView[];
  telemetry_dropped: Drops;
  telemetry_dropped_per_s: Drops;
};

export type FleetView = {
  at: string;
  isolates: IsolateView[];
  totals: Omit<IsolateView, 'id' | 'started_at' | 'uptime_ms' | 'age_ms' | 'window_s'> & { isolates: number };
};

const zeroStatus = (): StatusRates => ({ '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0, '429': 0, '503': 0 });
const perSecond = (n: number, seconds: number): number => (seconds > 0 ? round(n / seconds) : 0);

/** Rates and quantiles of summed window counts (one isolate, or the fleet). */
function ratesOf(routes: Partial<Record<RouteFamily, FamilyCounts>>, refusals: Record<string, number>, drops: Drops, rate: (n: number) => number) {
  const status = zeroStatus();
  let requests = 0;
  const latency: Partial<Record<RouteFamily, Quantiles>> = {};
  for (const f of ROUTE_FAMILIES) {
    const c = routes[f];
    if (!c) continue;
    STATUS_COLUMNS.forEach((col, i) => {
      status[col] += c.status[i] ?? 0;
    });
    // Requests are what the classes count (2xx–5xx); 429 and 503 are counted again on their own.
    const n = c.status.slice(0, 4).reduce((a, v) => a + v, 0);
    requests += n;
    if (n > 0) latency[f] = { p50: latencyQuantile(c.latency, 0.5), p99: latencyQuantile(c.latency, 0.99), requests: n };
  }
  const statusRates = zeroStatus();
  for (const col of STATUS_COLUMNS) statusRates[col] = rate(status[col]);
  const refusalRates: Record<string, number> = {};
  for (const [code, n] of Object.entries(refusals)) if (n > 0) refusalRates[code] = rate(n);
  const dropRates = zeroDrops();
  for (const r of DROP_REASONS) dropRates[r] = rate(drops[r]);
  return {
    requests_per_s: rate(requests),
    status_per_s: statusRates,
    busy_per_s: rate(sumOf(refusals, BUSY_CODES)),
    down_per_s: rate(sumOf(refusals, DOWN_CODES)),
    refusals_per_s: refusalRates,
    latency_ms: latency,
    telemetry_dropped_per_s: dropRates,
  };
}

function isolateView(p: IsolatePair, w: Window, now: number): IsolateView {
  const { latest } = p;
  const rate = (n: number) => perSecond(n, w.seconds);
  const budgets: BudgetView[] = latest.budgets.map((b) => ({
    target: b.target,
    in_use: b.in_use,
    size: b.size,
    waiting: b.waiting,
    slow_acquires_per_s: rate(w.slow.get(b.target) ?? 0),
    timeouts_per_s: rate(w.timeouts.get(b.target) ?? 0),
  }));
  return {
    id: latest.isolate_id,
    started_at: latest.started_at,
    uptime_ms: latest.uptime_ms,
    age_ms: Math.max(0, now - Date.parse(latest.at)),
    window_s: round(w.seconds),
    ...ratesOf(w.routes, w.refusals, w.drops, rate),
    permits: sumBudgets(budgets),
    budgets,
    telemetry_dropped: { ...latest.telemetry.dropped },
  };
}

function sumBudgets(budgets: readonly BudgetView[]): IsolateView['permits'] {
  const out = { in_use: 0, size: 0, waiting: 0, slow_acquires_per_s: 0, timeouts_per_s: 0 };
  for (const b of budgets) {
    out.in_use += b.in_use;
    out.size += b.size;
    out.waiting += b.waiting;
    out.slow_acquires_per_s = round(out.slow_acquires_per_s + b.slow_acquires_per_s);
    out.timeouts_per_s = round(out.timeouts_per_s + b.timeouts_per_s);
  }
  return out;
}

/** Budgets of every isolate summed per target (rates add: each is per second already). */
function fleetBudgets(isolates: readonly IsolateView[]): BudgetView[] {
  const by = new Map<string, BudgetView>();
  for (const b of isolates.flatMap((i) => i.budgets)) {
    const cur = by.get(b.target);
    if (!cur) by.set(b.target, { ...b });
    else {
      cur.in_use += b.in_use;
      cur.size += b.size;
      cur.waiting += b.waiting;
      cur.slow_acquires_per_s = round(cur.slow_acquires_per_s + b.slow_acquires_per_s);
      cur.timeouts_per_s = round(cur.timeouts_per_s + b.timeouts_per_s);
    }
  }
  return [...by.values()].sort((a, b) => a.target.localeCompare(b.target));
}

/**
 * The fleet at `now`: one entry per isolate (sorted by id), rates over each isolate's own window.
 * Totals add the isolates' rates; fleet latency quantiles come from their windows' histograms
 * merged (each window weighted by its requests, not by its length).
 */
export function fleetView(pairs: readonly IsolatePair[], now: number): FleetView {
  const sorted = [...pairs].sort((a, b) => a.latest.isolate_id.localeCompare(b.latest.isolate_id));
  const windows = sorted.map(windowOf);
  const isolates = sorted.map((p, i) => isolateView(p, windows[i] as Window, now));
  const latency = ratesOf(sumRoutes(windows), {}, zeroDrops(), () => 0).latency_ms;
  const sum = (pick: (i: IsolateView) => number) => round(isolates.reduce((a, i) => a + pick(i), 0));
  const status = zeroStatus();
  for (const col of STATUS_COLUMNS) status[col] = sum((i) => i.status_per_s[col]);
  const refusals: Record<string, number> = {};
  for (const i of isolates) for (const [code, r] of Object.entries(i.refusals_per_s)) refusals[code] = round((refusals[code] ?? 0) + r);
  const dropped = zeroDrops();
  const droppedPerS = zeroDrops();
  for (const r of DROP_REASONS) {
    dropped[r] = isolates.reduce((a, i) => a + i.telemetry_dropped[r], 0);
    droppedPerS[r] = sum((i) => i.telemetry_dropped_per_s[r]);
  }
  const budgets = fleetBudgets(isolates);
  return {
    at: new Date(now).toISOString(),
    isolates,
    totals: {
      isolates: isolates.length,
      requests_per_s: sum((i) => i.requests_per_s),
      status_per_s: status,
      busy_per_s: sum((i) => i.busy_per_s),
      down_per_s: sum((i) => i.down_per_s),
      refusals_per_s: refusals,
      latency_ms: latency,
      permits: sumBudgets(budgets),
      budgets,
      telemetry_dropped: dropped,
      telemetry_dropped_per_s: droppedPerS,
    },
  };
}

const sumOf = (counts: Record<string, number>, codes: readonly string[]): number => codes.reduce((sum, code) => sum + (counts[code] ?? 0), 0);
