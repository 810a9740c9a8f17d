import { describe, expect, it } from 'vitest';
import { buildCatalog, relationKey, type Relation } from '../../worker/gateway/catalog.js';
import { checkEmbedScope, resolveEmbed } from '../../worker/gateway/embed.js';
import type { ForeignKey } from '../../worker/gateway/foreign-keys.js';
import type { EmbedSpec } from '../../worker/gateway/select-list.js';
import { planBounds } from '../../worker/gateway/plan.js';
import { buildDelete, buildSelect, buildUpdate } from '../../worker/gateway/sql.js';

const col = (table: string, column: string, isPk = false, schema = 'app') => ({
  schema_name: schema,
  table_name: table,
  column_name: column,
  data_type: 'integer',
  is_pk: isPk,
});
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
const fk = (name: string, from: string, fromCol: string, to: string): ForeignKey => ({
  name,
  fromSchema: 'app',
  fromTable: from,
  fromColumns: [fromCol],
  toSchema: 'app',
  toTable: to,
  toColumns: ['id'],
});
/** An embed as the select-list parser writes it: the path, and the same as parts. */
const spec = (key: string, path: string, columns: string[], hint?: string): EmbedSpec => {
  const [first = '', second] = path.split('.');
  const target = second === undefined ? { name: first } : { schema: first, name: second };
  return hint === undefined ? { key, path, target, columns } : { key, path, target, columns, hint };
};
/** A key that may read every table: these cases are about foreign keys, not scope. */
const readAll = () => true;
const keys = [fk('posts_author_fk', 'posts', 'author_id', 'users'), fk('posts_editor_fk', 'posts', 'editor_id', 'users')];

describe('resolving an embed along foreign keys', () => {
  it('base holds the key → to-one; the embedded table holds it → to-many; unqualified names look in the base schema', () => {
    const one = resolveEmbed(rel('posts'), spec('author', 'app.users', ['name'], 'author_id'), catalog, keys, readAll);
    expect(one).toMatchObject({ ok: true, value: { key: 'author', many: false, columns: ['name'], join: [{ inner: 'id', outer: 'author_id' }] } });
    const many = resolveEmbed(rel('users'), spec('posts', 'posts', ['*'], 'posts_editor_fk'), catalog, keys, readAll);
    expect(many).toMatchObject({ ok: true, value: { many: true, columns: '*', join: [{ inner: 'editor_id', outer: 'id' }] } });
    const viaColumn = resolveEmbed(rel('posts'), spec('editor_id', 'editor_id', ['name']), catalog, keys, readAll);
    expect(viaColumn).toMatchObject({ ok: true, value: { many: false, join: [{ inner: 'id', outer: 'editor_id' }] } });
  });

  it('ambiguous, missing, hidden and unknown relations are refused with the reason', () => {
    expect(resolveEmbed(rel('posts'), spec('u', 'users', ['*']), catalog, keys, readAll)).toMatchObject({
      ok: false,
      error: { code: 'invalid_request', message: expect.stringMatching(/more than one foreign key.*posts_author_fk, posts_editor_fk/) },
    });
    expect(resolveEmbed(rel('posts'), spec('t', 'tags', ['*']), catalog, keys, readAll)).toMatchObject({
      ok: false,
      error: { message: expect.stringMatching(/no foreign key/) },
    });
    expect(resolveEmbed(rel('posts'), spec('s', 'pg_toast.secrets', ['*']), catalog, keys, readAll)).toMatchObject({
      ok: false,
      error: { code: 'forbidden_table' },
    });
    expect(resolveEmbed(rel('posts'), spec('x', 'nope', ['*']), catalog, keys, readAll)).toMatchObject({ ok: false, error: { code: 'unknown_table' } });
    expect(resolveEmbed(rel('posts'), spec('a', 'users', ['nope'], 'author_id'), catalog, keys, readAll)).toMatchObject({
      ok: false,
      error: { code: 'unknown_column' },
    });
  });
});

