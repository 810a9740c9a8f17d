/**
 * Scenario 5 and the many-isolates scenario near the database and a region away (the distant
 * proxy's round trip), side by side per sink: the hot client's latency, its 503s, whether the
 * counters came out exact, and the most Postgres backends pg_stat_activity showed at once.
 */
import type { ScenarioResult } from './scenarios.js';

const f = (n: number | undefined, d = 0): string =>
  n === undefined || !Number.isFinite(n) ? '–' : n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const starvation = (r: ScenarioResult) => (r.group === 5 || r.group === 10) && !r.skipped && r.load !== undefined;

export function renderDistance(scenarios: readonly ScenarioResult[]): string[] {
  const rs = scenarios.filter(starvation);
  if (!rs.some((r) => r.vars.DEV_DB_RTT_MS)) return [];
  const lines = ['## Scenarios 5 and 10 near the database and a region away (`DEV_DB_RTT_MS`)', ''];
  lines.push(
    '| # | sink | isolates | RTT ms | req/s | p50 ms | p99 ms | 503s | counters DB/served | peak Postgres backends |',
    '|---|---|---|---|---|---|---|---|---|---|',
  );
  const order = (r: ScenarioResult) => `${r.vars.STATS_SINK}|${r.group}|${r.vars.DEV_DB_RTT_MS ?? '0'}`;
  for (const r of [...rs].sort((a, b) => order(a).localeCompare(order(b)))) {
    const l = r.load;
    const c = r.counters;
    lines.push(
      `| ${r.id} | ${r.vars.STATS_SINK} | ${r.vars.isolates ?? '1'} | ${r.vars.DEV_DB_RTT_MS ?? '0'} | ${f(l?.requestsPerSecond)} | ${f(l?.latencyMs.p50, 1)} | ${f(l?.latencyMs.p99, 1)} | ${f(Number(l?.byStatus['503'] ?? 0))} | ${c ? `${c.exact ? 'exact' : 'MISMATCH'} ${f(c.db.requests)}/${f(c.expectedRequests)}` : '–'} | ${f(r.locks?.maxConnections)} |`,
    );
  }
  lines.push(
    '',
    "Every request is the seed's hot client (legitimate), with key-cache misses injected at a steady rate. Peak Postgres backends: the most connections pg_stat_activity showed in one 100 ms sample (the bench's probe connection included). With several isolates, p50/p99 are the worst isolate's.",
    '',
  );
  return lines;
}
