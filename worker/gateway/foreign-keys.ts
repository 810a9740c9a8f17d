/**
 * Foreign keys of a tenant database, for embedding. Loaded on the first embed against a cached
 * catalog and kept with that catalog object: they live and die with it (same TTL, same
 * invalidation), and a fetch without embeds never pays for them.
 */
import type { Session } from '../db/session.js';
import type { Catalog } from './catalog.js';

export type ForeignKey = {
  name: string;
  fromSchema: string;
  fromTable: string;
  fromColumns: readonly string[];
  toSchema: string;
  toTable: string;
  toColumns: readonly string[];
};

type ForeignKeyRow = {
  name: string;
  from_schema: string;
  from_table: string;
  from_columns: string[];
  to_schema: string;
  to_table: string;
  to_columns: string[];
};

/** Foreign keys read per load; a database with more is served the first ones (documented limit). */
const MAX_FOREIGN_KEYS = 10_000;

// Columns in key order; `conparentid = 0` skips the per-partition copies of a partitioned key.
const FOREIGN_KEYS_SQL = `
SELECT con.conname AS name, fn.nspname AS from_schema, fc.relname AS from_table,
       ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.ord) AS from_columns,
       tn.nspname AS to_schema, tc.relname AS to_table,
       ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.ord) AS to_columns
FROM pg_catalog.pg_constraint con
JOIN pg_catalog.pg_class fc ON fc.oid = con.conrelid
JOIN pg_catalog.pg_namespace fn ON fn.oid = fc.relnamespace
JOIN pg_catalog.pg_class tc ON tc.oid = con.confrelid
JOIN pg_catalog.pg_namespace tn ON tn.oid = tc.relnamespace
WHERE con.contype = 'f' AND con.conparentid = 0
  AND fn.nspname <> 'information_schema' AND fn.nspname NOT LIKE 'pg\\_%'
  AND tn.nspname <> 'information_schema' AND tn.nspname NOT LIKE 'pg\\_%'
ORDER BY con.conname
LIMIT ${MAX_FOREIGN_KEYS}`;

/** Rows of the query above → foreign keys. Pure. */
function buildForeignKeys(rows: readonly ForeignKeyRow[]): ForeignKey[] {
  return rows.map((r) => ({
    name: r.name,
    fromSchema: r.from_schema,
    fromTable: r.from_table,
    fromColumns: r.from_columns,
    toSchema: r.to_schema,
    toTable: r.to_table,
    toColumns: r.to_columns,
  }));
}

/** Per isolate: catalog object → its foreign keys. Weak, so an evicted catalog takes its keys along. */
export type ForeignKeyCache = WeakMap<Catalog, readonly ForeignKey[]>;

/** The foreign keys that go with `catalog`, loaded with `session` the first time they are asked for. */
export async function foreignKeysOf(cache: ForeignKeyCache, catalog: Catalog, session: Session): Promise<readonly ForeignKey[]> {
  const cached = cache.get(catalog);
  if (cached) return cached;
  const { rows } = await session.query<ForeignKeyRow>(FOREIGN_KEYS_SQL);
  const keys = buildForeignKeys(rows);
  cache.set(catalog, keys);
  return keys;
}
