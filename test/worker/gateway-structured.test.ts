/**
 * Structured fetch as SDK 5.x sends it — `select` strings and objects, `where`, `orderBy`,
 * aliases, casts and one-level embeds along real foreign keys — against the real tenant Postgres.
 * Bodies are the exact shapes the SDK's builders produce (include(), schema-qualified embeds,
 * findMany with findManyAst).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { newCaller, tableName, tenantSql, type Caller } from './gateway-support.js';

const schema = tableName('app');
const owners = `${schema}.owners`;
const widgets = `${schema}.widgets`;
let api: Caller;

beforeAll(async () => {
  await tenantSql(`CREATE SCHEMA ${schema}`);
  await tenantSql(`CREATE TABLE ${owners} (id int PRIMARY KEY, label text NOT NULL, note text)`);
  await tenantSql(`CREATE TABLE ${widgets} (id int PRIMARY KEY, n int NOT NULL, owner_id int REFERENCES ${owners}(id), q text, meta jsonb)`);
  // Two keys between the same tables: embedding along them needs a hint.
  await tenantSql(`CREATE TABLE ${schema}.transfers (id int PRIMARY KEY, from_owner int REFERENCES ${owners}(id), to_owner int REFERENCES ${owners}(id))`);
  await tenantSql(`CREATE TABLE ${schema}.loose (id int PRIMARY KEY)`);
  await tenantSql(`INSERT INTO ${owners} VALUES (1, 'ann', NULL), (2, 'bob', 'x'), (3, 'cy', NULL)`);
  await tenantSql(`INSERT INTO ${widgets} VALUES (10, 1, 1, 'a', '{"k":1}'), (11, 2, 1, 'b', NULL), (12, 3, 2, NULL, NULL), (13, 4, NULL, 'd', NULL)`);
  await tenantSql(`INSERT INTO ${schema}.transfers VALUES (1, 1, 2)`);
  api = await newCaller('gateway-structured');
});

const fetch = async (body: Record<string, unknown>) => {
  const res = await api.call('fetch', body);
  expect(res.status, res.text).toBe(200);
  return res.body.data;
};

describe('select, where and orderBy instead of columns, conditions and sort_by', () => {
  it('findMany with findManyAst: select object, where, orderBy {column, ascending}, limit', async () => {
    const rows = await fetch({
      table_name: widgets,
      select: { id: true, n: true },
      where: { n: { gte: 2 } },
      orderBy: { column: 'n', ascending: false },
      limit: 2,
    });
    expect(rows).toEqual([
      { id: 13, n: 4 },
      { id: 12, n: 3 },
    ]);
  });

  it('where: bare values are eq, operator objects are AND-ed, or/not nest, eq null is IS NULL', async () => {
    const ids = async (where: Record<string, unknown>) => (await fetch({ table_name: widgets, select: 'id', where, orderBy: { id: 'asc' } })).map((r) => r.id);
    expect(await ids({ n: 2 })).toEqual([11]);
    expect(await ids({ n: { gt: 1, lt: 4 } })).toEqual([11, 12]);
    expect(await ids({ q: { eq: null } })).toEqual([12]);
    expect(await ids({ q: { neq: null }, owner_id: { is: null } })).toEqual([13]);
    expect(await ids({ or: [{ n: 1 }, { q: { like: 'd%' } }] })).toEqual([10, 13]);
    expect(await ids({ not: { owner_id: { in: [1, 2] } } })).toEqual([]); // NULL owner: NOT (NULL IN …) is not true
    expect(await ids({ not: { n: { in: [1, 2] } }, or: [{ q: 'd' }, { q: { is: null } }] })).toEqual([12, 13]);
    expect(await ids({ meta: { contains: { k: 1 } } })).toEqual([10]);
    expect(await ids({ id: { in: 11 } })).toEqual([11]); // a single `in` operand is a one-element list
  });

  it('orderBy as the SDK sends it: {col: "desc"} and sort-entry form; limit/offset page over it', async () => {
    expect((await fetch({ table_name: widgets, select: 'id', orderBy: { n: 'desc' }, limit: 2, offset: 1 })).map((r) => r.id)).toEqual([12, 11]);
    expect((await fetch({ table_name: widgets, select: 'id', orderBy: { field: 'n', direction: 'descending' }, limit: 1 })).map((r) => r.id)).toEqual([13]);
  });

  it('aliases and casts in select and columns: keys are the aliases', async () => {
    expect(await fetch({ table_name: widgets, columns: 'num:n', conditions: [{ column: 'id', operator: 'eq', value: 10 }] })).toEqual([{ num: 1 }]);
    expect(await fetch({ table_name: widgets, select: 'id, n::text, label:q, n as m', where: { id: 11 } })).toEqual([{ id: 11, n: '2', label: 'b', m: 2 }]);
    expect(await fetch({ table_name: widgets, columns: ['txt:n::text'], conditions: [{ column: 'id', operator: 'eq', value: 12 }] })).toEqual([{ txt: '3' }]);
  });
});

describe('embedding one level along a foreign key', () => {
  it('schema-qualified embed (base holds the key): to-one object, null when unset', async () => {
    const rows = await fetch({ table_name: widgets, select: `n, owner:${owners}(label)`, where: { n: { lt: 5 } }, orderBy: { n: 'asc' }, strip_nulls: false });
    expect(rows).toEqual([
      { n: 1, owner: { label: 'ann' } },
      { n: 2, owner: { label: 'ann' } },
      { n: 3, owner: { label: 'bob' } },
      { n: 4, owner: null },
    ]);
  });

  it('reverse direction (embedded table holds the key): to-many array, [] when none', async () => {
    const rows = await fetch({ table_name: owners, select: `label, widgets:${widgets}(id, n)`, orderBy: { id: 'asc' } });
    expect(rows).toEqual([
      {
        label: 'ann',
        widgets: expect.arrayContaining([
          { id: 10, n: 1 },
          { id: 11, n: 2 },
        ]),
      },
      { label: 'bob', widgets: [{ id: 12, n: 3 }] },
      { label: 'cy', widgets: [] },
    ]);
    expect(rows[0]?.widgets).toHaveLength(2);
  });

  it('include() body: base columns plus rel:schema.table(*), with eq where', async () => {
    const rows = await fetch({ table_name: widgets, select: `id,owner:${owners}(*)`, where: { id: { eq: 12 } }, strip_nulls: true });
    expect(rows).toEqual([{ id: 12, owner: { id: 2, label: 'bob', note: 'x' } }]);
  });

  it('select object embed, unqualified name in the base schema, and a foreign-key column token', async () => {
    const obj = await fetch({ table_name: widgets, select: { id: true, owner: { select: { label: true }, via: 'owners', schema } }, where: { id: 11 } });
    expect(obj).toEqual([{ id: 11, owner: { label: 'ann' } }]);
    const bare = await fetch({ table_name: widgets, columns: 'id, o:owners(label)', conditions: [{ column: 'id', operator: 'eq', value: 12 }] });
    expect(bare).toEqual([{ id: 12, o: { label: 'bob' } }]);
    const viaColumn = await fetch({ table_name: widgets, select: 'id, owner_id(who:label)', where: { id: 10 } });
    expect(viaColumn).toEqual([{ id: 10, owner_id: { who: 'ann' } }]);
  });

  it('two keys between the tables: 400 naming both, and a !hint picks one', async () => {
    const amb = await api.call('fetch', { table_name: `${schema}.transfers`, select: `id, owner:${owners}(label)` });
    expect(amb.status).toBe(400);
    expect(amb.body.error?.message).toMatch(/more than one foreign key.*transfers_from_owner_fkey.*transfers_to_owner_fkey/);
    expect(amb.body.error?.hint).toMatch(/!transfers_from_owner_fkey/);
    const picked = await fetch({
      table_name: `${schema}.transfers`,
      select: `id, to:${owners}!to_owner(label), from:${owners}!transfers_from_owner_fkey(label)`,
    });
    expect(picked).toEqual([{ id: 1, to: { label: 'bob' }, from: { label: 'ann' } }]);
  });

  it('refuses what it cannot honour: deeper nesting, no key, per-relation modifiers, relation predicates', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ table_name: widgets, select: `id, owner:${owners}(label, widgets:${widgets}(id))` }, /more than one level deep/],
      [{ table_name: widgets, select: `id, l:${schema}.loose(id)` }, /no foreign key/],
      [{ table_name: widgets, select: { id: true, owner: { select: { label: true }, via: 'owners', schema, where: { label: 'ann' } } } }, /per-relation where/],
      [{ table_name: widgets, select: { id: true, owner: { select: { label: { select: { x: true } } }, via: 'owners', schema } } }, /more than one level deep/],
      [{ table_name: owners, select: 'id', where: { widgets: { some: { n: 1 } } } }, /relation predicates/],
      [{ table_name: widgets, select: 'id', where: { n: { between: [1, 2] } } }, /unknown operator "between"/],
      [{ table_name: widgets, select: 'id', columns: 'id' }, /select: cannot be combined with columns/],
      [{ table_name: widgets, where: { id: 1 }, conditions: [] }, /where: cannot be combined with conditions/],
      [{ table_name: widgets, select: 'id, upper(q)' }, /no foreign key|Unknown table|is not a valid/],
      [{ table_name: widgets, select: 'id, n::regclass' }, /cast "regclass" is not allowed/],
    ];
    for (const [body, message] of cases) {
      const res = await api.call('fetch', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error?.message, JSON.stringify(body)).toMatch(message);
    }
  });

  it('embedding needs read on the embedded table too', async () => {
    const narrow = await newCaller('gateway-structured', { scopes: { operations: ['read'], tables: [widgets] } });
    const own = await narrow.call('fetch', { table_name: widgets, select: 'id', where: { id: 10 } });
    expect(own.status, own.text).toBe(200);
    const res = await narrow.call('fetch', { table_name: widgets, select: `id, owner:${owners}(label)` });
    expect(res.status).toBe(403);
    expect(res.body.error?.code).toBe('scope_denied');
  });
});
