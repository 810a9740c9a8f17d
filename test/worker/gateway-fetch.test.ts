import { beforeAll, describe, expect, it } from 'vitest';
import { field, newCaller, tableName, tenantSql, type Caller } from './gateway-support.js';

const table = tableName('gw_fetch');
let api: Caller;

beforeAll(async () => {
  await tenantSql(`CREATE TABLE ${table} (id int PRIMARY KEY, name text NOT NULL, role text, level int, active boolean, tags text[], meta jsonb)`);
  await tenantSql(
    `INSERT INTO ${table} VALUES
      (1, 'Frodo', 'hobbit', 3, true, '{ring,shire}', '{"a":1}'),
      (2, 'Sam', 'hobbit', 2, true, '{shire}', NULL),
      (3, 'Gandalf', 'wizard', 20, NULL, '{magic}', '{"a":2,"b":true}'),
      (4, 'Aragorn', 'warrior', 10, false, '{}', NULL),
      (5, 'Legolas', 'elf', 8, true, '{bow}', '{"a":1,"tags":["x"]}'),
      (6, 'Gimli', NULL, 7, NULL, NULL, NULL)`,
  );
  api = await newCaller('gateway-fetch');
});

const ids = async (conditions: unknown[], extra: Record<string, unknown> = {}) => {
  const res = await api.call('fetch', { table_name: table, columns: 'id', conditions, ...extra });
  expect(res.status, res.text).toBe(200);
  return field<number>(res, 'id');
};

describe('operators', () => {
  it('eq neq gt gte lt lte', async () => {
    expect(await ids([{ column: 'role', operator: 'eq', value: 'hobbit' }])).toEqual([1, 2]);
    expect(await ids([{ column: 'role', operator: 'neq', value: 'hobbit' }])).toEqual([3, 4, 5]); // NULL role never matches <>
    expect(await ids([{ column: 'level', operator: 'gt', value: 8 }])).toEqual([3, 4]);
    expect(await ids([{ column: 'level', operator: 'gte', value: 8 }])).toEqual([3, 4, 5]);
    expect(await ids([{ column: 'level', operator: 'lt', value: 3 }])).toEqual([2]);
    expect(await ids([{ column: 'level', operator: 'lte', value: 3 }])).toEqual([1, 2]);
  });

  it('like ilike, legacy eq_column/eq_value and casts', async () => {
    expect(await ids([{ column: 'name', operator: 'like', value: 'G%' }])).toEqual([3, 6]);
    expect(await ids([{ column: 'name', operator: 'ilike', value: '%AG%' }])).toEqual([4]);
    expect(await ids([{ operator: 'eq', eq_column: 'name', eq_value: 'Sam' }])).toEqual([2]);
    expect(await ids([{ column: 'level', operator: 'like', value: '2%', column_cast: 'text' }])).toEqual([2, 3]);
  });

  it('is null/true/false and eq/neq null semantics', async () => {
    expect(await ids([{ column: 'active', operator: 'is', value: null }])).toEqual([3, 6]);
    expect(await ids([{ column: 'active', operator: 'is', value: true }])).toEqual([1, 2, 5]);
    expect(await ids([{ column: 'active', operator: 'is', value: false }])).toEqual([4]);
    expect(await ids([{ column: 'role', operator: 'eq', value: null }])).toEqual([6]);
    expect(await ids([{ column: 'role', operator: 'neq', value: null }])).toEqual([1, 2, 3, 4, 5]);
  });

  it('in (and in [] matches nothing)', async () => {
    expect(await ids([{ column: 'id', operator: 'in', value: [1, 3, 99] }])).toEqual([1, 3]);
    expect(await ids([{ column: 'role', operator: 'in', value: ['elf', 'wizard'] }])).toEqual([3, 5]);
    expect(await ids([{ column: 'id', operator: 'in', value: [] }])).toEqual([]);
  });

  it('contains / containedBy on arrays and jsonb', async () => {
    expect(await ids([{ column: 'tags', operator: 'contains', value: ['shire'] }])).toEqual([1, 2]);
    expect(await ids([{ column: 'tags', operator: 'containedBy', value: ['shire', 'ring', 'bow'] }])).toEqual([1, 2, 4, 5]);
    expect(await ids([{ column: 'meta', operator: 'contains', value: { a: 1 } }])).toEqual([1, 5]);
    expect(await ids([{ column: 'meta', operator: 'contains', value: { tags: ['x'] } }])).toEqual([5]);
    expect(await ids([{ column: 'meta', operator: 'containedBy', value: { a: 1, b: 2 } }])).toEqual([1]);
  });

  it('not and or with PostgREST strings, nested and()', async () => {
    expect(await ids([{ operator: 'not', value: 'role.eq.hobbit' }])).toEqual([3, 4, 5]);
    expect(await ids([{ operator: 'not', value: 'id.in.1,2,3' }])).toEqual([4, 5, 6]);
    expect(await ids([{ operator: 'not', value: 'role.is.null' }])).toEqual([1, 2, 3, 4, 5]);
    expect(await ids([{ operator: 'or', value: 'role.eq.warrior,role.eq.elf' }])).toEqual([4, 5]);
    expect(await ids([{ operator: 'or', value: 'and(level.gt.5,name.ilike.*o*),id.in.(1,2),tags.cs.{magic}' }])).toEqual([1, 2, 3, 4, 5]);
    expect(
      await ids([
        { operator: 'or', value: 'meta.cs.{"b":true},active.not.is.true' },
        { column: 'level', operator: 'lt', value: 20 },
      ]),
    ).toEqual([4, 6]); // NOT (NULL IS TRUE) holds
  });
});

