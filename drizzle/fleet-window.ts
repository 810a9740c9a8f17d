/**
 * One isolate's window for the fleet view (drizzle/fleet-view.ts): the counts between its two
 * latest cumulative snapshots (or since it started), before they are divided into rates. Pure.
 */
import { DROP_REASONS, ROUTE_FAMILIES, type FamilyCounts, type IsolateSnapshot, type RouteFamily } from './fleet-snapshot.js';

/** One isolate as the view is computed from it: its latest snapshot and, when known, the one before. */
export type IsolatePair = { latest: IsolateSnapshot; previous: IsolateSnapshot | null };

export type Drops = Record<(typeof DROP_REASONS)[number], number>;

export const zeroDrops = (): Drops => ({ saturated: 0, unavailable: 0, failed: 0 });
const sub = (a: number, b: number | undefined): number => Math.max(0, a - (b ?? 0));

/** Per-family counts of the window: latest minus previous (a family new in latest counts whole). */
function familyDelta(latest: FamilyCounts, previous: FamilyCounts | undefined): FamilyCounts {
  return {
    status: latest.status.map((n, i) => sub(n, previous?.status[i])),
    latency: latest.latency.map((n, i) => sub(n, previous?.latency[i])),
    latency_sum_ms: sub(latest.latency_sum_ms, previous?.latency_sum_ms),
  };
}

/** The window's deltas of one isolate, before dividing by its length. */
export type Window = {
  seconds: number;
  routes: Partial<Record<RouteFamily, FamilyCounts>>;
  refusals: Record<string, number>;
  slow: Map<string, number>;
  timeouts: Map<string, number>;
  drops: Drops;
};

/** Whether `previous` is an earlier snapshot of the same isolate run (else rates run from its start). */
function usable(p: IsolatePair): IsolateSnapshot | null {
  const prev = p.previous;
  if (!prev || prev.started_at !== p.latest.started_at || Date.parse(prev.at) >= Date.parse(p.latest.at)) return null;
  return prev;
}

export function windowOf(p: IsolatePair): Window {
  const { latest } = p;
  const prev = usable(p);
  const seconds = prev ? (Date.parse(latest.at) - Date.parse(prev.at)) / 1000 : latest.uptime_ms / 1000;
  const routes: Window['routes'] = {};
  for (const f of ROUTE_FAMILIES) {
    const counts = latest.routes[f];
    if (counts) routes[f] = familyDelta(counts, prev?.routes[f]);
  }
  const refusals: Record<string, number> = {};
  for (const [code, n] of Object.entries(latest.refusals)) refusals[code] = sub(n, prev?.refusals[code]);
  const before = new Map((prev?.budgets ?? []).map((b) => [b.target, b]));
  const slow = new Map(latest.budgets.map((b) => [b.target, sub(b.slow_acquires, before.get(b.target)?.slow_acquires)]));
  const timeouts = new Map(latest.budgets.map((b) => [b.target, sub(b.timeouts, before.get(b.target)?.timeouts)]));
  const drops = zeroDrops();
  for (const r of DROP_REASONS) drops[r] = sub(latest.telemetry.dropped[r], prev?.telemetry.dropped[r]);
  return { seconds, routes, refusals, slow, timeouts, drops };
}

/** Route families of every window summed, for the fleet's latency quantiles. */
export function sumRoutes(windows: readonly Window[]): Window['routes'] {
  const routes: Window['routes'] = {};
  for (const w of windows) for (const f of ROUTE_FAMILIES) if (w.routes[f]) addFamily(routes, f, w.routes[f]);
  return routes;
}

function addFamily(into: Partial<Record<RouteFamily, FamilyCounts>>, f: RouteFamily, c: FamilyCounts): void {
  const cur = into[f];
  if (!cur) {
    into[f] = { status: [...c.status], latency: [...c.latency], latency_sum_ms: c.latency_sum_ms };
    return;
  }
  c.status.forEach((n, i) => {
    cur.status[i] = (cur.status[i] ?? 0) + n;
  });
  c.latency.forEach((n, i) => {
    cur.latency[i] = (cur.latency[i] ?? 0) + n;
  });
  cur.latency_sum_ms += c.latency_sum_ms;
}
