/**
 * Scenarios 11 (`POST /gateway/fetch`, one row by primary key) and 12 (`POST /gateway/insert`, one
 * row) on the fixtures of bench/data-path-seed.ts. Both run as ordinary gateway scenarios (fresh
 * workerd, counters checked), then against a minimal worker in alternating rounds
 * (bench/data-path-rounds.ts) and, with profiling on, under the V8 profiler: the gateway's fetch
 * and the minimal worker's.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDataPathRounds } from './data-path-rounds.js';
import { DATA_PATH_CONNECTIONS, DATA_SQL, dataRequests, profileTag, seedTenant, type DataKind } from './data-path-seed.js';
import type { HttpRequestSpec } from './load-spec.js';
import { profileRequest, type ProfileSummary } from './profile.js';
import { PARAMS, runGatewayScenario, workerVars, type Ctx, type GatewayScenario, type ScenarioResult } from './scenarios.js';
import { bundleWorker, type Bundle } from './workerd.js';

const scenario = (id: '11' | '12', request: HttpRequestSpec): GatewayScenario => ({
  id,
  group: Number(id),
  title: id === '11' ? 'data path: fetch one row by primary key (auth cache hit)' : 'data path: insert one row (auth cache hit)',
  sink: 'flusher',
  request,
  connections: DATA_PATH_CONNECTIONS,
  counted: true,
  errorsCounted: true,
});

/** The minimal worker's bundle (bench/minimal-worker), served on the gateway's runtime settings. */
async function bundleMinimal(gateway: Bundle): Promise<Bundle> {
  const b = await bundleWorker(mkdtempSync(join(tmpdir(), 'bench-minimal-')), undefined, 'bench/minimal-worker/wrangler.toml');
  return { ...b, compatibilityDate: gateway.compatibilityDate, compatibilityFlags: gateway.compatibilityFlags };
}

/** Vars of the minimal worker: the tenant database through the same proxy, and the statements to run. */
function minimalVars(ctx: Ctx, tenantUrl: string): Record<string, string> {
  return {
    DATABASE_URL: tenantUrl,
    NEON_LOCAL_WS_PROXY: ctx.stack.proxy.url,
    DB_STATEMENT_TIMEOUT_MS: ctx.bundle.defaultVars.DB_STATEMENT_TIMEOUT_MS ?? '5000',
    FETCH_SQL: DATA_SQL.fetch.text,
    FETCH_PARAMS: JSON.stringify(DATA_SQL.fetch.params),
    INSERT_SQL: DATA_SQL.insert.text,
    INSERT_PARAMS: JSON.stringify(DATA_SQL.insert.params),
  };
}

export type DataPathRun = { results: ScenarioResult[]; profiles: ProfileSummary[] };

/** Scenarios 11 (fetch) and 12 (insert) as wanted, their rounds against the minimal worker, and the profiles. */
export async function runDataPath(ctx: Ctx, want: { fetch: boolean; insert: boolean; profile: boolean }): Promise<DataPathRun> {
  const { tenantUrl, dataKey } = await seedTenant(ctx);
  const reqs = dataRequests(dataKey);
  const results: ScenarioResult[] = [];
  for (const s of [...(want.fetch ? [scenario('11', reqs.fetch)] : []), ...(want.insert ? [scenario('12', reqs.insert)] : [])]) {
    ctx.log(`scenario ${s.id}: ${s.title} (${s.connections} connections, ${PARAMS[ctx.mode].durationMs} ms)`);
    results.push(await runGatewayScenario(ctx, s).catch((err: unknown) => skipped(s, err)));
  }
  const minimal = await bundleMinimal(ctx.bundle);
  const profiles: ProfileSummary[] = [];
  try {
    const mVars = minimalVars(ctx, tenantUrl);
    // Like for like with the minimal worker, which neither queues for a session nor gives up connecting:
    // a permit for every connection and a connect timeout far above any round (else slow sessions
    // turn into cheap 503s that lower the gateway's CPU per request).
    // And a WebSocket session per request, as the minimal worker opens (scenario 14 compares the transports).
    const gVars = {
      ...workerVars(ctx, scenario('11', reqs.fetch)),
      DB_POOL_MAX: String(DATA_PATH_CONNECTIONS),
      DB_CONNECT_TIMEOUT_MS: '60000',
      DB_TRANSPORT: 'ws',
    };
    ctx.log('scenario 11-rounds: gateway vs minimal worker in alternating rounds');
    const servers = { gateway: ctx.bundle, gatewayVars: gVars, minimal, minimalVars: mVars };
    const rounds = await runDataPathRounds(ctx, servers, reqs, want.insert).catch((err: unknown) => skipped(scenario('11', reqs.fetch), err, '11-rounds'));
    for (const [kind, r] of Object.entries(rounds.dataPath?.ratios ?? {}))
      ctx.log(`  ${kind}: gateway ${(r.byCpu * 100).toFixed(1)}% above minimal by worker CPU/req, ${(r.byRps * 100).toFixed(1)}% by req/s`);
    results.push(rounds);
    const kinds: DataKind[] = [...(want.fetch ? (['fetch'] as const) : []), ...(want.insert ? (['insert'] as const) : [])];
    for (const kind of want.profile ? kinds : []) {
      ctx.log(`profiling the gateway's ${kind} and the minimal worker's`);
      const g = await profileRequest(ctx.bundle, gVars, reqs[kind], DATA_PATH_CONNECTIONS, PARAMS[ctx.mode].profileMs);
      profiles.push({ ...g, request: `${g.request} ${profileTag('gateway', kind)}` });
      const m = await profileRequest(minimal, mVars, { method: 'POST', path: `/${kind}` }, DATA_PATH_CONNECTIONS, PARAMS[ctx.mode].profileMs);
      profiles.push({ ...m, request: `${m.request} ${profileTag('minimal', kind)}` });
    }
  } finally {
    // Its generated workerd configs hold the tenant database URL.
    rmSync(minimal.dir, { recursive: true, force: true });
  }
  return { results, profiles };
}

function skipped(s: GatewayScenario, err: unknown, id = s.id): ScenarioResult {
  const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
  return {
    id,
    group: s.group,
    title: s.title,
    request: `${s.request.method} ${s.request.path}`,
    connections: s.connections,
    durationMs: 0,
    vars: {},
    skipped: `error: ${message}`,
  };
}
