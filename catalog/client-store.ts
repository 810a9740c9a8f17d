/**
 * Catalog operations on `clients`, shared by `npm run gateway -- clients …` and the dev seed.
 * Input is already validated; these functions turn expected failures into CatalogError.
 */
import { asc, eq, sql } from 'drizzle-orm';
import { clients, type ClientRow } from '../drizzle/schema.js';
import type { CatalogDb } from './open.js';
import { pgCode } from './open.js';
import { CatalogError } from './errors.js';
import { limitColumns, type RateLimit } from '../worker/ratelimit/limit.js';

/** `required` / `optional`, or null for the gateway default (API_KEY_ENFORCEMENT_DEFAULT). */
export type Enforcement = 'required' | 'optional' | null;

export type NewClient = {
  name: string;
  databaseUrl: string | null;
  enforcement: Enforcement;
  active: boolean;
  frozen: boolean;
  /** Default limit of its keys; absent or null = none. */
  rateLimit?: RateLimit | null;
};

export type ClientChanges = {
  databaseUrl?: string | null;
  enforcement?: Enforcement;
  active?: boolean;
  frozen?: boolean;
  /** null removes the client's default limit. */
  rateLimit?: RateLimit | null;
};

/** Adds a client; a name that exists already is an error, never an overwrite. */
export async function addClient(db: CatalogDb, c: NewClient): Promise<ClientRow> {
  const rows = await db
    .insert(clients)
    .values({
      clientName: c.name,
      databaseUrl: c.databaseUrl,
      apiKeyEnforcement: c.enforcement,
      isActive: c.active,
      isFrozen: c.frozen,
      ...limitColumns(c.rateLimit ?? null),
    })
    .onConflictDoNothing({ target: clients.clientName })
    .returning();
  const row = rows[0];
  if (!row) throw new CatalogError(`client "${c.name}" already exists (change it with: clients set ${c.name} …)`);
  return row;
}

/** Every client, by name. */
export function listClients(db: CatalogDb): Promise<ClientRow[]> {
  return db.select().from(clients).orderBy(asc(clients.clientName));
}

/** The client, or a CatalogError naming it. */
export async function getClient(db: CatalogDb, name: string): Promise<ClientRow> {
  const row = (await db.select().from(clients).where(eq(clients.clientName, name)))[0];
  if (!row) throw new CatalogError(`unknown client "${name}" (see: clients list)`);
  return row;
}

/** Applies the given changes (absent fields stay as they are) and returns the updated row. */
export async function updateClient(db: CatalogDb, name: string, changes: ClientChanges): Promise<ClientRow> {
  try {
    const rows = await db
      .update(clients)
      .set({
        ...(changes.databaseUrl !== undefined ? { databaseUrl: changes.databaseUrl } : {}),
        ...(changes.enforcement !== undefined ? { apiKeyEnforcement: changes.enforcement } : {}),
        ...(changes.active !== undefined ? { isActive: changes.active } : {}),
        ...(changes.frozen !== undefined ? { isFrozen: changes.frozen } : {}),
        ...(changes.rateLimit !== undefined ? limitColumns(changes.rateLimit) : {}),
        updatedAt: sql`now()`,
      })
      .where(eq(clients.clientName, name))
      .returning();
    const row = rows[0];
    if (!row) throw new CatalogError(`unknown client "${name}" (see: clients list)`);
    return row;
  } catch (err) {
    if (pgCode(err) === '23514') throw new CatalogError(`invalid value for client "${name}"`);
    throw err;
  }
}
