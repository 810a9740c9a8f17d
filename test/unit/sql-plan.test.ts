import { describe, expect, it } from 'vitest';
import {
  buildCatalog,
  GATEWAY_TABLES,
  relationKey,
  resolveRelation,
  createCatalogCache,
  type CatalogRow,
  type Relation,
} from '../../worker/gateway/catalog.js';
import { mayRefresh } from '../../worker/gateway/catalog-source.js';
import { planProjection } from '../../worker/gateway/plan-columns.js';
import { planDelete, planFetch, planInsert, planUpdate } from '../../worker/gateway/plan.js';
import type { Filter } from '../../worker/gateway/filter.js';

const rows: CatalogRow[] = [
  { schema_name: 'public', table_name: 'users', column_name: 'id', data_type: 'integer', is_pk: true },
  { schema_name: 'public', table_name: 'users', column_name: 'email', data_type: 'text', is_pk: false },
  { schema_name: 'public', table_name: 'users', column_name: 'name', data_type: 'text', is_pk: false },
  { schema_name: 'public', table_name: 'logs', column_name: 'msg', data_type: 'text', is_pk: false },
  { schema_name: 'public', table_name: 'clients', column_name: 'client_name', data_type: 'text', is_pk: true },
  { schema_name: 'drizzle', table_name: '__drizzle_migrations', column_name: 'id', data_type: 'integer', is_pk: true },
];
const marker: CatalogRow = { schema_name: 'athena_gateway', table_name: 'catalog_marker', column_name: 'id', data_type: 'integer', is_pk: true };
const catalog = buildCatalog(rows);
/** The same relations plus the marker the gateway's migrations create: the catalog database itself. */
const gatewayCatalog = buildCatalog([...rows, marker]);
const resolve = (name: string, shares = false) => resolveRelation(shares ? gatewayCatalog : catalog, name);
const relation = (name: string): Relation => {
  const r = resolve(name);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
};
const users = relation('users');
const logs = relation('public.logs');
const eqId: Filter = { kind: 'compare', column: 'id', op: 'eq', value: 1 };

describe('table resolution', () => {
  it('resolves bare and qualified names; refuses system schemas, unknown tables and (when shared) gateway tables', () => {
    expect(resolve('public.users').ok).toBe(true);
    expect(resolve('pg_catalog.pg_authid')).toMatchObject({ ok: false, error: { code: 'forbidden_table' } });
    expect(resolve('information_schema.tables')).toMatchObject({ ok: false, error: { code: 'forbidden_table' } });
    expect(resolve('users; DROP TABLE users')).toMatchObject({ ok: false, error: { code: 'unknown_table' } });
    expect(resolve('clients').ok).toBe(true);
    expect(resolve('clients', true)).toMatchObject({ ok: false, error: { code: 'forbidden_table' } });
    expect(resolve('drizzle.__drizzle_migrations').ok).toBe(true);
    expect(resolve('drizzle.__drizzle_migrations', true)).toMatchObject({ ok: false, error: { code: 'forbidden_table' } });
    expect(resolve('athena_gateway.catalog_marker', true)).toMatchObject({ ok: false, error: { code: 'forbidden_table' } });
    expect(resolve('users', true).ok).toBe(true);
    expect([catalog.gatewayOwned, gatewayCatalog.gatewayOwned]).toEqual([false, true]);
    expect([...GATEWAY_TABLES]).toEqual(
      expect.arrayContaining(['clients', 'api_keys', 'client_table_statistics', 'flush_batches'].map((t) => relationKey('public', t))),
    );
  });

  it('keys relations by the (schema, table) pair: "a.b".c and a."b.c" stay apart', () => {
    const dotted = buildCatalog([
      { schema_name: 'a.b', table_name: 'c', column_name: 'secret', data_type: 'text', is_pk: false },
      { schema_name: 'a', table_name: 'b.c', column_name: 'open', data_type: 'text', is_pk: false },
    ]);
    expect(dotted.relations.size).toBe(2);
    // "a.b.c" names schema a, table "b.c" (the first dot splits): never schema "a.b".
    const r = resolveRelation(dotted, 'a.b.c');
    expect(r.ok && [r.value.schema, r.value.name, r.value.columns.map((c) => c.name)]).toEqual(['a', 'b.c', ['open']]);
    const onlyDotted = buildCatalog([{ schema_name: 'a.b', table_name: 'c', column_name: 'secret', data_type: 'text', is_pk: false }]);
    expect(resolveRelation(onlyDotted, 'a.b.c')).toMatchObject({ ok: false, error: { code: 'unknown_table' } });
  });
});

