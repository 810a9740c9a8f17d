/**
 * The isolate's request meter for the fleet snapshot: requests by status column and a latency
 * histogram with fixed buckets, per route family. Cumulative since the isolate started; a reader
 * derives rates from two snapshots. Recording a request allocates nothing once its family has
 * been seen (at most ROUTE_FAMILIES.length small arrays per isolate). Pure.
 */
import { LATENCY_BOUNDS_MS, type FamilyCounts, type IsolateSnapshot, type RouteFamily } from '../../drizzle/fleet-snapshot.js';

type Family = { status: number[]; latency: number[]; sum: number };

export type FleetMeter = {
  /** Random per isolate. */
  readonly id: string;
  record(family: RouteFamily, status: number, durationMs: number): void;
  /** A copy of the counters of every family that saw a request. */
  routes(): IsolateSnapshot['routes'];
};

/** Index into STATUS_COLUMNS of a status's class (2xx…5xx); -1 for 1xx and nonsense. */
function classIndex(status: number): number {
  const c = Math.floor(status / 100);
  return c >= 2 && c <= 5 ? c - 2 : -1;
}

/** The bucket of `ms`: the first bound it does not exceed, or the overflow bucket. */
export function latencyBucket(ms: number): number {
  for (let i = 0; i < LATENCY_BOUNDS_MS.length; i++) if (ms <= (LATENCY_BOUNDS_MS[i] ?? 0)) return i;
  return LATENCY_BOUNDS_MS.length;
}

export function createFleetMeter(id: string): FleetMeter {
  const families = new Map<RouteFamily, Family>();
  return {
    id,
    record(family, status, durationMs) {
      let f = families.get(family);
      if (!f) {
        f = { status: [0, 0, 0, 0, 0, 0], latency: new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0), sum: 0 };
        families.set(family, f);
      }
      const cls = classIndex(status);
      if (cls >= 0) f.status[cls] = (f.status[cls] ?? 0) + 1;
      if (status === 429) f.status[4] = (f.status[4] ?? 0) + 1;
      else if (status === 503) f.status[5] = (f.status[5] ?? 0) + 1;
      const ms = durationMs > 0 ? Math.round(durationMs) : 0;
      const b = latencyBucket(ms);
      f.latency[b] = (f.latency[b] ?? 0) + 1;
      f.sum += ms;
    },
    routes() {
      const out: Partial<Record<RouteFamily, FamilyCounts>> = {};
      for (const [name, f] of families) out[name] = { status: [...f.status], latency: [...f.latency], latency_sum_ms: f.sum };
      return out;
    },
  };
}

/** A random isolate id: 12 hex characters. */
export const newIsolateId = (): string => crypto.randomUUID().replace(/-/g, '').slice(0, 12);
