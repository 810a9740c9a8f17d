/**
 * Counters with the direct sink, inside workerd against real Postgres: exact sums through the
 * real `/gateway/fetch` with a real key, what is not counted, one statement per table per flush
 * (counted by Postgres), the per_request baseline's statement-per-request, and the bound.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createClient, createKey, uniqueName } from './seed.js';
import { clientRow, createStatsRole, createTenantTable, fetchRows, flush, keyLastUsed, load, tableRows, type Caller } from './counters-helpers.js';
import { fetchWith } from './harness.js';

let table: string;
beforeAll(async () => {
  table = await createTenantTable();
});

async function caller(): Promise<Caller & { keyId: string }> {
  const client = await createClient();
  const key = await createKey(client);
  return { client, key: key.key, keyId: key.id };
}

/** Vars for a fresh isolate state (the tag makes the configuration, hence the state, unique). */
const varsFor = (over: Record<string, string>) => ({ STATS_FLUSH_INTERVAL_MS: '0', STATS_TEST_TAG: uniqueName('iso'), ...over });

describe('counters, direct sink', () => {
  it('N requests at concurrency C: client and client×table×operation rows equal N after the final flush; errors and key last-used recorded', async () => {
    const who = await caller();
    const vars = varsFor({ STATS_SINK: 'direct' });
    const started = Date.now();
    const N = 60;
    const BAD = 6; // unknown column: 400 after auth, with the table known
    const statuses = await load(N, 8, (i) => fetchRows(vars, who, table, i < BAD ? 'no_such_column' : 'id'));
    expect(statuses.filter((s) => s === 200)).toHaveLength(N - BAD);
    expect(statuses.filter((s) => s === 400)).toHaveLength(BAD);
    const final = await flush(vars);
    expect(final.stats).toMatchObject({ sink: 'direct', pendingKeys: 0, retryRows: 0, failures: 0, dropped: 0 });
    expect(await clientRow(who.client)).toEqual({ requests: N, errors: BAD });
    const rows = await tableRows(who.client);
    expect(rows).toEqual([{ table_name: table, operation: 'read', requests: N, errors: BAD, duration_ms: expect.any(Number) }]);
    const lastUsed = await keyLastUsed(who.keyId);
    expect(lastUsed?.getTime()).toBeGreaterThanOrEqual(started - 1000);
    expect(final.stats.flushes).toBeGreaterThan(0);
  });

  it('requests refused before auth decided a client are not counted; refused keys are not either', async () => {
    const who = await caller();
    const vars = varsFor({ STATS_SINK: 'direct' });
    const noClient = await fetchWith(vars, 'http://gateway/gateway/fetch', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-athena-key': who.key },
      body: '{}',
    });
    expect(noClient.status).toBe(400);
    const badKey = await fetchRows(vars, { client: who.client, key: 'ath_not-a-real-key' }, table);
    expect(badKey.status).toBe(401);
    const answer = await flush(vars);
    expect(answer.sent).toBe(0);
    expect(await clientRow(who.client)).toBeUndefined();
  });

  it('the direct sink issues at most one statement per table per flush (counted by Postgres)', async () => {
    const who = await caller();
    const role = await createStatsRole();
    const vars = varsFor({ STATS_SINK: 'direct', LOGGING_DATABASE_URL: role.url });
    const N = 40;
    await load(N, 8, () => fetchRows(vars, who, table));
    const final = await flush(vars);
    const flushes = final.stats.flushes;
    expect(await clientRow(who.client)).toEqual({ requests: N, errors: 0 });
    // Plus the isolate's snapshot per flush, and one bounded prune of the ledger and of silent
    // isolates' snapshots: the first applied batch of an isolate prunes, then once a minute.
    expect(await role.calls()).toEqual({
      flush_batches: flushes,
      client_statistics: flushes,
      client_table_statistics: flushes,
      api_keys: flushes,
      isolate_snapshots: flushes,
      ledger_prune: 1,
      snapshot_prune: 1,
    });
  });

  it('coalesces: N requests from two clients within one interval are one flush, one statement per table', async () => {
    const a = await caller();
    const b = await caller();
    const role = await createStatsRole();
    // Never due during the test: only the final flush writes.
    const vars = varsFor({ STATS_SINK: 'direct', LOGGING_DATABASE_URL: role.url, STATS_FLUSH_INTERVAL_MS: '600000' });
    await load(30, 6, (i) => fetchRows(vars, i % 2 ? a : b, table));
    expect(await role.calls()).toEqual({});
    const final = await flush(vars);
    expect(final.results).toEqual([{ ok: true, status: 'applied' }]);
    expect(await clientRow(a.client)).toEqual({ requests: 15, errors: 0 });
    expect(await clientRow(b.client)).toEqual({ requests: 15, errors: 0 });
    expect(await role.calls()).toEqual({
      flush_batches: 1,
      client_statistics: 1,
      client_table_statistics: 1,
      api_keys: 1,
      isolate_snapshots: 1,
      ledger_prune: 1,
      snapshot_prune: 1,
    });
  });

  it('per_request (the benchmark baseline) writes once per request: the same sums, N statements per table', async () => {
    const who = await caller();
    const role = await createStatsRole();
    const vars = varsFor({ STATS_SINK: 'per_request', LOGGING_DATABASE_URL: role.url });
    const N = 12;
    await load(N, 4, () => fetchRows(vars, who, table));
    expect(await clientRow(who.client)).toEqual({ requests: N, errors: 0 });
    expect((await tableRows(who.client))[0]?.requests).toBe(N);
    const calls = await role.calls();
    expect({ clients: calls.client_statistics, tables: calls.client_table_statistics, ledger: calls.flush_batches ?? 0 }).toEqual({
      clients: N,
      tables: N,
      ledger: 0,
    });
  });

  it('the logging database down: requests unaffected, deltas kept and bounded, failures counted', async () => {
    const who = await caller();
    const vars = varsFor({ STATS_SINK: 'direct', LOGGING_DATABASE_URL: 'postgres://nobody:x@127.0.0.1:1/none', STATS_MAX_PENDING_KEYS: '4' });
    const statuses = await load(10, 2, () => fetchRows(vars, who, table));
    expect(statuses).toEqual(Array<number>(10).fill(200));
    const other = await caller();
    await fetchRows(vars, other, table); // 3 new rows (client, table, key) do not fit beside the held 3
    const answer = await flush(vars);
    expect(answer.results).toEqual([{ ok: false, kind: 'unavailable' }]);
    expect(answer.stats.failures).toBeGreaterThanOrEqual(1);
    expect(answer.stats.retryRows + answer.stats.pendingKeys).toBeLessThanOrEqual(4);
    expect(answer.stats.dropped).toBeGreaterThanOrEqual(2);
    expect(answer.stats.lastError).toMatch(/^unavailable: /);
    expect(await clientRow(who.client)).toBeUndefined();
  });

  it('POST /__gateway/flush requires the admin token', async () => {
    const res = await fetchWith(varsFor({}), 'http://gateway/__gateway/flush', { method: 'POST' });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
  });
});
