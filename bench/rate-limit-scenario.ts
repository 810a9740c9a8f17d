/**
 * Scenario 8: rate limits on one isolate (DB_POOL_MAX=8, scenario 5's starvation vars). Client A's
 * key is limited to 100 requests / 10 s and sends as fast as its connections allow (far beyond 20×
 * its limit); client B is unlimited and sends its hot key while injecting key-cache misses at
 * scenario 5's steady rate. Both call `POST /gateway/fetch` with an empty object: it passes auth
 * and the limiter, then stops at body validation (400) — so no tenant database is involved and
 * the figures isolate auth + limiter. Client B first runs alone (its baseline), then beside A. Reported: A's 429s and allowed rate (target: its limit,
 * 10/s), B's 503s (target 0) and p99; then the limiter's per-request cost: the same request at the
 * same concurrency with a key limited far above what it sends (every request asks the Durable
 * Object, none is refused) against an unlimited key.
 */
import pg from 'pg';
import { freePort } from '../dev/ports.js';
import { mintApiKey, hashApiKey } from '../crypto/key-format.js';
import { signerFor } from '../crypto/key-signing.js';
import { runLoad } from './load.js';
import type { HttpRequestSpec, LoadResult, LoadSpec } from './load-spec.js';
import { HOT_CLIENT } from './seed.js';
import { PARAMS, STARVATION, workerVars, type Ctx, type ScenarioResult } from './scenarios.js';
import { startWorkerd } from './workerd.js';

const LIMITED_CLIENT = 'bench-limited';
const LIMIT = { requests: 100, periodS: 10 };
const CONNECTIONS = { a: 16, b: 32, cost: 16 } as const;

export type RateLimitFigures = {
  aRequestsPerSecond: number;
  aAllowedPerSecond: number;
  a429: number;
  bCompleted: number;
  b503: number;
  bP99Ms: number;
  bRequestsPerSecond: number;
  /** Client B alone (same load, no client A), run first on the same isolate: the baseline for B's figures. */
  bAlone: { completed: number; b503: number; p99Ms: number; requestsPerSecond: number };
  cost: { limitedP50Ms: number; unlimitedP50Ms: number; limitedRps: number; unlimitedRps: number };
};

/** Client A with a 100/10s key and a key limited far above any load (for the cost run). */
async function seedLimited(catalogUrl: string, secret: string): Promise<{ limitedKey: string; highKey: string; plainKey: string }> {
  const sign = await signerFor([secret]);
  const db = new pg.Client({ connectionString: catalogUrl });
  await db.connect();
  try {
    await db.query('DELETE FROM clients WHERE client_name = $1', [LIMITED_CLIENT]);
    await db.query(`INSERT INTO clients (client_name, api_key_enforcement) VALUES ($1, 'required')`, [LIMITED_CLIENT]);
    const make = async (name: string, limit: { requests: number; periodS: number } | null) => {
      const { key, prefix } = await mintApiKey(sign);
      await db.query(
        `INSERT INTO api_keys (client_name, name, prefix, key_hash, scopes, rate_limit_requests, rate_limit_period_s) VALUES ($1, $2, $3, $4, '{"operations":["read"],"tables":["*"]}', $5, $6)`,
        [LIMITED_CLIENT, name, prefix, await hashApiKey(key), limit?.requests ?? null, limit?.periodS ?? null],
      );
      return key;
    };
    return {
      limitedKey: await make('limited', LIMIT),
      highKey: await make('high', { requests: 1_000_000_000, periodS: 60 }),
      plainKey: await make('plain', null),
    };
  } finally {
    await db.end();
  }
}

const fetchOf = (client: string, key: string): HttpRequestSpec => ({
  method: 'POST',
  path: '/gateway/fetch',
  headers: { 'content-type': 'application/json', 'x-athena-client': client, 'x-athena-key': key },
  body: '{}',
});

const served = (r: LoadResult): number => r.completed - (r.byStatus['429'] ?? 0) - (r.byStatus['503'] ?? 0);

