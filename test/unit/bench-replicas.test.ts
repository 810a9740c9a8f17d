/**
 * The bench's two-replica flusher runs: per-replica load results merge into one (counts and rates
 * add, percentiles are the worst generator's), and the report puts each 2-replica run beside its
 * 1-replica twin at the same posters.
 */
import { describe, expect, it } from 'vitest';
import { mergeLoadResults, type LoadResult } from '../../bench/load-spec.js';
import { replicaComparison } from '../../bench/report.js';
import type { ScenarioResult } from '../../bench/scenarios.js';

const load = (over: Partial<LoadResult>): LoadResult => ({
  completed: 0,
  sent: 0,
  byStatus: {},
  byErrorCode: {},
  errors: 0,
  timeouts: 0,
  elapsedMs: 8000,
  lastResponseMs: 8000,
  requestsPerSecond: 0,
  latencyMs: { p50: 0, p95: 0, p99: 0, max: 0, mean: 0 },
  timeline: [],
  secondsWithoutResponses: 0,
  missesInjected: 0,
  cpuSeconds: 0,
  ...over,
});

describe('bench: flusher replicas', () => {
  it('merges side-by-side load results: sums, worst percentiles, weighted mean, summed timeline', () => {
    const a = load({
      completed: 100,
      sent: 101,
      byStatus: { '200': 100 },
      requestsPerSecond: 12.5,
      deltasAcked: 50_000,
      latencyMs: { p50: 10, p95: 20, p99: 30, max: 40, mean: 12 },
      timeline: [
        { second: 0, total: 60, byStatus: { '200': 60 } },
        { second: 1, total: 40, byStatus: { '200': 40 } },
      ],
      cpuSeconds: 1,
      lastResponseMs: 8100,
    });
    const b = load({
      completed: 300,
      sent: 300,
      byStatus: { '200': 299, '503': 1 },
      byErrorCode: { '503:unavailable': 1 },
      requestsPerSecond: 37.5,
      deltasAcked: 149_500,
      latencyMs: { p50: 5, p95: 25, p99: 28, max: 90, mean: 8 },
      timeline: [{ second: 0, total: 300, byStatus: { '200': 299, '503': 1 } }],
      cpuSeconds: 2,
      secondsWithoutResponses: 1,
    });
    expect(mergeLoadResults([a, b])).toEqual({
      completed: 400,
      sent: 401,
      byStatus: { '200': 399, '503': 1 },
      byErrorCode: { '503:unavailable': 1 },
      errors: 0,
      timeouts: 0,
      elapsedMs: 8000,
      lastResponseMs: 8100,
      requestsPerSecond: 50,
      latencyMs: { p50: 10, p95: 25, p99: 30, max: 90, mean: 9 },
      timeline: [
        { second: 0, total: 360, byStatus: { '200': 359, '503': 1 } },
        { second: 1, total: 40, byStatus: { '200': 40 } },
      ],
      secondsWithoutResponses: 1,
      missesInjected: 0,
      cpuSeconds: 3,
      deltasAcked: 199_500,
    });
    expect(mergeLoadResults([a])).toBe(a);
  });

  it('reports each 2-replica run beside its 1-replica twin with the throughput change', () => {
    const run = (connections: number, clients: string, replicas: number, deltasPerSecond: number, ackP99Ms: number): ScenarioResult => ({
      id: `6-c${connections}`,
      group: 6,
      title: 't',
      request: 'POST /v1/batches',
      connections,
      durationMs: 8000,
      vars: { clients },
      flusher: { replicas, deltasPerSecond, ackP99Ms, batches: 1, deltasAcked: 1, dbDeltas: 1, exact: true },
    });
    const lines = replicaComparison([
      run(16, '200', 1, 20_000, 400),
      run(16, '200', 2, 30_000, 300),
      run(16, '20', 1, 90_000, 100),
      run(16, '20', 2, 45_000, 900),
    ]);
    expect(lines.filter((l) => l.startsWith('| 16'))).toEqual([
      '| 16 | 200 | 20,000 | 400.0 | 2 | 30,000 | 300.0 | +50% | yes |',
      '| 16 | 20 | 90,000 | 100.0 | 2 | 45,000 | 900.0 | -50% | yes |',
    ]);
    expect(replicaComparison([run(16, '200', 1, 20_000, 400)])).toEqual([]);
  });
});
