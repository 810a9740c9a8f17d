/**
 * The local proxy's Neon HTTP SQL endpoint, driven by the real driver's `neon()` from Node
 * (`neonConfig.fetchEndpoint` pointed at it) against the real Postgres: parameters, array mode and
 * full results with the driver parsing Postgres text itself, a batch as one transaction with its
 * isolation and read-only options, Postgres errors with their SQLSTATE and fields, refused options,
 * the round trips each request pays (set-up once per kept-alive connection), and a client that
 * gives up getting its statement cancelled.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import pg from 'pg';
import { neon, neonConfig, NeonDbError } from '@neondatabase/serverless';
import { startWsProxy, type WsProxy, type WsProxyOptions } from '../../dev/ws-proxy.js';
import type { SqlRequestStats } from '../../dev/neon-http-endpoint.js';

const url = inject('tenantDatabaseUrl');
const db = new URL(url);
const table = `http_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
const admin = new pg.Pool({ connectionString: url, max: 2 });
const started: WsProxy[] = [];

async function proxy(opts: Partial<WsProxyOptions> = {}) {
  const ended: SqlRequestStats[] = [];
  const p = await startWsProxy({ port: 0, allow: [`${db.hostname}:${db.port || '5432'}`], onSqlRequestEnd: (s) => ended.push(s), ...opts });
  started.push(p);
  return { p, ended };
}

let plain: { p: WsProxy; ended: SqlRequestStats[] };
beforeAll(async () => {
  plain = await proxy();
  // The endpoint of whichever proxy a test last chose; the driver reads this on every query.
  neonConfig.fetchEndpoint = () => plain.p.sqlUrl;
  await admin.query(`CREATE TABLE ${table} (id int PRIMARY KEY, note text NOT NULL)`);
});

afterAll(async () => {
  await admin.query(`DROP TABLE IF EXISTS ${table}`);
  await admin.end();
  await Promise.all(started.splice(0).map((p) => p.close()));
});

const settle = async (ended: SqlRequestStats[], n: number) => {
  for (let i = 0; i < 250 && ended.length < n; i++) await new Promise((r) => setTimeout(r, 20));
};
const caught = (p: Promise<unknown>): Promise<NeonDbError> =>
  p.then(
    () => {
      throw new Error('expected the query to fail');
    },
    (e: unknown) => e as NeonDbError,
  );

describe('single statements', () => {
  it('bind parameters and come back typed by the driver from Postgres text', async () => {
    const sql = neon(url);
    const rows = await sql.query(
      "SELECT $1::int AS n, $2::text AS t, $3::int AS z, 9007199254740993::int8 AS big, true AS b, '{1,2}'::int[] AS a, '{\"k\":[1]}'::jsonb AS j",
      [42, 'x', null],
    );
    expect(rows).toEqual([{ n: 42, t: 'x', z: null, big: '9007199254740993', b: true, a: [1, 2], j: { k: [1] } }]);
    expect(await sql`SELECT ${5}::int + 1 AS six`).toEqual([{ six: 6 }]);
  });

  it('answer array mode and full results with the fields, command and row count', async () => {
    const sql = neon(url, { arrayMode: true, fullResults: true });
    const r = await sql.query('SELECT 1::int AS one, $1::text AS two', ['2']);
    expect(r).toMatchObject({ rows: [[1, '2']], command: 'SELECT', rowCount: 1, rowAsArray: true });
    expect(r.fields.map((f) => [f.name, f.dataTypeID, f.format])).toEqual([
      ['one', 23, 'text'],
      ['two', 25, 'text'],
    ]);
    const ins = await sql.query(`INSERT INTO ${table} (id, note) VALUES (1, 'a'), (2, 'b')`);
    expect(ins).toMatchObject({ command: 'INSERT', rowCount: 2, rows: [] });
  });

  it('are one statement each: two in one query are refused by Postgres, as on Neon', async () => {
    const e = await caught(neon(url).query('SELECT 1; SELECT 2'));
    expect(e).toBeInstanceOf(NeonDbError);
    expect(e.code).toBe('42601');
  });
});

describe('pooled connections', () => {
  it('serve request after request on one backend, with the session reset between them (as Neon resets)', async () => {
    const sql = neon(url);
    const { rows } = await admin.query<{ work_mem: string }>('SHOW work_mem');
    const [a] = await sql`SELECT pg_backend_pid() AS pid, set_config('work_mem', '1234kB', false) AS wm`;
    const [b] = await sql`SELECT pg_backend_pid() AS pid, current_setting('work_mem') AS wm`;
    expect(a).toMatchObject({ wm: '1234kB' });
    expect(b).toEqual({ pid: a?.pid, wm: rows[0]?.work_mem });
  });
});

describe('concurrent requests', () => {
  it('each get their own answer', async () => {
    const sql = neon(url);
    const answers = await Promise.all(Array.from({ length: 24 }, (_, i) => sql.query('SELECT $1::int AS i, pg_sleep(0.05)::text AS s', [i])));
    expect(answers.map((rows) => rows[0]?.i)).toEqual(Array.from({ length: 24 }, (_, i) => i));
  });
});

describe('errors', () => {
  it('carry the SQLSTATE and the fields Postgres sent', async () => {
    const sql = neon(url);
    const missing = await caught(sql.query('SELECT * FROM no_such_table_here'));
    expect(missing).toMatchObject({ name: 'NeonDbError', code: '42P01', severity: 'ERROR', position: '15' });
    expect(missing.message).toContain('no_such_table_here');
    await sql.query(`INSERT INTO ${table} (id, note) VALUES (10, 'x')`);
    const dup = await caught(sql.query(`INSERT INTO ${table} (id, note) VALUES (10, 'y')`));
    expect(dup).toMatchObject({ code: '23505', table, constraint: `${table}_pkey`, schema: 'public', detail: 'Key (id)=(10) already exists.' });
  });

  it('include those of connecting: a database that does not exist is 3D000', async () => {
    const elsewhere = new URL(url);
    elsewhere.pathname = '/no_such_database_here';
    expect(await caught(neon(elsewhere.toString()).query('SELECT 1'))).toMatchObject({ code: '3D000', severity: 'FATAL' });
  });
});

describe('batch transactions', () => {
  it('run as one transaction with the isolation, read-only and deferrable options', async () => {
    const sql = neon(url);
    const settings = () => [
      sql`SELECT current_setting('transaction_isolation') AS iso`,
      sql`SELECT current_setting('transaction_read_only') AS ro`,
      sql`SELECT current_setting('transaction_deferrable') AS d`,
    ];
    expect(await sql.transaction(settings(), { isolationLevel: 'Serializable', readOnly: true, deferrable: true })).toEqual([
      [{ iso: 'serializable' }],
      [{ ro: 'on' }],
      [{ d: 'on' }],
    ]);
    expect(await sql.transaction(settings(), { isolationLevel: 'RepeatableRead' })).toEqual([[{ iso: 'repeatable read' }], [{ ro: 'off' }], [{ d: 'off' }]]);
    const [ins, read] = await sql.transaction([
      sql`INSERT INTO ${sql.unsafe(table)} (id, note) VALUES (20, 'in tx') RETURNING id`,
      sql`SELECT note FROM ${sql.unsafe(table)} WHERE id = 20`,
    ]);
    expect([ins, read]).toEqual([[{ id: 20 }], [{ note: 'in tx' }]]);
  });

  it('hold a statement timeout set inside them (SET LOCAL, same request): 57014', async () => {
    const sql = neon(url);
    const e = await caught(sql.transaction([sql`SELECT set_config('statement_timeout', '50ms', true)`, sql`SELECT pg_sleep(5)`]));
    expect(e.code).toBe('57014');
    expect(await sql`SELECT current_setting('statement_timeout') AS st`).toEqual([{ st: '0' }]);
  });

  it('refuse a write when read-only (25006) and roll back everything on an error', async () => {
    const sql = neon(url);
    const ro = await caught(sql.transaction([sql`SELECT 1 AS one`, sql`INSERT INTO ${sql.unsafe(table)} (id, note) VALUES (30, 'no')`], { readOnly: true }));
    expect(ro.code).toBe('25006');
    const div = await caught(sql.transaction([sql`INSERT INTO ${sql.unsafe(table)} (id, note) VALUES (31, 'undone')`, sql`SELECT 1 / 0 AS boom`]));
    expect(div.code).toBe('22012');
    const { rows } = await admin.query(`SELECT id FROM ${table} WHERE id IN (30, 31)`);
    expect(rows).toEqual([]);
  });
});

describe('what the endpoint refuses', () => {
  const post = (headers: Record<string, string>, body: unknown = { query: 'SELECT 1', params: [] }) =>
    fetch(plain.p.sqlUrl, {
      method: 'POST',
      headers: { 'Neon-Connection-String': url, 'Neon-Raw-Text-Output': 'true', 'Neon-Array-Mode': 'true', ...headers },
      body: JSON.stringify(body),
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as { message: string } }));

  it('answers 400 naming the option, never a silent difference', async () => {
    expect(await post({ 'Neon-Raw-Text-Output': 'false' })).toMatchObject({ status: 400, body: { message: expect.stringContaining('Neon-Raw-Text-Output') } });
    expect(await post({ 'Neon-Batch-Isolation-Level': 'Snapshot' })).toMatchObject({ status: 400, body: { message: 'invalid isolation level' } });
    expect(await post({ 'Neon-Batch-Read-Only': 'yes' })).toMatchObject({ status: 400, body: { message: 'Neon-Batch-Read-Only must be true or false' } });
    expect(await post({ 'Neon-Something-New': 'true' })).toMatchObject({ status: 400, body: { message: expect.stringContaining('neon-something-new') } });
    expect(await post({}, { query: 'SELECT 1', params: [], typeHints: true })).toMatchObject({
      status: 400,
      body: { message: 'body field typeHints is not supported' },
    });
    const elsewhere = new URL(url);
    elsewhere.port = '1';
    expect(await post({ 'Neon-Connection-String': elsewhere.toString() })).toMatchObject({
      status: 400,
      body: { message: expect.stringContaining('not an allowed Postgres address') },
    });
  });

  it('caps a request and an answer at 10 MiB, as Neon does (413, 507)', async () => {
    expect(await post({}, { query: `SELECT '${'x'.repeat(10 * 1024 * 1024)}'`, params: [] })).toMatchObject({
      status: 413,
      body: { message: 'request is too large (max is 10485760 bytes)' },
    });
    const e = await caught(neon(url).query("SELECT repeat('x', 10 * 1024 * 1024 + 1) AS big"));
    expect(e.message).toContain('Server error (HTTP status 507)');
  });

  it('refuses JWT auth through the driver (authToken) as a NeonDbError', async () => {
    const e = await caught(neon(url, { authToken: 'a.b.c' }).query('SELECT 1'));
    expect(e.message).toContain('JWT authentication');
  });
});

describe('round trips', () => {
  it('one per request on a kept-alive connection; the connection pays TCP + TLS once; a resume once', async () => {
    const far = await proxy({ rttMs: 20, coldStartMs: 200, idleMs: 600_000 });
    const before = plain;
    plain = far;
    try {
      const sql = neon(url);
      // Node's fetch returns a connection to its pool a tick after the body is read: a request
      // started in that tick opens a second connection.
      const tick = () => new Promise((r) => setImmediate(r));
      await sql`SELECT 1 AS one`;
      await tick();
      await sql.query('SELECT $1::int AS two', [2]);
      await tick();
      await sql.transaction([sql`SELECT 1 AS a`, sql`SELECT 2 AS b`, sql`SELECT 3 AS c`]);
      await settle(far.ended, 3);
      expect(
        far.ended.map((s) => ({
          request: s.request,
          setup: s.setupRoundTrips,
          trips: s.roundTrips,
          statements: s.statements,
          batch: s.batch,
          status: s.status,
          resumed: s.resumeWaitMs > 0,
        })),
      ).toEqual([
        { request: 1, setup: 2, trips: 1, statements: 1, batch: false, status: 200, resumed: true },
        { request: 2, setup: 0, trips: 1, statements: 1, batch: false, status: 200, resumed: false },
        { request: 3, setup: 0, trips: 1, statements: 3, batch: true, status: 200, resumed: false },
      ]);
      // Each request's time in the proxy covers its modelled wire (set-up, one round trip) and its Postgres
      // time (the resume included); the 2 ms are the clock's rounding and a timer firing early.
      for (const s of far.ended) expect(s.spanMs).toBeGreaterThanOrEqual((s.setupRoundTrips + 1) * 20 + s.postgresMs - 2);
      expect(far.ended[0]?.postgresMs).toBeGreaterThanOrEqual(200 - 2);
    } finally {
      plain = before;
    }
  });
});

describe('a client that gives up', () => {
  /** Backends running a statement that contains `marker`, other than the asking one. */
  const running = async (marker: string) =>
    (await admin.query(`SELECT pid FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%' || $1 || '%' AND pid <> pg_backend_pid()`, [marker])).rows
      .length;
  const waitFor = async (marker: string, want: number) => {
    for (let i = 0; i < 250 && (await running(marker)) !== want; i++) await new Promise((r) => setTimeout(r, 20));
    return running(marker);
  };

  it.each([
    ['a single statement', false],
    ['a batch, rolled back', true],
  ])('%s: its running statement is cancelled on the server', async (_name, batch) => {
    const marker = `sleep_${randomUUID().slice(0, 8)}`;
    const id = batch ? 40 : 41;
    const ac = new AbortController();
    const sql = neon(url, { fetchOptions: { signal: ac.signal } });
    const sleep = `SELECT pg_sleep(30) AS ${marker}`;
    const pending = caught(
      batch ? sql.transaction([sql`INSERT INTO ${sql.unsafe(table)} (id, note) VALUES (${id}, 'aborted')`, sql.query(sleep)]) : sql.query(sleep),
    );
    const seen = plain.ended.length;
    expect(await waitFor(marker, 1)).toBe(1);
    ac.abort();
    expect((await pending).message).toContain('AbortError');
    expect(await waitFor(marker, 0)).toBe(0);
    await settle(plain.ended, seen + 1);
    expect(plain.ended.at(-1)).toMatchObject({ aborted: true, cancelled: true, status: 0, roundTrips: 0, batch });
    expect((await admin.query(`SELECT id FROM ${table} WHERE id = $1`, [id])).rows).toEqual([]);
  });
});
