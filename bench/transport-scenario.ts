/**
 * Scenario 14: the database transport (DB_TRANSPORT) at a distance. The same workerd bundle, once
 * with WebSocket sessions and once over Neon's HTTP endpoint, through the stack's distant proxy
 * (`BENCH_RTT_MS` of round trip, a new connection's set-up modelled): one request at a time, the
 * p50/p99 of a cached verify (the worker's own time, no database), a hot key's fetch, a fresh key's
 * first fetch (key lookup + fetch), an insert and a 5-operation transaction, and from them the round
 * trips each request pays beyond the cached verify. Then scenarios 11 and 12 (64 connections, near
 * the database) on each transport, with their 503s.
 */
import pg from 'pg';
import type { SqlRequestStats } from '../dev/neon-http-endpoint.js';
import { freePort } from '../dev/ports.js';
import { hashApiKey, mintApiKey } from '../crypto/key-format.js';
import { signerFor } from '../crypto/key-signing.js';
import { DATA_PATH_CONNECTIONS, dataRequests, seedTenant } from './data-path-seed.js';
import type { HttpRequestSpec } from './load-spec.js';
import { HOT_CLIENT } from './seed.js';
import { BENCH_RTT_MS } from './stack.js';
import { PARAMS, runGatewayScenario, workerVars, type Ctx, type GatewayScenario, type ScenarioResult } from './scenarios.js';
import { startWorkerd } from './workerd.js';
import { quantile } from './percentile.js';

export const TRANSPORTS = ['ws', 'http'] as const;
export type Transport = (typeof TRANSPORTS)[number];

/** Sequential requests per measured kind (after warm-up); fresh keys: one first fetch each. */
const SAMPLES = { full: 60, quick: 10 } as const;

/**
 * Where an HTTP-transport request's time went, medians over its samples, from the distant proxy's
 * own stats: SQL requests sent and their set-up round trips, the proxy's span (the modelled wire
 * plus Postgres plus its own lag), Postgres's part of it, and the rest (the worker, workerd's
 * fetch, the bench client: the request's time less the proxy's spans).
 */
export type WireSplit = { requests: number; setupRoundTrips: number; proxyMs: number; postgresMs: number; outsideMs: number };
export type Latency = { p50Ms: number; p99Ms: number; samples: number; non2xx: number; roundTrips: number | null; wire?: WireSplit | undefined };
export type TransportFigures = {
  transport: Transport;
  rttMs: number;
  verify: Latency;
  hotFetch: Latency;
  freshFetch: Latency;
  insert: Latency;
  transaction5: Latency;
};

/** Keys of the hot client never used yet, scoped like the data key: each one's first fetch looks it up. */
async function mintFreshKeys(ctx: Ctx, n: number): Promise<string[]> {
  const sign = await signerFor([ctx.keySigningSecret]);
  const catalog = new pg.Client({ connectionString: ctx.stack.catalogUrl });
  await catalog.connect();
  try {
    const keys: string[] = [];
    for (let i = 0; i < n; i++) {
      const { key, prefix } = await mintApiKey(sign);
      await catalog.query(`INSERT INTO api_keys (client_name, name, prefix, key_hash, scopes) VALUES ($1, $2, $3, $4, $5::jsonb)`, [
        HOT_CLIENT,
        `fresh-${crypto.randomUUID()}`,
        prefix,
        await hashApiKey(key),
        JSON.stringify({ operations: ['read', 'insert'], tables: ['bench_items', 'bench_events'] }),
      ]);
      keys.push(key);
    }
    return keys;
  } finally {
    await catalog.end();
  }
}

/** Five operations in one transaction: two inserts, three one-row fetches. */
function transaction5(headers: Record<string, string>): HttpRequestSpec {
  const ins = (id: string) => ({ id, kind: 'insert', payload: { table_name: 'bench_events', insert_body: { kind: 'tx', amount: 1 } } });
  const get = (id: string, n: number) => ({
    id,
    kind: 'fetch',
    payload: { table_name: 'bench_items', columns: 'id,name', conditions: [{ column: 'id', operator: 'eq', value: n }], limit: 1 },
  });
  return {
    method: 'POST',
    path: '/gateway/transaction',
    headers,
    body: JSON.stringify({ operations: [ins('a'), ins('b'), get('c', 1), get('d', 2), get('e', 3)] }),
  };
}

type Run = { ms: number; ok: boolean; sql: SqlRequestStats[] };