describe('projection and fetch paging', () => {
  it('parses columns lists and refuses unknown names and embedding', () => {
    expect(planProjection(users, ' id ,\n email ')).toEqual({ ok: true, value: ['id', 'email'] });
    expect(planProjection(users, ['*'])).toEqual({ ok: true, value: '*' });
    expect(planProjection(users, 'id,"x"')).toMatchObject({ ok: false, error: { code: 'unknown_column' } });
    expect(planProjection(users, 'id,from:sender_id(name)')).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
  });

  it('caps limit at the server max, maps pages to offsets, checks sort fields and filter columns', () => {
    const plan = planFetch({ table_name: 'users', limit: 5000 }, users, [], { maxLimit: 100 });
    expect(plan).toMatchObject({ ok: true, value: { select: { limit: 100, offset: 0 }, withCount: false, head: false } });
    const paged = planFetch({ table_name: 'users', current_page: 3, page_size: 20, count: 'exact' }, users, [], { maxLimit: 100 });
    expect(paged).toMatchObject({ ok: true, value: { select: { limit: 20, offset: 40 }, withCount: true } });
    expect(planFetch({ table_name: 'users', sort_by: { field: 'nope' } }, users, [], { maxLimit: 100 })).toMatchObject({
      ok: false,
      error: { code: 'unknown_column' },
    });
    const hostile: Filter = { kind: 'or', filters: [{ kind: 'compare', column: 'id" OR 1=1 --', op: 'eq', value: 1 }] };
    expect(planFetch({ table_name: 'users' }, users, [hostile], { maxLimit: 100 })).toMatchObject({ ok: false, error: { code: 'unknown_column' } });
  });
});

describe('insert / upsert planning', () => {
  it('plain insert collects the union of keys', () => {
    const r = planInsert({ table_name: 'users', insert_body: [{ id: 1 }, { email: 'e' }] }, users);
    expect(r).toMatchObject({ ok: true, value: { columns: ['id', 'email'], returning: '*' } });
    expect(r.ok && r.value.conflict).toBeUndefined();
  });

  it('upsert without update_body updates inserted non-conflict columns; empty update_body does nothing', () => {
    expect(planInsert({ table_name: 'users', insert_body: { id: 1, email: 'e' }, on_conflict: 'id' }, users)).toMatchObject({
      ok: true,
      value: { conflict: { target: ['id'], action: { kind: 'excluded', columns: ['email'] } } },
    });
    expect(planInsert({ table_name: 'users', insert_body: { id: 1 }, on_conflict: ['id'] }, users)).toMatchObject({
      ok: true,
      value: { conflict: { action: { kind: 'nothing' } } },
    });
    expect(planInsert({ table_name: 'users', insert_body: { id: 1, email: 'e' }, update_body: {} }, users)).toMatchObject({
      ok: true,
      value: { conflict: { target: ['id'], action: { kind: 'nothing' } } },
    });
    expect(planInsert({ table_name: 'users', insert_body: { id: 1 }, update_body: { name: 'n' } }, users)).toMatchObject({
      ok: true,
      value: { conflict: { target: ['id'], action: { kind: 'set', values: { name: 'n' } } } },
    });
  });

  it('refuses unknown columns anywhere, and upserts on tables without a key unless on_conflict is given', () => {
    expect(planInsert({ table_name: 'users', insert_body: { 'id) VALUES (1); --': 1 } }, users)).toMatchObject({
      ok: false,
      error: { code: 'unknown_column' },
    });
    expect(planInsert({ table_name: 'users', insert_body: { id: 1 }, on_conflict: 'nope' }, users)).toMatchObject({
      ok: false,
      error: { code: 'unknown_column' },
    });
    expect(planInsert({ table_name: 'logs', insert_body: { msg: 'm' }, update_body: { msg: 'x' } }, logs)).toMatchObject({
      ok: false,
      error: { code: 'invalid_request' },
    });
  });
});

