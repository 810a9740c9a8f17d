/**
 * Server-side timeouts without startup parameters (Neon's proxy drops them): every statement of a
 * session carries its own `statement_timeout`/`lock_timeout`, in force on the server for exactly
 * that statement (or the open transaction), a deadline cuts them, and giving up on a session
 * cancels its backend (pg_stat_activity). Against real Postgres through the WebSocket proxy.
 */
import { inject } from 'vitest';
import { describe, expect, it } from 'vitest';
import { openSession, type Session } from '../../worker/db/session.js';
import { CLIENT_CHECK_INTERVAL_MS } from '../../worker/db/bounded-query.js';
import { adminDatabaseUrl, databaseUrl } from './harness.js';
import { uniqueName, withConnection } from './seed.js';

const wsProxy = inject('wsProxy');

const open = (statementTimeoutMs: number, lockTimeoutMs?: number): Promise<Session> =>
  openSession(databaseUrl, { statementTimeoutMs, lockTimeoutMs, localWsProxy: wsProxy });

const SETTINGS_SQL = `SELECT current_setting('statement_timeout') AS statement, current_setting('lock_timeout') AS lock, pg_backend_pid() AS pid`;

/** Backends of `pid` still running a statement. */
async function running(pid: number): Promise<number> {
  return withConnection(adminDatabaseUrl, async (s) => {
    const rows = (await s.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1 AND state <> 'idle'`, [pid])).rows;
    return rows[0]?.n ?? 0;
  });
}

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 25));
  }
  return Date.now() - started;
}

/**
 * Runs `fn` while a 20 s-bounded session `s` (backend `pid`) waits on a table another session holds
 * locked; `blocked` is that statement's outcome. Releases the lock, closes both and drops the table after.
 */
async function whileBlockedOnLock(fn: (b: { s: Session; pid: number; blocked: Promise<unknown> }) => Promise<void>): Promise<void> {
  const table = uniqueName('locked');
  await withConnection(databaseUrl, (a) => a.query(`CREATE TABLE ${table} (id int)`));
  const holder = await openSession(databaseUrl, { statementTimeoutMs: 30_000, localWsProxy: wsProxy });
  await holder.query('BEGIN');
  await holder.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
  const s = await open(20_000);
  try {
    const pid = (await s.query<{ pid: number }>(SETTINGS_SQL)).rows[0]?.pid ?? 0;
    const blocked = s.query(`SELECT count(*) FROM ${table}`).catch((e: unknown) => e);
    await until(async () => (await running(pid)) === 1, 5000);
    await fn({ s, pid, blocked });
  } finally {
    await holder.query('ROLLBACK').catch(() => undefined);
    await holder.close();
    await s.close();
    await withConnection(databaseUrl, (a) => a.query(`DROP TABLE IF EXISTS ${table}`));
  }
}

describe('bounded statements', () => {
  it('each statement sees its own timeouts; the server default is untouched outside them', async () => {
    const s = await open(1500, 700);
    try {
      expect((await s.query(SETTINGS_SQL)).rows[0]).toMatchObject({ statement: '1500ms', lock: '700ms' });
      // With parameters (extended protocol) as without.
      expect((await s.query(`SELECT current_setting('statement_timeout') AS statement, $1::int AS n`, [7])).rows[0]).toEqual({ statement: '1500ms', n: 7 });
      // Rows, types and counts as before: the bounds statement's own row and tag never show.
      const res = await s.query<{ n: number }>('SELECT generate_series(1, 3) AS n');
      expect(res).toEqual({ rows: [{ n: 1 }, { n: 2 }, { n: 3 }], rowCount: 3 });
      // The role's own setting (what a fresh connection sees) stays the server default: nothing is set for the session.
      const roleDefault = await withConnection(
        adminDatabaseUrl,
        async (a) => (await a.query<{ v: string }>(`SELECT reset_val AS v FROM pg_settings WHERE name = 'statement_timeout'`)).rows[0]?.v,
      );
      expect(roleDefault).toBe('0');
    } finally {
      await s.close();
    }
  });

  it('the server ends a statement at its timeout (57014), and the session stays usable', async () => {
    const s = await open(300);
    try {
      const started = Date.now();
      await expect(s.query('SELECT pg_sleep(3)')).rejects.toMatchObject({ code: '57014' });
      expect(Date.now() - started).toBeLessThan(2000);
      expect((await s.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await s.close();
    }
  });

  it('inside a transaction, until(deadline) cuts every statement to what is left; ROLLBACK still runs', async () => {
    const s = await open(5000);
    try {
      const tx = s.until(Date.now() + 800);
      await tx.query('BEGIN');
      const started = Date.now();
      const err = await (async () => {
        for (let i = 0; i < 20; i++) await tx.query('SELECT pg_sleep(0.2)');
      })().catch((e: unknown) => e);
      const elapsed = Date.now() - started;
      expect(err).toMatchObject({ code: '57014' });
      expect(elapsed).toBeGreaterThanOrEqual(600);
      expect(elapsed).toBeLessThan(2000);
      await tx.query('ROLLBACK');
      expect((await s.query(SETTINGS_SQL)).rows[0]).toMatchObject({ statement: '5s' });
    } finally {
      await s.close();
    }
  });

  it('a cancel request through the WebSocket path ends a statement blocked on a lock; the connection stays usable', () =>
    whileBlockedOnLock(async ({ s, pid, blocked }) => {
      await s.cancel();
      // 57014 "canceling statement due to user request": the cancel, not the 20 s timeout.
      expect(await blocked).toMatchObject({ code: '57014', message: expect.stringContaining('user request') });
      expect(await running(pid)).toBe(0);
      expect((await s.query<{ pid: number }>(SETTINGS_SQL)).rows[0]?.pid).toBe(pid);
    }));

  it('closing the socket alone (a request workerd dropped) ends a lock-blocked backend within the socket check, not the timeout', () =>
    whileBlockedOnLock(async ({ s, pid, blocked }) => {
      await s.close();
      const gone = await until(async () => (await running(pid)) === 0, 10_000);
      expect(gone).toBeLessThan(CLIENT_CHECK_INTERVAL_MS + 2000);
      expect(await blocked).toBeInstanceOf(Error);
    }));

  it('abort() cancels a statement blocked on a lock: its backend is gone at once, long before the timeout', () =>
    whileBlockedOnLock(async ({ s, pid, blocked }) => {
      await s.abort();
      const gone = await until(async () => (await running(pid)) === 0, 5000);
      expect(gone).toBeLessThan(3000);
      expect(await blocked).toBeInstanceOf(Error);
    }));
});
