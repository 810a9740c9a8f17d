/**
 * The server-side timeouts hold where Neon ignores startup parameters: the worker, served over HTTP
 * with its default timeouts, on each database transport (DB_TRANSPORT=ws and http), reaches
 * Postgres through the Neon-like proxy (it drops `statement_timeout`, `lock_timeout`, `options`
 * from the startup message) with a 40 ms round trip.
 * A burst of verifies with fresh keys against a locked `api_keys` answers 503 within 3 s, and no
 * lookup is still running on the server once AUTH_LOOKUP_TIMEOUT_MS has passed; a fetch on a locked
 * tenant table answers within DB_STATEMENT_TIMEOUT_MS + 2 s and its backend is gone afterwards (over
 * HTTP: no longer running; the endpoint's pooled connection stays, idle).
 * (The first requests after a resume, through the same proxy: cold-start-served.test.ts.)
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { WorkerServer } from '../support/worker-server.js';
import { queryOnce } from '../support/query-once.js';
import type { NodeSandbox } from '../support/auth-sandbox.js';
import { startDistantGateway, type DistantGateway } from '../support/distant-gateway.js';

const RTT_MS = 40;
/** The defaults (worker/config.ts), which the worker runs with here. */
const AUTH_LOOKUP_TIMEOUT_MS = 1000;
const DB_STATEMENT_TIMEOUT_MS = 5000;
/** Concurrent verifies, each with its own fresh key: as many lookups as DB_POOL_MAX's default. */
const BURST = 8;
type Backend = { pid: number; state: string | null; wait_event_type: string | null; query: string };

/** The server's backends that match `where` (pg_stat_activity, read as the superuser). */
const backends = (where: string, params: unknown[]) =>
  queryOnce<Backend>(inject('adminDatabaseUrl'), `SELECT pid, state, wait_event_type, query FROM pg_stat_activity WHERE ${where}`, params);

/** Polls `read` until it is empty or `untilMs` (epoch) passes; returns the last read and when it was empty. */
async function untilNone<T>(read: () => Promise<T[]>, untilMs: number): Promise<{ rows: T[]; at: number }> {
  for (;;) {
    const rows = await read();
    if (rows.length === 0 || Date.now() > untilMs) return { rows, at: Date.now() };
    await new Promise((r) => setTimeout(r, 25));
  }
}

const timed = async (res: Promise<Response>, t0: number) => {
  const r = await res;
  const body = (await r.json()) as { error?: { code?: string } };
  return { status: r.status, code: body.error?.code, ms: Date.now() - t0 };
};

