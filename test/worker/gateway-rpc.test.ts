/**
 * `POST /gateway/rpc` and `GET /rpc/<fn>` against real functions of the tenant database: the
 * SDK's bodies and query strings, arguments bound by name against the catalog signature, results
 * shaped as the SDK parses them, the rpc scope and per-key function lists, and functions that are
 * never callable.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { OPERATIONS } from '../../drizzle/schema.js';
import { newCaller, tableName, tenantSql, type Caller } from './gateway-support.js';

const s = tableName('rpc');
let api: Caller;

beforeAll(async () => {
  await tenantSql(`CREATE SCHEMA ${s}`);
  await tenantSql(`CREATE TABLE ${s}.w (n int PRIMARY KEY, label text)`);
  await tenantSql(`INSERT INTO ${s}.w VALUES (1, 'one'), (2, 'two'), (3, NULL), (4, 'four')`);
  await tenantSql(`CREATE FUNCTION ${s}.add(a int, b int DEFAULT 10) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT a + b'`);
  await tenantSql(`CREATE FUNCTION ${s}.over(min_n int) RETURNS SETOF ${s}.w LANGUAGE sql STABLE AS 'SELECT * FROM ${s}.w WHERE n >= min_n'`);
  await tenantSql(
    `CREATE FUNCTION ${s}.bump(lbl text) RETURNS TABLE (n int, label text) LANGUAGE sql AS 'INSERT INTO ${s}.w SELECT max(n) + 1, lbl FROM ${s}.w RETURNING n, label'`,
  );
  await tenantSql(`CREATE FUNCTION ${s}.fail(msg text) RETURNS int LANGUAGE plpgsql AS 'BEGIN RAISE EXCEPTION ''%'', msg; END'`);
  await tenantSql(
    `CREATE FUNCTION ${s}.total(xs int[], meta jsonb DEFAULT '{}') RETURNS jsonb LANGUAGE sql AS 'SELECT jsonb_build_object(''sum'', (SELECT sum(x) FROM unnest(xs) x), ''meta'', meta)'`,
  );
  await tenantSql(`CREATE FUNCTION ${s}.pairs(k int) RETURNS TABLE (n int, label text) LANGUAGE sql STABLE AS 'SELECT n + k, label FROM ${s}.w'`);
  await tenantSql(`CREATE EXTENSION IF NOT EXISTS pg_stat_statements`);
  api = await newCaller('gateway-rpc', { scopes: { operations: [...OPERATIONS], tables: ['*'], functions: ['*'] } });
});

describe('POST /gateway/rpc', () => {
  it('scalar function: named args, defaults, result as [{fn: value}]', async () => {
    const res = await api.call('rpc', { function: 'add', schema: s, args: { a: 2, b: 3 } });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({ data: [{ add: 5 }], count: null });
    expect((await api.call('rpc', { function_name: `${s}.add`, args: { a: 2 } })).body.data).toEqual([{ add: 12 }]);
  });

  it('set-returning function: select, filters, order, limit/offset, count and head', async () => {
    const res = await api.call('rpc', {
      function: 'over',
      schema: s,
      args: { min_n: 2 },
      select: 'n,label',
      filters: [{ column: 'n', operator: 'in', value: [2, 3, 4] }],
      order: { column: 'n', ascending: false },
      limit: 2,
      offset: 1,
      count: 'exact',
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({ data: [{ n: 3 }, { n: 2, label: 'two' }], count: 3 });
    const head = await api.call('rpc', {
      function: 'over',
      schema: s,
      args: { min_n: 1 },
      filters: [{ column: 'label', operator: 'is', value: null }],
      count: 'exact',
      head: true,
    });
    expect(head.body).toEqual({ data: [], count: 1 });
  });

  it('array and jsonb arguments are bound as their declared types', async () => {
    const res = await api.call('rpc', { function: 'total', schema: s, args: { xs: [1, 2, 3], meta: { k: ['v'] } } });
    expect(res.status, res.text).toBe(200);
    expect(res.body.data).toEqual([{ total: { sum: 6, meta: { k: ['v'] } } }]);
  });

  it('a writing function writes on POST; RAISE is a 400 with its message', async () => {
    const res = await api.call('rpc', { function: 'bump', schema: s, args: { lbl: 'five' } });
    expect(res.status, res.text).toBe(200);
    expect(res.body.data).toEqual([{ n: 5, label: 'five' }]);
    expect(await tenantSql(`SELECT n, label FROM ${s}.w WHERE n = 5`)).toEqual([{ n: 5, label: 'five' }]);
    const failed = await api.call('rpc', { function: 'fail', schema: s, args: { msg: 'no widgets today' } });
    expect(failed.status).toBe(400);
    expect(failed.body.error?.message).toBe('no widgets today');
  });

  it('wrong arguments, unknown fields and unknown functions → 400, nothing called', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ function: 'add', schema: s, args: { a: 1, c: 2 } }, 'invalid_request'],
      [{ function: 'add', schema: s, args: { b: 1 } }, 'invalid_request'],
      [{ function: 'add', schema: s, args: { a: { x: 1 } } }, 'invalid_request'],
      [{ function: 'add', schema: s, params: { a: 1 } }, 'invalid_request'],
      [{ function: 'add', function_name: 'add', schema: s }, 'invalid_request'],
      [{ function: 'nope', schema: s }, 'unknown_function'],
      [{ function: 'pg_sleep', args: { seconds: 5 } }, 'unknown_function'],
      [{ function: 'pg_stat_statements_reset' }, 'unknown_function'],
      [{ function: 'bump', schema: s, args: { lbl: 'x' }, count: 'exact' }, 'invalid_request'],
    ];
    for (const [body, code] of cases) {
      const res = await api.call('rpc', body);
      expect(res.status, `${JSON.stringify(body)}: ${res.text}`).toBe(400);
      expect(res.body.error?.code).toBe(code);
    }
    expect(await tenantSql(`SELECT count(*)::int AS n FROM ${s}.w`)).toEqual([{ n: 5 }]);
  });

  it('functions in system and gateway schemas are never callable, whatever the key lists', async () => {
    for (const schema of ['pg_catalog', 'information_schema', 'drizzle']) {
      const res = await api.call('rpc', { function: 'pg_sleep', schema, args: { seconds: 5 } });
      expect(res.status, res.text).toBe(403);
      expect(res.body.error?.code).toBe('forbidden_function');
    }
    expect((await api.call('rpc', { function: 'pg_catalog.pg_sleep', args: { seconds: 5 } })).status).toBe(403);
  });
});

describe('GET /rpc/<fn>', () => {
  it('args from the query string, the rest as filters; /db mirror', async () => {
    const res = await api.call(`/rpc/add?schema=${s}&a=4&b=5`, undefined, { method: 'GET' });
    expect(res.status, res.text).toBe(200);
    expect(res.body.data).toEqual([{ add: 9 }]);
    const rows = await api.call(`/db/rpc/over?schema=${s}&min_n=1&select=n&order=n.desc&limit=2&n=in.{1,2,4}`, undefined, { method: 'GET' });
    expect(rows.status, rows.text).toBe(200);
    expect(rows.body.data).toEqual([{ n: 4 }, { n: 2 }]);
    // `n` names a result column of a RETURNS TABLE function: a filter, not an argument.
    const table = await api.call(`/rpc/pairs?schema=${s}&k=10&n=lte.12&order=n`, undefined, { method: 'GET' });
    expect(table.status, table.text).toBe(200);
    expect(table.body.data.map((r) => r.n)).toEqual([11, 12]);
    const arr = await api.call(`/rpc/total?schema=${s}&xs={1,2}`, undefined, { method: 'GET' });
    expect(arr.body.data).toEqual([{ total: { sum: 3, meta: {} } }]);
  });

  it('runs read-only: a writing function is refused and writes nothing', async () => {
    const res = await api.call(`/rpc/bump?schema=${s}&lbl=get`, undefined, { method: 'GET' });
    expect(res.status, res.text).toBe(400);
    expect(await tenantSql(`SELECT count(*)::int AS n FROM ${s}.w WHERE label = 'get'`)).toEqual([{ n: 0 }]);
  });
});

describe('rpc scope', () => {
  it('needs the rpc operation and the function in the key list', async () => {
    const noRpc = await newCaller('gateway-rpc', { scopes: { operations: ['read'], tables: ['*'], functions: ['*'] } });
    const noList = await newCaller('gateway-rpc', { scopes: { operations: ['rpc'], tables: ['*'] } });
    const onlyAdd = await newCaller('gateway-rpc', { scopes: { operations: ['rpc'], tables: [], functions: [`${s}.add`] } });
    const schemaWide = await newCaller('gateway-rpc', { scopes: { operations: ['rpc'], tables: [], functions: [`${s}.*`] } });
    for (const caller of [noRpc, noList]) {
      const res = await caller.call('rpc', { function: 'add', schema: s, args: { a: 1 } });
      expect(res.status).toBe(403);
      expect(res.body.error?.code).toBe('scope_denied');
    }
    expect((await onlyAdd.call('rpc', { function: 'add', schema: s, args: { a: 1 } })).body.data).toEqual([{ add: 11 }]);
    expect((await onlyAdd.call('rpc', { function: 'bump', schema: s, args: { lbl: 'denied' } })).status).toBe(403);
    expect((await onlyAdd.call(`/rpc/over?schema=${s}&min_n=1`, undefined, { method: 'GET' })).status).toBe(403);
    expect((await schemaWide.call(`/rpc/over?schema=${s}&min_n=4`, undefined, { method: 'GET' })).body.data).toEqual([
      { n: 4, label: 'four' },
      { n: 5, label: 'five' },
    ]);
    expect(await tenantSql(`SELECT count(*)::int AS n FROM ${s}.w WHERE label = 'denied'`)).toEqual([{ n: 0 }]);
  });
});
