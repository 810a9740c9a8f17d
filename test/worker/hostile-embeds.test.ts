/**
 * Hostile embeds, inside workerd against the tenant database: an embed reaches only tables the key
 * may read, compared as (schema, table) pairs (a schema named "app.b" is not schema "app"), and
 * is scope-checked before it is resolved, so a real and an absent table or column outside the
 * scope get one and the same 403. Secret values never appear in the body, the headers or the
 * catalog's log rows of those requests.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { newCaller, tableName, tenantSql, type Caller, type GatewayResponse } from './gateway-support.js';
import { sql } from './seed.js';
import { expectNoTrace } from './traces.js';

const ISOLATE = 'hostile-embeds';
const app = tableName('app'); // the schema "app" of the finding, unique to this run
const base = tableName('base');
const todos = tableName('todos');
const users = tableName('users');
const secret = `embed-secret-${crypto.randomUUID()}`;
const password = `pw-${crypto.randomUUID()}`;

beforeAll(async () => {
  await tenantSql(`CREATE SCHEMA "${app}"; CREATE SCHEMA "${app}.b"`);
  await tenantSql(`CREATE TABLE "${app}.b".c (id int PRIMARY KEY, secret text); INSERT INTO "${app}.b".c VALUES (1, '${secret}')`);
  await tenantSql(`CREATE TABLE "${app}".${base} (id int PRIMARY KEY, c_id int REFERENCES "${app}.b".c (id)); INSERT INTO "${app}".${base} VALUES (1, 1)`);
  await tenantSql(`CREATE TABLE ${users} (id int PRIMARY KEY, name text, password text); INSERT INTO ${users} VALUES (1, 'ann', '${password}')`);
  await tenantSql(
    `CREATE TABLE ${todos} (id int PRIMARY KEY, title text, user_id int REFERENCES ${users} (id)); INSERT INTO ${todos} VALUES (1, 'buy milk', 1)`,
  );
});

/** Neither secret value anywhere in what the client got. */
function leaksNothing(res: GatewayResponse): void {
  const headers = [...res.headers].map(([k, v]) => `${k}: ${v}`).join('\n');
  for (const value of [secret, password]) {
    expect(res.text).not.toContain(value);
    expect(headers).not.toContain(value);
  }
}

/** 403 scope_denied naming exactly the path that was sent, nothing else. */
function refused(res: GatewayResponse, path: string): void {
  expect(res.status, res.text).toBe(403);
  expect(res.body.error).toEqual({
    code: 'scope_denied',
    message: `This API key may not read ${path}`,
    hint: 'Create a key whose scopes include this operation and table (npm run gateway -- keys create --help).',
  });
  leaksNothing(res);
}

describe('embeds compare (schema, table) pairs', () => {
  let appKey: Caller;
  beforeAll(async () => {
    appKey = await newCaller(ISOLATE, { scopes: { operations: ['read'], tables: [`${app}.*`] } });
  });

  it(`a key scoped to "app.*" does not read "app.b".c through a foreign-key column`, async () => {
    const res = await appKey.call('fetch', { table_name: `${app}.${base}`, columns: 'id,c_id(id,secret)' });
    refused(res, 'c_id');
    expect(res.text).not.toContain(`${app}.b`);
    // The base table itself is in scope.
    const own = await appKey.call('fetch', { table_name: `${app}.${base}`, columns: 'id,c_id' });
    expect(own.status, own.text).toBe(200);
    expect(own.body.data).toEqual([{ id: 1, c_id: 1 }]);
  });

  it('the same embed with a key of every table reads the row (the refusal above is scope, not a missing relation)', async () => {
    const all = await newCaller(ISOLATE, { scopes: { operations: ['read'], tables: ['*'] } });
    const res = await all.call('fetch', { table_name: `${app}.${base}`, columns: 'id,c_id(id,secret)' });
    expect(res.status, res.text).toBe(200);
    expect(res.body.data).toEqual([{ id: 1, c_id: { id: 1, secret } }]);
  });

  it('"app.b.c" written as a table is app."b.c" (absent here), never "app.b".c', async () => {
    const res = await appKey.call('fetch', { table_name: `${app}.b.c` });
    expect(res.status, res.text).toBe(400);
    expect(res.body.error?.code).toBe('unknown_table');
    leaksNothing(res);
  });
});

