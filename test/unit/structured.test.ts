import { describe, expect, it } from 'vitest';
import { parseOrderBy, parseWhere, plannerShapeOf } from '../../worker/gateway/structured.js';
import { parseColumnToken, parseSelectObject, parseSelectTokens } from '../../worker/gateway/select-list.js';

describe('where → filters', () => {
  it('bare values are eq (null → IS NULL); operator objects AND-ed; in wraps a single operand', () => {
    expect(parseWhere({ a: 1, b: null, c: { gt: 1, lte: 5 }, d: { in: 'x' } })).toEqual({
      ok: true,
      value: [
        { kind: 'compare', column: 'a', op: 'eq', value: 1 },
        { kind: 'is', column: 'b', value: null, negate: false },
        { kind: 'compare', column: 'c', op: 'gt', value: 1 },
        { kind: 'compare', column: 'c', op: 'lte', value: 5 },
        { kind: 'in', column: 'd', values: ['x'] },
      ],
    });
  });

  it('or / and / not nest; a multi-predicate clause becomes an AND node', () => {
    expect(parseWhere({ or: [{ a: 1 }, { b: { neq: null }, c: 2 }], not: { d: { like: 'x%' } } })).toEqual({
      ok: true,
      value: [
        {
          kind: 'or',
          filters: [
            { kind: 'compare', column: 'a', op: 'eq', value: 1 },
            {
              kind: 'and',
              filters: [
                { kind: 'is', column: 'b', value: null, negate: true },
                { kind: 'compare', column: 'c', op: 'eq', value: 2 },
              ],
            },
          ],
        },
        { kind: 'not', filter: { kind: 'compare', column: 'd', op: 'like', value: 'x%' } },
      ],
    });
  });

  it('refuses relation predicates, unknown operators, empty or over-deep trees, and too many predicates', () => {
    expect(parseWhere({ posts: { some: { id: 1 } } })).toMatchObject({
      ok: false,
      error: { code: 'invalid_condition', message: expect.stringMatching(/relation predicates/) },
    });
    expect(parseWhere({ a: { is: { id: 1 } } })).toMatchObject({ ok: false, error: { message: expect.stringMatching(/relation predicates/) } });
    expect(parseWhere({ a: { regex: '.*' } })).toMatchObject({ ok: false, error: { message: 'where.a: unknown operator "regex"' } });
    expect(parseWhere({ a: {} })).toMatchObject({ ok: false });
    expect(parseWhere({ or: [] })).toMatchObject({ ok: false });
    expect(parseWhere({ a: { gt: [1] } })).toMatchObject({ ok: false, error: { code: 'invalid_condition' } });
    let deep: Record<string, unknown> = { a: 1 };
    for (let i = 0; i < 20; i++) deep = { not: deep };
    expect(parseWhere(deep)).toMatchObject({ ok: false, error: { message: expect.stringMatching(/nested deeper/) } });
    const wide = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`c${i}`, i]));
    expect(parseWhere(wide)).toMatchObject({ ok: false, error: { message: expect.stringMatching(/more than 100/) } });
  });
});

describe('orderBy → sort entries', () => {
  it('accepts every form the SDK sends', () => {
    expect(parseOrderBy({ n: 'desc' })).toEqual({ ok: true, value: [{ field: 'n', direction: 'descending' }] });
    expect(parseOrderBy({ column: 'n', ascending: false })).toEqual({ ok: true, value: [{ field: 'n', direction: 'descending' }] });
    expect(parseOrderBy({ column: 'n' })).toEqual({ ok: true, value: [{ field: 'n', direction: 'ascending' }] });
    expect(parseOrderBy({ field: 'n', direction: 'ascending' })).toEqual({ ok: true, value: [{ field: 'n', direction: 'ascending' }] });
    expect(parseOrderBy([{ a: 'asc' }, { b: { ascending: false } }])).toEqual({
      ok: true,
      value: [
        { field: 'a', direction: 'ascending' },
        { field: 'b', direction: 'descending' },
      ],
    });
  });

  it('refuses directions it cannot read', () => {
    expect(parseOrderBy({ n: 'sideways' })).toMatchObject({ ok: false });
    expect(parseOrderBy({ column: 'n', ascending: 'no' })).toMatchObject({ ok: false });
    expect(parseOrderBy({})).toMatchObject({ ok: false });
    expect(parseOrderBy({ field: 'n', direction: 'constructor' })).toMatchObject({ ok: false });
    expect(parseOrderBy({ n: 'toString' })).toMatchObject({ ok: false });
  });
});

