/**
 * The driver's `neon()` inside workerd (a bare worker served by wrangler's dev server) reaching the
 * local proxy's HTTP SQL endpoint over plain HTTP on 127.0.0.1: what workerd's outbound fetch pays
 * there, counted by the proxy. Sequential requests share one kept-alive connection, across worker
 * requests too, so only the first pays TCP + TLS; an aborted fetch gets its statement cancelled.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import pg from 'pg';
import { unstable_startWorker } from 'wrangler';
import { startWsProxy, type WsProxy } from '../../dev/ws-proxy.js';
import type { SqlRequestStats } from '../../dev/neon-http-endpoint.js';

const url = inject('tenantDatabaseUrl');
const db = new URL(url);
const CONFIG = fileURLToPath(new URL('../support/sql-http-worker/wrangler.toml', import.meta.url));
const ended: SqlRequestStats[] = [];
const admin = new pg.Pool({ connectionString: url, max: 1 });
let proxy: WsProxy;
let worker: Awaited<ReturnType<typeof unstable_startWorker>> | undefined;
let base = '';

beforeAll(async () => {
  // A round trip, so each connection's set-up is counted (2: TCP, TLS).
  proxy = await startWsProxy({ port: 0, allow: [`${db.hostname}:${db.port || '5432'}`], rttMs: 10, onSqlRequestEnd: (s) => ended.push(s) });
  process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= 'false';
  worker = await unstable_startWorker({
    config: CONFIG,
    bindings: { PROXY: { type: 'plain_text', value: proxy.url }, DATABASE_URL: { type: 'plain_text', value: url } },
    dev: { server: { hostname: '127.0.0.1', port: 0 }, inspector: false, watch: false, remote: false, logLevel: 'error' },
  });
  await worker.ready;
  base = (await worker.url).toString().replace(/\/$/, '');
});

afterAll(async () => {
  await worker?.dispose();
  await proxy?.close();
  await admin.end();
});

/** The requests the proxy saw end since `from`, as (which request on its connection, set-up paid, status, batch). */
const since = async (from: number, n: number) => {
  for (let i = 0; i < 250 && ended.length < from + n; i++) await new Promise((r) => setTimeout(r, 20));
  return ended.slice(from).map((s) => [s.request, s.setupRoundTrips, s.status, s.batch]);
};

describe('from workerd', () => {
  it('sequential statements and batches share one kept-alive connection, across worker requests', async () => {
    const first = await fetch(`${base}/run?n=2`);
    expect(await first.json()).toEqual([[{ i: 0 }], [{ i: 1 }], [[{ iso: 'serializable' }]]]);
    expect(await since(0, 3)).toEqual([
      [1, 2, 200, false],
      [2, 0, 200, false],
      [3, 0, 200, true],
    ]);
    expect((await fetch(`${base}/run?n=1`)).status).toBe(200);
    expect(await since(3, 2)).toEqual([
      [4, 0, 200, false],
      [5, 0, 200, true],
    ]);
  });

  it('an aborted fetch cancels its statement', async () => {
    const marker = `sleep_${randomUUID().slice(0, 8)}`;
    const from = ended.length;
    const res = await fetch(`${base}/abort?marker=${marker}`);
    expect(await res.json()).toContain('AbortError');
    for (let i = 0; i < 250 && ended.slice(from).every((s) => !s.aborted); i++) await new Promise((r) => setTimeout(r, 20));
    expect(ended.slice(from).find((s) => s.aborted)).toMatchObject({ cancelled: true, status: 0 });
    const running = await admin.query(`SELECT pid FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%' || $1 || '%' AND pid <> pg_backend_pid()`, [
      marker,
    ]);
    expect(running.rows).toEqual([]);
  });
});
