/**
 * withSession against real Postgres inside workerd: whatever the work does — succeeds, throws,
 * fails in SQL, never connects, or finds no permit — every permit comes back once its session has
 * closed, long before any lease could be reclaimed. (The budget's own unit test drives the budget directly.)
 */
import { describe, expect, it } from 'vitest';
import { budgetFor } from '../../worker/admission/registry.js';
import { targetOf } from '../../worker/db/target.js';
import { SessionUnavailableError, withSession, type SessionContext } from '../../worker/db/with-session.js';
import { isolateFor } from '../../worker/isolate.js';
import { baseEnv, databaseUrl } from './harness.js';
import { uniqueName } from './seed.js';

const UNREACHABLE = 'postgres://nobody:x@127.0.0.1:1/none';

describe('withSession', () => {
  it('releases every permit after success, thrown work, SQL errors, connect failures and budget timeouts; reclaims none', async () => {
    const entry = isolateFor({ ...baseEnv, TEST_ISOLATE: uniqueName('ws'), DB_POOL_MAX: '2', DB_ACQUIRE_TIMEOUT_MS: '10000' });
    if (!entry.ok) throw new Error(entry.problem);
    const closes: Promise<unknown>[] = [];
    const ctx: SessionContext = { isolate: entry.isolate, waitUntil: (p) => void closes.push(p) };
    const kinds = ['ok', 'throws', 'sql_error', 'unreachable'] as const;
    const outcome = async (kind: (typeof kinds)[number]): Promise<string> => {
      try {
        await withSession(ctx, kind === 'unreachable' ? UNREACHABLE : databaseUrl, 'tenant', async (s) => {
          if (kind === 'throws') throw new Error('work failed');
          await s.query(kind === 'sql_error' ? 'SELECT 1/0' : 'SELECT pg_sleep(0.05)');
        });
        return 'ok';
      } catch (err) {
        if (err instanceof SessionUnavailableError) return err.kind;
        return err instanceof Error && err.message === 'work failed' ? 'throws' : 'sql_error';
      }
    };
    const results = await Promise.all(Array.from({ length: 24 }, (_, i) => outcome(kinds[i % kinds.length] ?? 'ok')));
    expect(results).toEqual(Array.from({ length: 24 }, (_, i) => (kinds[i % kinds.length] === 'unreachable' ? 'connect_failed' : kinds[i % kinds.length])));

    // Both permits held by slow sessions: a try-acquire finds none and leaves nothing behind.
    const slow = Array.from({ length: 2 }, () => withSession(ctx, databaseUrl, 'tenant', (s) => s.query('SELECT pg_sleep(0.3)')));
    await new Promise((r) => setTimeout(r, 100));
    await expect(withSession(ctx, databaseUrl, 'tenant', (s) => s.query('SELECT 1'), { acquireTimeoutMs: 0 })).rejects.toMatchObject({
      kind: 'budget_timeout',
    });
    await Promise.all(slow);

    await Promise.all(closes);
    const budget = budgetFor(entry.isolate.services.budgets, entry.isolate.settings, targetOf(databaseUrl)).snapshot();
    expect(budget).toMatchObject({ inUse: 0, waiting: 0, reclaimedLeases: 0 });
    // Ours, plus the telemetry task that tried to record it as an admission event on this target.
    expect(budget.timeouts).toBeGreaterThanOrEqual(1);
    expect(budget.acquired).toBe(18 + 2);
    expect(budgetFor(entry.isolate.services.budgets, entry.isolate.settings, targetOf(UNREACHABLE)).snapshot()).toMatchObject({
      inUse: 0,
      reclaimedLeases: 0,
      acquired: 6,
    });
  });
});

describe('pipelined startup', () => {
  const entry = isolateFor({ ...baseEnv, TEST_ISOLATE: uniqueName('wsp'), DB_POOL_MAX: '2', DB_ACQUIRE_TIMEOUT_MS: '10000' });
  if (!entry.ok) throw new Error(entry.problem);
  const closes: Promise<unknown>[] = [];
  const ctx: SessionContext = { isolate: entry.isolate, waitUntil: (p) => void closes.push(p) };
  const wrongPassword = (() => {
    const u = new URL(databaseUrl);
    u.password = 'not-the-password';
    return u.toString();
  })();

  it('a startup the server refuses (wrong password) is connect_failed, heard by the first query, and its permit comes back', async () => {
    const outcome = await withSession(ctx, wrongPassword, 'tenant', (s) => s.query('SELECT 1 AS one')).catch((err: unknown) => err);
    expect(outcome).toBeInstanceOf(SessionUnavailableError);
    expect(outcome).toMatchObject({ kind: 'connect_failed' });
    await Promise.all(closes);
    expect(budgetFor(entry.isolate.services.budgets, entry.isolate.settings, targetOf(wrongPassword)).snapshot()).toMatchObject({
      inUse: 0,
      acquired: 1,
      reclaimedLeases: 0,
    });
  });

  it("a first query that fails in SQL keeps its own SQLSTATE; the session's later queries still run", async () => {
    const codes = await withSession(ctx, databaseUrl, 'tenant', async (s) => {
      const first = await s.query('SELECT 1/0').catch((err: unknown) => (err as { code?: string }).code);
      const second = await s.query<{ n: number }>('SELECT 41 + 1 AS n');
      return { first, second: second.rows[0]?.n };
    });
    expect(codes).toEqual({ first: '22012', second: 42 });
  });
});
