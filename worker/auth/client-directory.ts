/**
 * The isolate's client directory (directory.ts) wired to the auth target: one query loads every
 * client's policy and live key prefixes; reloads are single-flight, in the background when the
 * copy in memory may still answer (waitUntil of the request that noticed), in the foreground
 * otherwise. The copy is plain data: requests read it, never a promise of another request.
 */
import type { Settings } from '../config.js';
import type { Isolate } from '../isolate.js';
import type { SessionContext } from '../db/with-session.js';
import { systemClock } from '../admission/clock.js';
import { createLoadingCache, type CacheOutcome, type LoadContext } from './cache.js';
import { lookupTimeoutMs } from './lookup-timeout.js';
import { authQuery } from './auth-query.js';
import { buildDirectory, decide, MAX_PREFIXES_PER_CLIENT, type Directory, type DirectoryRow } from './directory.js';

const KEY = 'directory';

/** Entries expire at once: `peek` answers, `get` always (re)loads — single-flight. */
export const createDirectoryCache = (settings: Settings) =>
  createLoadingCache<Directory>({
    maxEntries: 1,
    ttlMs: 0,
    negativeTtlMs: 0,
    staleIfUnavailableMs: 0,
    flightTimeoutMs: lookupTimeoutMs(settings),
    ...systemClock,
  });

const DIRECTORY_SQL = `SELECT c.client_name, c.database_url, c.is_active, c.is_frozen, c.api_key_enforcement, c.rate_limit_requests, c.rate_limit_period_s,
  ARRAY(SELECT k.prefix FROM api_keys k WHERE k.client_name = c.client_name AND k.revoked_at IS NULL LIMIT ${MAX_PREFIXES_PER_CLIENT + 1}) AS key_prefixes
  FROM clients c ORDER BY c.client_name LIMIT $1`;

async function load(ctx: SessionContext, lc: LoadContext): Promise<Directory> {
  const { settings } = ctx.isolate;
  const rows = await authQuery(ctx, 'policy', undefined, lc, async (s) => (await s.query<DirectoryRow>(DIRECTORY_SQL, [settings.AUTH_DIRECTORY_MAX_CLIENTS + 1])).rows);
  return buildDirectory(rows, { loadedAt: Date.now(), maxClients: settings.AUTH_DIRECTORY_MAX_CLIENTS, defaultEnforcement: settings.API_KEY_ENFORCEMENT_DEFAULT });
}

type DirectoryAnswer = { ok: true; directory: Directory } | { ok: false; outcome: CacheOutcome<unknown> };

/**
 * The directory to answer with, for a question `lists(directory)` says it can answer (a known
 * name, a listed prefix). Reloads first or in the background per the freshness rules; when a
 * foreground reload fails, the old copy still answers "not listed", and "listed" within the
 * fail-static window (AUTH_STALE_IF_UNAVAILABLE_MS past the usual 2 × TTL).
 */
export async function directoryFor(ctx: SessionContext, lists: (d: Directory) => boolean, signal: AbortSignal | undefined): Promise<DirectoryAnswer> {
  const inMemory = directoryInMemory(ctx, lists, undefined);
  if (inMemory) return { ok: true, directory: inMemory };
  const { settings } = ctx.isolate;
  const cache = ctx.isolate.services.directory;
  const current = cache.peek(KEY)?.value ?? undefined;
  const found = current !== undefined && lists(current);
  const now = Date.now();
  const outcome = await cache.get(KEY, (lc) => load(ctx, lc), signal);
  if (outcome.ok && outcome.value) return { ok: true, directory: outcome.value };
  const staleLimit = 2 * settings.AUTH_POLICY_CACHE_TTL_MS + settings.AUTH_STALE_IF_UNAVAILABLE_MS;
  const cancelled = !outcome.ok && outcome.reason === 'cancelled';
  if (current && !cancelled && (!found || now - current.loadedAt < staleLimit)) return { ok: true, directory: current };
  return { ok: false, outcome };
}

/**
 * The directory in memory when the freshness rules let it answer without waiting (starting the
 * background reload they ask for), else undefined: the synchronous half of `directoryFor`, which
 * a cache-hit request answers from without a promise. `lists` is static and takes `subject` (no closure per request).
 */
export function directoryInMemory<A>(ctx: SessionContext, lists: (d: Directory, subject: A) => boolean, subject: A): Directory | undefined {
  const cache = ctx.isolate.services.directory;
  const current = cache.stored(KEY);
  if (!current) return undefined;
  const { settings } = ctx.isolate;
  const action = decide(current, lists(current, subject), Date.now(), { ttlMs: settings.AUTH_POLICY_CACHE_TTL_MS, recheckMs: settings.AUTH_DIRECTORY_RECHECK_MS });
  if (action === 'reload') return undefined;
  // One background reload at a time: later requests in the window just answer from the copy.
  if (action === 'answer-and-refresh' && cache.stats().inFlight === 0) ctx.waitUntil(cache.get(KEY, (lc) => load(ctx, lc)));
  return current;
}

/** Size and age of this isolate's directory, for status (no names). */
export function directoryStats(isolate: Isolate): { loaded: boolean; clients: number; keyPrefixes: number; complete: boolean; ageMs: number | null; loads: number; failures: number } {
  const cache = isolate.services.directory;
  const d = cache.peek(KEY)?.value ?? undefined;
  const { loads, failures } = cache.stats();
  return {
    loaded: d !== undefined,
    clients: d?.clients.size ?? 0,
    keyPrefixes: d?.prefixOwner.size ?? 0,
    complete: d?.complete ?? false,
    ageMs: d ? Date.now() - d.loadedAt : null,
    loads,
    failures,
  };
}

/** Whether the directory in memory lists `clientName` (no reload): who refusal counters may name. */
export function listsClient(isolate: Isolate, clientName: string): boolean {
  return isolate.services.directory.peek(KEY)?.value?.clients.has(clientName) ?? false;
}
