/**
 * The fleet view from cumulative snapshots: per-second rates over the window between two
 * snapshots (or since start), latency quantiles from the histograms, fleet totals; and the
 * flusher's store of the latest snapshots (expiry after silence, late retries ignored, bounded).
 */
import { describe, expect, it } from 'vitest';
import { latencyQuantile } from '../../drizzle/fleet-quantile.js';
import { fleetView } from '../../drizzle/fleet-view.js';
import { createFleet } from '../../flusher/fleet.js';
import { family, snapshot, START_MS } from '../support/fleet-snapshot.js';

const budget = (over: Partial<{ in_use: number; size: number; waiting: number; slow_acquires: number; timeouts: number }> = {}) => ({
  target: 'db.example.com:5432/app',
  in_use: 0,
  size: 8,
  waiting: 0,
  slow_acquires: 0,
  timeouts: 0,
  acquired: 0,
  ...over,
});

describe('latencyQuantile', () => {
  it('interpolates inside the bucket as histogram_quantile does; overflow answers the last bound; empty is null', () => {
    // 10 requests ≤ 5 ms, 10 in (5, 10]: the median is the 5 ms bound, p99 near 10 ms.
    const h = family([20, 0, 0, 0, 0, 0], { 0: 10, 1: 10 }).latency;
    expect(latencyQuantile(h, 0.5)).toBe(5);
    expect(latencyQuantile(h, 0.99)).toBe(9.9);
    expect(latencyQuantile(family([1, 0, 0, 0, 0, 0], { 11: 1 }).latency, 0.5)).toBe(10_000);
    expect(latencyQuantile(family([0, 0, 0, 0, 0, 0]).latency, 0.5)).toBeNull();
  });
});

describe('fleetView', () => {
  const early = snapshot('aaaaaaaaaaaa', 10_000, {
    budgets: [budget({ slow_acquires: 1, timeouts: 2 })],
    refusals: { database_busy: 1, invalid_api_key: 4 },
    routes: { fetch: family([100, 0, 4, 1, 0, 1], { 0: 100, 1: 5 }) },
    telemetry: { accepted: 10, dropped: { saturated: 3, unavailable: 0, failed: 0 } },
  });
  const late = snapshot('aaaaaaaaaaaa', 12_000, {
    budgets: [budget({ in_use: 3, waiting: 2, slow_acquires: 5, timeouts: 4 })],
    refusals: { database_busy: 3, api_key_validation_busy: 4, database_unavailable: 2, api_key_policy_unavailable: 2, invalid_api_key: 4 },
    routes: { fetch: family([300, 0, 4, 3, 0, 5], { 0: 200, 1: 5, 4: 100 }), query: family([10, 0, 0, 0, 0, 0], { 2: 10 }) },
    telemetry: { accepted: 12, dropped: { saturated: 9, unavailable: 0, failed: 1 } },
  });

  it('rates over the window between two snapshots; quantiles of the window alone', () => {
    const v = fleetView([{ latest: late, previous: early }], START_MS + 13_000);
    const i = v.isolates[0];
    expect(i).toMatchObject({
      id: 'aaaaaaaaaaaa',
      window_s: 2,
      age_ms: 1000,
      // 200 more 2xx + 2 more 5xx on fetch, 10 2xx on query, over 2 s.
      requests_per_s: 106,
      status_per_s: { '2xx': 105, '3xx': 0, '4xx': 0, '5xx': 1, '429': 0, '503': 2 },
      // BUSY: permit timeouts of data routes and auth lookups; DOWN: databases that failed either.
      busy_per_s: 3,
      down_per_s: 2,
      refusals_per_s: { database_busy: 1, api_key_validation_busy: 2, database_unavailable: 1, api_key_policy_unavailable: 1 },
      permits: { in_use: 3, size: 8, waiting: 2, slow_acquires_per_s: 2, timeouts_per_s: 1 },
      telemetry_dropped: { saturated: 9, unavailable: 0, failed: 1 },
      telemetry_dropped_per_s: { saturated: 3, unavailable: 0, failed: 0.5 },
    });
    // The window's fetch histogram: 100 ≤ 5 ms and 100 in (50, 100]: median at 5 ms, p99 (rank 198) at 99 ms.
    expect(i?.latency_ms.fetch).toEqual({ p50: 5, p99: 99, requests: 202 });
    expect(i?.latency_ms.query).toEqual({ p50: 17.5, p99: 24.85, requests: 10 });
  });

  it('one snapshot: rates since the isolate started; a previous snapshot of another start is not used', () => {
    const alone = fleetView([{ latest: late, previous: null }], START_MS + 12_000).isolates[0];
    expect(alone?.window_s).toBe(12);
    expect(alone?.requests_per_s).toBe(Math.round(((307 + 10) / 12) * 1000) / 1000);
    const restarted = { ...early, started_at: new Date(START_MS + 1).toISOString() };
    expect(fleetView([{ latest: late, previous: restarted }], START_MS + 12_000).isolates[0]?.window_s).toBe(12);
  });

  it('totals add the isolates, merge their histograms and budgets per target', () => {
    const other = snapshot('bbbbbbbbbbbb', 4000, { budgets: [budget({ in_use: 1, size: 8 })], routes: { fetch: family([40, 0, 0, 0, 0, 0], { 3: 40 }) } });
    const v = fleetView(
      [
        { latest: other, previous: null },
        { latest: late, previous: early },
      ],
      START_MS + 12_000,
    );
    expect(v.isolates.map((i) => i.id)).toEqual(['aaaaaaaaaaaa', 'bbbbbbbbbbbb']);
    expect(v.totals).toMatchObject({
      isolates: 2,
      requests_per_s: 116,
      status_per_s: { '2xx': 115 },
      permits: { in_use: 4, size: 16, waiting: 2 },
      budgets: [{ target: 'db.example.com:5432/app', in_use: 4, size: 16, waiting: 2, slow_acquires_per_s: 2, timeouts_per_s: 1 }],
      telemetry_dropped: { saturated: 9, unavailable: 0, failed: 1 },
    });
    // Merged histogram: 100 ≤ 5 ms, 40 in (25, 50], 100 in (50, 100]: rank 120 is half-way through (25, 50].
    expect(v.totals.latency_ms.fetch?.requests).toBe(242);
    expect(v.totals.latency_ms.fetch?.p50).toBe(37.5);
  });

  it('counters that went down (never within one isolate run) count as zero, not negative', () => {
    const v = fleetView([{ latest: early, previous: { ...late, at: new Date(START_MS + 9000).toISOString() } }], START_MS + 10_000);
    expect(v.isolates[0]).toMatchObject({ requests_per_s: 0, busy_per_s: 0, telemetry_dropped_per_s: { saturated: 0 } });
  });
});

