/**
 * Scenario 14's section of the report: per transport, the latencies one request at a time at
 * `BENCH_RTT_MS` and the round trips inferred beyond the cached verify; then scenarios 11 and 12
 * on each transport with their 503s.
 */
import type { ScenarioResult } from './scenarios.js';
import type { Latency } from './transport-scenario.js';

const f = (n: number | undefined | null, d = 0): string =>
  n === undefined || n === null || !Number.isFinite(n) ? '–' : n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const cell = (l: Latency) =>
  `${f(l.p50Ms, 1)} / ${f(l.p99Ms, 1)}${l.roundTrips === null ? '' : ` (${f(l.roundTrips, 2)})`}${l.non2xx ? ` ⚠ ${l.non2xx} non-2xx` : ''}`;

export function renderTransport(scenarios: readonly ScenarioResult[]): string[] {
  const lat = scenarios.filter((r) => r.transport);
  const load = scenarios.filter((r) => r.group === 14 && r.load);
  if (!lat.length && !load.length) return [];
  const rtt = lat[0]?.transport?.rttMs;
  const lines = [`## Scenario 14: DB_TRANSPORT ws vs http`, ''];
  if (lat.length) {
    lines.push(
      `One request at a time at ${f(rtt)} ms RTT (connection set-up modelled). p50 / p99 ms (round trips beyond the cached verify: (p50 − verify p50) / RTT).`,
      '',
      '| transport | cached verify | hot-key fetch | fresh key, first fetch | insert | 5-operation transaction |',
      '|---|---|---|---|---|---|',
    );
    for (const r of lat) {
      const t = r.transport;
      if (t) lines.push(`| ${t.transport} | ${cell(t.verify)} | ${cell(t.hotFetch)} | ${cell(t.freshFetch)} | ${cell(t.insert)} | ${cell(t.transaction5)} |`);
    }
    lines.push('');
    const split = (l: Latency) =>
      l.wire ? `${f(l.wire.requests)} / ${f(l.wire.setupRoundTrips)} / ${f(l.wire.proxyMs)} / ${f(l.wire.postgresMs)} / ${f(l.wire.outsideMs, 1)}` : '–';
    const http = lat.filter((r) => r.transport?.hotFetch.wire);
    if (http.length) {
      lines.push(
        'Where the time goes over HTTP (medians per request, from the proxy: SQL requests / set-up round trips / ms in the proxy (modelled wire + Postgres + lag) / of which Postgres / ms outside it (worker, workerd, client)):',
        '',
        '| transport | hot-key fetch | fresh key, first fetch | insert | 5-operation transaction |',
        '|---|---|---|---|---|',
      );
      for (const r of http) {
        const t = r.transport;
        if (t) lines.push(`| ${t.transport} | ${split(t.hotFetch)} | ${split(t.freshFetch)} | ${split(t.insert)} | ${split(t.transaction5)} |`);
      }
      lines.push('');
    }
  }
  if (load.length) {
    lines.push('| # | transport | connections | req/s | p50 ms | p99 ms | 503s | other statuses |', '|---|---|---|---|---|---|---|---|');
    for (const r of load) {
      const l = r.load;
      const other = Object.entries(l?.byStatus ?? {})
        .filter(([s]) => !s.startsWith('2') && s !== '503')
        .map(([s, n]) => `${s}×${n}`)
        .join(' ');
      lines.push(
        `| ${r.id} | ${r.vars.DB_TRANSPORT ?? ''} | ${r.connections} | ${f(l?.requestsPerSecond)} | ${f(l?.latencyMs.p50, 1)} | ${f(l?.latencyMs.p99, 1)} | ${f(Number(l?.byStatus['503'] ?? 0))} | ${other || '–'} |`,
      );
    }
    lines.push('');
  }
  return lines;
}
