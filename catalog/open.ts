/**
 * The catalog database connection the CLI and the dev seed use: node-postgres + drizzle over the
 * shared schema. One short-lived client per command; connection failures become a CatalogError that
 * names the redacted target, never the password.
 */
import pg from 'pg';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import * as schema from '../drizzle/schema.js';
import { redactUrl } from './redact.js';
import { CatalogError } from './errors.js';

export type CatalogDb = NodePgDatabase<typeof schema>;

export type CatalogHandle = { db: CatalogDb; close(): Promise<void> };

/** Connects to the catalog at `databaseUrl` (must already be migrated). */
export async function openCatalog(databaseUrl: string): Promise<CatalogHandle> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 10_000 });
  client.on('error', () => undefined); // a dropped connection surfaces on the next query instead
  try {
    await client.connect();
  } catch (err) {
    throw new CatalogError(`cannot connect to the catalog database ${redactUrl(databaseUrl)}: ${messageOf(err)}`);
  }
  return { db: drizzle(client, { schema }), close: () => client.end().catch(() => undefined) };
}

/** Postgres error code of a driver error (`23505` unique violation, `42P01` missing table…). */
export function pgCode(err: unknown): string | undefined {
  const seen = new Set<unknown>();
  let e: unknown = err;
  // drizzle wraps driver errors in `cause`.
  while (e && typeof e === 'object' && !seen.has(e)) {
    seen.add(e);
    if ('code' in e && typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) return e.code;
    e = 'cause' in e ? e.cause : undefined;
  }
  return undefined;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
