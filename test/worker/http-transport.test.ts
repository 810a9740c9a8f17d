/**
 * Sessions over Neon's HTTP endpoint (the local proxy's `/sql`) inside workerd: every request
 * carries its statement bounds in its own transaction, the server ends statements at them, a batch
 * is all or nothing with its transaction options, errors carry the fields the gateway maps, a
 * session that gives up aborts its fetch and the endpoint then cancels the statement, and an
 * endpoint that cannot be reached is a failed connect. Runs in the worker-http project only.
 */
import { inject } from 'vitest';
import { describe, expect, it } from 'vitest';
import { openHttpSession } from '../../worker/db/http-session.js';
import { BatchStatementError } from '../../worker/db/batch.js';
import { SessionConnectError, type Session } from '../../worker/db/session.js';
import { adminDatabaseUrl, databaseUrl } from './harness.js';
import { uniqueName, withConnection } from './seed.js';

const wsProxy = inject('wsProxy');

const open = (statementTimeoutMs: number, lockTimeoutMs?: number, proxy = wsProxy): Session =>
  openHttpSession(databaseUrl, { statementTimeoutMs, lockTimeoutMs, connectTimeoutMs: 5000, localWsProxy: proxy });

const SETTINGS_SQL = `SELECT current_setting('statement_timeout') AS statement, current_setting('lock_timeout') AS lock, current_setting('client_connection_check_interval') AS check_interval`;

