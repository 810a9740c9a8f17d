/**
 * The data path in the report: the gateway's fetch and insert against the minimal worker's bare
 * session in alternating rounds, the split of a fetch's worker CPU into auth, session setup, query
 * and the rest of the gateway, and the target (gateway ≤ 15% above the bare session + query).
 */
import type { DataPathFigures, DataPathLabel } from './data-path-rounds.js';
import { profileTag, type DataKind } from './data-path-seed.js';
import type { ProfileSummary } from './profile.js';
import type { ScenarioResult } from './scenarios.js';
import type { Target } from './targets.js';

const LIMIT = 0.15;
/** Fewest requests a data round needs for its CPU per request to count. */
const MIN_COMPLETED = 100;
const f = (n: number | undefined, d = 0): string =>
  n === undefined || !Number.isFinite(n) ? '–' : n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const pct = (x: number | undefined): string => (x === undefined ? '–' : `${x >= 0 ? '+' : ''}${f(x * 100, 1)}%`);
const figuresOf = (rs: readonly ScenarioResult[]): DataPathFigures | undefined => rs.find((r) => r.dataPath && !r.skipped)?.dataPath;

const ROUTES: [DataPathLabel, string][] = [
  ['health', 'gateway `GET /health` (no auth)'],
  ['verify', 'gateway `GET /v1/auth/verify` (auth cache hit)'],
  ['gateway-fetch', 'gateway `POST /gateway/fetch`'],
  ['minimal-fetch', 'minimal: session + the same SELECT'],
  ['minimal-session', 'minimal: session open + `SELECT 1` + close'],
  ['gateway-insert', 'gateway `POST /gateway/insert`'],
  ['minimal-insert', 'minimal: session + the same INSERT'],
];

/** Worker CPU µs and p50 ms of a fetch, part by part (medians; differences of medians, so approximate). */
function split(x: DataPathFigures): string[] {
  const m = x.medians;
  const [h, v, g, mf, ms] = [m.health, m.verify, m['gateway-fetch'], m['minimal-fetch'], m['minimal-session']];
  if (!g || !mf || !ms) return [];
  const auth = v && h ? { us: v.workerUs - h.workerUs, ms: v.p50Ms - h.p50Ms } : undefined;
  const above = { us: g.workerUs - mf.workerUs, ms: g.p50Ms - mf.p50Ms };
  const rows: [string, number | undefined, number | undefined][] = [
    ['session setup (minimal session route)', ms.workerUs, ms.p50Ms],
    ['query (minimal fetch − session)', mf.workerUs - ms.workerUs, mf.p50Ms - ms.p50Ms],
    ['auth (gateway verify − /health)', auth?.us, auth?.ms],
    ['rest of the gateway (gateway fetch − minimal fetch − auth)', auth ? above.us - auth.us : undefined, auth ? above.ms - auth.ms : undefined],
    ['**gateway fetch**', g.workerUs, g.p50Ms],
  ];
  return ['| part of a fetch | worker CPU µs/req | p50 ms |', '|---|---|---|', ...rows.map(([k, us, p50]) => `| ${k} | ${f(us)} | ${f(p50, 1)} |`), ''];
}

/** Self time per request (µs) of each function in either profile's top, gateway − minimal first. */
function profileDiff(profiles: readonly ProfileSummary[], kind: DataKind): string[] {
  const g = profiles.find((p) => p.request.endsWith(profileTag('gateway', kind)));
  const m = profiles.find((p) => p.request.endsWith(profileTag('minimal', kind)));
  if (!g || !m) return [];
  const perRequest = (p: ProfileSummary) => new Map(p.top.map((h) => [h.name, (h.selfPercent / 100) * ((p.sampledMs * 1000) / Math.max(1, p.load.completed))]));
  const [gm, mm] = [perRequest(g), perRequest(m)];
  const names = [...new Set([...gm.keys(), ...mm.keys()])].sort((a, b) => (gm.get(b) ?? 0) - (mm.get(b) ?? 0) - ((gm.get(a) ?? 0) - (mm.get(a) ?? 0)));
  return [
    `Where ${kind === 'fetch' ? 'a fetch' : 'an insert'}'s worker time goes, gateway against minimal worker (V8 profiles of separate runs at ${g.load.completed} and ${m.load.completed} requests; sampled wall time per request, self time, the top ${g.top.length} of each):`,
    '',
    '| function (self) | gateway µs/req | minimal µs/req | difference |',
    '|---|---|---|---|',
    ...names.map((n) => `| ${n} | ${f(gm.get(n))} | ${f(mm.get(n))} | ${f((gm.get(n) ?? 0) - (mm.get(n) ?? 0))} |`),
    '',
  ];
}

