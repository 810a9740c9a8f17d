/**
 * Deadlines on the tenant database, enforced by the server (no startup parameters involved): a
 * transaction of many slow operations ends at TRANSACTION_TIMEOUT_MS and is rolled back; a fetch on
 * a locked table answers within the statement timeout + 2 s; a fetch whose request gives up, or
 * whose lease runs out, has its backend cancelled — and its permit is counted busy until then.
 * Every case ends with no backend of it left in pg_stat_activity.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import app from '../../worker/index.js';
import { budgetFor } from '../../worker/admission/registry.js';
import { targetOf } from '../../worker/db/target.js';
import { isolateFor } from '../../worker/isolate.js';
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { baseEnv, tenantDatabaseUrl } from './harness.js';
import { openSession } from '../../worker/db/session.js';
import { inject } from 'vitest';
import { newCaller, tableName, tenantSql, type Caller } from './gateway-support.js';

const slow = tableName('slow_v');
const items = tableName('dl_items');
const locked = tableName('dl_locked');
let api: Caller;

beforeAll(async () => {
  // One row, 0.3 s to read it: each fetch of the view is one slow statement.
  await tenantSql(`CREATE VIEW ${slow} AS SELECT 1 AS id, pg_sleep(0.3)::text AS slept`);
  await tenantSql(`CREATE TABLE ${items} (id serial PRIMARY KEY, label text)`);
  await tenantSql(`CREATE TABLE ${locked} (id int)`);
  api = await newCaller('tenant-deadlines');
});

afterAll(async () => {
  await tenantSql(`DROP VIEW IF EXISTS ${slow}`);
  await tenantSql(`DROP TABLE IF EXISTS ${items}, ${locked}`);
});

/** Backends running a statement that mentions `relation` (other than this query). */
async function runningOn(relation: string): Promise<number> {
  const rows = await tenantSql<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'active' AND query LIKE $1 AND pid <> pg_backend_pid()`,
    [`%${relation}%`],
  );
  return rows[0]?.n ?? 0;
}

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** `LOCK TABLE` held in an open transaction on a connection of its own. */
async function lockTable(table: string): Promise<{ release(): Promise<void> }> {
  const s = await openSession(tenantDatabaseUrl, { statementTimeoutMs: 60_000, localWsProxy: inject('wsProxy') });
  await s.query('BEGIN');
  await s.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
  return {
    async release() {
      await s.query('ROLLBACK').catch(() => undefined);
      await s.close();
    },
  };
}

const fetchLocked = { table_name: locked, columns: ['id'] };

describe('a transaction has a whole deadline', () => {
  it('many slow operations end at TRANSACTION_TIMEOUT_MS: 408, rolled back, no backend left', async () => {
    const ops = [
      { id: 'ins', kind: 'insert', payload: { table_name: items, insert_body: { label: 'never' } } },
      ...Array.from({ length: 12 }, (_, i) => ({ id: `slow_${i}`, kind: 'fetch', payload: { table_name: slow, columns: ['id', 'slept'] } })),
    ];
    const vars = { TRANSACTION_TIMEOUT_MS: '1000', DB_STATEMENT_TIMEOUT_MS: '5000' };
    const started = Date.now();
    const res = await api.call('transaction', { operations: ops }, { vars });
    const elapsed = Date.now() - started;
    expect(res.status, res.text).toBe(408);
    expect(res.body.error?.code).toBe('statement_timeout');
    expect(res.body.error?.message).toContain('TRANSACTION_TIMEOUT_MS');
    expect(elapsed).toBeLessThan(1000 + 2000); // 12 × 0.3 s would be 3.6 s
    expect(await tenantSql(`SELECT label FROM ${items}`)).toEqual([]);
    expect(await runningOn(slow)).toBe(0);
  });

  it('within the deadline the same kind of transaction commits', async () => {
    const ops = Array.from({ length: 2 }, (_, i) => ({ id: `slow_${i}`, kind: 'fetch', payload: { table_name: slow, columns: ['id'] } }));
    const res = await api.call('transaction', { operations: ops }, { vars: { TRANSACTION_TIMEOUT_MS: '3000' } });
    expect(res.status, res.text).toBe(200);
  });
});

describe('a fetch on a locked table', () => {
  it('answers 408 within the statement timeout + 2 s, and its backend is gone', async () => {
    const lock = await lockTable(locked);
    try {
      const started = Date.now();
      const res = await api.call('fetch', fetchLocked, { vars: { DB_STATEMENT_TIMEOUT_MS: '1000' } });
      expect(res.status, res.text).toBe(408);
      expect(Date.now() - started).toBeLessThan(1000 + 2000);
      expect(await runningOn(locked)).toBe(0); // while the lock is still held
    } finally {
      await lock.release();
    }
  });

  const vars = (extra: Record<string, string>) => ({
    ...baseEnv,
    TEST_ISOLATE: 'tenant-deadlines-giveup',
    DB_STATEMENT_TIMEOUT_MS: '20000',
    DB_POOL_MAX: '1',
    ...extra,
  });

  /** Sends the fetch with `signal`; returns the response promise and the isolate's tenant budget. */
  function send(env: Record<string, string>, signal?: AbortSignal) {
    const ctx = createExecutionContext();
    const req = new Request('http://gateway/gateway/fetch', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-athena-client': api.clientName, 'x-athena-key': api.key },
      body: JSON.stringify(fetchLocked),
      ...(signal ? { signal } : {}),
    });
    const entry = isolateFor(env);
    if (!entry.ok) throw new Error(entry.problem);
    const budget = budgetFor(entry.isolate.services.budgets, entry.isolate.settings, targetOf(tenantDatabaseUrl));
    const response = Promise.resolve(app.fetch(req, env, ctx)).finally(() => waitOnExecutionContext(ctx));
    return { response, budget };
  }

  /** Polls until the permit is back; fails if it is ever free while the fetch still runs on the server. */
  async function permitFreesOnlyAfterBackend(budget: ReturnType<typeof budgetFor>, timeoutMs: number): Promise<void> {
    let freedEarly = false;
    await until(async () => {
      const free = budget.snapshot().inUse === 0;
      if (free && (await runningOn(locked)) > 0 && budget.snapshot().inUse === 0) freedEarly = true;
      return free;
    }, timeoutMs);
    expect(freedEarly).toBe(false);
    expect(await runningOn(locked)).toBe(0);
  }

  it('whose request gives up (abort): the backend is cancelled, and only then is the permit free', async () => {
    const env = vars({ DB_PERMIT_LEASE_MS: '120000' });
    const lock = await lockTable(locked);
    try {
      const ac = new AbortController();
      const { response, budget } = send(env, ac.signal);
      await until(async () => (await runningOn(locked)) === 1, 10_000);
      expect(budget.snapshot().inUse).toBe(1);
      ac.abort();
      await permitFreesOnlyAfterBackend(budget, 2000 + 2000); // far below the 20 s statement timeout
      await response.catch(() => undefined);
    } finally {
      await lock.release();
    }
  });

  it('whose lease runs out: the holder cancels its backend on its own timer, then the permit is free; the client gets a clean error', async () => {
    const env = vars({ DB_PERMIT_LEASE_MS: '1500', TEST_ISOLATE: 'tenant-deadlines-lease' });
    const lock = await lockTable(locked);
    try {
      const started = Date.now();
      const { response, budget } = send(env);
      await until(async () => (await runningOn(locked)) === 1, 10_000);
      await permitFreesOnlyAfterBackend(budget, 1500 + 4000);
      const res = await response;
      expect([408, 503]).toContain(res.status);
      expect(Date.now() - started).toBeLessThan(1500 + 3000);
      expect(budget.snapshot()).toMatchObject({ inUse: 0, reclaimedLeases: 1 });
    } finally {
      await lock.release();
    }
  });
});
