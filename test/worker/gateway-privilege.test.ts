/**
 * Least privilege on the data routes, inside workerd against real Postgres: rows come back from a
 * mutation only with the read scope; the gateway's own tables stay hidden however the catalog
 * database is reached; a table reference resolves by the (schema, table) pair; the client policy
 * auth admitted the request on is the one the data route uses (read once).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { databaseUrl, fetchWith } from './harness.js';
import { createAuthSandbox } from './seed.js';
import { newCaller, tableName, tenantSql, type Caller, type GatewayResponse } from './gateway-support.js';

const ISOLATE = 'gateway-privilege';
const table = tableName('gw_priv');

beforeAll(async () => {
  await tenantSql(`CREATE TABLE ${table} (id int PRIMARY KEY, email text, secret text)`);
  await tenantSql(`INSERT INTO ${table} VALUES (1, 'a@x', 's1'), (2, 'b@x', 's2'), (3, 'c@x', 's3')`);
});

const keyFor = (operations: Array<'read' | 'insert' | 'update' | 'delete'>) => newCaller(ISOLATE, { scopes: { operations, tables: [table] } });
const rowsOf = (where: string) => tenantSql<{ id: number; email: string; secret: string }>(`SELECT id, email, secret FROM ${table} WHERE ${where} ORDER BY id`);

/** Succeeded, with the count and no rows (nothing read back). */
const countOnly = (res: GatewayResponse, status: number, count: number) => {
  expect(res.status, res.text).toBe(status);
  expect(res.body).toEqual({ data: [], count });
  expect(res.text).not.toMatch(/s[123]|@x/);
};

describe('mutations return rows only with the read scope', () => {
  it('update-only key: columns "*" with an update that changes nothing answers the count, no rows', async () => {
    const updater = await keyFor(['update']);
    const res = await updater.call('update', {
      table_name: table,
      update_body: { id: 1 },
      conditions: [{ column: 'id', operator: 'eq', value: 1 }],
      columns: '*',
    });
    countOnly(res, 200, 1);
    const all = await updater.call('update', {
      table_name: table,
      update_body: { email: 'a@x' },
      conditions: [{ column: 'id', operator: 'eq', value: 1 }],
      columns: ['secret'],
    });
    countOnly(all, 200, 1);
    expect(await rowsOf('id = 1')).toEqual([{ id: 1, email: 'a@x', secret: 's1' }]);
  });

  it('insert-only key: the row is inserted, the answer carries its count only (also without columns, the default "*")', async () => {
    const inserter = await keyFor(['insert']);
    countOnly(await inserter.call('insert', { table_name: table, insert_body: { id: 10, email: 'i@y', secret: 'x' }, columns: '*' }), 201, 1);
    countOnly(await inserter.call('insert', { table_name: table, insert_body: [{ id: 11, email: 'j@y' }] }), 201, 1);
    expect((await rowsOf('id IN (10, 11)')).map((r) => r.id)).toEqual([10, 11]);
  });

  it('upsert key (insert + update, no read): the conflicting row is overwritten, nothing of it is returned', async () => {
    const upserter = await keyFor(['insert', 'update']);
    const res = await upserter.call('insert', { table_name: table, insert_body: { id: 2, email: 'b2@x' }, on_conflict: 'id', columns: '*' });
    countOnly(res, 201, 1);
    expect(await rowsOf('id = 2')).toEqual([{ id: 2, email: 'b2@x', secret: 's2' }]);
  });

  it('delete-only key: the row is deleted, its columns are not returned', async () => {
    const deleter = await keyFor(['delete']);
    await tenantSql(`INSERT INTO ${table} VALUES (20, 'd@x', 's20')`);
    const res = await deleter.call('delete', { table_name: table, resource_id: '20', columns: '*' });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({ data: [], count: 1 });
    expect(await rowsOf('id = 20')).toEqual([]);
  });

  it('with read as well, the same mutations return the rows asked for', async () => {
    const full = await keyFor(['read', 'insert', 'update', 'delete']);
    const upd = await full.call('update', {
      table_name: table,
      update_body: { id: 3 },
      conditions: [{ column: 'id', operator: 'eq', value: 3 }],
      columns: 'id,secret',
    });
    expect(upd.body).toEqual({ data: [{ id: 3, secret: 's3' }], count: 1 });
    const ins = await full.call('insert', { table_name: table, insert_body: { id: 30, email: 'r@x', secret: 's30' } });
    expect(ins.body).toEqual({ data: [{ id: 30, email: 'r@x', secret: 's30' }], count: 1 });
    const del = await full.call('delete', { table_name: table, resource_id: '30', columns: ['secret'] });
    expect(del.body).toEqual({ data: [{ secret: 's30' }], count: 1 });
  });
});

