/**
 * Scenario 7: forged keys and unknown clients against a legitimate client's cache misses. One
 * isolate, DB_POOL_MAX=8; the legitimate client (legacy-format keys, so the code before tagged
 * keys can serve it too) sends its hot key and injects key-cache misses at scenario 5's steady
 * rate, while a second load generator floods forgeries — random legacy keys and random tagged keys
 * for that same client, and random client names — as fast as it can. Reported: the flood's rate,
 * the legitimate 503s and p99, and catalog lookups per forged request (an upper bound: every auth
 * statement of the run, the legitimate misses included, divided by the forged requests). Runs
 * against this code ("after") and, when a baseline bundle is given, the code before ("baseline").
 */
import { freePort } from '../dev/ports.js';
import { runLoad } from './load.js';
import type { LoadSpec } from './load-spec.js';
import { sleep } from '../dev/process-group.js';
import { FLOOD_CLIENT } from './seed.js';
import { PARAMS, STARVATION, workerVars, type Ctx, type ScenarioResult } from './scenarios.js';
import { startWorkerd, type Bundle } from './workerd.js';

const FLOOD = { legitConnections: { quick: 4, full: 32 }, floodConnections: { quick: 16, full: 128 } } as const;

export type ForgeryFigures = {
  floodRequestsPerSecond: number;
  floodCompleted: number;
  floodByStatus: Record<string, number>;
  legit503: number;
  legitP99Ms: number;
  legitMissesInjected: number;
  authLookups: number;
  lookupsPerForgedRequest: number;
};

/** Runs scenario 7 on `bundle` (`label`: after | baseline). */
export async function runForgedFloodScenario(ctx: Ctx, bundle: Bundle, label: 'after' | 'baseline'): Promise<ScenarioResult> {
  const p = PARAMS[ctx.mode];
  const legitConnections = FLOOD.legitConnections[ctx.mode];
  const request = { method: 'GET' as const, path: '/v1/auth/verify', headers: { 'x-athena-client': FLOOD_CLIENT, apikey: ctx.seeded.floodHotKey } };
  // BENCH_FLOOD_POOL_MAX=2 repeats the scenario at the smallest pool (as `DB_POOL_MAX=2 npm run dev`).
  const starvation = { ...STARVATION.vars, DB_POOL_MAX: process.env.BENCH_FLOOD_POOL_MAX ?? STARVATION.vars.DB_POOL_MAX };
  const vars = {
    ...workerVars(ctx, { id: '7', group: 7, title: '', sink: 'direct', request, connections: legitConnections, counted: false, vars: starvation }),
  };
  const base: ScenarioResult = {
    id: `7-${label}`,
    group: 7,
    title: `forged keys + random clients flood, ${label === 'after' ? 'this code' : 'code before (baseline)'}`,
    request: `${request.method} ${request.path}`,
    connections: legitConnections,
    durationMs: p.durationMs,
    vars: {
      DB_POOL_MAX: starvation.DB_POOL_MAX,
      floodConnections: String(FLOOD.floodConnections[ctx.mode]),
      missesPerSecond: String(STARVATION.missesPerSecond),
    },
  };
  const w = await startWorkerd(bundle, await freePort(), vars, `workerd-7-${label}`);
  try {
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${w.url}${request.path}`, { headers: request.headers });
      if (!res.ok) return { ...base, skipped: `warm-up answered ${res.status}: ${(await res.text()).slice(0, 200)}` };
    }
    await sleep(300);
    await ctx.probe.resetStatements();
    const common = { baseUrl: w.url, durationMs: p.durationMs, tail: { method: 'GET' as const, path: '/health' }, drainCapMs: 5_000, timeoutSec: 10 };
    const legitSpec: LoadSpec = {
      ...common,
      connections: legitConnections,
      request,
      injectMisses: { name: 'apikey', values: ctx.seeded.floodMissKeys, perSecond: STARVATION.missesPerSecond },
    };
    const floodSpec: LoadSpec = {
      ...common,
      connections: FLOOD.floodConnections[ctx.mode],
      request: { ...request, headers: { 'x-athena-client': FLOOD_CLIENT } },
      forgeries: true,
    };
    const [legit, flood] = await Promise.all([runLoad(legitSpec), runLoad(floodSpec)]);
    const statements = await ctx.probe.statements();
    const status = await fetch(`${w.url}/__gateway/status`, { headers: { authorization: `Bearer ${ctx.adminToken}` } });
    const gatewayStatus: unknown = status.ok ? (((await status.json()) as Record<string, unknown>).auth ?? null) : null;
    const forgery: ForgeryFigures = {
      floodRequestsPerSecond: flood.requestsPerSecond,
      floodCompleted: flood.completed,
      floodByStatus: flood.byStatus,
      legit503: legit.byStatus['503'] ?? 0,
      legitP99Ms: legit.latencyMs.p99,
      legitMissesInjected: legit.missesInjected,
      authLookups: statements.authLookups,
      lookupsPerForgedRequest: statements.authLookups / Math.max(1, flood.completed),
    };
    return { ...base, load: legit, statements, forgery, gatewayStatus };
  } finally {
    await w.stop();
  }
}

/** The scenario 7 section of the report: one line per run. */
export function renderForgery(results: ScenarioResult[]): string[] {
  const rows = results.filter((r) => r.forgery);
  if (rows.length === 0) return [];
  const lines = [
    '## Scenario 7: forged keys and random clients',
    '',
    '| run | flood req/s (forged) | forged answers | legitimate 503s | legitimate p99 ms | legitimate misses injected | auth lookups | lookups per forged request (upper bound) |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const g = r.forgery;
    if (!g) continue;
    const answers = Object.entries(g.floodByStatus)
      .map(([s, n]) => `${s}×${n}`)
      .join(' ');
    lines.push(
      `| ${r.title} | ${Math.round(g.floodRequestsPerSecond)} | ${answers} | ${g.legit503} | ${g.legitP99Ms.toFixed(1)} | ${g.legitMissesInjected} | ${g.authLookups} | ${g.lookupsPerForgedRequest.toFixed(4)} |`,
    );
  }
  lines.push('');
  return lines;
}
