import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSession } from '../../worker/db/session.js';
import { adminDatabaseUrl, databaseUrl, fetchWith, tenantDatabaseUrl } from './harness.js';
import { sql as catalogSql, uniqueName, withConnection } from './seed.js';
import { newCaller, tableName, tenantSql, type Caller, type GatewayResponse } from './gateway-support.js';
import { inject } from 'vitest';

const ISOLATE = 'gateway-errors';
const table = tableName('gw_err');
/** Created with the file's table: the isolate's catalog, loaded by the first request, knows it. */
const wide = tableName('gw_wide');
let api: Caller;

beforeAll(async () => {
  await tenantSql(`CREATE TABLE ${table} (id int PRIMARY KEY, email text UNIQUE, level int)`);
  await tenantSql(`INSERT INTO ${table} VALUES (1, 'a@x', 1), (2, 'b@x', 2)`);
  await tenantSql(`CREATE TABLE ${wide} (id int PRIMARY KEY, a int, b int, c int, d int, e int, f text)`);
  api = await newCaller(ISOLATE);
});

const expectError = (res: GatewayResponse, status: number, code: string) => {
  expect(res.status, res.text).toBe(status);
  expect(res.body.error?.code).toBe(code);
  expect(Object.keys(res.body.error ?? {}).sort()).toEqual(['code', 'hint', 'message']);
  expect(res.body.error?.message).toEqual(expect.any(String));
  expect(res.headers.get('x-request-id')).toBeTruthy();
  // Never SQL text or a connection string.
  expect(res.text).not.toMatch(/postgres(ql)?:\/\/|SELECT |INSERT INTO|UPDATE "|DELETE FROM/);
};

describe('status map', () => {
  it('400: invalid_json, invalid_request, unknown_table, unknown_column, invalid_condition, type mismatch', async () => {
    expectError(await api.call('fetch', undefined, { raw: '{"table_name":' }), 400, 'invalid_json');
    expectError(await api.call('fetch', { columns: 'id' }), 400, 'invalid_request');
    expectError(await api.call('fetch', { table_name: table, group_by: 'level' }), 400, 'invalid_request');
    expectError(await api.call('fetch', { table_name: 'no_such_table' }), 400, 'unknown_table');
    expectError(await api.call('fetch', { table_name: table, columns: 'id,nope' }), 400, 'unknown_column');
    expectError(await api.call('fetch', { table_name: table, conditions: [{ operator: 'or', value: 'id.zz.1' }] }), 400, 'invalid_condition');
    expectError(await api.call('fetch', { table_name: table, conditions: [{ column: 'level', operator: 'like', value: '1%' }] }), 400, 'invalid_request');
    expectError(await api.call('fetch', { table_name: table, conditions: [{ column: 'id', operator: 'eq', value: 'not-a-number' }] }), 400, 'invalid_request');
    const noClient = await fetchWith({ TEST_ISOLATE: ISOLATE }, 'http://gateway/gateway/fetch', {
      method: 'POST',
      body: JSON.stringify({ table_name: table }),
    });
    expect(noClient.status).toBe(400);
  });

  it('401: missing and invalid keys', async () => {
    expectError(await api.call('fetch', { table_name: table }, { headers: { 'x-athena-key': '' } }), 401, 'missing_api_key');
    expectError(await api.call('fetch', { table_name: table }, { headers: { 'x-athena-key': `ath_aaaaaaaaaa_${'A'.repeat(40)}` } }), 401, 'invalid_api_key');
  });

  it('403: scope per operation × table, system schemas, and the gateway catalog when a tenant shares it', async () => {
    const reader = await newCaller(ISOLATE, { scopes: { operations: ['read'], tables: [table] } });
    expect((await reader.call('fetch', { table_name: table })).status).toBe(200);
    expectError(await reader.call('insert', { table_name: table, insert_body: { id: 9 } }), 403, 'scope_denied');
    expectError(await reader.call('delete', { table_name: table, resource_id: '1' }), 403, 'scope_denied');
    expectError(await api.call('fetch', { table_name: 'pg_catalog.pg_authid' }), 403, 'forbidden_table');
    expectError(await api.call('fetch', { table_name: 'information_schema.tables' }), 403, 'forbidden_table');
    const shared = await newCaller(ISOLATE, { databaseUrl });
    for (const t of ['clients', 'api_keys', 'public.client_statistics', 'drizzle.__drizzle_migrations']) {
      expectError(await shared.call('fetch', { table_name: t }), 403, 'forbidden_table');
    }
    expect(await tenantSql(`SELECT count(*)::int AS n FROM ${table}`)).toEqual([{ n: 2 }]);
  });

  it('404: unsupported operations, before auth; 405: wrong methods on known routes, before auth', async () => {
    for (const path of ['/gateway/aggregate', '/db/gateway/graphql']) {
      const res = await fetchWith({ TEST_ISOLATE: ISOLATE }, `http://gateway${path}`, { method: 'POST', body: '{}' });
      expect(res.status).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unsupported_operation');
    }
    for (const [method, path] of [
      ['GET', '/gateway/insert'],
      ['DELETE', '/gateway/fetch'],
      ['PUT', '/db/gateway/update'],
      ['GET', '/gateway/delete'],
      ['GET', '/gateway/query'],
      ['PUT', '/db/gateway/transaction'],
    ] as const) {
      const res = await fetchWith({ TEST_ISOLATE: ISOLATE }, `http://gateway${path}`, { method });
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(res.headers.get('allow')).toBeTruthy();
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('method_not_allowed');
    }
  });

  it('409: unique violation, naming the columns and never the value', async () => {
    const dup = await api.call('insert', { table_name: table, insert_body: { id: 3, email: 'a@x' } });
    expectError(dup, 409, 'conflict');
    expect(dup.body.error?.message).toBe('A row with the same "email" already exists');
    expect(dup.text).not.toContain('a@x');
    const moved = await api.call('update', { table_name: table, update_body: { id: 1 }, conditions: [{ column: 'id', operator: 'eq', value: 2 }] });
    expectError(moved, 409, 'conflict');
    expect(moved.body.error?.message).toBe('A row with the same "id" already exists');
    expect(moved.text).not.toContain('b@x');
  });

  it('413: declared and streamed bodies over GATEWAY_MAX_BODY_BYTES', async () => {
    const vars = { GATEWAY_MAX_BODY_BYTES: '1024' };
    const big = { table_name: table, insert_body: { id: 10, email: 'x'.repeat(2000) } };
    expectError(await api.call('insert', big, { vars }), 413, 'payload_too_large');
    const bytes = new TextEncoder().encode(JSON.stringify(big));
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes.slice(0, 1000));
        controller.enqueue(bytes.slice(1000));
        controller.close();
      },
    });
    const res = await fetchWith({ TEST_ISOLATE: ISOLATE, ...vars }, 'http://gateway/gateway/insert', {
      method: 'PUT',
      headers: { 'x-athena-client': api.clientName, 'x-athena-key': api.key },
      body: stream,
    });
    expect(res.status).toBe(413);
    expect(await tenantSql(`SELECT id FROM ${table} WHERE id = 10`)).toEqual([]);
  });

  it('an insert of more cells than one statement may bind, within the body limit, is written whole (its rows are one parameter)', async () => {
    const rows = Array.from({ length: 10_000 }, (_, i) => ({ id: i, a: i, b: 1, c: 2, d: 3, e: 4, f: null })); // 70,000 cells
    const res = await api.call('insert', { table_name: wide, insert_body: rows });
    expect(res.status, res.text.slice(0, 300)).toBe(201);
    expect(res.body.count).toBe(10_000);
    expect(await tenantSql(`SELECT count(*)::int AS n, sum(a)::bigint::text AS s FROM ${wide}`)).toEqual([{ n: 10_000, s: String((9_999 * 10_000) / 2) }]);
  });

  it('503 + Retry-After when the tenant database is down', async () => {
    const down = await newCaller(ISOLATE, { databaseUrl: 'postgres://nobody:secret@127.0.0.1:9/nowhere' });
    const res = await down.call('fetch', { table_name: table });
    expectError(res, 503, 'database_unavailable');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(res.text).not.toContain('secret');
  });
});