/** Backends running `text` now (pg_stat_activity, seen from an admin connection). */
const runningLike = (marker: string): Promise<number> =>
  withConnection(
    adminDatabaseUrl,
    async (s) =>
      (await s.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'active' AND query LIKE $1`, [`%${marker}%`])).rows[0]?.n ??
      0,
  );

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('HTTP sessions', () => {
  it('every statement sees its own bounds, with and without parameters; until(deadline) cuts them', async () => {
    const s = open(1500, 700);
    expect((await s.query(SETTINGS_SQL)).rows[0]).toEqual({ statement: '1500ms', lock: '700ms', check_interval: '1s' });
    expect((await s.query(`SELECT current_setting('statement_timeout') AS statement, $1::int AS n`, [7])).rows[0]).toEqual({ statement: '1500ms', n: 7 });
    expect(await s.query<{ n: number }>('SELECT generate_series(1, 3) AS n')).toEqual({ rows: [{ n: 1 }, { n: 2 }, { n: 3 }], rowCount: 3 });
    const cut = (await s.until(Date.now() + 400).query<{ statement: string }>(SETTINGS_SQL)).rows[0]?.statement ?? '';
    expect(Number.parseInt(cut, 10)).toBeLessThanOrEqual(400);
    // Batches carry them too, for every statement of the batch.
    const [a, b] = await s.batch({
      statements: [
        { text: SETTINGS_SQL, params: [] },
        { text: SETTINGS_SQL, params: [] },
      ],
    });
    expect([a?.rows[0], b?.rows[0]]).toEqual([
      { statement: '1500ms', lock: '700ms', check_interval: '1s' },
      { statement: '1500ms', lock: '700ms', check_interval: '1s' },
    ]);
    await s.close();
  });

  it('the server ends a statement at its timeout (57014) and a lock wait at its lock timeout (55P03)', async () => {
    const s = open(300);
    await expect(s.query('SELECT pg_sleep(3)')).rejects.toMatchObject({ code: '57014', message: expect.stringContaining('statement timeout') });
    const table = uniqueName('http_locked');
    await withConnection(databaseUrl, (a) => a.query(`CREATE TABLE ${table} (id int)`));
    const holder = open(30_000);
    try {
      // Held by a batch that sleeps with the lock taken, in its own request.
      const holding = holder.batch({
        statements: [
          { text: `LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`, params: [] },
          { text: 'SELECT pg_sleep(2)', params: [] },
        ],
      });
      await until(async () => (await runningLike('pg_sleep(2)')) > 0, 10_000);
      const blocked = await open(5000, 200)
        .query(`SELECT count(*) FROM ${table}`)
        .catch((e: unknown) => e);
      expect(blocked).toMatchObject({ code: '55P03' });
      await holding;
    } finally {
      await withConnection(databaseUrl, (a) => a.query(`DROP TABLE IF EXISTS ${table}`));
    }
  });

  it('a batch is one transaction: a failing statement rolls back the ones before it; options reach Postgres', async () => {
    const table = uniqueName('http_batch');
    const s = open(5000);
    await s.query(`CREATE TABLE ${table} (id int PRIMARY KEY)`);
    try {
      const ins = (id: number) => ({ text: `INSERT INTO ${table} (id) VALUES ($1) RETURNING id`, params: [id] });
      const ok = await s.batch({ statements: [ins(1), ins(2)] });
      expect(ok).toEqual([
        { rows: [{ id: 1 }], rowCount: 1 },
        { rows: [{ id: 2 }], rowCount: 1 },
      ]);
      const err = await s.batch({ statements: [ins(3), ins(1)] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BatchStatementError);
      // Neon's answer names no statement; its error carries what the gateway maps (SQLSTATE, table, constraint).
      expect(err).toMatchObject({ index: null, cause: { code: '23505', table, constraint: `${table}_pkey` } });
      expect((await s.query(`SELECT id FROM ${table} ORDER BY id`)).rows).toEqual([{ id: 1 }, { id: 2 }]);
      const readOnly = await s.batch({ statements: [ins(4)], mode: { readOnly: true } }).catch((e: unknown) => e);
      expect(readOnly).toMatchObject({ cause: { code: '25006' } });
      const [iso] = await s.batch({
        statements: [{ text: "SELECT current_setting('transaction_isolation') AS iso, current_setting('transaction_read_only') AS ro", params: [] }],
        mode: { isolationLevel: 'serializable', readOnly: true, deferrable: true },
      });
      expect(iso?.rows).toEqual([{ iso: 'serializable', ro: 'on' }]);
      // A statement alone reports its own error, as a WebSocket session does.
      await expect(s.query(`INSERT INTO ${table} (id) VALUES (1)`)).rejects.toMatchObject({ name: 'NeonDbError', code: '23505', table });
    } finally {
      await s.query(`DROP TABLE IF EXISTS ${table}`);
    }
  });

  it('a batch under a deadline: the server cuts each later statement to what is left of it', async () => {
    const s = open(5000);
    const sleep = { text: 'SELECT pg_sleep(0.4)', params: [] };
    // Each statement alone is well inside its bound; together they outlive the deadline.
    const err = await s
      .until(Date.now() + 1000)
      .batch({ statements: [sleep, sleep, sleep, sleep] })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ cause: { code: '57014' } });
    const [a, b] = await s.until(Date.now() + 3000).batch({ statements: [sleep, { text: SETTINGS_SQL, params: [] }] });
    expect(a?.rows).toEqual([{ pg_sleep: '' }]);
    expect(Number.parseInt(String(b?.rows[0]?.statement), 10)).toBeLessThan(3000);
  });

  it('transaction control is refused, never sent as a statement of its own', async () => {
    await expect(open(1000).query('BEGIN')).rejects.toThrow(/batch over HTTP/);
  });

  it('abort ends the fetch, and the endpoint then cancels the statement on the server (the cancel, not the timeout)', async () => {
    const marker = uniqueName('abort_me');
    const s = open(30_000);
    const sleeping = s.query(`SELECT pg_sleep(20), '${marker}' AS marker`).catch((e: unknown) => e);
    await until(async () => (await runningLike(marker)) === 1, 10_000);
    await s.abort();
    expect(await sleeping).toBeInstanceOf(Error);
    // Well inside the 20 s sleep and the 30 s statement timeout: the backend stops because it was cancelled.
    await until(async () => (await runningLike(marker)) === 0, 10_000);
  });

  it('an endpoint that cannot be reached is a failed connect', async () => {
    await expect(open(1000, undefined, '127.0.0.1:1').query('SELECT 1')).rejects.toBeInstanceOf(SessionConnectError);
  });
});
