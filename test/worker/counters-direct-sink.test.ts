/**
 * The direct sink and the flush schedule, inside workerd against real Postgres: a burst followed by
 * silence lands without another request; a batch the database refuses for its data is dropped and
 * counted while later batches land; a batch retained while writes are refused is applied exactly
 * once when they are allowed again; old ledger rows are pruned.
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import app from '../../worker/index.js';
import { baseEnv } from './harness.js';
import { createClient, createKey, sql, uniqueName } from './seed.js';
import { clientRow, createStatsRole, createTenantTable, fetchRows, flush, load, type Caller } from './counters-helpers.js';

async function caller(): Promise<Caller> {
  const client = await createClient();
  return { client, key: (await createKey(client)).key };
}

const varsFor = (over: Record<string, string>) => ({ STATS_SINK: 'direct', STATS_TEST_TAG: uniqueName('iso'), ...over });
const ledgerRows = async (where: string, params: unknown[]) =>
  (await sql<{ n: number }>(`SELECT count(*)::int AS n FROM flush_batches WHERE ${where}`, params))[0]?.n;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('flush schedule', () => {
  it('a burst followed by silence is in client_statistics within STATS_FLUSH_INTERVAL_MS + ε, with no further request', async () => {
    const table = await createTenantTable();
    const who = await caller();
    const vars = varsFor({ STATS_FLUSH_INTERVAL_MS: '1000' });
    // Each request gets its own execution context that nobody waits on, as in production: only the
    // flush a request scheduled inside its own waitUntil can write the counters.
    const contexts: ExecutionContext[] = [];
    const call = async () => {
      const ctx = createExecutionContext();
      contexts.push(ctx);
      const headers = { 'content-type': 'application/json', 'x-athena-client': who.client, 'x-athena-key': who.key };
      return app.fetch(
        new Request('http://gateway/gateway/fetch', { method: 'POST', headers, body: JSON.stringify({ table_name: table }) }),
        { ...baseEnv, ...vars },
        ctx,
      );
    };
    try {
      const N = 25;
      expect(await load(N, 5, call)).toEqual(Array<number>(N).fill(200));
      const lastAt = Date.now();
      let row = await clientRow(who.client);
      while (row?.requests !== N && Date.now() - lastAt < 3000) {
        await sleep(100);
        row = await clientRow(who.client);
      }
      expect(row).toEqual({ requests: N, errors: 0 });
      expect(Date.now() - lastAt).toBeLessThan(3000);
    } finally {
      await Promise.all(contexts.map((ctx) => waitOnExecutionContext(ctx)));
    }
  });
});

describe('direct sink', () => {
  it('a batch the database refuses for its data (bigint overflow) is dropped and counted; the next batch lands', async () => {
    const table = await createTenantTable();
    const full = await caller();
    const other = await caller();
    await sql('INSERT INTO client_statistics (client_name, requests) VALUES ($1, $2)', [full.client, '9223372036854775807']);
    const vars = varsFor({ STATS_FLUSH_INTERVAL_MS: '600000' });
    expect((await fetchRows(vars, full, table)).status).toBe(200);
    const refused = await flush(vars);
    expect(refused.results).toEqual([{ ok: false, kind: 'rejected' }]);
    expect(refused.stats).toMatchObject({ rejected: 1, retryRows: 0, pendingKeys: 0 });
    expect((await fetchRows(vars, other, table)).status).toBe(200);
    const next = await flush(vars);
    expect(next.results).toEqual([{ ok: true, status: 'applied' }]);
    expect(await clientRow(other.client)).toEqual({ requests: 1, errors: 0 });
    expect(next.stats).toMatchObject({ rejected: 1, failures: 0 });
  });

  it('writes refused (privilege revoked) then allowed again: the retained batch is applied exactly once, under its id', async () => {
    const table = await createTenantTable();
    const who = await caller();
    const role = await createStatsRole();
    const vars = varsFor({ LOGGING_DATABASE_URL: role.url, STATS_FLUSH_INTERVAL_MS: '600000' });
    await sql(`REVOKE INSERT ON client_statistics FROM "${role.role}"`);
    await load(10, 2, () => fetchRows(vars, who, table));
    const failed = await flush(vars);
    expect(failed.results).toEqual([{ ok: false, kind: 'unavailable' }]);
    const retained = failed.stats.retryBatchId;
    if (!retained) throw new Error('no retained batch');
    expect(await ledgerRows('batch_id = $1', [retained])).toBe(0); // rolled back with its deltas

    await sql(`GRANT INSERT ON client_statistics TO "${role.role}"`);
    expect((await fetchRows(vars, who, table)).status).toBe(200); // pending behind the retained batch
    const applied = await flush(vars);
    expect(applied.results).toEqual([
      { ok: true, status: 'applied' },
      { ok: true, status: 'applied' },
    ]);
    expect((await flush(vars)).sent).toBe(0);
    expect(await clientRow(who.client)).toEqual({ requests: 11, errors: 0 });
    expect(await ledgerRows('batch_id = $1', [retained])).toBe(1);
  });

  it('prunes ledger rows past retention on the direct path too, and keeps recent ones', async () => {
    const table = await createTenantTable();
    const who = await caller();
    const tag = uniqueName('ledger');
    await sql(
      `INSERT INTO flush_batches (batch_id, source, rows, applied_at) SELECT gen_random_uuid(), $1, 0, now() - interval '30 days' FROM generate_series(1, 5)`,
      [`${tag}-old`],
    );
    await sql(`INSERT INTO flush_batches (batch_id, source, rows, applied_at) VALUES (gen_random_uuid(), $1, 0, now() - interval '1 hour')`, [`${tag}-recent`]);
    const vars = varsFor({ STATS_FLUSH_INTERVAL_MS: '600000' });
    await fetchRows(vars, who, table);
    expect((await flush(vars)).results).toEqual([{ ok: true, status: 'applied' }]);
    expect(await ledgerRows('source = $1', [`${tag}-old`])).toBe(0);
    expect(await ledgerRows('source = $1', [`${tag}-recent`])).toBe(1);
  });
});
