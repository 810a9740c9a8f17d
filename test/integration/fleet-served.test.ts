/**
 * The fleet view end to end, as an operator meets it: the worker served over HTTP (the deploy
 * bundle in `workerd serve`) sends its isolate snapshot with each counter batch. Through a real flusher,
 * `GET /fleet` lists the isolate with per-second rates and latency quantiles, `/metrics` carries the
 * fleet series, and `status --fleet --json` shows the same; through the direct sink, the snapshot
 * lands in `isolate_snapshots` in the flush's transaction and `status --fleet --json --from
 * catalog` computes the rates from that row.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { FleetView, IsolateView } from '../../drizzle/fleet-view.js';
import type { RunningFlusher } from '../../flusher/server.js';
import { TEST_KEY_SIGNING_SECRET } from '../support/key-signing.js';
import { queryOnce } from '../support/query-once.js';
import { clientWithKey } from '../support/served-client.js';
import { startWorkerServer, type WorkerServer } from '../support/worker-server.js';
import { tmpdir } from 'node:os';
import { cliEnv, gateway, runGateway } from './cli-support.js';
import { SECRET, startTestFlusher } from '../support/flusher-harness.js';

const databaseUrl = inject('databaseUrl');
const tenantDatabaseUrl = inject('tenantDatabaseUrl');
const run = `${process.pid}_${Date.now().toString(36)}`;
const table = `fleet_items_${run}`;
const clientName = `fleet-${run.replace(/_/g, '-')}`;

let flusher: RunningFlusher;
let viaFlusher: WorkerServer;
let direct: WorkerServer;
let apiKey: string;

const workerVars = (over: Record<string, string>) => ({
  DATABASE_URL: databaseUrl,
  TENANT_DATABASE_URL: tenantDatabaseUrl,
  NEON_LOCAL_WS_PROXY: inject('wsProxy'),
  KEY_SIGNING_SECRETS: TEST_KEY_SIGNING_SECRET,
  // Flush soon after traffic, so two waves a second apart make two snapshots.
  STATS_FLUSH_INTERVAL_MS: '200',
  // Other files run beside this one: requests wait for permits and connections rather than 503.
  DB_ACQUIRE_TIMEOUT_MS: '15000',
  DB_CONNECT_TIMEOUT_MS: '15000',
  AUTH_DIRECTORY_RECHECK_MS: '0',
  ...over,
});

beforeAll(async () => {
  await queryOnce(tenantDatabaseUrl, `CREATE TABLE ${table} (id int PRIMARY KEY); INSERT INTO ${table} VALUES (1)`);
  apiKey = await clientWithKey(databaseUrl, clientName, { operations: ['read'], tables: [table] });
  flusher = await startTestFlusher();
  [viaFlusher, direct] = await Promise.all([
    startWorkerServer(workerVars({ STATS_SINK: 'flusher', FLUSHER_URL: flusher.url, FLUSH_SIGNING_SECRET: SECRET })),
    startWorkerServer(workerVars({ STATS_SINK: 'direct', FLUSHER_URL: '' })),
  ]);
});

afterAll(async () => {
  await Promise.allSettled([viaFlusher?.close(), direct?.close()]);
  await flusher?.stop();
  await queryOnce(tenantDatabaseUrl, `DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
});

/** `n` fetches at concurrency 4 plus one unknown-key 401 per wave; every status returned. */
async function wave(url: string, n: number): Promise<number[]> {
  const statuses: number[] = [];
  let next = 0;
  const one = async () => {
    for (let i = next++; i < n; i = next++) {
      const res = await fetch(`${url}/gateway/fetch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-athena-client': clientName, 'x-athena-key': apiKey },
        body: JSON.stringify({ table_name: table }),
      });
      await res.arrayBuffer();
      statuses.push(res.status);
    }
  };
  await Promise.all(Array.from({ length: 4 }, one));
  statuses.push(await refuse(url));
  return statuses;
}

/** One request with a key of the right shape that does not exist: 401, counted like any request. */
async function refuse(url: string): Promise<number> {
  const refused = await fetch(`${url}/gateway/fetch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-athena-client': clientName, 'x-athena-key': `${apiKey.slice(0, -4)}zzzz` },
    body: JSON.stringify({ table_name: table }),
  });
  await refused.arrayBuffer();
  return refused.status;
}

/** Polls `read` until `done` holds (10 s at most), returning the last value either way. */
async function until<T>(read: () => Promise<T>, done: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + 10_000;
  let v = await read();
  while (!done(v) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    v = await read();
  }
  return v;
}

/** The isolate of a view that served fetches with two snapshots known (its window is not its whole uptime). */
const windowed = (v: FleetView): IsolateView | undefined => v.isolates.find((i) => i.latency_ms.fetch !== undefined && i.window_s * 1000 < i.uptime_ms);

describe('fleet view over HTTP', () => {
  it('served worker → flusher: /fleet lists the isolate with per-second rates and quantiles; /metrics and status --fleet show them', async () => {
    expect(await wave(viaFlusher.url, 30)).toEqual([...Array<number>(30).fill(200), 401]);
    await new Promise((r) => setTimeout(r, 1200));
    expect(await wave(viaFlusher.url, 30)).toEqual([...Array<number>(30).fill(200), 401]);

    const view = await until(
      async () => (await (await fetch(`${flusher.url}/fleet`)).json()) as FleetView,
      (v) => windowed(v) !== undefined,
    );
    const isolate = windowed(view);
    expect(isolate, JSON.stringify(view)).toBeDefined();
    if (!isolate) return;
    expect(isolate.id).toMatch(/^[0-9a-f]{12}$/);
    expect(isolate.requests_per_s).toBeGreaterThan(0);
    expect(isolate.status_per_s['2xx']).toBeGreaterThan(0);
    expect(isolate.status_per_s['5xx']).toBe(0);
    expect(isolate.latency_ms.fetch?.p50).toBeGreaterThan(0);
    expect(isolate.latency_ms.fetch?.p99).toBeGreaterThanOrEqual(isolate.latency_ms.fetch?.p50 ?? Infinity);
    expect(isolate.permits.size).toBeGreaterThan(0);
    expect(isolate.budgets.map((b) => b.target).join(' ')).not.toContain('@');
    expect(view.totals.isolates).toBe(view.isolates.length);

    const metrics = await (await fetch(`${flusher.url}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`^flusher_fleet_isolates ${view.isolates.length}$`, 'm'));
    expect(metrics).toMatch(/^flusher_fleet_requests_per_second\{status="2xx"\} [0-9.]+$/m);
    expect(metrics).toMatch(/^flusher_fleet_latency_ms\{family="fetch",quantile="0.99"\} [0-9.]+$/m);
    expect(Number(/^flusher_fleet_snapshots_total (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(2);
    // Bounded labels: no isolate id and no target in any series.
    expect(metrics).not.toContain(isolate.id);

    const cli = await gateway('status', '--fleet', '--json', '--flusher-url', flusher.url);
    expect(cli.code, cli.stderr).toBe(0);
    const shown = JSON.parse(cli.stdout) as FleetView & { source: string };
    expect(shown.source).toBe(`flusher ${flusher.url}`);
    expect(shown.isolates.map((i) => i.id)).toContain(isolate.id);

    const screen = await gateway('status', '--fleet', '--flusher-url', flusher.url);
    expect(screen.code, screen.stderr).toBe(0);
    expect(screen.stdout).toContain(isolate.id.slice(0, 8));
    expect(screen.stdout).not.toContain('\x1b[');
    for (const line of screen.stdout.split('\n')) expect(line.length, line).toBeLessThanOrEqual(80);
  });

  it('served worker → direct sink: the snapshot is in isolate_snapshots, and status --fleet --json --from catalog shows its rates', async () => {
    expect(await wave(direct.url, 30)).toEqual([...Array<number>(30).fill(200), 401]);
    await new Promise((r) => setTimeout(r, 1200));
    expect(await wave(direct.url, 30)).toEqual([...Array<number>(30).fill(200), 401]);

    type Row = { isolate_id: string; fetched: string; previous: string | null; refused: string };
    // A snapshot flushed between a wave's fetches and its refusal is a true but partial one: wait for
    // one that has seen both waves whole.
    const complete = (x: Row) => Number(x.fetched) >= 60 && x.previous !== null && Number(x.refused) >= 2;
    // A snapshot rides on a counter batch, and a refusal records no counters: the wave's last
    // refusal reaches the table with the next counted request's flush. Each poll sends one (and a
    // flush that failed under load is retried with it).
    const rows = await until(
      async () => {
        expect(await wave(direct.url, 1)).toEqual([200, 401]);
        return queryOnce<Row>(
          databaseUrl,
          `SELECT isolate_id, snapshot #>> '{routes,fetch,status,0}' AS fetched, previous #>> '{routes,fetch,status,0}' AS previous,
                  snapshot #>> '{refusals,invalid_api_key}' AS refused FROM isolate_snapshots WHERE snapshot->'routes' ? 'fetch'`,
        );
      },
      (r) => r.some(complete),
    );
    const row = rows.find(complete);
    expect(row, JSON.stringify(rows)).toBeDefined();
    if (!row) return;

    const cli = await gateway('status', '--fleet', '--json', '--from', 'catalog');
    expect(cli.code, cli.stderr).toBe(0);
    const shown = JSON.parse(cli.stdout) as FleetView & { source: string };
    expect(shown.source).toBe('catalog isolate_snapshots');
    const isolate = shown.isolates.find((i) => i.id === row.isolate_id);
    expect(isolate, cli.stdout).toBeDefined();
    expect(isolate?.window_s).toBeLessThan((isolate?.uptime_ms ?? 0) / 1000);
    expect(isolate?.latency_ms.fetch?.p50).toBeGreaterThan(0);
    expect(isolate?.refusals_per_s).toBeTypeOf('object');
  });

  it('--from flusher without a flusher is a usage error; --from alone needs --fleet', async () => {
    // No FLUSHER_URL and no dev stack in the working directory.
    const env: NodeJS.ProcessEnv = { ...cliEnv };
    delete env.FLUSHER_URL;
    const none = await runGateway(['status', '--fleet', '--from', 'flusher'], { env, cwd: tmpdir() });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('--from flusher: no flusher configured');
    const alone = await gateway('status', '--from', 'catalog');
    expect(alone.code).toBe(2);
    expect(alone.stderr).toContain('--from: only with --fleet');
  });
});