/** One request; `seen` is the distant proxy's SQL requests so far (those this one sent end before its answer). */
async function timeOne(baseUrl: string, seen: SqlRequestStats[], r: HttpRequestSpec, headers: Record<string, string> = r.headers ?? {}): Promise<Run> {
  const from = seen.length;
  const t = performance.now();
  const res = await fetch(`${baseUrl}${r.path}`, { method: r.method, headers, body: r.body });
  await res.arrayBuffer();
  return { ms: performance.now() - t, ok: res.ok, sql: seen.slice(from) };
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

function latency(runs: Run[], verifyP50: number | null): Latency {
  const ms = runs.map((r) => r.ms);
  const p50Ms = quantile(ms, 0.5);
  const median = (f: (r: Run) => number) => quantile(runs.map(f), 0.5);
  const wire: WireSplit | undefined = runs.some((r) => r.sql.length)
    ? {
        requests: median((r) => r.sql.length),
        setupRoundTrips: median((r) => sum(r.sql.map((q) => q.setupRoundTrips))),
        proxyMs: median((r) => sum(r.sql.map((q) => q.spanMs))),
        postgresMs: median((r) => sum(r.sql.map((q) => q.postgresMs))),
        outsideMs: median((r) => r.ms - sum(r.sql.map((q) => q.spanMs))),
      }
    : undefined;
  return {
    p50Ms,
    p99Ms: quantile(ms, 0.99),
    samples: runs.length,
    non2xx: runs.filter((r) => !r.ok).length,
    roundTrips: verifyP50 === null ? null : (p50Ms - verifyP50) / BENCH_RTT_MS,
    wire,
  };
}

/** One transport's latencies at `BENCH_RTT_MS`, one request at a time on a fresh workerd. */
async function measure(ctx: Ctx, transport: Transport, reqs: ReturnType<typeof dataRequests>, fresh: string[], n: number): Promise<TransportFigures> {
  const base: GatewayScenario = {
    id: `14-${transport}`,
    group: 14,
    title: '',
    sink: 'direct',
    request: reqs.fetch,
    connections: 1,
    counted: false,
    distant: true,
  };
  const seen: SqlRequestStats[] = [];
  const unwatch = ctx.stack.watchDistantSql((st) => seen.push(st));
  const w = await startWorkerd(ctx.bundle, await freePort(), { ...workerVars(ctx, base), DB_TRANSPORT: transport }, `workerd-14-${transport}`);
  try {
    const tx = transaction5(reqs.fetch.headers ?? {});
    // Warm: the isolate, its key and policy caches, the tenant catalog, the runtime's connections.
    for (const r of [reqs.verify, reqs.fetch, reqs.insert, tx, reqs.verify, reqs.fetch]) await timeOne(w.url, seen, r);
    const runs = async (r: HttpRequestSpec) => {
      const out = [];
      for (let i = 0; i < n; i++) out.push(await timeOne(w.url, seen, r));
      return out;
    };
    const verify = latency(await runs(reqs.verify), null);
    const freshRuns = [];
    for (const key of fresh) freshRuns.push(await timeOne(w.url, seen, reqs.fetch, { ...(reqs.fetch.headers ?? {}), 'x-athena-key': key }));
    return {
      transport,
      rttMs: BENCH_RTT_MS,
      verify: { ...verify, roundTrips: 0 },
      hotFetch: latency(await runs(reqs.fetch), verify.p50Ms),
      freshFetch: latency(freshRuns, verify.p50Ms),
      insert: latency(await runs(reqs.insert), verify.p50Ms),
      transaction5: latency(await runs(tx), verify.p50Ms),
    };
  } finally {
    unwatch();
    await w.stop();
  }
}

const dataScenario = (id: '11' | '12', transport: Transport, request: HttpRequestSpec): GatewayScenario => ({
  id: `${id}-${transport}`,
  group: 14,
  title: `${id === '11' ? 'data path: fetch one row by primary key' : 'data path: insert one row'}, DB_TRANSPORT=${transport}`,
  sink: 'flusher',
  request,
  connections: DATA_PATH_CONNECTIONS,
  counted: true,
  errorsCounted: true,
  vars: { DB_TRANSPORT: transport },
});

/** Scenario 14: latencies per transport at a distance, then scenarios 11 and 12 on each transport. */
export async function runTransportScenario(ctx: Ctx): Promise<ScenarioResult[]> {
  const { dataKey } = await seedTenant(ctx);
  const reqs = dataRequests(dataKey);
  const n = SAMPLES[ctx.mode];
  const results: ScenarioResult[] = [];
  for (const transport of TRANSPORTS) {
    ctx.log(`scenario 14-${transport}: one request at a time, ${BENCH_RTT_MS} ms RTT, DB_TRANSPORT=${transport}`);
    const fresh = await mintFreshKeys(ctx, n);
    const figures = await measure(ctx, transport, reqs, fresh, n);
    const split = (x: WireSplit | undefined) =>
      x
        ? ` [${x.requests} req, ${x.setupRoundTrips} set-up RTT, proxy ${x.proxyMs} ms of which postgres ${x.postgresMs}, outside ${x.outsideMs.toFixed(1)}]`
        : '';
    const line = (k: string, l: Latency) =>
      `${k} p50 ${l.p50Ms.toFixed(1)} p99 ${l.p99Ms.toFixed(1)} ms${l.roundTrips === null ? '' : ` (${l.roundTrips.toFixed(2)} RTT)`}${split(l.wire)}${l.non2xx ? `, ${l.non2xx} non-2xx` : ''}`;
    ctx.log(
      `  ${[line('verify', figures.verify), line('hot fetch', figures.hotFetch), line('fresh fetch', figures.freshFetch), line('insert', figures.insert), line('tx5', figures.transaction5)].join('; ')}`,
    );
    results.push({
      id: `14-${transport}`,
      group: 14,
      title: `transport ${transport} at ${BENCH_RTT_MS} ms RTT`,
      request: 'sequential',
      connections: 1,
      durationMs: 0,
      vars: { DB_TRANSPORT: transport, DEV_DB_RTT_MS: String(BENCH_RTT_MS) },
      transport: figures,
    });
  }
  for (const transport of TRANSPORTS) {
    for (const s of [dataScenario('11', transport, reqs.fetch), dataScenario('12', transport, reqs.insert)]) {
      ctx.log(`scenario ${s.id}: ${s.title} (${s.connections} connections, ${PARAMS[ctx.mode].durationMs} ms)`);
      const r = await runGatewayScenario(ctx, s);
      results.push({ ...r, vars: { ...r.vars, DB_TRANSPORT: transport } });
    }
  }
  return results;
}