describe('SQL for embeds and bounded writes', () => {
  it('embeds are correlated subqueries on an aliased table; values stay parameters', () => {
    const embed = resolveEmbed(rel('users'), spec('posts', 'posts', ['id'], 'author_id'), catalog, keys, readAll);
    if (!embed.ok) throw new Error(embed.error.message);
    const st = buildSelect({
      relation: rel('users'),
      columns: [{ column: 'name', alias: 'who' }],
      where: [{ kind: 'compare', column: 'id', op: 'eq', value: 7 }],
      order: [],
      limit: 10,
      offset: 0,
      embeds: [embed.value],
      embedLimit: 50,
    });
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
    expect(up.text).toBe(
      'UPDATE "app"."posts" SET "editor_id" = $1 WHERE ("id") IN (SELECT "id" FROM "app"."posts" WHERE ("author_id" >= $2) ORDER BY "id" DESC LIMIT $3 OFFSET $4 FOR UPDATE)',
    );
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

describe('embeds are scope-checked before they are resolved', () => {
  // app.a.c_id → "app.b".c, and public.users beside public.todos; the key reads app.* and todos.
  const scoped = buildCatalog([
    col('a', 'id', true),
    col('a', 'c_id'),
    col('c', 'id', true, 'app.b'),
    col('c', 'secret', false, 'app.b'),
    col('todos', 'id', true, 'public'),
    col('todos', 'user_id', false, 'public'),
    col('users', 'id', true, 'public'),
    col('users', 'password', false, 'public'),
  ]);
  const scopedKeys: ForeignKey[] = [
    { name: 'a_c_fk', fromSchema: 'app', fromTable: 'a', fromColumns: ['c_id'], toSchema: 'app.b', toTable: 'c', toColumns: ['id'] },
    { name: 'todos_user_fk', fromSchema: 'public', fromTable: 'todos', fromColumns: ['user_id'], toSchema: 'public', toTable: 'users', toColumns: ['id'] },
  ];
  const of = (schema: string, name: string): Relation => {
    const r = scoped.relations.get(relationKey(schema, name));
    if (!r) throw new Error(name);
    return r;
  };
  const mayRead = (t: { schema: string; name: string }) => t.schema === 'app' || (t.schema === 'public' && t.name === 'todos');
  const denied = (path: string) => ({ ok: false, error: { code: 'scope_denied', message: `This API key may not read ${path}` } });

  it('a key of app.* does not reach "app.b".c through a foreign-key column', () => {
    const viaColumn = spec('c_id', 'c_id', ['id', 'secret']);
    expect(checkEmbedScope(of('app', 'a'), viaColumn, mayRead)).toEqual({ ok: true, value: undefined });
    expect(resolveEmbed(of('app', 'a'), viaColumn, scoped, scopedKeys, mayRead)).toMatchObject(denied('c_id'));
    expect(resolveEmbed(of('app', 'a'), viaColumn, scoped, scopedKeys, readAll)).toMatchObject({
      ok: true,
      value: { relation: { schema: 'app.b', name: 'c' } },
    });
  });

  it('a real table, an absent column and an absent table outside the scope get the same 403, before foreign keys load', () => {
    const todos = of('public', 'todos');
    for (const [path, columns] of [
      ['users', ['password']],
      ['users', ['nosuchcol']],
      ['nosuchtable', ['x']],
      ['public.users', ['id']],
      ['user_id', ['nosuchcol']],
    ] as const) {
      const embed = spec(path, path, [...columns]);
      const expected = denied(path);
      if (path !== 'user_id') expect(checkEmbedScope(todos, embed, mayRead)).toMatchObject(expected);
      expect(resolveEmbed(todos, embed, scoped, scopedKeys, mayRead)).toMatchObject(expected);
    }
  });

  it('a bare name from a non-public base only looks at the pairs the key may read', () => {
    // The key reads app.*: public.users (which exists) is neither read nor named.
    expect(resolveEmbed(of('app', 'a'), spec('users', 'users', ['id']), scoped, scopedKeys, mayRead)).toMatchObject({
      ok: false,
      error: { code: 'unknown_table', message: 'select.users: Unknown table "users"' },
    });
  });
});
