/**
 * Faults between the worker and its database, on each transport (DB_TRANSPORT=ws and http), through
 * the Neon-like proxy 40 ms away with every timeout at its default: a tenant database that accepts
 * TCP and never answers, and a proxy that drops every connection while a statement waits on a lock.
 * Each ends with a 503 within its bound, and the statement does not outlive the dropped path by more
 * than the socket check. (A locked table alone: neon-like-served.test.ts.)
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { queryOnce } from '../support/query-once.js';
import { startDistantGateway, type DistantGateway } from '../support/distant-gateway.js';

const RTT_MS = 40;
/** The defaults (worker/config.ts), which the worker runs with here. */
const DB_CONNECT_TIMEOUT_MS = 5000;
const DB_STATEMENT_TIMEOUT_MS = 5000;

/** A TCP server that accepts every connection and never says a word (a network black hole). */
async function silentServer(): Promise<{ address: string; hangUp(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = addr && typeof addr === 'object' ? addr.port : 0;
  const hangUp = () => {
    for (const s of sockets) s.destroy();
  };
  return {
    address: `127.0.0.1:${port}`,
    hangUp,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

const timed = async (res: Promise<Response>, t0: number) => {
  const r = await res;
  const body = (await r.json()) as { error?: { code?: string } };
  return { status: r.status, code: body.error?.code, ms: Date.now() - t0 };
};

describe.each(['ws', 'http'] as const)(`faults ${RTT_MS} ms away, DB_TRANSPORT=%s`, (transport) => {
  const table = `flt_${transport}_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  let silent: Awaited<ReturnType<typeof silentServer>>;
  let distant: DistantGateway | undefined;

  beforeAll(async () => {
    silent = await silentServer();
    distant = await startDistantGateway(table, { rttMs: RTT_MS, alsoAllow: [silent.address] }, { DB_TRANSPORT: transport });
  }, 120_000);

  afterAll(async () => {
    await distant?.close();
    await silent.close();
  });

  const fetchRows = (headers: Record<string, string>, tableName = table) =>
    fetch(`${distant?.server.url}/gateway/fetch`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ table_name: tableName, limit: 10 }),
    });

  it('a tenant database that never answers: 503 database_unavailable within DB_CONNECT_TIMEOUT_MS + DB_STATEMENT_TIMEOUT_MS', async () => {
    const box = distant?.box;
    if (!box) throw new Error('no gateway');
    const { client, key } = await box.clientWithKey();
    // This client's tenant database is the black hole (clients.database_url, as a client's own database).
    await queryOnce(inject('databaseUrl'), `UPDATE "${box.role}".clients SET database_url = $1 WHERE client_name = $2`, [
      `postgres://nobody:secret@${silent.address}/nowhere`,
      client,
    ]);
    const headers = { 'x-athena-client': client, 'x-athena-key': key };
    expect((await fetch(`${distant?.server.url}/v1/auth/verify`, { headers })).status).toBe(200); // key cached: only the tenant is left
    const t0 = Date.now();
    const answer = await timed(fetchRows(headers), t0);
    console.info(`${transport}: tenant that never answers: ${answer.status} ${answer.code ?? ''} in ${answer.ms} ms`);
    expect(answer).toMatchObject({ status: 503, code: 'database_unavailable' });
    expect(answer.ms).toBeLessThan(DB_CONNECT_TIMEOUT_MS + DB_STATEMENT_TIMEOUT_MS + 1000);
    // The proxy's HTTP endpoint is still connecting to it (its pool has no connect timeout): let it fail,
    // so the proxy can close.
    silent.hangUp();
  });

  it('the proxy drops every connection mid-statement: 503 at once, and the statement is gone within the socket check', async () => {
    const gw = distant;
    if (!gw) throw new Error('no gateway');
    const { client, key } = await gw.box.clientWithKey();
    const headers = { 'x-athena-client': client, 'x-athena-key': key };
    expect((await fetchRows(headers)).status).toBe(200); // key, policy and tenant catalog cached: only the query is left
    const locker = new pg.Client({ connectionString: inject('tenantDatabaseUrl') });
    await locker.connect();
    const lockerPid = ((await locker.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0] as { pid: number }).pid;
    const tenantDb = decodeURIComponent(new URL(inject('tenantDatabaseUrl')).pathname.slice(1));
    const running = () =>
      queryOnce<{ pid: number; wait_event_type: string | null }>(
        inject('adminDatabaseUrl'),
        `SELECT pid, wait_event_type FROM pg_stat_activity WHERE datname = $1 AND pid <> $2 AND state = 'active' AND query ILIKE $3`,
        [tenantDb, lockerPid, `%${table}%`],
      );
    try {
      await locker.query('BEGIN');
      await locker.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
      const pending = fetchRows(headers);
      for (let i = 0; i < 150 && !(await running()).some((b) => b.wait_event_type === 'Lock'); i++) await new Promise((r) => setTimeout(r, 20));
      expect((await running()).some((b) => b.wait_event_type === 'Lock')).toBe(true);
      const t0 = Date.now();
      await gw.proxy.close();
      const answer = await timed(pending, t0);
      while ((await running()).length > 0 && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 25));
      const goneMs = Date.now() - t0;
      console.info(
        `${transport}: proxy dropped mid-statement: ${answer.status} ${answer.code ?? ''} in ${answer.ms} ms; statement gone ${goneMs} ms after the drop`,
      );
      expect(answer.status).toBe(503);
      // "At once": well before the statement timeout (5 s) that a worker not hearing the drop would wait for.
      expect(answer.ms).toBeLessThan(DB_STATEMENT_TIMEOUT_MS - 1000);
      expect(await running()).toEqual([]);
      // The backend notices its closed client within client_connection_check_interval (1 s), or is cancelled.
      expect(goneMs).toBeLessThan(3000);
    } finally {
      await locker.query('COMMIT').catch(() => undefined);
      await locker.end();
    }
  });
});
