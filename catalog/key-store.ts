/**
 * Catalog operations on `api_keys`, shared by `npm run gateway -- keys …` and the dev seed.
 * The plaintext key exists only in the return value of `createKey`; the row stores its SHA-256.
 */
import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import { apiKeys, type KeyScopes } from '../drizzle/schema.js';
import { generateApiKey, hashApiKey, mintApiKey, parseApiKey } from '../crypto/key-format.js';
import { signerFor } from '../crypto/key-signing.js';
import type { CatalogDb } from './open.js';
import { getClient } from './client-store.js';
import { CatalogError } from './errors.js';
import { limitColumns, type RateLimit } from '../worker/ratelimit/limit.js';

/** A key row as shown to operators: everything except the hash. */
export type KeyListing = {
  id: string;
  client: string;
  name: string;
  prefix: string;
  scopes: KeyScopes;
  createdAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
  rateLimitRequests: number | null;
  rateLimitPeriodS: number | null;
};

export type NewKey = {
  client: string;
  name: string;
  scopes: KeyScopes;
  expiresAt: Date | null;
  /** KEY_SIGNING_SECRETS (the first signs); empty = an untagged legacy key. */
  signingSecrets: readonly string[];
  /** The key's own rate limit; null = its client's default. */
  rateLimit?: RateLimit | null;
};

export type CreatedKey = KeyListing & { key: string };

const listing = {
  id: apiKeys.id,
  client: apiKeys.clientName,
  name: apiKeys.name,
  prefix: apiKeys.prefix,
  scopes: apiKeys.scopes,
  createdAt: apiKeys.createdAt,
  expiresAt: apiKeys.expiresAt,
  revokedAt: apiKeys.revokedAt,
  lastUsedAt: apiKeys.lastUsedAt,
  rateLimitRequests: apiKeys.rateLimitRequests,
  rateLimitPeriodS: apiKeys.rateLimitPeriodS,
};

/**
 * Creates a key for an existing client. Two live (unrevoked) keys of one client may not share a
 * name, so `keys revoke` by name stays unambiguous for humans reading `keys list`.
 */
export async function createKey(db: CatalogDb, k: NewKey): Promise<CreatedKey> {
  await getClient(db, k.client);
  const live = await db
    .select({ prefix: apiKeys.prefix })
    .from(apiKeys)
    .where(and(eq(apiKeys.clientName, k.client), eq(apiKeys.name, k.name), isNull(apiKeys.revokedAt)));
  if (live[0]) throw new CatalogError(`client "${k.client}" already has a live key named "${k.name}" (${live[0].prefix}); revoke it or pick another name`);
  const { key, prefix } = k.signingSecrets.length > 0 ? await mintApiKey(await signerFor(k.signingSecrets)) : generateApiKey();
  const rows = await db
    .insert(apiKeys)
    .values({
      clientName: k.client,
      name: k.name,
      prefix,
      keyHash: await hashApiKey(key),
      scopes: k.scopes,
      expiresAt: k.expiresAt,
      ...limitColumns(k.rateLimit ?? null),
    })
    .returning(listing);
  const row = rows[0];
  if (!row) throw new CatalogError('the key was not stored');
  return { ...row, key };
}

/** Keys by client and creation time; revoked ones only when asked. Never returns hashes. */
export function listKeys(db: CatalogDb, opts: { client?: string | undefined; includeRevoked: boolean }): Promise<KeyListing[]> {
  const filters = [...(opts.client ? [eq(apiKeys.clientName, opts.client)] : []), ...(opts.includeRevoked ? [] : [isNull(apiKeys.revokedAt)])];
  return db
    .select(listing)
    .from(apiKeys)
    .where(and(...filters))
    .orderBy(asc(apiKeys.clientName), asc(apiKeys.createdAt));
}

export type RevokeResult = { key: KeyListing; alreadyRevoked: boolean };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PREFIX = /^ath_[a-z0-9]{10}$/;

/** The key named by its prefix (`ath_…`), its id, or the whole key; a CatalogError when none. */
async function findKey(db: CatalogDb, ref: string): Promise<KeyListing> {
  const where = UUID.test(ref)
    ? eq(apiKeys.id, ref.toLowerCase())
    : PREFIX.test(ref)
      ? eq(apiKeys.prefix, ref)
      : parseApiKey(ref)
        ? eq(apiKeys.keyHash, await hashApiKey(ref))
        : undefined;
  if (!where) throw new CatalogError(`"${ref.slice(0, 16)}" is not a key prefix (ath_xxxxxxxxxx), key id (uuid) or key`);
  const found = (await db.select(listing).from(apiKeys).where(where))[0];
  if (!found) throw new CatalogError(`no key matches ${PREFIX.test(ref) || UUID.test(ref) ? ref : 'that key'} (see: keys list)`);
  return found;
}

/** Sets (or with null removes) a key's own rate limit. */
export async function setKeyRateLimit(db: CatalogDb, ref: string, limit: RateLimit | null): Promise<KeyListing> {
  const found = await findKey(db, ref);
  const rows = await db.update(apiKeys).set(limitColumns(limit)).where(eq(apiKeys.id, found.id)).returning(listing);
  return rows[0] ?? found;
}

/** Revokes the key named by its prefix (`ath_…`), its id, or the whole key. Idempotent. */
export async function revokeKey(db: CatalogDb, ref: string): Promise<RevokeResult> {
  const found = await findKey(db, ref);
  if (found.revokedAt) return { key: found, alreadyRevoked: true };
  const rows = await db.update(apiKeys).set({ revokedAt: sql`now()` }).where(eq(apiKeys.id, found.id)).returning(listing);
  return { key: rows[0] ?? found, alreadyRevoked: false };
}

/** Revokes every live key of `client` called `name`; returns how many. Used by the dev seed. */
export async function revokeKeysNamed(db: CatalogDb, client: string, name: string): Promise<number> {
  const rows = await db
    .update(apiKeys)
    .set({ revokedAt: sql`now()` })
    .where(and(eq(apiKeys.clientName, client), eq(apiKeys.name, name), isNull(apiKeys.revokedAt)))
    .returning({ id: apiKeys.id });
  return rows.length;
}
