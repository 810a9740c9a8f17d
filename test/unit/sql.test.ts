import { describe, expect, it } from 'vitest';
import { buildCatalog, resolveRelation, type Relation } from '../../worker/gateway/catalog.js';
import { buildCount, buildDelete, buildInsert, buildSelect, buildUpdate } from '../../worker/gateway/sql.js';
import { quoteIdent } from '../../drizzle/statement.js';

const catalog = buildCatalog([
  { schema_name: 'public', table_name: 'users', column_name: 'id', data_type: 'integer', is_pk: true },
  { schema_name: 'public', table_name: 'users', column_name: 'email', data_type: 'text', is_pk: false },
  { schema_name: 'public', table_name: 'users', column_name: 'tags', data_type: 'text[]', is_pk: false },
  { schema_name: 'public', table_name: 'users', column_name: 'meta', data_type: 'jsonb', is_pk: false },
  { schema_name: 'app', table_name: 'we"ird', column_name: 'a"b', data_type: 'text', is_pk: false },
]);
const rel = (name: string): Relation => {
  const r = resolveRelation(catalog, name);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
};
const users = rel('users');

describe('identifiers', () => {
  it('quotes every identifier, doubling embedded quotes', () => {
    expect(quoteIdent('a"b')).toBe('"a""b"');
    const st = buildSelect({ relation: rel('app.we"ird'), columns: ['a"b'], where: [], order: [{ column: 'a"b', descending: true }], limit: 5, offset: 0 });
    expect(st.text).toBe('SELECT "a""b" FROM "app"."we""ird" ORDER BY "a""b" DESC LIMIT $1 OFFSET $2');
    expect(st.params).toEqual([5, 0]);
  });
});

describe('select and count', () => {
  it('renders every filter kind with bound values only', () => {
    const st = buildSelect({
      relation: users,
      columns: '*',
      where: [
        { kind: 'compare', column: 'email', op: 'ilike', value: "%'; DROP TABLE users; --" },
        { kind: 'is', column: 'email', value: null, negate: true },
        { kind: 'in', column: 'id', values: [1, 2] },
        { kind: 'in', column: 'id', values: [] },
        { kind: 'contains', column: 'tags', value: ['a'] },
        { kind: 'containedBy', column: 'meta', value: { k: 1 } },
        {
          kind: 'not',
          filter: {
            kind: 'or',
            filters: [
              { kind: 'compare', column: 'id', op: 'gt', value: 5 },
              { kind: 'is', column: 'id', value: true, negate: false },
            ],
          },
        },
        { kind: 'compare', column: 'id', op: 'eq', value: '7', columnCast: 'text', valueCast: 'text' },
      ],
      order: [],
      limit: 10,
      offset: 20,
    });
    expect(st.text).toBe(
      'SELECT * FROM "public"."users" WHERE ("email" ILIKE $1) AND ("email" IS NOT NULL) AND ("id" IN ($2, $3)) AND (FALSE)' +
        ' AND ("tags" @> $4) AND ("meta" <@ $5) AND (NOT (("id" > $6 OR "id" IS TRUE))) AND ("id"::text = $7::text) LIMIT $8 OFFSET $9',
    );
    expect(st.params).toEqual(["%'; DROP TABLE users; --", 1, 2, ['a'], '{"k":1}', 5, '7', 10, 20]);
  });

  it('binds JSON column values as JSON text, but PostgREST literals as given', () => {
    const st = buildCount(users, [
      { kind: 'compare', column: 'meta', op: 'eq', value: 'x' },
      { kind: 'contains', column: 'meta', value: '{"a":1}', literal: true },
    ]);
    expect(st.text).toBe('SELECT count(*) AS count FROM "public"."users" WHERE ("meta" = $1) AND ("meta" @> $2)');
    expect(st.params).toEqual(['"x"', '{"a":1}']);
  });
});

