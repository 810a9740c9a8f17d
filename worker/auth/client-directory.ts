/**
 * The isolate's client directory (directory.ts) wired to the auth target: one query loads every
 * client's policy and live key prefixes; reloads are single-flight, in the background when the
 * copy in memory may still answer (waitUntil of the request that noticed), in the foreground
 * otherwise. The copy is plain data: requests read it, never a promise of another request.
 */
import type { Settings } from '../config.js';
import type { SessionContext } from '../db/with-session.js';
import type { CacheOutcome, LoadContext } from './cache.js';
import { createSingleFlight } from './lookup-timeout.js';
import { authQuery } from './auth-query.js';
import { EPOCH_COLUMN, noteLookup } from './catalog-changes.js';
import {
  answersWithoutReload,
  buildDirectory,
  decide,
  MAX_PREFIXES_PER_CLIENT,
  reloadBackingOff,
  type Directory,
  type DirectoryRow,
  type DirectoryService,
} from './directory.js';

const KEY = 'directory';

export const createDirectoryService = (settings: Settings): DirectoryService => ({
  cache: createSingleFlight<Directory>(settings),
  failedAt: undefined,
});

/** What a request gets while a recent reload failure holds reloads back: the same answer as that failure. */
const BACKING_OFF: CacheOutcome<Directory> = { ok: false, reason: 'load_failed', cause: undefined };

const DIRECTORY_SQL = `SELECT c.client_name, c.database_url, c.is_active, c.is_frozen, c.api_key_enforcement, c.rate_limit_requests, c.rate_limit_period_s, ${EPOCH_COLUMN},
  ARRAY(SELECT k.prefix FROM api_keys k WHERE k.client_name = c.client_name AND k.revoked_at IS NULL LIMIT ${MAX_PREFIXES_PER_CLIENT + 1}) AS key_prefixes
  FROM clients c ORDER BY c.client_name LIMIT $1`;

async function load(ctx: SessionContext, lc: LoadContext): Promise<Directory> {
  const { settings } = ctx.isolate;
  const startedAt = Date.now();
  const rows = await authQuery(
    ctx,
    'policy',
    undefined,
    lc,
    async (s) => (await s.query<DirectoryRow & { catalog_epoch?: unknown }>(DIRECTORY_SQL, [settings.AUTH_DIRECTORY_MAX_CLIENTS + 1])).rows,
  );
  noteLookup(ctx.isolate.services, rows, startedAt);
  return buildDirectory(rows, {
    loadedAt: Date.now(),
    maxClients: settings.AUTH_DIRECTORY_MAX_CLIENTS,
    defaultEnforcement: settings.API_KEY_ENFORCEMENT_DEFAULT,
  });
}

type DirectoryAnswer = { ok: true; directory: Directory } | { ok: false; outcome: CacheOutcome<unknown> };

/**
 * The directory to answer with, for a question `lists(directory)` says it can answer (a known
 * name, a listed prefix). Reloads first or in the background per the freshness rules. When the
 * reload cannot run (or failed within AUTH_DIRECTORY_RECHECK_MS: then it is not retried), the old
 * copy answers only what it may still say (`answersWithoutReload`); anything else is the failure,
 * which callers answer with a retryable 503.
 */
export async function directoryFor(ctx: SessionContext, lists: (d: Directory) => boolean, signal: AbortSignal | undefined): Promise<DirectoryAnswer> {
  const inMemory = directoryInMemory(ctx, lists, undefined);
  if (inMemory) return { ok: true, directory: inMemory };
  const { settings } = ctx.isolate;
  const service = ctx.isolate.services.directory;
  const current = service.cache.peek(KEY)?.value ?? undefined;
  const freshness = {
    ttlMs: settings.AUTH_POLICY_CACHE_TTL_MS,
    recheckMs: settings.AUTH_DIRECTORY_RECHECK_MS,
    staleIfUnavailableMs: settings.AUTH_STALE_IF_UNAVAILABLE_MS,
  };
  const backingOff = reloadBackingOff(current, service.failedAt, Date.now(), freshness);
  const outcome = backingOff ? BACKING_OFF : await service.cache.get(KEY, (lc) => load(ctx, lc), signal);
  if (outcome.ok && outcome.value) return { ok: true, directory: outcome.value };
  if (!outcome.ok && outcome.reason === 'cancelled') return { ok: false, outcome };
  if (!backingOff) service.failedAt = Date.now();
  // Judged after the attempt: "not listed" is definitive only on a copy loaded within the recheck interval.
  if (current && answersWithoutReload(current, lists(current), Date.now(), freshness)) return { ok: true, directory: current };
  return { ok: false, outcome };
}

/**
 * The directory in memory when the freshness rules let it answer without waiting (starting the
 * background reload they ask for), else undefined: the synchronous half of `directoryFor`, which
 * a cache-hit request answers from without a promise. `lists` is static and takes `subject` (no closure per request).
 */
export function directoryInMemory<A>(ctx: SessionContext, lists: (d: Directory, subject: A) => boolean, subject: A): Directory | undefined {
  const { cache } = ctx.isolate.services.directory;
  const current = cache.stored(KEY);
  if (!current) return undefined;
  const { settings } = ctx.isolate;
  const action = decide(current, lists(current, subject), Date.now(), {
    ttlMs: settings.AUTH_POLICY_CACHE_TTL_MS,
    recheckMs: settings.AUTH_DIRECTORY_RECHECK_MS,
  });
  if (action === 'reload') return undefined;
  // One background reload at a time: later requests in the window just answer from the copy.
  if (action === 'answer-and-refresh' && cache.stats().inFlight === 0) ctx.waitUntil(cache.get(KEY, (lc) => load(ctx, lc)));
  return current;
}

type DirectoryStats = { loaded: boolean; clients: number; keyPrefixes: number; complete: boolean; ageMs: number | null; loads: number; failures: number };

/** Size and age of this isolate's directory, for status (no names). */
export function directoryStats(directory: DirectoryService): DirectoryStats {
  const { cache } = directory;
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
export function listsClient(directory: DirectoryService, clientName: string): boolean {
  return directory.cache.peek(KEY)?.value?.clients.has(clientName) ?? false;
}
