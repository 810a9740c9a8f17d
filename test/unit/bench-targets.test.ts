/**
 * The bench's newer targets and report sections, from synthetic results: the auth-overhead ratio
 * from alternating rounds (both req/s and CPU must reach 0.90), the many-isolates verdict, and
 * the scaling curves drawn as bars.
 */
import { describe, expect, it } from 'vitest';
import type { LoadResult } from '../../bench/load-spec.js';
import { alternatingRatio, alternatingRounds, type RoundFigures } from '../../bench/rounds.js';
import { renderRounds } from '../../bench/rounds-report.js';
import type { ScenarioResult } from '../../bench/scenarios.js';
import { evaluateTargets } from '../../bench/targets.js';

const alternating = (byRequestsPerSecond: number, byCpu: number): ScenarioResult => ({
  id: '1v2',
  group: 9,
  title: 'alternating',
  request: 'GET /v1/auth/verify',
  connections: 64,
  durationMs: 12_000,
  vars: {},
  rounds: { roundMs: 3000, rounds: [], ratio: { byRequestsPerSecond, byCpu, pairs: 2 } },
});

const isolated = (sink: string, s503: number, exact: boolean, perFlush: number, lockSamples = 0): ScenarioResult => ({
  id: `10-${sink}`,
  group: 10,
  title: sink,
  request: 'GET /v1/auth/verify',
  connections: 256,
  durationMs: 20_000,
  vars: { STATS_SINK: sink },
  load: {
    byStatus: { '200': 1000, ...(s503 ? { '503': s503 } : {}) },
    completed: 1000 + s503,
    requestsPerSecond: 50,
    latencyMs: { p50: 1, p95: 2, p99: 3, max: 4, mean: 1 },
  } as unknown as LoadResult,
  locks: {
    samples: 10,
    intervalMs: 100,
    samplesWithLockWait: lockSamples,
    maxLockWaiters: lockSamples ? 2 : 0,
    meanLockWaiters: 0,
    byWaitEvent: {},
    maxConnections: 20,
    meanActive: 1,
  },
  counters: {
    expectedRequests: 1000,
    db: { requests: exact ? 1000 : 10, errors: 0, tableRequests: 0, rows: 1 },
    exact,
    settleMs: 1,
    flushes: 40,
    flushFailures: 0,
    droppedRows: 0,
  },
  isolates: { isolates: 4, capacity: 32, maxConnections: 20, counterStatementsPerFlush: perFlush, statuses: [] },
});

const target = (results: ScenarioResult[], id: string) => evaluateTargets(results).find((t) => t.id === id);

describe('bench targets', () => {
  it('auth overhead is met only when both ratios of the alternating rounds reach 0.90', () => {
    expect(target([alternating(0.95, 0.92)], 'auth-overhead')).toMatchObject({ status: 'met' });
    expect(target([alternating(0.95, 0.85)], 'auth-overhead')).toMatchObject({ status: 'missed', gap: 'CPU 5 points short' });
    expect(target([alternating(0.7, 0.69)], 'auth-overhead')?.gap).toBe('req/s 20 points short; CPU 21 points short');
    expect(target([], 'auth-overhead')).toMatchObject({ status: 'unknown' });
  });

  it('many isolates: per_request must show the failure, the batched sinks none of it', () => {
    const per = isolated('per_request', 400, false, 0.9);
    expect(target([per, isolated('flusher', 0, true, 0.9), isolated('direct', 0, true, 1)], 'many-isolates')).toMatchObject({ status: 'met' });
    const missed = target([per, isolated('flusher', 146, true, 0.9), isolated('direct', 0, true, 1.5)], 'many-isolates');
    expect(missed).toMatchObject({ status: 'missed', gap: 'flusher failed; direct failed' });
    expect(target([isolated('per_request', 0, false, 0.9), isolated('flusher', 0, true, 0.9)], 'many-isolates')?.gap).toBe(
      'per_request showed no lock waits or 503s',
    );
  });
});

/** One measured round's figures, as the rounds report them. */
const round = (label: string, requestsPerSecond: number, cpuUsPerRequest: number): RoundFigures => ({
  label,
  connections: 64,
  requestsPerSecond,
  p50Ms: 1,
  p99Ms: 2,
  non2xx: 0,
  cpuUsPerRequest,
});

describe('bench alternating rounds', () => {
  it('reverses every odd pair, so each scenario runs first in half the pairs', () => {
    expect(alternatingRounds('1', '2', 4).join('')).toBe('12211221');
    expect(alternatingRounds('1', '2', 1)).toEqual(['1', '2']);
  });

  it('pairs the k-th round of each scenario and takes the median over the pairs', () => {
    // Pairs: (1000, 900), (800, 720), (500, 500): 0.9, 0.9, 1.0 by req/s; CPU 100/110, 100/125, 100/100.
    const figures = [round('1', 1000, 100), round('2', 900, 110), round('2', 720, 125), round('1', 800, 100), round('1', 500, 100), round('2', 500, 100)];
    expect(alternatingRatio(figures)).toEqual({ byRequestsPerSecond: 0.9, byCpu: 0.909, pairs: 3 });
  });
});

describe('bench bundle A/B', () => {
  it('renders this tree against the baseline, round by round, with the ratio over the pairs', () => {
    const rounds = [round('base', 1000, 100), round('head', 1100, 90), round('head', 1050, 95), round('base', 1000, 100)];
    const ab: ScenarioResult = {
      ...alternating(1, 1),
      id: '2-ab',
      title: 'scenario 2, this tree against main',
      rounds: { roundMs: 3000, rounds, ratio: alternatingRatio(rounds, 'base', 'head') },
    };
    const lines = renderRounds([ab]);
    expect(lines.filter((l) => /^\| \d+ \| (base|head) \|/.test(l))).toHaveLength(4);
    expect(lines.join('\n')).toContain(
      'median over 2 pairs (odd pairs reversed, after a warm-up round on each): **1.075×** by req/s, **1.082×** by worker CPU',
    );
  });
});

describe('bench scaling curves', () => {
  it('draws one bar per connection count, the longest for the highest rate', () => {
    const curve: ScenarioResult = {
      ...alternating(1, 1),
      id: '2-curve',
      rounds: {
        roundMs: 3000,
        rounds: [16, 64, 256].map((c, i) => ({
          label: `2@${c}`,
          connections: c,
          requestsPerSecond: [1000, 2000, 1500][i] ?? 0,
          p50Ms: 1,
          p99Ms: 2,
          non2xx: 0,
          cpuUsPerRequest: 100,
        })),
      },
    };
    const lines = renderRounds([curve]);
    const bars = lines.filter((l) => l.includes('conns'));
    expect(bars).toHaveLength(3);
    const width = (l: string) => (l.match(/█/g) ?? []).length;
    expect(bars.map(width)).toEqual([20, 40, 30]);
  });
});