describe('update / delete planning', () => {
  it('refuses unfiltered updates and deletes', () => {
    expect(planUpdate({ table_name: 'users', update_body: { name: 'x' } }, users, [])).toMatchObject({ ok: false, error: { code: 'unfiltered_update' } });
    expect(planDelete({ table_name: 'users' }, users, [])).toMatchObject({ ok: false, error: { code: 'unfiltered_delete' } });
  });

  it('update RETURNING only when columns are given', () => {
    expect(planUpdate({ table_name: 'users', update_body: { name: 'x' } }, users, [eqId])).toMatchObject({ ok: true, value: { returning: null } });
    expect(planUpdate({ table_name: 'users', update_body: { name: 'x' }, columns: 'id' }, users, [eqId])).toMatchObject({
      ok: true,
      value: { returning: ['id'] },
    });
  });

  it('resource_id means id = resource_id unless an id condition says so already (a different one is refused); .eq("resource_id") maps to id', () => {
    expect(planDelete({ table_name: 'users', resource_id: '7' }, users, [])).toMatchObject({
      ok: true,
      value: { where: [{ column: 'id', op: 'eq', value: '7' }] },
    });
    expect(planDelete({ table_name: 'users', resource_id: '1' }, users, [eqId])).toMatchObject({ ok: true, value: { where: [eqId] } });
    expect(planDelete({ table_name: 'users', resource_id: '7' }, users, [eqId])).toMatchObject({
      ok: false,
      error: { code: 'invalid_request', message: expect.stringMatching(/disagrees/) },
    });
    const idAbove: Filter = { kind: 'compare', column: 'id', op: 'gt', value: 3 };
    expect(planDelete({ table_name: 'users', resource_id: '7' }, users, [idAbove])).toMatchObject({
      ok: true,
      value: { where: [idAbove, { column: 'id', op: 'eq', value: '7' }] },
    });
    const viaSdk: Filter = { kind: 'compare', column: 'resource_id', op: 'eq', value: '9' };
    expect(planDelete({ table_name: 'users', resource_id: '9' }, users, [viaSdk])).toMatchObject({
      ok: true,
      value: { where: [{ column: 'id', value: '9' }] },
    });
    expect(planDelete({ table_name: 'logs', resource_id: '1' }, logs, [])).toMatchObject({ ok: false, error: { code: 'unknown_column' } });
  });
});

describe('catalog cache', () => {
  it('expires after the TTL, evicts the oldest target, and TTL 0 disables caching', () => {
    let now = 0;
    const cache = createCatalogCache({ ttlMs: 100, maxTargets: 2, now: () => now });
    cache.set('a', catalog);
    now = 99;
    expect(cache.get('a')).toEqual({ catalog, loadedAt: 0 });
    now = 100;
    expect(cache.get('a')).toBeUndefined();
    cache.set('a', catalog);
    cache.set('b', catalog);
    cache.set('c', catalog);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('c')?.catalog).toBe(catalog);
    const off = createCatalogCache({ ttlMs: 0, maxTargets: 2, now: () => now });
    off.set('a', catalog);
    expect(off.get('a')).toBeUndefined();
  });

  it('keeps the time its load started, so a slow load is not taken for a newer copy', () => {
    let now = 500;
    const cache = createCatalogCache({ ttlMs: 10_000, maxTargets: 2, now: () => now });
    expect(cache.set('a', catalog, 200)).toEqual({ catalog, loadedAt: 200 });
    now = 200 + 1000;
    const cached = cache.get('a');
    expect(cached?.loadedAt).toBe(200);
    if (!cached) throw new Error('cached');
    expect(mayRefresh({ ...cached, fromCache: true }, now, 1000)).toBe(true);
  });
});

describe('catalog refresh on a miss', () => {
  it('reloads only a cached catalog at least CATALOG_RECHECK_MS old', () => {
    expect(mayRefresh({ catalog, loadedAt: 0, fromCache: true }, 999, 1000)).toBe(false);
    expect(mayRefresh({ catalog, loadedAt: 0, fromCache: true }, 1000, 1000)).toBe(true);
    expect(mayRefresh({ catalog, loadedAt: 0, fromCache: false }, 10_000, 1000)).toBe(false);
    // 0: every miss on a cached copy reloads it once (what the tests run with).
    expect(mayRefresh({ catalog, loadedAt: 5, fromCache: true }, 5, 0)).toBe(true);
  });
});
