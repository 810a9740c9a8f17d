/**
 * Scenario 10 (bench/many-isolates.ts) in the report and its target: per_request shows the seed's
 * failure (row-lock waits, 503s) while the batched sinks keep 0 × 503, exact counters and at most
 * one counter statement per table per flush per isolate.
 */
import type { ScenarioResult } from './scenarios.js';
import type { Target } from './targets.js';

const f = (n: number | undefined | null, d = 0): string =>
  n === undefined || n === null || !Number.isFinite(n) ? '–' : n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const n503 = (r: ScenarioResult): number => Number(r.load?.byStatus['503'] ?? 0);
const runs = (scenarios: readonly ScenarioResult[]) => scenarios.filter((r) => r.group === 10 && !r.skipped && r.load && r.isolates);

export function renderManyIsolates(scenarios: readonly ScenarioResult[]): string[] {
  const rs = runs(scenarios);
  if (!rs.length) return [];
  const lines = [`## Many isolates: scenario 5 over ${rs[0]?.isolates?.isolates} workerd processes`, ''];
  lines.push(
    '| sink | req/s | p99 ms | 503s | lock-wait samples (max waiters) | counters DB/served | counter stmts per table per flush | flushes (all isolates) | max Postgres connections / capacity |',
    '|---|---|---|---|---|---|---|---|---|',
  );
  for (const r of rs) {
    const i = r.isolates;
    const c = r.counters;
    lines.push(
      `| ${r.vars.STATS_SINK}${r.vars.DEV_DB_RTT_MS ? `, ${r.vars.DEV_DB_RTT_MS} ms RTT` : ''} | ${f(r.load?.requestsPerSecond)} | ${f(r.load?.latencyMs.p99, 1)} | ${f(n503(r))} | ${r.locks?.samplesWithLockWait ?? '–'}/${r.locks?.samples ?? '–'} (${r.locks?.maxLockWaiters ?? '–'}) | ${c ? `${c.exact ? 'exact' : 'MISMATCH'} ${f(c.db.requests)}/${f(c.expectedRequests)}` : '–'} | ${f(i?.counterStatementsPerFlush, 2)} | ${f(c?.flushes)} | ${f(i?.maxConnections)} / ${f(i?.capacity)} |`,
    );
  }
  lines.push(
    '',
    "Capacity: isolates × DB_POOL_MAX (docs/operations.md, capacity rule); the flusher's own pool and the bench's probe connection come on top.",
    '',
  );
  return lines;
}

export function manyIsolatesTarget(scenarios: readonly ScenarioResult[]): Target {
  const rs = runs(scenarios);
  const per = rs.find((r) => r.vars.STATS_SINK === 'per_request');
  const batched = rs.filter((r) => r.vars.STATS_SINK !== 'per_request');
  const target = 'many isolates: per_request shows lock waits or 503s; batched sinks 0 × 503, exact, ≤ 1 counter statement per table per flush per isolate';
  if (!per || batched.length === 0) return { id: 'many-isolates', target, actual: 'not measured', status: 'unknown' };
  const perShows = (per.locks?.samplesWithLockWait ?? 0) > 0 || n503(per) > 0;
  const bad = batched.filter((r) => n503(r) > 0 || !r.counters?.exact || (r.isolates?.counterStatementsPerFlush ?? Infinity) > 1);
  const ok = perShows && bad.length === 0;
  return {
    id: 'many-isolates',
    target,
    actual: [
      `per_request: ${f(n503(per))} × 503, ${per.locks?.samplesWithLockWait ?? 0} lock-wait samples`,
      ...batched.map(
        (r) =>
          `${r.vars.STATS_SINK}: ${f(n503(r))} × 503, ${r.counters?.exact ? 'exact' : 'not exact'}, ${f(r.isolates?.counterStatementsPerFlush, 2)} stmts/table/flush`,
      ),
    ].join('; '),
    status: ok ? 'met' : 'missed',
    ...(ok
      ? {}
      : { gap: [perShows ? '' : 'per_request showed no lock waits or 503s', ...bad.map((r) => `${r.vars.STATS_SINK} failed`)].filter(Boolean).join('; ') }),
  };
}
