import { describe, expect, it } from 'vitest';
import { buildCatalog, relationKey, type Relation } from '../../worker/gateway/catalog.js';
import { resolveEmbed } from '../../worker/gateway/embed.js';
import type { ForeignKey } from '../../worker/gateway/foreign-keys.js';
import { planBounds } from '../../worker/gateway/plan.js';
import { buildDelete, buildSelect, buildUpdate } from '../../worker/gateway/sql.js';

const col = (table: string, column: string, isPk = false, schema = 'app') => ({ schema_name: schema, table_name: table, column_name: column, data_type: 'integer', is_pk: isPk });
const catalog = buildCatalog([
  col('users', 'id', true),
  col('users', 'name'),
  col('posts', 'id', true),
  col('posts', 'author_id'),
  col('posts', 'editor_id'),
  col('tags', 'id', true),
  col('secrets', 'id', true, 'pg_toast'),
  col('nokey', 'n'),
]);
const rel = (name: string): Relation => {
  const r = catalog.relations.get(relationKey('app', name));
  if (!r) throw new Error(name);
  return r;
};
const fk = (name: string, from: string, fromCol: string, to: string): ForeignKey => ({ name, fromSchema: 'app', fromTable: from, fromColumns: [fromCol], toSchema: 'app', toTable: to, toColumns: ['id'] });
const keys = [fk('posts_author_fk', 'posts', 'author_id', 'users'), fk('posts_editor_fk', 'posts', 'editor_id', 'users')];

describe('resolving an embed along foreign keys', () => {
  it('base holds the key → to-one; the embedded table holds it → to-many; unqualified names look in the base schema', () => {
    const one = resolveEmbed(rel('posts'), { key: 'author', path: 'app.users', hint: 'author_id', columns: ['name'] }, catalog, keys);
    expect(one).toMatchObject({ ok: true, value: { key: 'author', many: false, columns: ['name'], join: [{ inner: 'id', outer: 'author_id' }] } });
    const many = resolveEmbed(rel('users'), { key: 'posts', path: 'posts', hint: 'posts_editor_fk', columns: ['*'] }, catalog, keys);
    expect(many).toMatchObject({ ok: true, value: { many: true, columns: '*', join: [{ inner: 'editor_id', outer: 'id' }] } });
    const viaColumn = resolveEmbed(rel('posts'), { key: 'editor_id', path: 'editor_id', columns: ['name'] }, catalog, keys);
    expect(viaColumn).toMatchObject({ ok: true, value: { many: false, join: [{ inner: 'id', outer: 'editor_id' }] } });
  });

  it('ambiguous, missing, hidden and unknown relations are refused with the reason', () => {
    expect(resolveEmbed(rel('posts'), { key: 'u', path: 'users', columns: ['*'] }, catalog, keys)).toMatchObject({
      ok: false,
      error: { code: 'invalid_request', message: expect.stringMatching(/more than one foreign key.*posts_author_fk, posts_editor_fk/) },
    });
    expect(resolveEmbed(rel('posts'), { key: 't', path: 'tags', columns: ['*'] }, catalog, keys)).toMatchObject({ ok: false, error: { message: expect.stringMatching(/no foreign key/) } });
    expect(resolveEmbed(rel('posts'), { key: 's', path: 'pg_toast.secrets', columns: ['*'] }, catalog, keys)).toMatchObject({ ok: false, error: { code: 'forbidden_table' } });
    expect(resolveEmbed(rel('posts'), { key: 'x', path: 'nope', columns: ['*'] }, catalog, keys)).toMatchObject({ ok: false, error: { code: 'unknown_table' } });
    expect(resolveEmbed(rel('posts'), { key: 'a', path: 'users', hint: 'author_id', columns: ['nope'] }, catalog, keys)).toMatchObject({ ok: false, error: { code: 'unknown_column' } });
  });
});

describe('SQL for embeds and bounded writes', () => {
  it('embeds are correlated subqueries on an aliased table; values stay parameters', () => {
    const embed = resolveEmbed(rel('users'), { key: 'posts', path: 'posts', hint: 'author_id', columns: ['id'] }, catalog, keys);
    if (!embed.ok) throw new Error(embed.error.message);
    const st = buildSelect({ relation: rel('users'), columns: [{ column: 'name', alias: 'who' }], where: [{ kind: 'compare', column: 'id', op: 'eq', value: 7 }], order: [], limit: 10, offset: 0, embeds: [embed.value], embedLimit: 50 });
    expect(st.text).toBe(
      'SELECT "name" AS "who", COALESCE((SELECT json_agg(row_to_json("_e")) FROM (SELECT "id" FROM "app"."posts" AS "_t" WHERE "_t"."author_id" = "app"."users"."id" LIMIT $1) AS "_e"), \'[]\'::json) AS "posts" FROM "app"."users" WHERE ("id" = $2) LIMIT $3 OFFSET $4',
    );
    expect(st.params).toEqual([50, 7, 10, 0]);
  });

  it('bounded update/delete pick rows by primary key under ORDER BY/LIMIT/OFFSET, locked', () => {
    const where = [{ kind: 'compare' as const, column: 'author_id', op: 'gte' as const, value: 2 }];
    const bounds = planBounds(rel('posts'), { sort_by: { field: 'id', direction: 'descending' }, limit: 1, offset: 2 }, 'update');
    if (!bounds.ok || !bounds.value) throw new Error('no bounds');
    const up = buildUpdate({ relation: rel('posts'), set: { editor_id: 1 }, where, returning: null, bounds: bounds.value });
    expect(up.text).toBe('UPDATE "app"."posts" SET "editor_id" = $1 WHERE ("id") IN (SELECT "id" FROM "app"."posts" WHERE ("author_id" >= $2) ORDER BY "id" DESC LIMIT $3 OFFSET $4 FOR UPDATE)');
    expect(up.params).toEqual([1, 2, 1, 2]);
    const page = planBounds(rel('posts'), { page_size: 5, current_page: 3 }, 'delete');
    expect(page).toEqual({ ok: true, value: { key: ['id'], order: [], limit: 5, offset: 10 } });
    if (!page.ok || !page.value) throw new Error('no bounds');
    expect(buildDelete({ relation: rel('posts'), where, returning: ['id'], bounds: page.value }).text).toBe(
      'DELETE FROM "app"."posts" WHERE ("id") IN (SELECT "id" FROM "app"."posts" WHERE ("author_id" >= $1) LIMIT $2 OFFSET $3 FOR UPDATE) RETURNING "id"',
    );
  });

  it('bounds: none → null; sort_by alone, page without size, or no primary key → refused', () => {
    expect(planBounds(rel('posts'), {}, 'delete')).toEqual({ ok: true, value: null });
    expect(planBounds(rel('posts'), { sort_by: { field: 'id' } }, 'delete')).toMatchObject({ ok: false });
    expect(planBounds(rel('posts'), { current_page: 2 }, 'delete')).toMatchObject({ ok: false });
    expect(planBounds(rel('nokey'), { limit: 1 }, 'update')).toMatchObject({ ok: false, error: { message: expect.stringMatching(/primary key/) } });
    expect(planBounds(rel('posts'), { offset: 3 }, 'update')).toEqual({ ok: true, value: { key: ['id'], order: [], limit: null, offset: 3 } });
  });
});
