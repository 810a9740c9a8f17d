/**
 * The bench's data path from synthetic rounds: medians and the gateway-above-minimal ratios paired
 * set by set, the split of a fetch into session setup, query, auth and the rest, and the ≤ 15% target
 * (met, missed with its gap, or unknown when the gateway did not send the same statement or rounds
 * failed requests).
 */
import { describe, expect, it } from 'vitest';
import { dataPathTarget, renderDataPath } from '../../bench/data-path-report.js';
import { summariseRounds, type DataPathFigures, type DataPathLabel, type DataPathRound } from '../../bench/data-path-rounds.js';
import type { ScenarioResult } from '../../bench/scenarios.js';
import { evaluateTargets } from '../../bench/targets.js';

const round = (label: DataPathLabel, workerUs: number, requestsPerSecond: number, p50Ms = 10): DataPathRound => ({
  label,
  requestsPerSecond,
  p50Ms,
  p99Ms: 2 * p50Ms,
  completed: 1000,
  non2xx: 0,
  workerUs,
  postgresUs: 0,
  proxyUs: 0,
});

/** Two round sets: fetch 1,100 vs 1,000 µs then 1,300 vs 1,000 µs; insert 1,500 vs 1,000 µs both times. */
const ROUNDS: DataPathRound[] = [0, 1].flatMap((i) => [
  round('health', 50, 6000),
  round('verify', 80, 5000),
  round('gateway-fetch', i ? 1300 : 1100, 900),
  round('minimal-fetch', 1000, 1000),
  round('minimal-session', 900, 1100, 8),
  round('gateway-insert', 1500, 500),
  round('minimal-insert', 1000, 1000),
]);

const figures = (sameSql = true): DataPathFigures => ({
  roundMs: 6000,
  pairs: 2,
  connections: 64,
  dbPoolMax: 64,
  rounds: ROUNDS,
  ...summariseRounds(ROUNDS),
  sql: [
    { kind: 'fetch', text: 'SELECT 1', gatewayCalls: sameSql ? 5 : 0, same: sameSql },
    { kind: 'insert', text: 'INSERT 1', gatewayCalls: 5, same: true },
  ],
  gatewayStatements: [{ query: 'SELECT 1', calls: 5 }],
});

const result = (dataPath: DataPathFigures): ScenarioResult => ({
  id: '11-rounds',
  group: 11,
  title: 'data path',
  request: 'POST /gateway/fetch',
  connections: 64,
  durationMs: 84_000,
  vars: {},
  dataPath,
});

describe('bench data path', () => {
  it('leaves a pair out of the ratio when either side completed nothing (a stalled round has no cost per request)', () => {
    const stalled = ROUNDS.map((r, i) => (r.label === 'gateway-insert' && i < 7 ? { ...r, completed: 0, workerUs: 0, requestsPerSecond: 0 } : r));
    expect(summariseRounds(stalled).ratios.insert).toEqual({ byCpu: 0.5, byRps: 1 });
    const allStalled = ROUNDS.map((r) => (r.label === 'minimal-insert' ? { ...r, completed: 0 } : r));
    expect(summariseRounds(allStalled).ratios.insert).toBeUndefined();
  });

  it('pairs the gateway with the minimal worker set by set and takes the median ratio', () => {
    const s = summariseRounds(ROUNDS);
    expect(s.ratios.fetch).toEqual({ byCpu: 0.2, byRps: 0.111 });
    expect(s.ratios.insert).toEqual({ byCpu: 0.5, byRps: 1 });
    expect(s.medians['gateway-fetch']?.workerUs).toBe(1200);
  });

  it('splits a fetch into session setup, query, auth and the rest of the gateway', () => {
    const md = renderDataPath([result(figures())]).join('\n');
    expect(md).toContain('| session setup (minimal session route) | 900 | 8.0 |');
    expect(md).toContain('| query (minimal fetch − session) | 100 | 2.0 |');
    expect(md).toContain('| auth (gateway verify − /health) | 30 | 0.0 |');
    expect(md).toContain('| rest of the gateway (gateway fetch − minimal fetch − auth) | 170 | 0.0 |');
    expect(md).toContain('fetch: gateway above the minimal worker **+20.0%** by worker CPU per request, **+11.1%** by req/s');
  });

  it('is met at ≤ 15% on both measures, missed with the points over, unknown when the SQL differs', () => {
    const missed = dataPathTarget([result(figures())]);
    expect(missed).toMatchObject({ status: 'missed', gap: 'fetch by CPU 5.0 points over; insert by CPU 35.0 points over; insert by req/s 85.0 points over' });
    const even = [0, 1].flatMap(() => [round('gateway-fetch', 1100, 950), round('minimal-fetch', 1000, 1000)]);
    expect(dataPathTarget([result({ ...figures(), rounds: even, ...summariseRounds(even) })])).toMatchObject({ status: 'met' });
    expect(dataPathTarget([result(figures(false))])).toMatchObject({ status: 'unknown' });
    const few = ROUNDS.map((r) => (r.label === 'minimal-insert' ? { ...r, completed: 40 } : r));
    expect(dataPathTarget([result({ ...figures(), rounds: few })])).toMatchObject({
      status: 'unknown',
      actual: expect.stringContaining('2 round(s) under 100 requests'),
    });
    const failing = ROUNDS.map((r) => (r.label === 'gateway-fetch' ? { ...r, non2xx: 11 } : r));
    expect(dataPathTarget([result({ ...figures(), rounds: failing })])).toMatchObject({
      status: 'unknown',
      actual: expect.stringContaining('2 round(s) with > 1% non-2xx: gateway-fetch'),
    });
    expect(evaluateTargets([]).find((t) => t.id === 'data-path')).toMatchObject({ status: 'unknown', actual: 'not measured' });
  });
});
