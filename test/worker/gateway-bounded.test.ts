/**
 * Bounded update/delete and strict bodies, with the exact bodies SDK 5.x sends
 * (`gte('n',200).order('n').limit(1).update(…)`, `.order('n',{ascending:false}).range(0,0).delete()`):
 * exactly the rows the bounds pick change, `count` is the rows written, and anything the gateway
 * would otherwise ignore is a 400 that changes nothing.
 */
import { beforeEach, beforeAll, describe, expect, it } from 'vitest';
import { newCaller, tableName, tenantSql, type Caller } from './gateway-support.js';

const table = tableName('gw_bounded');
const keyless = tableName('gw_keyless');
let api: Caller;

beforeAll(async () => {
  await tenantSql(`CREATE TABLE ${table} (id int PRIMARY KEY, n int NOT NULL, tag text)`);
  await tenantSql(`CREATE TABLE ${keyless} (n int, tag text)`);
  api = await newCaller('gateway-bounded');
});

beforeEach(async () => {
  await tenantSql(`TRUNCATE ${table}, ${keyless}`);
  await tenantSql(`INSERT INTO ${table} SELECT i, i * 50, 'new' FROM generate_series(1, 6) i`); // n = 50 … 300
  await tenantSql(`INSERT INTO ${keyless} SELECT i * 50, 'new' FROM generate_series(1, 6) i`);
});

const tags = async () => (await tenantSql<{ id: number; tag: string }>(`SELECT id, tag FROM ${table} ORDER BY id`)).map((r) => `${r.id}:${r.tag}`);
const ids = async () => (await tenantSql<{ id: number }>(`SELECT id FROM ${table} ORDER BY id`)).map((r) => r.id);
const gte200 = [{ column: 'n', operator: 'gte', value: 200 }];

describe('bounded update', () => {
  it('gte(n,200).order(n).limit(1).update(): exactly the first matching row, count 1', async () => {
    const res = await api.call('update', {
      table_name: table,
      update_body: { tag: 'hit' },
      conditions: gte200,
      strip_nulls: true,
      sort_by: { field: 'n', direction: 'ascending' },
      limit: 1,
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({ data: [], count: 1 });
    expect(await tags()).toEqual(['1:new', '2:new', '3:new', '4:hit', '5:new', '6:new']);
  });

  it('range(1,2) (offset 1, limit 2) descending, RETURNING the rows written', async () => {
    const res = await api.call('update', {
      table_name: table,
      update_body: { tag: 'mid' },
      conditions: gte200,
      sort_by: { field: 'n', direction: 'descending' },
      limit: 2,
      offset: 1,
      columns: 'id,tag',
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body.count).toBe(2);
    expect(res.body.data.map((r) => r.id).sort()).toEqual([4, 5]);
    expect(await tags()).toEqual(['1:new', '2:new', '3:new', '4:mid', '5:mid', '6:new']);
  });

  it('page_size/current_page pick a page; total_pages is informational', async () => {
    const res = await api.call('update', {
      table_name: table,
      update_body: { tag: 'p2' },
      conditions: [{ column: 'n', operator: 'gt', value: 0 }],
      sort_by: { field: 'id', direction: 'ascending' },
      page_size: 2,
      current_page: 2,
      total_pages: 3,
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body.count).toBe(2);
    expect(await tags()).toEqual(['1:new', '2:new', '3:p2', '4:p2', '5:new', '6:new']);
  });
});

describe('bounded delete', () => {
  it('order(n, desc).range(0,0).delete(): only the highest matching row goes', async () => {
    const res = await api.call('delete', { table_name: table, conditions: gte200, sort_by: { field: 'n', direction: 'descending' }, limit: 1, offset: 0 });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({ data: [], count: 1 });
    expect(await ids()).toEqual([1, 2, 3, 4, 5]);
  });

  it('limit without sort_by still bounds the delete (any N of the matches)', async () => {
    const res = await api.call('delete', { table_name: table, conditions: gte200, limit: 2 });
    expect(res.body.count).toBe(2);
    expect(await ids()).toHaveLength(4);
  });
});

describe('refused, and nothing changes', () => {
  const refusals: [string, Record<string, unknown>, RegExp][] = [
    ['sort_by without bounds', { sort_by: { field: 'n', direction: 'ascending' } }, /sort_by on (an update|a delete) needs limit/],
    ['current_page without a size', { current_page: 2 }, /current_page: needs page_size/],
    ['an unknown field', { limt: 1 }, /unknown field "limt"/],
    ['an unknown sort_by field', { sort_by: { field: 'n', dir: 'desc' }, limit: 1 }, /sort_by: unknown field "dir"/],
    ['an unknown condition field', { conditions: [{ column: 'n', operator: 'gte', value: 200, negate: true }] }, /conditions.0: unknown field "negate"/],
  ];
  for (const [what, extra, message] of refusals) {
    it(`update and delete with ${what}`, async () => {
      const before = await tags();
      const up = await api.call('update', { table_name: table, update_body: { tag: 'x' }, conditions: gte200, ...extra });
      const del = await api.call('delete', { table_name: table, conditions: gte200, ...extra });
      for (const res of [up, del]) {
        expect(res.status, res.text).toBe(400);
        expect(res.body.error?.message).toMatch(message);
      }
      expect(await tags()).toEqual(before);
    });
  }

  it('a table without a primary key cannot take bounded writes; unfiltered stays refused with a limit', async () => {
    const up = await api.call('update', { table_name: keyless, update_body: { tag: 'x' }, conditions: gte200, limit: 1 });
    expect(up.status).toBe(400);
    expect(up.body.error?.message).toMatch(/needs a primary key/);
    const unfiltered = await api.call('delete', { table_name: table, limit: 1 });
    expect(unfiltered.body.error?.code).toBe('unfiltered_delete');
    expect(await tenantSql(`SELECT * FROM ${keyless} WHERE tag = 'x'`)).toEqual([]);
    expect(await ids()).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('unknown fields on fetch and insert name the field; nothing is inserted', async () => {
    const f = await api.call('fetch', { table_name: table, colums: 'id' });
    expect(f.status).toBe(400);
    expect(f.body.error).toMatchObject({ code: 'invalid_request', message: 'unknown field "colums"' });
    const i = await api.call('insert', { table_name: table, insert_body: { id: 99, n: 1 }, returning: 'id' });
    expect(i.status).toBe(400);
    expect(i.body.error?.message).toBe('unknown field "returning"');
    const both = await api.call('fetch', { table_name: table, view_name: keyless });
    expect(both.body.error?.message).toMatch(/^view_name: names another relation/);
    const q = await api.call(`/gateway/fetch?table_name=${table}&colums=id`, undefined, { method: 'GET' });
    expect(q.status).toBe(400);
    expect(q.body.error?.message).toBe('unknown field "colums"');
    expect(await ids()).not.toContain(99);
  });

  it('eq_column_cast/eq_value_cast (sent by the SDK beside column_cast) are honoured, not dropped', async () => {
    const res = await api.call('fetch', {
      table_name: table,
      columns: 'id',
      conditions: [{ column: 'n', operator: 'eq', value: '100', eq_column_cast: 'text', column_cast: 'text' }],
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body.data).toEqual([{ id: 2 }]);
    const disagree = await api.call('fetch', {
      table_name: table,
      conditions: [{ column: 'n', operator: 'eq', value: '100', eq_column_cast: 'text', column_cast: 'integer' }],
    });
    expect(disagree.status).toBe(400);
  });
});