/** The `## Data path` section of a run's report (empty when the rounds did not run). */
export function renderDataPath(scenarios: readonly ScenarioResult[], profiles: readonly ProfileSummary[] = []): string[] {
  const x = figuresOf(scenarios);
  if (!x) return [];
  const lines = [
    `## Data path: gateway vs a minimal worker's bare Neon session (medians of ${x.pairs} round set(s) of ${f(x.roundMs)} ms, ${x.connections} connections, gateway DB_POOL_MAX=${x.dbPoolMax})`,
    '',
  ];
  lines.push(
    '| route | req/s | p50 ms | p99 ms | non-2xx | worker CPU µs/req | Postgres CPU µs/req | proxy + bench CPU µs/req |',
    '|---|---|---|---|---|---|---|---|',
  );
  for (const [label, name] of ROUTES) {
    const r = x.medians[label];
    if (r)
      lines.push(
        `| ${name} | ${f(r.requestsPerSecond)} | ${f(r.p50Ms, 1)} | ${f(r.p99Ms, 1)} | ${f(r.non2xx)} | ${f(r.workerUs)} | ${f(r.postgresUs)} | ${f(r.proxyUs)} |`,
      );
  }
  lines.push('', ...split(x));
  for (const [kind, r] of Object.entries(x.ratios))
    lines.push(
      `- ${kind}: gateway above the minimal worker **${pct(r.byCpu)}** by worker CPU per request, **${pct(r.byRps)}** by req/s (median over pairs; target ≤ +${LIMIT * 100}%).`,
    );
  for (const s of x.sql)
    lines.push(
      `- ${s.kind} statement \`${s.text}\`: ${s.same ? `sent by the gateway too (${s.gatewayCalls} calls in its warm-up)` : '**not seen from the gateway**: the comparison is not like for like'}.`,
    );
  lines.push(
    `- the gateway's tenant statements in its warm-up: ${x.gatewayStatements.map((s) => `${s.calls}× \`${s.query.replace(/\s+/g, ' ').slice(0, 90)}\``).join('; ')}`,
    '',
  );
  return [...lines, ...profileDiff(profiles, 'fetch'), ...profileDiff(profiles, 'insert')];
}

/** The data path target: fetch and insert each ≤ 15% above the minimal worker, by worker CPU and by req/s. */
export function dataPathTarget(results: readonly ScenarioResult[]): Target {
  const target = `data path ≤ ${LIMIT * 100}% above a bare Neon session + the same query (minimal worker, same run), by worker CPU per request and by req/s`;
  const x = figuresOf(results);
  const entries = x ? Object.entries(x.ratios) : [];
  if (!x || !entries.length) return { id: 'data-path', target, actual: 'not measured', status: 'unknown' };
  const actual = entries.map(([k, r]) => `${k} ${pct(r.byCpu)} by CPU, ${pct(r.byRps)} by req/s`).join('; ');
  const differs = x.sql.filter((s) => !s.same).map((s) => s.kind);
  if (differs.length) return { id: 'data-path', target, actual: `${actual} (${differs.join(', ')}: gateway SQL differs)`, status: 'unknown' };
  // A round that failed requests measured cheap errors, not the data path; one with a handful of
  // requests measured noise (a short round on a slow machine).
  const data = x.rounds.filter((r) => r.label !== 'health' && r.label !== 'verify');
  const failed = data.filter((r) => r.non2xx > 0.01 * r.completed);
  if (failed.length)
    return {
      id: 'data-path',
      target,
      actual: `${actual} (${failed.length} round(s) with > 1% non-2xx: ${[...new Set(failed.map((r) => r.label))].join(', ')})`,
      status: 'unknown',
    };
  const few = data.filter((r) => r.completed < MIN_COMPLETED);
  if (few.length) return { id: 'data-path', target, actual: `${actual} (${few.length} round(s) under ${MIN_COMPLETED} requests)`, status: 'unknown' };
  const over = entries.flatMap(([k, r]) =>
    [['CPU', r.byCpu] as const, ['req/s', r.byRps] as const]
      .filter(([, v]) => v > LIMIT)
      .map(([by, v]) => `${k} by ${by} ${f((v - LIMIT) * 100, 1)} points over`),
  );
  return { id: 'data-path', target, actual, status: over.length ? 'missed' : 'met', ...(over.length ? { gap: over.join('; ') } : {}) };
}
