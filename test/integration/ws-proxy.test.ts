/**
 * The local WebSocket→TCP proxy over real sockets against the real Postgres, reached as the worker
 * reaches it (the Neon driver, startup pipelined with the first query), by a client that still
 * sends timeouts as startup parameters: by default the proxy drops the startup parameters Neon drops, so the server's defaults apply; with a round-trip time every connection pays the set-up and
 * every exchange the delay, bytes intact and in order; after idle the first connection waits for
 * the resume.
 */
import { afterEach, describe, expect, inject, it } from 'vitest';
import type { ConnectionStats } from '../../dev/ws-bridge.js';
import { startWsProxy, type WsProxy, type WsProxyOptions } from '../../dev/ws-proxy.js';
import { Client } from '@neondatabase/serverless';

const db = new URL(inject('databaseUrl'));
const started: WsProxy[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((p) => p.close()));
});

/** A proxy to the test Postgres; `ended` receives each connection's counts once it has closed. */
async function proxy(opts: Partial<WsProxyOptions> = {}) {
  const ended: ConnectionStats[] = [];
  const p = await startWsProxy({ port: 0, allow: [`${db.hostname}:${db.port || '5432'}`], onConnectionEnd: (s) => ended.push(s), ...opts });
  started.push(p);
  return { url: p.url, ended };
}

/** Opens a session through `url` with startup timeouts, runs `sqls` in turn, closes; returns the rows and the time taken. */
async function session(url: string, sqls: string[]): Promise<{ rows: Array<Record<string, unknown>>; ms: number }> {
  const t0 = performance.now();
  // The gateway itself sends no startup timeouts (each statement carries its own): this client does, as drivers commonly do.
  const s = new Client({ connectionString: db.toString(), statement_timeout: 1234, lock_timeout: 567 });
  s.neonConfig.wsProxy = (host, port) => `${url}/v1?address=${host}:${port}`;
  s.neonConfig.useSecureWebSocket = false;
  s.neonConfig.pipelineTLS = false;
  s.neonConfig.forceDisablePgSSL = true;
  s.on('error', () => undefined);
  const rows: Array<Record<string, unknown>> = [];
  try {
    await s.connect();
    for (const sql of sqls) rows.push(...(await s.query(sql)).rows);
  } finally {
    await s.end().catch(() => undefined);
  }
  return { rows, ms: performance.now() - t0 };
}

const settle = async (ended: ConnectionStats[], n: number) => {
  for (let i = 0; i < 100 && ended.length < n; i++) await new Promise((r) => setTimeout(r, 20));
};

const SHOW = ['SHOW statement_timeout', 'SHOW lock_timeout'];

describe('startup parameters', () => {
  it('are dropped by default: SHOW answers the server default although the client sent its own', async () => {
    const p = await proxy();
    const { rows } = await session(p.url, SHOW);
    expect(rows).toEqual([{ statement_timeout: '0' }, { lock_timeout: '0' }]);
    await settle(p.ended, 1);
    expect(p.ended[0]?.droppedParams).toEqual(['statement_timeout', 'lock_timeout']);
  });

  it('are forwarded with the opt-out (DEV_DB_STARTUP_PARAMS=keep)', async () => {
    const p = await proxy({ dropStartupParams: [] });
    const { rows } = await session(p.url, SHOW);
    expect(rows).toEqual([{ statement_timeout: '1234ms' }, { lock_timeout: '567ms' }]);
  });
});

describe('round-trip time', () => {
  const RTT = 100;

  it('costs the set-up and one round trip per exchange, with bytes intact and in order', async () => {
    const near = await proxy();
    const far = await proxy({ rttMs: RTT });
    const sqls = ["SELECT repeat('x', 200000) AS big", 'SELECT 1 AS one', 'SELECT generate_series(1, 3000) AS n'];
    const a = await session(near.url, sqls);
    const b = await session(far.url, sqls);
    expect(b.rows).toEqual(a.rows);
    expect(b.rows[0]).toEqual({ big: 'x'.repeat(200_000) });
    // 3 round trips of set-up, then one per query (the first pipelined with the startup).
    expect(b.ms).toBeGreaterThanOrEqual(6 * RTT);
    await settle(far.ended, 1);
    expect(far.ended[0]).toMatchObject({ setupRoundTrips: 3, roundTrips: 3, flights: 4 });
    expect(near.ended[0]).toMatchObject({ setupRoundTrips: 0, roundTrips: 3 });
  });
});

describe('resume after idle', () => {
  const COLD = 800;
  const IDLE = 400;

  it('delays the first connection after idle, and only that one and those during its resume', async () => {
    const p = await proxy({ coldStartMs: COLD, idleMs: IDLE });
    const first = await Promise.all([session(p.url, ['SELECT 1 AS one']), session(p.url, ['SELECT 1 AS one'])]);
    for (const s of first) expect(s.ms).toBeGreaterThanOrEqual(COLD - 50);
    const warm = await session(p.url, ['SELECT 1 AS one']);
    await new Promise((r) => setTimeout(r, IDLE + 200));
    const resumed = await session(p.url, ['SELECT 1 AS one']);
    expect(resumed.ms).toBeGreaterThanOrEqual(COLD - 50);
    await settle(p.ended, 4);
    const waits = p.ended.map((s) => s.resumeWaitMs);
    expect(waits.filter((w) => w > 0)).toHaveLength(3);
    expect(warm.rows).toEqual([{ one: 1 }]);
    expect(p.ended.filter((s) => s.resumeWaitMs === 0)).toHaveLength(1);
  });
});
