/** Isolate snapshots for tests: valid by construction, counts chosen by the caller. */
import { LATENCY_BOUNDS_MS, type FamilyCounts, type IsolateSnapshot } from '../../drizzle/fleet-snapshot.js';

/** Family counts: `status` as [2xx, 3xx, 4xx, 5xx, 429, 503]; `latency` as {bucket index: count}. */
export function family(status: number[], latency: Record<number, number> = {}, sumMs = 0): FamilyCounts {
  const buckets = new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0);
  for (const [i, n] of Object.entries(latency)) buckets[Number(i)] = n;
  return { status, latency: buckets, latency_sum_ms: sumMs };
}

/** A snapshot of isolate `id` taken `atMs` after 2026-12-07T10:00:00Z, started then. */
export function snapshot(id: string, atMs: number, over: Partial<IsolateSnapshot> = {}): IsolateSnapshot {
  const start = Date.parse('2026-12-07T10:00:00.000Z');
  return {
    isolate_id: id,
    started_at: new Date(start).toISOString(),
    at: new Date(start + atMs).toISOString(),
    uptime_ms: atMs,
    budgets: [],
    refusals: {},
    routes: {},
    telemetry: { accepted: 0, dropped: { saturated: 0, unavailable: 0, failed: 0 } },
    ...over,
  };
}

export const START_MS = Date.parse('2026-12-07T10:00:00.000Z');
