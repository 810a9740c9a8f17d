/**
 * The tenant catalog: which relations and columns a tenant database exposes, how a client's
 * `table_name` resolves to one, and a small TTL cache of catalogs per tenant target. Pure: the
 * loader (catalog-source.ts) runs the query and passes the clock.
 */
import { is } from 'drizzle-orm';
import { getTableConfig, PgSchema, PgTable } from 'drizzle-orm/pg-core';
import * as catalogSchema from '../../drizzle/schema.js';
import { fail, ok, type Result } from './result.js';
import { clipped } from './clip.js';
import { tableRef } from '../auth/table-ref.js';

export type ColumnInfo = {
  name: string;
  /** `format_type()` of the column, e.g. `text[]`, `jsonb`, `character varying(20)`. */
  type: string;
  /** json/jsonb: values are bound as JSON text, so arrays and objects arrive intact. */
  json: boolean;
};

export type Relation = {
  schema: string;
  name: string;
  /** In table order; `"*"` expands to this. */
  columns: readonly ColumnInfo[];
  byName: ReadonlyMap<string, ColumnInfo>;
  /** Default conflict target of an upsert without `on_conflict`. */
  primaryKey: readonly string[];
};

export type Catalog = {
  /** Keyed by `relationKey(schema, table)`: the pair, so `"a.b".c` and `a."b.c"` never collide. */
  relations: ReadonlyMap<string, Relation>;
  /** The database holds the gateway's catalog marker: its own tables there are never served. */
  gatewayOwned: boolean;
};

/** One key per (schema, table) pair: NUL cannot occur in a Postgres identifier. */
export function relationKey(schema: string, table: string): string {
  return `${schema}\u0000${table}`;
}

/** One row of the catalog query (catalog-source.ts). */
export type CatalogRow = {
  schema_name: string;
  table_name: string;
  column_name: string;
  data_type: string;
  is_pk: boolean;
};

/** Groups catalog rows (already in column order) into relations keyed by (schema, table). */
export function buildCatalog(rows: readonly CatalogRow[]): Catalog {
  const building = new Map<string, { schema: string; name: string; columns: ColumnInfo[]; primaryKey: string[] }>();
  for (const r of rows) {
    const key = relationKey(r.schema_name, r.table_name);
    let rel = building.get(key);
    if (!rel) {
      rel = { schema: r.schema_name, name: r.table_name, columns: [], primaryKey: [] };
      building.set(key, rel);
    }
    rel.columns.push({ name: r.column_name, type: r.data_type, json: r.data_type === 'json' || r.data_type === 'jsonb' });
    if (r.is_pk) rel.primaryKey.push(r.column_name);
  }
  const relations = new Map<string, Relation>();
  for (const [key, rel] of building) {
    relations.set(key, { ...rel, byName: new Map(rel.columns.map((c) => [c.name, c])) });
  }
  return { relations, gatewayOwned: relations.has(MARKER_KEY) };
}

/** Schemas never served: Postgres' own. */
export function isSystemSchema(schema: string): boolean {
  return schema === 'information_schema' || schema.startsWith('pg_');
}

const gatewayTables = (Object.values(catalogSchema) as unknown[]).flatMap((v) => (is(v, PgTable) ? [getTableConfig(v)] : []));
const MARKER_KEY = relationKey(catalogSchema.gatewaySchema.schemaName, getTableConfig(catalogSchema.catalogMarker).name);

/** The gateway's own tables (from the drizzle schema), as (schema, table) keys. */
export const GATEWAY_TABLES: ReadonlySet<string> = new Set(gatewayTables.map((t) => relationKey(t.schema ?? 'public', t.name)));
/** Schemas only the gateway's migrations create: drizzle's bookkeeping and every schema it declares. */
export const GATEWAY_SCHEMAS: ReadonlySet<string> = new Set([
  'drizzle',
  ...(Object.values(catalogSchema) as unknown[]).flatMap((v) => (is(v, PgSchema) ? [v.schemaName] : [])),
]);

/** `users` (→ public.users) or `schema.table` → the relation, or why not. */
export function resolveRelation(catalog: Catalog, tableName: string): Result<Relation> {
  const { schema, name } = tableRef(tableName); // the same split the scope check made
  return resolveRelationPair(catalog, schema, name, tableName);
}

/** The relation (schema, name) as a pair — never re-split at a dot — or why it may not be served. */
export function resolveRelationPair(catalog: Catalog, schema: string, name: string, asWritten = `${schema}.${name}`): Result<Relation> {
  const shown = clipped(asWritten, 80);
  if (isSystemSchema(schema)) {
    return fail('forbidden_table', `Table "${shown}" is in a system schema and is never served`, 'Only tables and views of the tenant schemas are served.');
  }
  if (catalog.gatewayOwned && (GATEWAY_SCHEMAS.has(schema) || GATEWAY_TABLES.has(relationKey(schema, name)))) {
    return fail(
      'forbidden_table',
      `Table "${shown}" belongs to the gateway and is never served`,
      'Give this client its own tenant database (clients.database_url).',
    );
  }
  const rel = catalog.relations.get(relationKey(schema, name));
  if (!rel) {
    return fail('unknown_table', `Unknown table "${shown}"`, 'Use "table" (public schema) or "schema.table" of a table or view in the tenant database.');
  }
  return ok(rel);
}

/** The name the counters record: `table` for public, `schema.table` otherwise. */
export function relationLabel(rel: Relation): string {
  return rel.schema === 'public' ? rel.name : `${rel.schema}.${rel.name}`;
}

export type CachedCatalog = { catalog: Catalog; loadedAt: number };

export type CatalogCache = {
  get(target: string): CachedCatalog | undefined;
  /** `loadedAt`: when the catalog query started (a table committed after that may be missing from it). */
  set(target: string, catalog: Catalog, loadedAt?: number): CachedCatalog;
  /** Forgets one target (after a 42P01/42703 says the cached catalog is stale). */
  invalidate(target: string): void;
};

/** TTL cache keyed by tenant target, bounded to `maxTargets` (oldest evicted). TTL 0 = no caching. */
export function createCatalogCache(opts: { ttlMs: number; maxTargets: number; now: () => number }): CatalogCache {
  const entries = new Map<string, CachedCatalog>();
  return {
    get(target) {
      const e = entries.get(target);
      if (!e) return undefined;
      if (opts.now() >= e.loadedAt + opts.ttlMs) {
        entries.delete(target);
        return undefined;
      }
      return e;
    },
    set(target, catalog, loadedAt = opts.now()) {
      const entry = { catalog, loadedAt };
      if (opts.ttlMs <= 0) return entry;
      entries.delete(target);
      while (entries.size >= opts.maxTargets) {
        const oldest = entries.keys().next();
        if (oldest.done) break;
        entries.delete(oldest.value);
      }
      entries.set(target, entry);
      return entry;
    },
    invalidate(target) {
      entries.delete(target);
    },
  };
}