describe('embeds are scope-checked before they are resolved', () => {
  let todosKey: Caller;
  beforeAll(async () => {
    todosKey = await newCaller(ISOLATE, { scopes: { operations: ['read'], tables: [todos] } });
  });

  it('a real table, an absent column of it and an absent table outside the scope: one 403, naming only what was sent', async () => {
    const real = await todosKey.call('fetch', { table_name: todos, columns: `id,${users}(password)` });
    const absentColumn = await todosKey.call('fetch', { table_name: todos, columns: `id,${users}(nosuchcol)` });
    const absentTable = await todosKey.call('fetch', { table_name: todos, columns: 'id,nosuchtable(x)' });
    refused(real, users);
    refused(absentColumn, users);
    refused(absentTable, 'nosuchtable');
    expect(absentColumn.text).toBe(real.text);
    expect(absentTable.text).toBe(real.text.replace(users, 'nosuchtable'));
    for (const res of [real, absentColumn, absentTable]) expect(res.text).not.toMatch(/nosuchcol|password|public\.|foreign key/);
  });

  it('the same through a foreign-key column of the base, a schema-qualified path, `select` and the object form', async () => {
    refused(await todosKey.call('fetch', { table_name: todos, columns: 'id,user_id(password)' }), 'user_id');
    refused(await todosKey.call('fetch', { table_name: todos, columns: 'id,user_id(nosuchcol)' }), 'user_id');
    refused(await todosKey.call('fetch', { table_name: todos, columns: `id,public.${users}(password)` }), `public.${users}`);
    refused(await todosKey.call('fetch', { table_name: todos, columns: `id,owner:${users}!user_id(password)` }), users);
    refused(await todosKey.call('fetch', { table_name: todos, select: `id,${users}(nosuchcol)` }), users);
    refused(await todosKey.call('fetch', { table_name: todos, select: { id: true, [users]: { select: { password: true } } } }), users);
    refused(await todosKey.call('fetch', { table_name: todos, select: { id: true, nosuchtable: { select: { x: true } } } }), 'nosuchtable');
  });

  it('a key that reads both tables gets the real answers: rows, unknown column, unknown table', async () => {
    const both = await newCaller(ISOLATE, { scopes: { operations: ['read'], tables: [todos, users] } });
    const rows = await both.call('fetch', { table_name: todos, columns: `id,${users}(name)` });
    expect(rows.status, rows.text).toBe(200);
    expect(rows.body.data).toEqual([{ id: 1, [users]: { name: 'ann' } }]);
    const column = await both.call('fetch', { table_name: todos, columns: `id,${users}(nosuchcol)` });
    expect(column.status, column.text).toBe(400);
    expect(column.body.error?.code).toBe('unknown_column');
    const table = await both.call('fetch', { table_name: todos, columns: 'id,nosuchtable(x)' });
    expect(table.status, table.text).toBe(403); // not in its scope either
    leaksNothing(column);
  });
});

describe('what the catalog logs of a refused embed', () => {
  it('the request-log row says 403 scope_denied and holds neither secret nor the columns asked for', async () => {
    const todosKey = await newCaller(ISOLATE, { scopes: { operations: ['read'], tables: [todos] } });
    const real = `embeds-${crypto.randomUUID()}`;
    const absent = `embeds-${crypto.randomUUID()}`;
    const ids = [real, absent];
    refused(await todosKey.call('fetch', { table_name: todos, columns: `id,${users}(password)` }, { headers: { 'x-request-id': real } }), users);
    refused(await todosKey.call('fetch', { table_name: todos, columns: `id,${users}(nosuchcol)` }, { headers: { 'x-request-id': absent } }), users);
    let rows: { request_id: string; status: number; error_code: string; row: string }[] = [];
    const deadline = Date.now() + 10_000;
    while (rows.length < ids.length && Date.now() < deadline) {
      rows = await sql(
        'SELECT request_id, status, error_code, row_to_json(l)::text AS row FROM gateway_request_log l WHERE request_id = ANY($1) AND status = 403',
        [ids],
      );
      if (rows.length < ids.length) await new Promise((r) => setTimeout(r, 100));
    }
    expect(rows.map((r) => [r.status, r.error_code]).sort()).toEqual([
      [403, 'scope_denied'],
      [403, 'scope_denied'],
    ]);
    const attempts = await sql<{ row: string }>('SELECT row_to_json(a)::text AS row FROM auth_attempt_log a WHERE request_id = ANY($1)', [ids]);
    for (const { row } of [...rows, ...attempts]) {
      for (const value of [secret, password, 'nosuchcol']) expect(row).not.toContain(value);
    }
  });
});

describe('what the worker logs of a refused embed', () => {
  it('a real and an absent column outside the scope: 403, and no secret in the body, headers, worker log or log tables', async () => {
    const todosKey = await newCaller(ISOLATE, { scopes: { operations: ['read'], tables: [todos] } });
    for (const columns of [`id,${users}(password)`, `id,${users}(nosuchcol)`, `id,user_id(id,password)`]) {
      const res = await expectNoTrace(
        () => todosKey.call('fetch', { table_name: todos, columns }, { vars: { REQUEST_LOG: 'all' } }),
        [secret, password, 'nosuchcol'],
      );
      expect([res.status, res.body.error?.code], columns).toEqual([403, 'scope_denied']);
    }
  });
});