describe.each(['ws', 'http'] as const)(`through a proxy that drops startup timeouts, ${RTT_MS} ms away, DB_TRANSPORT=%s`, (transport) => {
  const table = `neon_${transport}_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  let distant: DistantGateway | undefined;
  let box: NodeSandbox;
  let server: WorkerServer;
  /** Listed in the isolate's client directory before the lock (by the warm-up), its keys never used. */
  let known: { client: string; keys: string[] };
  /**
   * Backends a request may leave: over WebSocket sessions none (each closes with its request); over
   * HTTP the endpoint's pooled connections stay, idle, for the next request (as Neon's do).
   */
  const leftover = transport === 'ws' ? '' : ` AND state <> 'idle'`;

  beforeAll(async () => {
    distant = await startDistantGateway(table, { rttMs: RTT_MS }, { DB_TRANSPORT: transport });
    ({ box, server } = distant);
    known = await box.clientWithKey(BURST / 2);
    // The isolate's first request (module start in workerd) is not what is measured: one warm-up,
    // which also loads the client directory (with `known` listed).
    const warm = await box.clientWithKey();
    expect((await fetch(`${server.url}/v1/auth/verify`, { headers: { 'x-athena-client': warm.client, 'x-athena-key': warm.key } })).status).toBe(200);
  }, 120_000);

  afterAll(async () => {
    await distant?.close();
  });

  it(`a locked api_keys: ${BURST} concurrent verifies with fresh keys each 503 within 3 s; no lookup still running after the lookup timeout`, async () => {
    // Half a known client's fresh keys (a key read), half a new client's (a directory load first).
    const fresh = await box.clientWithKey(BURST / 2);
    const creds = [...known.keys.map((key) => ({ client: known.client, key })), ...fresh.keys.map((key) => ({ client: fresh.client, key }))];
    const lock = await box.lock('api_keys');
    // Every statement of the sandbox role is an auth lookup (the directory load or a key read, both on api_keys).
    const lookups = () => backends(`usename = $1 AND state = 'active'`, [box.role]);
    try {
      const t0 = Date.now();
      const burst = Promise.all(
        creds.map((c) => timed(fetch(`${server.url}/v1/auth/verify`, { headers: { 'x-athena-client': c.client, 'x-athena-key': c.key } }), t0)),
      );
      // Both kinds of lookup reach the server and wait on the lock there (not refused before reaching it).
      const seen = new Set<string>();
      const blocked = await untilNone(async () => {
        for (const b of await lookups()) if (b.wait_event_type === 'Lock') seen.add(b.query.includes('key_hash') ? 'key read' : 'directory load');
        return seen.size === 2 ? [] : [...seen];
      }, Date.now() + 3000);
      expect(blocked.rows).toEqual([]);
      const answers = await burst;
      console.info(`${transport}: verifies on a locked api_keys (ms): ${answers.map((a) => a.ms).join(', ')}`);
      expect(answers.map((a) => a.status)).toEqual(creds.map(() => 503));
      expect(Math.max(...answers.map((a) => a.ms))).toBeLessThan(3000);
      // Every lookup began after t0, so each one's server-side timeout has passed by t0 + the timeout.
      await new Promise((r) => setTimeout(r, Math.max(0, t0 + AUTH_LOOKUP_TIMEOUT_MS - Date.now())));
      const left = await untilNone(lookups, t0 + AUTH_LOOKUP_TIMEOUT_MS + 250);
      console.info(`${transport}: lookups still running ${left.at - t0} ms after the burst: ${left.rows.length}`);
      expect(left.rows).toEqual([]);
      // The sessions themselves close too: no backend of the role is left.
      const gone = await untilNone(() => backends(`usename = $1${leftover}`, [box.role]), Date.now() + 2000);
      console.info(`${transport}: backends of the lookup role gone ${gone.at - t0} ms after the burst`);
      expect(gone.rows).toEqual([]);
    } finally {
      await lock.release();
    }
    // The lock released, the same keys verify.
    for (const c of [creds[0], creds[BURST - 1]])
      expect((await fetch(`${server.url}/v1/auth/verify`, { headers: { 'x-athena-client': c?.client ?? '', 'x-athena-key': c?.key ?? '' } })).status).toBe(200);
  });

  it(`a locked tenant table: the fetch answers within DB_STATEMENT_TIMEOUT_MS + 2 s and its backend is gone`, async () => {
    const { client, key } = await box.clientWithKey();
    const headers = { 'x-athena-client': client, 'x-athena-key': key, 'content-type': 'application/json' };
    const fetchRows = () => fetch(`${server.url}/gateway/fetch`, { method: 'POST', headers, body: JSON.stringify({ table_name: table, limit: 10 }) });
    expect((await fetchRows()).status).toBe(200); // key, policy and tenant catalog cached: only the query is left
    const locker = new pg.Client({ connectionString: inject('tenantDatabaseUrl') });
    await locker.connect();
    const lockerPid = ((await locker.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0] as { pid: number }).pid;
    const tenantDb = decodeURIComponent(new URL(inject('tenantDatabaseUrl')).pathname.slice(1));
    const queries = () => backends(`datname = $1 AND pid <> $2 AND query ILIKE $3${leftover}`, [tenantDb, lockerPid, `%${table}%`]);
    try {
      await locker.query('BEGIN');
      await locker.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
      const t0 = Date.now();
      const pending = timed(fetchRows(), t0);
      // The query reaches the server and waits on the lock there.
      const waiting = await untilNone(async () => ((await queries()).some((b) => b.wait_event_type === 'Lock') ? [] : [0]), Date.now() + 3000);
      expect(waiting.rows).toEqual([]);
      const answer = await pending;
      console.info(`${transport}: fetch on a locked tenant table: ${answer.status} ${answer.code ?? ''} in ${answer.ms} ms`);
      expect(answer).toMatchObject({ status: 408, code: 'statement_timeout' });
      expect(answer.ms).toBeLessThan(DB_STATEMENT_TIMEOUT_MS + 2000);
      const gone = await untilNone(queries, Date.now() + 2000);
      console.info(`${transport}: tenant backend gone ${gone.at - t0} ms after the fetch began`);
      expect(gone.rows).toEqual([]);
    } finally {
      await locker.query('COMMIT').catch(() => undefined);
      await locker.end();
    }
    expect((await fetchRows()).status).toBe(200);
  });
});