export async function runRateLimitScenario(ctx: Ctx): Promise<ScenarioResult> {
  const p = PARAMS[ctx.mode];
  const keys = await seedLimited(ctx.stack.catalogUrl, ctx.keySigningSecret);
  const b = fetchOf(HOT_CLIENT, ctx.seeded.hotKey);
  const vars = workerVars(ctx, { id: '8', group: 8, title: '', sink: 'direct', request: b, connections: CONNECTIONS.b, counted: false, vars: STARVATION.vars });
  const base: ScenarioResult = {
    id: '8',
    group: 8,
    title: 'rate limits: A limited to 100/10s at ≫20×, B unlimited with misses',
    request: 'POST /gateway/fetch {}',
    connections: CONNECTIONS.a + CONNECTIONS.b,
    durationMs: p.durationMs,
    vars: { DB_POOL_MAX: STARVATION.vars.DB_POOL_MAX, limit: '100/10s', missesPerSecond: String(STARVATION.missesPerSecond) },
  };
  const w = await startWorkerd(ctx.bundle, await freePort(), vars, 'workerd-8');
  try {
    for (const key of [keys.plainKey, keys.highKey]) {
      const res = await fetch(`${w.url}/gateway/fetch`, { method: 'POST', headers: fetchOf(LIMITED_CLIENT, key).headers, body: '{}' });
      if (res.status !== 400) return { ...base, skipped: `warm-up answered ${res.status}: ${(await res.text()).slice(0, 200)}` };
      if (key === keys.highKey && !res.headers.get('ratelimit'))
        return { ...base, skipped: 'no RateLimit header: the RATE_LIMITER binding is missing in this bundle' };
    }
    const common = { baseUrl: w.url, durationMs: p.durationMs, tail: { method: 'GET' as const, path: '/health' }, drainCapMs: 5_000, timeoutSec: 10 };
    const aSpec: LoadSpec = { ...common, connections: CONNECTIONS.a, request: fetchOf(LIMITED_CLIENT, keys.limitedKey) };
    const bSpec: LoadSpec = {
      ...common,
      connections: CONNECTIONS.b,
      request: b,
      injectMisses: { name: 'x-athena-key', values: ctx.seeded.missKeys, perSecond: STARVATION.missesPerSecond },
    };
    const bAlone = await runLoad(bSpec);
    const [a, bRes] = await Promise.all([runLoad(aSpec), runLoad(bSpec)]);
    const costMs = Math.min(p.durationMs, 5_000);
    const limitedCost = await runLoad({ ...common, durationMs: costMs, connections: CONNECTIONS.cost, request: fetchOf(LIMITED_CLIENT, keys.highKey) });
    const plainCost = await runLoad({ ...common, durationMs: costMs, connections: CONNECTIONS.cost, request: fetchOf(LIMITED_CLIENT, keys.plainKey) });
    const seconds = a.elapsedMs / 1000;
    const rateLimit: RateLimitFigures = {
      aRequestsPerSecond: a.requestsPerSecond,
      aAllowedPerSecond: served(a) / seconds,
      a429: a.byStatus['429'] ?? 0,
      bCompleted: bRes.completed,
      b503: bRes.byStatus['503'] ?? 0,
      bP99Ms: bRes.latencyMs.p99,
      bRequestsPerSecond: bRes.requestsPerSecond,
      bAlone: { completed: bAlone.completed, b503: bAlone.byStatus['503'] ?? 0, p99Ms: bAlone.latencyMs.p99, requestsPerSecond: bAlone.requestsPerSecond },
      cost: {
        limitedP50Ms: limitedCost.latencyMs.p50,
        unlimitedP50Ms: plainCost.latencyMs.p50,
        limitedRps: limitedCost.requestsPerSecond,
        unlimitedRps: plainCost.requestsPerSecond,
      },
    };
    const status = await fetch(`${w.url}/__gateway/status`, { headers: { authorization: `Bearer ${ctx.adminToken}` } });
    const gatewayStatus: unknown = status.ok ? (((await status.json()) as Record<string, unknown>).rateLimits ?? null) : null;
    return { ...base, load: bRes, rateLimit, gatewayStatus };
  } finally {
    await w.stop();
  }
}

/** The scenario 8 section of the report. */
export function renderRateLimit(results: ScenarioResult[]): string[] {
  const r = results.find((x) => x.rateLimit);
  const g = r?.rateLimit;
  if (!g) return [];
  return [
    '## Scenario 8: rate limits (A 100/10s, B unlimited with misses)',
    '',
    '| A req/s sent | A allowed/s (limit 10/s) | A 429s | B requests | B 503s | B p99 ms | cost run p50 ms limited / unlimited | cost run req/s limited / unlimited |',
    '|---|---|---|---|---|---|---|---|',
    `| ${Math.round(g.aRequestsPerSecond)} | ${g.aAllowedPerSecond.toFixed(1)} | ${g.a429} | ${g.bCompleted} | ${g.b503} | ${g.bP99Ms.toFixed(1)} | ${g.cost.limitedP50Ms.toFixed(1)} / ${g.cost.unlimitedP50Ms.toFixed(1)} | ${Math.round(g.cost.limitedRps)} / ${Math.round(g.cost.unlimitedRps)} |`,
    '',
    'Client B alone (the same load without client A, first, on the same isolate) against B beside A:',
    '',
    '| run | B req/s | B requests | B 503s | B p99 ms |',
    '|---|---|---|---|---|',
    `| B alone | ${Math.round(g.bAlone.requestsPerSecond)} | ${g.bAlone.completed} | ${g.bAlone.b503} | ${g.bAlone.p99Ms.toFixed(1)} |`,
    `| B beside A | ${Math.round(g.bRequestsPerSecond)} | ${g.bCompleted} | ${g.b503} | ${g.bP99Ms.toFixed(1)} |`,
    '',
  ];
}