describe('the flusher fleet store', () => {
  it('keeps latest and previous per isolate; a late retry with an older snapshot is ignored', () => {
    let now = START_MS + 10_000;
    const fleet = createFleet({ expiryMs: 60_000, maxIsolates: 10, now: () => now });
    fleet.observe(snapshot('aaaaaaaaaaaa', 9000, { routes: { fetch: family([10, 0, 0, 0, 0, 0], { 0: 10 }) } }));
    fleet.observe(snapshot('aaaaaaaaaaaa', 10_000, { routes: { fetch: family([30, 0, 0, 0, 0, 0], { 0: 30 }) } }));
    fleet.observe(snapshot('aaaaaaaaaaaa', 8000, { routes: { fetch: family([1, 0, 0, 0, 0, 0], { 0: 1 }) } }));
    now += 500;
    const v = fleet.view();
    expect(v.isolates).toHaveLength(1);
    expect(v.isolates[0]).toMatchObject({ window_s: 1, requests_per_s: 20, age_ms: 500 });
    expect(fleet.observed).toBe(3);
  });

  it('forgets an isolate silent for the expiry, and holds at most maxIsolates (the longest silent goes)', () => {
    let now = START_MS;
    const fleet = createFleet({ expiryMs: 5000, maxIsolates: 2, now: () => now });
    fleet.observe(snapshot('aaaaaaaaaaaa', 1000));
    now += 1000;
    fleet.observe(snapshot('bbbbbbbbbbbb', 1000));
    now += 1000;
    fleet.observe(snapshot('cccccccccccc', 1000));
    expect(fleet.view().isolates.map((i) => i.id)).toEqual(['bbbbbbbbbbbb', 'cccccccccccc']);
    now += 4500;
    expect(fleet.view().isolates.map((i) => i.id)).toEqual(['cccccccccccc']);
    now += 500;
    expect(fleet.view().totals.isolates).toBe(0);
  });
});
