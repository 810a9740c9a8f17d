/**
 * The isolate's side of the fleet view: route families from paths, the request meter's status
 * columns and latency buckets, and the bounds a snapshot keeps on codes and targets — all checked
 * against the wire schema the flusher applies.
 */
import { describe, expect, it } from 'vitest';
import { isolateSnapshotSchema, LATENCY_BOUNDS_MS, MAX_CODES, MAX_TARGETS } from '../../drizzle/fleet-snapshot.js';
import { createFleetMeter, latencyBucket, newIsolateId } from '../../worker/fleet/meter.js';
import { routeFamily } from '../../worker/fleet/route-family.js';
import { boundedBudgets, boundedCodes } from '../../worker/fleet/snapshot.js';
import { snapshot } from '../support/fleet-snapshot.js';

describe('routeFamily', () => {
  it('maps every route onto its closed family, anything else onto other', () => {
    const cases: Array<[string, string]> = [
      ['/gateway/fetch', 'fetch'],
      ['/db/gateway/insert', 'insert'],
      ['/gateway/transaction', 'transaction'],
      ['/gateway/aggregate', 'other'],
      ['/rpc/my_fn', 'rpc'],
      ['/db/rpc/x', 'rpc'],
      ['/v1/auth/verify', 'verify'],
      ['/health', 'health'],
      ['/', 'health'],
      ['/db/health', 'health'],
      ['/__gateway/status', 'admin'],
      ['/wp-login.php', 'other'],
      [`/${'x'.repeat(5000)}`, 'other'],
    ];
    expect(cases.map(([p]) => [p, routeFamily(p)])).toEqual(cases);
  });
});

describe('fleet meter', () => {
  it('counts by status class, 429 and 503 again on their own, latency into fixed buckets', () => {
    const m = createFleetMeter('abc123def456');
    m.record('fetch', 200, 3);
    m.record('fetch', 201, 5); // on the bound: its bucket
    m.record('fetch', 404, 6);
    m.record('fetch', 429, 0.4);
    m.record('fetch', 503, 20_000);
    m.record('fetch', 500, -3); // a clock step back counts as 0 ms
    m.record('query', 304, 7);
    m.record('query', 101, 1); // no class: latency only
    expect(m.routes()).toEqual({
      fetch: { status: [2, 0, 2, 2, 1, 1], latency: [4, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], latency_sum_ms: 3 + 5 + 6 + 0 + 20_000 + 0 },
      query: { status: [0, 1, 0, 0, 0, 0], latency: [1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], latency_sum_ms: 8 },
    });
  });

  it('buckets: each bound is inclusive, past the last one is the overflow bucket', () => {
    expect(LATENCY_BOUNDS_MS.map((b) => latencyBucket(b))).toEqual(LATENCY_BOUNDS_MS.map((_, i) => i));
    expect(LATENCY_BOUNDS_MS.map((b) => latencyBucket(b + 1))).toEqual(LATENCY_BOUNDS_MS.map((_, i) => i + 1));
  });

  it('hands out copies: a snapshot taken earlier does not move with later requests', () => {
    const m = createFleetMeter('abc123def456');
    m.record('rpc', 200, 1);
    const before = m.routes();
    m.record('rpc', 200, 1);
    expect(before.rpc?.status[0]).toBe(1);
    expect(m.routes().rpc?.status[0]).toBe(2);
  });

  it('isolate ids are 12 hex characters and differ', () => {
    const ids = new Set(Array.from({ length: 100 }, newIsolateId));
    expect(ids.size).toBe(100);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{12}$/);
  });
});

describe('snapshot bounds', () => {
  it('keeps the most frequent codes, sums the rest (and any off-pattern code) under other', () => {
    const byCode: Record<string, number> = { 'Bad-Code': 5 };
    for (let i = 0; i < 100; i++) byCode[`code_${i}`] = i + 1;
    const out = boundedCodes(byCode);
    expect(Object.keys(out)).toHaveLength(MAX_CODES);
    expect(out.code_99).toBe(100);
    expect(out.code_0).toBeUndefined();
    const kept = Object.entries(out)
      .filter(([k]) => k !== 'other')
      .reduce((a, [, n]) => a + n, 0);
    expect(kept + (out.other ?? 0)).toBe(Object.values(byCode).reduce((a, n) => a + n, 0));
    expect(isolateSnapshotSchema.safeParse(snapshot('abc123def456', 1000, { refusals: out })).success).toBe(true);
  });

  it('keeps the busiest targets and never an @ in a label', () => {
    const budgets = Array.from({ length: 40 }, (_, i) => ({
      target: `h${i}@x:5432/db`,
      in_use: i,
      size: 8,
      waiting: 0,
      slow_acquires: 0,
      timeouts: 0,
      acquired: 0,
    }));
    const out = boundedBudgets(budgets);
    expect(out).toHaveLength(MAX_TARGETS);
    expect(out[0]?.target).toBe('h39x:5432/db');
    expect(isolateSnapshotSchema.safeParse(snapshot('abc123def456', 1000, { budgets: out })).success).toBe(true);
  });
});