describe('insert', () => {
  it('sparse rows get DEFAULT, or NULL with default_to_null', () => {
    const rows = [{ id: 1, email: 'a' }, { id: 2 }];
    const st = buildInsert({ relation: users, rows, columns: ['id', 'email'], defaultToNull: false, returning: '*' });
    // Only VALUES can say DEFAULT: each present cell reads its row of the one JSON parameter.
    const cell = (i: number, c: string) => `(json_populate_record(NULL::"public"."users", $1::json->${i}))."${c}"`;
    expect(st.text).toBe(
      `INSERT INTO "public"."users" ("id", "email") VALUES (${cell(0, 'id')}, ${cell(0, 'email')}), (${cell(1, 'id')}, DEFAULT) RETURNING *`,
    );
    expect(st.params).toEqual(['[{"id":1,"email":"a"},{"id":2}]']);
    const nulls = buildInsert({ relation: users, rows, columns: ['id', 'email'], defaultToNull: true, returning: null });
    expect(nulls.text).toBe(
      'INSERT INTO "public"."users" ("id", "email") SELECT "id", "email" FROM json_populate_recordset(NULL::"public"."users", $1::json) AS "_r"',
    );
    expect(nulls.params).toEqual(['[{"id":1,"email":"a"},{"id":2}]']);
  });

  it('binds all rows as one JSON parameter, however many', () => {
    const rows = Array.from({ length: 20_000 }, (_, i) => ({ id: i, email: `u${i}`, meta: { i } }));
    const st = buildInsert({ relation: users, rows, columns: ['id', 'email', 'meta'], defaultToNull: false, returning: null });
    expect(st.text).toBe(
      'INSERT INTO "public"."users" ("id", "email", "meta") SELECT "id", "email", "meta" FROM json_populate_recordset(NULL::"public"."users", $1::json) AS "_r"',
    );
    expect(st.params).toHaveLength(1);
    expect(JSON.parse(String(st.params[0]))).toHaveLength(20_000);
  });

  it('rows without keys insert defaults', () => {
    expect(buildInsert({ relation: users, rows: [{}, {}], columns: [], defaultToNull: true, returning: ['id'] }).text).toBe(
      'INSERT INTO "public"."users" ("id") VALUES (DEFAULT), (DEFAULT) RETURNING "id"',
    );
  });

  it('upserts: EXCLUDED, explicit SET, or DO NOTHING', () => {
    const base = { relation: users, rows: [{ id: 1, email: 'a', meta: { x: [1] } }], columns: ['id', 'email', 'meta'], defaultToNull: false, returning: null };
    const rowsFrom = 'SELECT "id", "email", "meta" FROM json_populate_recordset(NULL::"public"."users", $1::json) AS "_r"';
    expect(buildInsert({ ...base, conflict: { target: ['id'], action: { kind: 'excluded', columns: ['email', 'meta'] } } }).text).toBe(
      `INSERT INTO "public"."users" ("id", "email", "meta") ${rowsFrom} ON CONFLICT ("id") DO UPDATE SET "email" = EXCLUDED."email", "meta" = EXCLUDED."meta"`,
    );
    const set = buildInsert({ ...base, conflict: { target: ['id'], action: { kind: 'set', values: { email: 'b' } } } });
    expect(set.text).toBe(`INSERT INTO "public"."users" ("id", "email", "meta") ${rowsFrom} ON CONFLICT ("id") DO UPDATE SET "email" = $2`);
    // The JSON column's value travels as JSON inside the rows; a SET value on a JSON column is JSON text.
    expect(set.params).toEqual(['[{"id":1,"email":"a","meta":{"x":[1]}}]', 'b']);
    expect(buildInsert({ ...base, conflict: { target: ['id'], action: { kind: 'nothing' } } }).text).toMatch(/ON CONFLICT \("id"\) DO NOTHING$/);
  });
});

describe('update and delete', () => {
  const where = [{ kind: 'compare', column: 'id', op: 'eq', value: 1 }] as const;
  it('render SET, WHERE and RETURNING', () => {
    const up = buildUpdate({ relation: users, set: { email: 'x', meta: null }, where: [...where], returning: ['id'] });
    expect(up.text).toBe('UPDATE "public"."users" SET "email" = $1, "meta" = $2 WHERE ("id" = $3) RETURNING "id"');
    expect(up.params).toEqual(['x', null, 1]);
    expect(buildDelete({ relation: users, where: [...where], returning: null }).text).toBe('DELETE FROM "public"."users" WHERE ("id" = $1)');
  });

  it('refuse to build unfiltered statements', () => {
    expect(() => buildUpdate({ relation: users, set: { email: 'x' }, where: [], returning: null })).toThrow(/unfiltered/);
    expect(() => buildDelete({ relation: users, where: [], returning: null })).toThrow(/unfiltered/);
  });
});
