/**
 * The data path against its baseline, in one run: the gateway (one workerd) and the minimal worker
 * (another) serve short rounds in turn at the same concurrency, each round's CPU read per process
 * (workerd, Postgres, and this process — which hosts the WebSocket proxy). Per pair: the gateway's
 * `/health`, `/v1/auth/verify`, fetch and insert; the minimal worker's session (`SELECT 1`), fetch and
 * insert routes; odd pairs run in reverse order so neither side always goes first. Before the
 * rounds, pg_stat_statements shows which statements each side sent to the tenant database.
 */
import { freePort } from '../dev/ports.js';
import { cpuBetween, cpuSnapshot } from './cpu.js';
import { DATA_PATH_CONNECTIONS, DATA_SQL, TENANT_DB, type DataPathRequests } from './data-path-seed.js';
import { runLoad } from './load.js';
import type { HttpRequestSpec } from './load-spec.js';
import { sleep } from '../dev/process-group.js';
import { median } from './percentile.js';
import type { Ctx, ScenarioResult } from './scenarios.js';
import { startWorkerd, type Bundle, type Workerd } from './workerd.js';

export type DataPathLabel = 'health' | 'verify' | 'gateway-fetch' | 'minimal-fetch' | 'minimal-session' | 'gateway-insert' | 'minimal-insert';
type Figures = {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  completed: number;
  non2xx: number;
  workerUs: number;
  postgresUs: number;
  proxyUs: number;
};
export type DataPathRound = Figures & { label: DataPathLabel };
/** Median over pairs of (gateway − minimal) / minimal: by worker CPU per request, and by req/s (minimal ÷ gateway − 1). */
export type DataPathRatio = { byCpu: number; byRps: number };
export type DataPathFigures = {
  roundMs: number;
  pairs: number;
  connections: number;
  /** The gateway's DB_POOL_MAX in the rounds (the connection count: neither side queues for a session; no connect timeout either). */
  dbPoolMax: number;
  rounds: DataPathRound[];
  medians: Partial<Record<DataPathLabel, Figures>>;
  ratios: { fetch?: DataPathRatio; insert?: DataPathRatio };
  /** Each statement the minimal worker runs, and whether the gateway sent the same text in the same run. */
  sql: { kind: 'fetch' | 'insert'; text: string; gatewayCalls: number; same: boolean }[];
  /** Tenant-database statements of the gateway's warm-up (5 fetches, 5 inserts): catalog loads and the data statements. */
  gatewayStatements: { query: string; calls: number }[];
};

export type DataPathServers = { gateway: Bundle; gatewayVars: Record<string, string>; minimal: Bundle; minimalVars: Record<string, string> };

/** A bare session takes far longer than an auth check, so rounds are longer than bench/rounds.ts's. */
const ROUNDS = { full: { pairs: 3, roundMs: 6_000 }, quick: { pairs: 1, roundMs: 500 } } as const;
const WARM = 5;

type Plan = { label: DataPathLabel; side: 'gateway' | 'minimal'; request: HttpRequestSpec };

function plan(reqs: DataPathRequests, insert: boolean): Plan[] {
  const post = (path: string): HttpRequestSpec => ({ method: 'POST', path });
  const rounds: Plan[] = [
    { label: 'health', side: 'gateway', request: { method: 'GET', path: '/health' } },
    { label: 'verify', side: 'gateway', request: reqs.verify },
    { label: 'gateway-fetch', side: 'gateway', request: reqs.fetch },
    { label: 'minimal-fetch', side: 'minimal', request: post('/fetch') },
    { label: 'minimal-session', side: 'minimal', request: post('/session') },
  ];
  if (insert)
    rounds.push({ label: 'gateway-insert', side: 'gateway', request: reqs.insert }, { label: 'minimal-insert', side: 'minimal', request: post('/insert') });
  return rounds;
}

