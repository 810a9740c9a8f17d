/**
 * API key records by SHA-256 hash, from the auth target under its budget, cached (positive TTL
 * `AUTH_CACHE_TTL_MS`, negative TTL for unknown hashes, bounded, second-chance eviction; a changed key
 * leaves the cache within AUTH_CHANGE_BOUND_MS: catalog-changes.ts) with
 * single-flight per hash and concurrent misses of one client coalesced into one read. Revocation and expiry are judged at use time from the cached row.
 */
import { OPERATIONS, type KeyScopes, type Operation } from '../../drizzle/schema.js';
import type { Settings } from '../config.js';
import type { SessionContext } from '../db/with-session.js';
import { authQuery } from './auth-query.js';
import { EPOCH_COLUMN, noteLookup } from './catalog-changes.js';
import { systemClock } from '../admission/clock.js';
import { createLoadingCache, type CacheOutcome } from './cache.js';
import { lookupTimeoutMs } from './lookup-timeout.js';
import { rateLimitOf } from '../ratelimit/limit.js';
import { parseJsonText } from '../../drizzle/json-text.js';
import type { KeyRecord } from './records.js';

export type KeyState = 'active' | 'revoked' | 'expired';

/** Most key hashes one lookup reads: a burst of misses for one client shares one query per this many. */
const KEY_BATCH_MAX = 64;

/** The isolate's key cache (one of its services). */
export const createKeyCache = (settings: Settings) =>
  createLoadingCache<KeyRecord>({
    maxEntries: settings.AUTH_CACHE_MAX_ENTRIES,
    ttlMs: settings.AUTH_CACHE_TTL_MS,
    negativeTtlMs: settings.AUTH_NEGATIVE_CACHE_TTL_MS,
    staleIfUnavailableMs: settings.AUTH_STALE_IF_UNAVAILABLE_MS,
    flightTimeoutMs: lookupTimeoutMs(settings),
    maxBatch: KEY_BATCH_MAX,
    ...systemClock,
  });

type KeyRow = {
  key_hash: string;
  id: string;
  client_name: string;
  prefix: string;
  scopes: unknown;
  expires_at: Date | string | null;
  revoked_at: Date | string | null;
  rate_limit_requests: number | null;
  rate_limit_period_s: number | null;
  catalog_epoch?: unknown;
};

/**
 * The key whose hash is `keyHash` (null when none), from cache or one DB read counted against
 * `owner`'s fair share (the client the request names, or the key's listed owner). Concurrent misses
 * for the same owner share one read (`key_hash = ANY(...)`, at most KEY_BATCH_MAX hashes).
 * `signal` (the caller's request) ends only this caller's wait; a leader's also ends its read.
 */
export function lookupKey(ctx: SessionContext, keyHash: string, owner: string, signal?: AbortSignal): Promise<CacheOutcome<KeyRecord>> {
  return ctx.isolate.services.keyCache.getBatched(
    keyHash,
    owner,
    async (lc, seal) => {
      const startedAt = Date.now();
      const rows = await authQuery(
        ctx,
        'auth',
        owner,
        lc,
        async (s) => (await s.query<KeyRow>(`SELECT ${KEY_COLUMNS}, ${EPOCH_COLUMN} FROM api_keys WHERE key_hash = ANY($1::text[])`, [seal()])).rows,
      );
      noteLookup(ctx.isolate.services, rows, startedAt);
      return new Map(rows.map((row) => [row.key_hash, recordOf(row)]));
    },
    signal,
  );
}

const KEY_COLUMNS = 'key_hash, id::text AS id, client_name, prefix, scopes, expires_at, revoked_at, rate_limit_requests, rate_limit_period_s';

function recordOf(row: KeyRow): KeyRecord {
  return {
    id: row.id,
    clientName: row.client_name,
    prefix: row.prefix,
    scopes: parseScopes(row.scopes),
    expiresAt: toMillis(row.expires_at),
    revokedAt: toMillis(row.revoked_at),
    rateLimit: rateLimitOf(row.rate_limit_requests, row.rate_limit_period_s),
  };
}

/** Whether a key may be used at `now` (epoch ms). */
export function keyState(key: KeyRecord, now: number): KeyState {
  if (key.revokedAt !== null && key.revokedAt <= now) return 'revoked';
  if (key.expiresAt !== null && key.expiresAt <= now) return 'expired';
  return 'active';
}

/** Scopes from the jsonb column; anything malformed grants nothing (fail closed). */
export function parseScopes(raw: unknown): KeyScopes {
  const value = typeof raw === 'string' ? parseJsonText(raw) : raw;
  if (typeof value !== 'object' || value === null) return { operations: [], tables: [] };
  const { operations, tables, functions } = value as { operations?: unknown; tables?: unknown; functions?: unknown };
  const ops = Array.isArray(operations) ? operations.filter((o): o is Operation => (OPERATIONS as readonly unknown[]).includes(o)) : [];
  const tbls = Array.isArray(tables) ? tables.filter((t): t is string => typeof t === 'string' && t !== '') : [];
  const fns = Array.isArray(functions) ? functions.filter((f): f is string => typeof f === 'string' && f !== '') : [];
  return { operations: [...new Set(ops)], tables: [...new Set(tbls)], ...(fns.length ? { functions: [...new Set(fns)] } : {}) };
}

function toMillis(v: Date | string | null): number | null {
  if (v === null) return null;
  const ms = v instanceof Date ? v.getTime() : Date.parse(v);
  return Number.isNaN(ms) ? null : ms;
}
