/**
 * Loads a tenant database's catalog (tables, views, columns, primary keys) through a session the
 * request already holds, and keeps it per isolate for `CATALOG_CACHE_TTL_MS` per tenant target.
 */
import type { Settings } from '../config.js';
import type { Session } from '../db/session.js';
import { gatewaySchema } from '../../drizzle/schema.js';
import { buildCatalog, createCatalogCache, type Catalog, type CatalogCache, type CatalogRow } from './catalog.js';

/** Distinct tenant targets one isolate keeps catalogs for. */
const MAX_TARGETS = 64;
/** Columns read per load; a catalog bigger than this is truncated (documented limit). */
const MAX_CATALOG_COLUMNS = 50_000;

/** The isolate's tenant catalogs (one of its services). */
export const createTenantCatalogs = (settings: Settings) =>
  createCatalogCache({ ttlMs: settings.CATALOG_CACHE_TTL_MS, maxTargets: MAX_TARGETS, now: () => Date.now() });

// Tables, partitioned tables, views, materialized views and foreign tables outside system schemas.
// The gateway's own schema sorts first, so a truncated catalog still shows the catalog marker.
const CATALOG_SQL = `
SELECT n.nspname AS schema_name, c.relname AS table_name, a.attname AS column_name,
       format_type(a.atttypid, a.atttypmod) AS data_type,
       COALESCE(a.attnum = ANY (i.indkey), false) AS is_pk
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_catalog.pg_index i ON i.indrelid = c.oid AND i.indisprimary
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
ORDER BY n.nspname = '${gatewaySchema.schemaName}' DESC, n.nspname, c.relname, a.attnum
LIMIT ${MAX_CATALOG_COLUMNS}`;

type LoadedCatalog = { catalog: Catalog; loadedAt: number; fromCache: boolean };

/** The tenant's catalog: cached, or loaded now with `session` (`refresh` skips the cache). */
export async function tenantCatalog(cache: CatalogCache, targetKey: string, session: Session, opts: { refresh?: boolean } = {}): Promise<LoadedCatalog> {
  const cached = opts.refresh ? undefined : cache.get(targetKey);
  if (cached) return { ...cached, fromCache: true };
  // Stamped with the query's start: a load that began before a table was created and ended later
  // must not pass for a copy younger than the table.
  const startedAt = Date.now();
  const { rows } = await session.query<CatalogRow>(CATALOG_SQL);
  return { ...cache.set(targetKey, buildCatalog(rows), startedAt), fromCache: false };
}

/**
 * True when a miss against `loaded` justifies reloading it once: only a cached copy at least
 * `recheckMs` old (CATALOG_RECHECK_MS), so a flood of unknown names costs at most one catalog query
 * per interval per target, while a table created a moment ago is still found.
 */
export function mayRefresh(loaded: LoadedCatalog, now: number, recheckMs: number): boolean {
  return loaded.fromCache && now - loaded.loadedAt >= recheckMs;
}

/** Drops a target's cached catalog (a table or column the cache promised turned out missing). */
export function invalidateCatalog(cache: CatalogCache, targetKey: string): void {
  cache.invalidate(targetKey);
}