async function warm(w: Workerd, reqs: HttpRequestSpec[]): Promise<void> {
  for (const r of reqs) {
    for (let i = 0; i < WARM; i++) {
      const res = await fetch(`${w.url}${r.path}`, { method: r.method, headers: r.headers ?? {}, body: r.body });
      if (!res.ok) throw new Error(`warm-up ${r.method} ${r.path} answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
    }
  }
}

/** Warms both sides; records the gateway's tenant statements (the minimal worker's are DATA_SQL by construction). */
async function checkSql(ctx: Ctx, gw: Workerd, min: Workerd, rounds: Plan[]): Promise<Pick<DataPathFigures, 'sql' | 'gatewayStatements'>> {
  await ctx.probe.resetStatements();
  await warm(
    gw,
    rounds.filter((r) => r.side === 'gateway').map((r) => r.request),
  );
  await sleep(300);
  const gatewayStatements = await ctx.probe.statementsIn(TENANT_DB);
  await warm(
    min,
    rounds.filter((r) => r.side === 'minimal').map((r) => r.request),
  );
  const kinds = rounds.some((r) => r.label === 'minimal-insert') ? (['fetch', 'insert'] as const) : (['fetch'] as const);
  const sql = kinds.map((kind) => {
    const seen = gatewayStatements.find((s) => s.query === DATA_SQL[kind].text);
    return { kind, text: DATA_SQL[kind].text, gatewayCalls: seen?.calls ?? 0, same: (seen?.calls ?? 0) >= WARM };
  });
  return { sql, gatewayStatements };
}

async function round(w: Workerd, roots: Record<string, number | undefined>, p: Plan, roundMs: number): Promise<DataPathRound> {
  const before = cpuSnapshot(roots);
  const load = await runLoad({
    baseUrl: w.url,
    connections: DATA_PATH_CONNECTIONS,
    durationMs: roundMs,
    request: p.request,
    tail: { method: 'GET', path: '/health' },
    drainCapMs: 5_000,
    timeoutSec: 10,
  });
  const cpu = cpuBetween(before, cpuSnapshot(roots), 'proxy').cpuSeconds;
  const per = (s: number | undefined) => (load.completed ? Math.round(((s ?? 0) / load.completed) * 1e6) : 0);
  const ok = Object.entries(load.byStatus).reduce((n, [st, c]) => (st.startsWith('2') ? n + c : n), 0);
  await sleep(300); // sessions close after their responses
  return {
    label: p.label,
    requestsPerSecond: Math.round(load.requestsPerSecond),
    p50Ms: load.latencyMs.p50,
    p99Ms: load.latencyMs.p99,
    completed: load.completed,
    non2xx: load.completed - ok,
    workerUs: per(cpu[p.side]),
    postgresUs: per(cpu.postgres),
    proxyUs: per(cpu.proxy),
  };
}

/** Medians per route, and the gateway-above-minimal ratios paired round set by round set. */
export function summariseRounds(rounds: DataPathRound[]): Pick<DataPathFigures, 'medians' | 'ratios'> {
  const of = (label: DataPathLabel) => rounds.filter((r) => r.label === label);
  const medians: DataPathFigures['medians'] = {};
  for (const label of new Set(rounds.map((r) => r.label))) {
    const rs = of(label);
    const m = (k: keyof Figures) => median(rs.map((r) => r[k]));
    medians[label] = {
      requestsPerSecond: m('requestsPerSecond'),
      p50Ms: m('p50Ms'),
      p99Ms: m('p99Ms'),
      completed: m('completed'),
      non2xx: m('non2xx'),
      workerUs: m('workerUs'),
      postgresUs: m('postgresUs'),
      proxyUs: m('proxyUs'),
    };
  }
  const ratio = (gw: DataPathRound[], min: DataPathRound[]): DataPathRatio | undefined => {
    if (gw.length !== min.length) return undefined;
    // A round that completed nothing (a stalled database) has no cost per request to compare.
    const pairs = gw.flatMap((g, i) => {
      const m = min[i];
      return m && g.completed > 0 && m.completed > 0 ? [{ g, m }] : [];
    });
    if (!pairs.length) return undefined;
    const byCpu = median(pairs.map(({ g, m }) => (g.workerUs - m.workerUs) / Math.max(1, m.workerUs)));
    const byRps = median(pairs.map(({ g, m }) => m.requestsPerSecond / Math.max(1, g.requestsPerSecond) - 1));
    return { byCpu: +byCpu.toFixed(3), byRps: +byRps.toFixed(3) };
  };
  const fetch = ratio(of('gateway-fetch'), of('minimal-fetch'));
  const insert = ratio(of('gateway-insert'), of('minimal-insert'));
  return { medians, ratios: { ...(fetch ? { fetch } : {}), ...(insert ? { insert } : {}) } };
}

/** The alternating rounds (scenario id `11-rounds`): medians, ratios and the SQL check. */
export async function runDataPathRounds(ctx: Ctx, servers: DataPathServers, reqs: DataPathRequests, insert: boolean): Promise<ScenarioResult> {
  const { roundMs, pairs } = ROUNDS[ctx.mode];
  const dbPoolMax = Number(servers.gatewayVars.DB_POOL_MAX);
  const gw = await startWorkerd(servers.gateway, await freePort(), servers.gatewayVars, 'workerd-dp-gateway');
  try {
    const min = await startWorkerd(servers.minimal, await freePort(), servers.minimalVars, 'workerd-dp-minimal');
    try {
      const order = plan(reqs, insert);
      const checked = await checkSql(ctx, gw, min, order);
      const roots = { gateway: gw.child.pid, minimal: min.child.pid, postgres: ctx.stack.postgresPid };
      const rounds: DataPathRound[] = [];
      for (let pair = 0; pair < pairs; pair++) {
        for (const p of pair % 2 ? [...order].reverse() : order) rounds.push(await round(p.side === 'gateway' ? gw : min, roots, p, roundMs));
      }
      const figures: DataPathFigures = { roundMs, pairs, connections: DATA_PATH_CONNECTIONS, dbPoolMax, rounds, ...summariseRounds(rounds), ...checked };
      return {
        id: '11-rounds',
        group: 11,
        title: `data path: gateway vs minimal worker, ${pairs} alternating round set(s)`,
        request: 'POST /gateway/fetch, /gateway/insert',
        connections: DATA_PATH_CONNECTIONS,
        durationMs: roundMs * rounds.length,
        vars: { DB_POOL_MAX: String(dbPoolMax) },
        dataPath: figures,
      };
    } finally {
      await min.stop();
    }
  } finally {
    await gw.stop();
  }
}