describe('select lists', () => {
  it('splits column tokens from embeds; the key is the alias, else the table', () => {
    expect(parseSelectTokens('id, num:n, owner:app.users!owner_fk(name, e:email), posts(*)', 'select')).toEqual({
      ok: true,
      value: {
        columns: ['id', 'num:n'],
        embeds: [
          { key: 'owner', path: 'app.users', target: { schema: 'app', name: 'users' }, hint: 'owner_fk', columns: ['name', 'e:email'] },
          { key: 'posts', path: 'posts', target: { name: 'posts' }, columns: ['*'] },
        ],
      },
    });
    expect(parseSelectTokens('a:b(c(d))', 'select')).toMatchObject({ ok: false, error: { message: expect.stringMatching(/one level/) } });
    expect(parseSelectTokens('a:b.c.d(x)', 'select')).toMatchObject({ ok: false });
    expect(parseSelectTokens('a(b', 'select')).toMatchObject({ ok: false });
  });

  it('select objects as findMany and include() write them', () => {
    expect(parseSelectObject({ id: true, skip: false, owner: { select: { name: true }, via: 'users', schema: 'app', as: 'o' } })).toEqual({
      ok: true,
      value: { columns: ['id'], embeds: [{ key: 'o', path: 'app.users', target: { schema: 'app', name: 'users' }, columns: ['name'] }] },
    });
    expect(parseSelectObject({ owner: { select: { x: true }, limit: 3 } })).toMatchObject({
      ok: false,
      error: { message: expect.stringMatching(/per-relation limit/) },
    });
    expect(parseSelectObject({ owner: { select: { x: true }, through: 'y' } })).toMatchObject({
      ok: false,
      error: { message: expect.stringMatching(/unknown field "through"/) },
    });
    expect(parseSelectObject({ id: 'yes' })).toMatchObject({ ok: false });
    expect(parseSelectObject({})).toMatchObject({ ok: false });
  });

  it('column tokens: alias, cast, "as", qualified names; expressions and unknown casts refused', () => {
    expect(parseColumnToken('num:n::text', 'f')).toEqual({ ok: true, value: { column: 'n', alias: 'num', cast: 'text' } });
    expect(parseColumnToken('n as m', 'f')).toEqual({ ok: true, value: { column: 'n', alias: 'm' } });
    expect(parseColumnToken('x:app.t.n', 'f')).toEqual({ ok: true, value: { column: 'n', alias: 'x', prefix: 'app.t' } });
    expect(parseColumnToken('n::regclass', 'f')).toMatchObject({ ok: false });
    expect(parseColumnToken('count(*)', 'f')).toMatchObject({ ok: false });
    expect(parseColumnToken('a b:c', 'f')).toMatchObject({ ok: false });
  });
});

describe('fetch body → planner shape', () => {
  it('structured and legacy spellings meet in one shape', () => {
    const structured = plannerShapeOf({ table_name: 't', select: 'id', where: { id: 1 }, orderBy: { id: 'desc' } });
    const legacy = plannerShapeOf({
      table_name: 't',
      columns: 'id',
      conditions: [{ operator: 'eq', column: 'id', value: 1 }],
      sort_by: { field: 'id', direction: 'descending' },
    });
    expect(structured).toEqual(legacy);
    expect(plannerShapeOf({ table_name: 't', select: 'owner:users(name)' })).toMatchObject({ ok: true, value: { columns: [], embeds: [{ key: 'owner' }] } });
    expect(plannerShapeOf({ table_name: 't' })).toMatchObject({ ok: true, value: { columns: undefined, embeds: [], where: [], sort: undefined } });
  });
});