describe('paging, sorting, counting', () => {
  it('limit/offset and current_page/page_size over sort_by', async () => {
    const page = (extra: Record<string, unknown>) =>
      api.call('fetch', { table_name: table, columns: ['id'], sort_by: { field: 'level', direction: 'descending' }, ...extra });
    const a = await page({ limit: 2, offset: 1 });
    expect(a.body.data).toEqual([{ id: 4 }, { id: 5 }]);
    const b = await page({ current_page: 2, page_size: 4 });
    expect(b.body.data).toEqual([{ id: 1 }, { id: 2 }]);
    const asc = await api.call('fetch', { table_name: table, columns: 'id', sort_by: { field: 'name' }, limit: 3 });
    expect(asc.body.data).toEqual([{ id: 4 }, { id: 1 }, { id: 3 }]);
  });

  it('count gives the total matching rows beside the page; head gives only the count', async () => {
    const counted = await api.call('fetch', {
      table_name: table,
      columns: 'id',
      conditions: [{ column: 'level', operator: 'gt', value: 2 }],
      count: 'exact',
      limit: 2,
    });
    expect(counted.body.data).toHaveLength(2);
    expect(counted.body.count).toBe(5);
    const head = await api.call('fetch', { table_name: table, head: true, conditions: [{ column: 'active', operator: 'eq', value: true }] });
    expect(head.body).toEqual({ data: [], count: 3 });
    const plain = await api.call('fetch', { table_name: table, columns: 'id' });
    expect(plain.body.count).toBeNull();
  });

  it('the server caps limit at GATEWAY_MAX_LIMIT', async () => {
    const res = await api.call('fetch', { table_name: table, columns: 'id', limit: 100 }, { vars: { GATEWAY_MAX_LIMIT: '2' } });
    expect(res.body.data).toHaveLength(2);
  });
});

describe('response shaping and routes', () => {
  it('strip_nulls defaults on; the body wins over X-Strip-Nulls', async () => {
    const cond = [{ column: 'id', operator: 'eq', value: 6 }];
    const stripped = await api.call('fetch', { table_name: table, conditions: cond });
    expect(stripped.body.data).toEqual([{ id: 6, name: 'Gimli', level: 7 }]);
    const kept = await api.call('fetch', { table_name: table, conditions: cond, strip_nulls: false });
    expect(kept.body.data).toEqual([{ id: 6, name: 'Gimli', role: null, level: 7, active: null, tags: null, meta: null }]);
    const header = await api.call('fetch', { table_name: table, conditions: cond }, { headers: { 'x-strip-nulls': 'false' } });
    expect(header.body.data[0]).toHaveProperty('role', null);
    const bodyWins = await api.call('fetch', { table_name: table, conditions: cond, strip_nulls: true }, { headers: { 'x-strip-nulls': 'false' } });
    expect(bodyWins.body.data[0]).not.toHaveProperty('role');
  });

  it('columns as string or array, jsonb and arrays come back as JSON', async () => {
    const res = await api.call('fetch', {
      table_name: `public.${table}`,
      columns: 'id, tags,\n meta',
      conditions: [{ column: 'id', operator: 'eq', value: 5 }],
    });
    expect(res.body.data).toEqual([{ id: 5, tags: ['bow'], meta: { a: 1, tags: ['x'] } }]);
  });

  it('answers under /db and on GET with query parameters', async () => {
    const db = await api.call('/db/gateway/fetch', { table_name: table, columns: 'id', conditions: [{ column: 'id', operator: 'eq', value: 1 }] });
    expect(db.body.data).toEqual([{ id: 1 }]);
    const q = new URLSearchParams({
      table_name: table,
      columns: 'id',
      sort_by: 'id.desc',
      limit: '2',
      conditions: JSON.stringify([{ column: 'level', operator: 'lt', value: 10 }]),
    });
    const get = await api.call(`/gateway/fetch?${q}`, undefined, { method: 'GET' });
    expect(get.status, get.text).toBe(200);
    expect(get.body.data).toEqual([{ id: 6 }, { id: 5 }]);
  });
});

describe('tenant catalog cache', () => {
  it('finds a table created after the catalog was cached: a miss reloads a copy at least CATALOG_RECHECK_MS old, once', async () => {
    // The tests run with CATALOG_RECHECK_MS=0; here, the default's behaviour.
    const vars = { CATALOG_CACHE_TTL_MS: '600000', CATALOG_RECHECK_MS: '1000' };
    expect((await api.call('fetch', { table_name: table, columns: 'id', limit: 1 }, { vars })).status).toBe(200); // caches the catalog
    const later = tableName('gw_fetch_later');
    await tenantSql(`CREATE TABLE ${later} (id int PRIMARY KEY)`);
    await tenantSql(`INSERT INTO ${later} VALUES (7)`);
    await new Promise((r) => setTimeout(r, 1100)); // past CATALOG_RECHECK_MS, far inside the TTL
    const res = await api.call('fetch', { table_name: later }, { vars });
    expect(res.status, res.text).toBe(200);
    expect(res.body.data).toEqual([{ id: 7 }]);
  });

  it('a miss on a copy younger than CATALOG_RECHECK_MS is answered from it (400), without a reload', async () => {
    const vars = { CATALOG_CACHE_TTL_MS: '600000', CATALOG_RECHECK_MS: '600000' };
    expect((await api.call('fetch', { table_name: table, columns: 'id', limit: 1 }, { vars })).status).toBe(200);
    const later = tableName('gw_fetch_young');
    await tenantSql(`CREATE TABLE ${later} (id int PRIMARY KEY)`);
    const res = await api.call('fetch', { table_name: later }, { vars });
    expect(res.status, res.text).toBe(400);
    expect(res.body.error?.code).toBe('unknown_table');
  });
});
