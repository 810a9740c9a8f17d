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
    await expect(withSession(ctx, databaseUrl, 'tenant', (s) => s.query('SELECT 1'), { acquireTimeoutMs: 0 })).rejects.toMatchObject({ kind: 'budget_timeout' });
    await Promise.all(slow);

    await Promise.all(closes);
    const budget = budgetFor(entry.isolate, targetOf(databaseUrl)).snapshot();
    expect(budget).toMatchObject({ inUse: 0, waiting: 0, reclaimedLeases: 0 });
    // Ours, plus the telemetry task that tried to record it as an admission event on this target.
    expect(budget.timeouts).toBeGreaterThanOrEqual(1);
    expect(budget.acquired).toBe(18 + 2);
    expect(budgetFor(entry.isolate, targetOf(UNREACHABLE)).snapshot()).toMatchObject({ inUse: 0, reclaimedLeases: 0, acquired: 6 });
  });
});
