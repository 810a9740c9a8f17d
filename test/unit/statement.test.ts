/**
 * SQL fragments carry their parameters and are numbered when rendered: in text order, whatever
 * order the pieces were built in; a shared value is bound once.
 */
import { describe, expect, it } from 'vitest';
import { EMPTY, join, param, raw, render, sharedParam, sql } from '../../drizzle/statement.js';
import { buildCatalog, resolveRelation } from '../../worker/gateway/catalog.js';
import { buildSelect } from '../../worker/gateway/sql.js';

describe('SQL fragments', () => {
  it('binds interpolated values, embeds fragments, and numbers placeholders in text order at render', () => {
    const where = sql` WHERE "a" = ${'x'} AND "b" = ${param(2, 'integer')}`; // built first, rendered last
    const list = join([raw('"a"'), sql`${'y'} AS "c"`], ', ');
    expect(render(sql`SELECT ${list} FROM "t"${where}${EMPTY}`)).toEqual({
      text: 'SELECT "a", $1 AS "c" FROM "t" WHERE "a" = $2 AND "b" = $3::integer',
      params: ['y', 'x', 2],
    });
  });

  it('a shared value is one placeholder wherever it appears', () => {
    const rows = sharedParam('[1,2]', 'json');
    expect(render(sql`SELECT ${rows}->0, ${'z'}, ${rows}->1`)).toEqual({ text: 'SELECT $1::json->0, $2, $1::json->1', params: ['[1,2]', 'z'] });
  });

  it('a function source needs no running first: its parameters are numbered where its text stands', () => {
    const catalog = buildCatalog([{ schema_name: 'public', table_name: 'users', column_name: 'id', data_type: 'integer', is_pk: true }]);
    const users = resolveRelation(catalog, 'users');
    if (!users.ok) throw new Error(users.error.message);
    const source = sql`"public"."f"("n" => ${param(7, 'integer')})`;
    const st = buildSelect({
      relation: users.value,
      columns: ['id'],
      where: [{ kind: 'compare', column: 'id', op: 'gt', value: 1 }],
      order: [],
      limit: 5,
      offset: 0,
      source,
    });
    expect(st).toEqual({ text: 'SELECT "id" FROM "public"."f"("n" => $1::integer) WHERE ("id" > $2) LIMIT $3 OFFSET $4', params: [7, 1, 5, 0] });
  });
});