/** The catalog database's URL with the host spelled the other way (127.0.0.1 ↔ localhost). */
function otherSpelling(url: string): string {
  const u = new URL(url);
  u.hostname = u.hostname === 'localhost' ? '127.0.0.1' : 'localhost';
  return u.toString();
}

describe("the gateway's own tables", () => {
  it('stay hidden when a client reaches the catalog database through another URL spelling', async () => {
    const alias = otherSpelling(databaseUrl);
    expect(new URL(alias).host).not.toBe(new URL(databaseUrl).host);
    const sneaky: Caller = await newCaller(ISOLATE, { databaseUrl: alias });
    for (const t of ['clients', 'api_keys', 'public.flush_batches', 'drizzle.__drizzle_migrations', 'athena_gateway.catalog_marker']) {
      const res = await sneaky.call('fetch', { table_name: t, columns: '*' });
      expect(res.status, `${t}: ${res.text}`).toBe(403);
      expect(res.body.error?.code).toBe('forbidden_table');
      expect(res.text).not.toMatch(/postgres(ql)?:\/\/|key_hash/);
    }
  });

  it('are served as ordinary tables in a tenant database without the marker', async () => {
    const own = tableName('clients_like');
    await tenantSql(`CREATE SCHEMA IF NOT EXISTS drizzle; CREATE TABLE drizzle.${own} (id int)`);
    const tenant = await newCaller(ISOLATE, { scopes: { operations: ['read'], tables: ['*'] } });
    const res = await tenant.call('fetch', { table_name: `drizzle.${own}` });
    expect(res.status, res.text).toBe(200);
  });
});

describe('table references resolve by the (schema, table) pair', () => {
  it('a key scoped "a.*" asking for "a.b.c" gets a."b.c", never "a.b".c', async () => {
    const a = tableName('sch');
    await tenantSql(`CREATE SCHEMA "${a}.b"; CREATE TABLE "${a}.b".c (hidden text); INSERT INTO "${a}.b".c VALUES ('other schema')`);
    const scoped = await newCaller(ISOLATE, { scopes: { operations: ['read'], tables: [`${a}.*`] } });
    const missing = await scoped.call('fetch', { table_name: `${a}.b.c` });
    expect(missing.status, missing.text).toBe(400);
    expect(missing.body.error?.code).toBe('unknown_table');
    await tenantSql(`CREATE SCHEMA "${a}"; CREATE TABLE "${a}"."b.c" (shown text); INSERT INTO "${a}"."b.c" VALUES ('own schema')`);
    // The catalog cache may hold the first load; an unknown name reloads it at most once a second.
    await new Promise((r) => setTimeout(r, 1100));
    const found = await scoped.call('fetch', { table_name: `${a}.b.c` });
    expect(found.status, found.text).toBe(200);
    expect(found.body.data).toEqual([{ shown: 'own schema' }]);
  });
});

describe('the client policy auth decided on', () => {
  it('is carried to the data route: one policy read per data request, even with no policy cache', async () => {
    const box = await createAuthSandbox();
    try {
      const client = await box.createClient();
      const { key } = await box.createKey(client, { operations: ['read'], tables: [table] });
      const vars = { TEST_ISOLATE: ISOLATE, AUTH_DATABASE_URL: box.url, AUTH_POLICY_CACHE_TTL_MS: '0' };
      const before = await box.statementCalls('%from clients%');
      const res = await fetchWith(vars, 'http://gateway/gateway/fetch', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-athena-client': client, 'x-athena-key': key },
        body: JSON.stringify({ table_name: table, columns: 'id' }),
      });
      expect(res.status, await res.clone().text()).toBe(200);
      expect(((await res.json()) as { count: number | null; data: unknown[] }).data.length).toBeGreaterThan(0);
      expect(await box.statementCalls('%from clients%')).toBe(before + 1);
    } finally {
      await box.drop();
    }
  });
});