describe('under a locked table', () => {
  const lockTenantTable = async () => {
    const s = await openSession(tenantDatabaseUrl, { statementTimeoutMs: 30_000, localWsProxy: inject('wsProxy') });
    await s.query('BEGIN');
    await s.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
    return {
      release: async () => {
        await s.query('ROLLBACK');
        await s.close();
      },
    };
  };
  const waitingOnLock = async () => {
    for (let i = 0; i < 200; i++) {
      const [row] = await tenantSql<{ n: number }>(`SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted AND relation = $1::regclass`, [table]);
      if ((row?.n ?? 0) > 0) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error('request never reached the lock');
  };

  it('408 when the statement times out', async () => {
    const lock = await lockTenantTable();
    try {
      expectError(await api.call('fetch', { table_name: table }, { vars: { DB_STATEMENT_TIMEOUT_MS: '300' } }), 408, 'statement_timeout');
    } finally {
      await lock.release();
    }
  });

  it('503 database_busy (not database_unavailable) when the tenant budget has no permit in time; the holder then succeeds', async () => {
    const vars = { DB_POOL_MAX: '1', DB_ACQUIRE_TIMEOUT_MS: '100' };
    await api.call('fetch', { table_name: table }, { vars }); // warm the auth caches of this isolate state
    const lock = await lockTenantTable();
    let holder: Promise<GatewayResponse> | undefined;
    try {
      holder = api.call('fetch', { table_name: table, columns: 'id' }, { vars });
      await waitingOnLock();
      const res = await api.call('fetch', { table_name: table }, { vars });
      expectError(res, 503, 'database_busy');
      expect(res.headers.get('retry-after')).toBeTruthy();
    } finally {
      await lock.release();
    }
    expect((await holder).body.data).toHaveLength(2);
  });
});

describe('tenant resolution and usage', () => {
  const otherDb = uniqueName('tenant_other');
  afterAll(async () => {
    await withConnection(adminDatabaseUrl, (s) => s.query(`DROP DATABASE IF EXISTS "${otherDb}" WITH (FORCE)`)).catch(() => undefined);
  });

  it('serves each client from clients.database_url, else TENANT_DATABASE_URL', async () => {
    await withConnection(adminDatabaseUrl, (s) => s.query(`CREATE DATABASE "${otherDb}"`));
    const u = new URL(tenantDatabaseUrl);
    u.pathname = `/${otherDb}`;
    await withConnection(u.toString(), async (s) => {
      await s.query(`CREATE TABLE ${table} (id int PRIMARY KEY, email text UNIQUE, level int)`);
      await s.query(`INSERT INTO ${table} VALUES (42, 'other@x', 0)`);
    });
    const other = await newCaller(ISOLATE, { databaseUrl: u.toString() });
    expect((await other.call('fetch', { table_name: table, columns: 'id' })).body.data).toEqual([{ id: 42 }]);
    expect((await api.call('fetch', { table_name: table, columns: 'id', sort_by: { field: 'id' } })).body.data).toEqual([{ id: 1 }, { id: 2 }]);
  });

  it('records (client, table, operation) with the error flag through the stats batcher', async () => {
    const vars = { STATS_SINK: 'direct', STATS_FLUSH_INTERVAL_MS: '0' };
    const counted = await newCaller(`${ISOLATE}-stats`, { vars });
    await counted.call('fetch', { table_name: table });
    await counted.call('fetch', { table_name: `public.${table}`, columns: 'id' });
    await counted.call('fetch', { table_name: table, columns: 'nope' }); // table known, then 400
    await counted.call('update', { table_name: table, update_body: { level: 5 }, conditions: [{ column: 'id', operator: 'eq', value: 2 }] });
    await counted.call('fetch', { table_name: 'no_such_table' }); // never reaches a table: client counter only
    const rows = await catalogSql<{ table_name: string; operation: string; requests: number; errors: number }>(
      `SELECT table_name, operation, requests::int AS requests, errors::int AS errors FROM client_table_statistics WHERE client_name = $1 ORDER BY operation`,
      [counted.clientName],
    );
    expect(rows).toEqual([
      { table_name: table, operation: 'read', requests: 3, errors: 1 },
      { table_name: table, operation: 'update', requests: 1, errors: 0 },
    ]);
  });
});
