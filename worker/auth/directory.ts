/**
 * The client directory: every client's policy and the prefixes of its live keys, loaded in one
 * query and held by the isolate, so that unknown client names and legacy keys with unknown
 * prefixes are refused from memory. Pure: building it from rows, and deciding per request whether
 * the copy in memory may answer or a reload must come first.
 *
 * Freshness rules (age = now − loadedAt; ttl = AUTH_POLICY_CACHE_TTL_MS; recheck = AUTH_DIRECTORY_RECHECK_MS):
 * - a known name is answered from memory while age < 2 × ttl; from age ttl on, a reload runs in
 *   the background (stale-while-revalidate); past 2 × ttl the request waits for the reload;
 * - an unknown name (or unknown legacy prefix) is refused from memory while age < recheck; past
 *   that, the request waits for one reload first. So however many random names arrive, the
 *   isolate reloads at most once per `recheck`, and a client added to the catalog is known within
 *   `recheck` (at most `ttl`) of its creation.
 * When a reload cannot run, the copy answers only what it may still say: a listed name within
 * 2 × ttl + AUTH_STALE_IF_UNAVAILABLE_MS, and "not listed" only while age < recheck; otherwise the
 * request gets the retryable 503, never a definitive refusal on knowledge the gateway could not
 * refresh. A failed reload is not retried within `recheck` (no lookup per request while the
 * catalog is unavailable).
 * When the catalog holds more than AUTH_DIRECTORY_MAX_CLIENTS clients the directory is
 * incomplete: names it does not list fall back to one (cached) lookup per name.
 */
import type { LoadingCache } from './cache-types.js';
import type { ClientPolicy, Enforcement } from './records.js';
import { rateLimitOf } from '../ratelimit/limit.js';

/** A client listing more live keys than this has no prefix list: its legacy keys are looked up. */
export const MAX_PREFIXES_PER_CLIENT = 1000;

export type DirectoryClient = ClientPolicy & {
  /** Prefixes of its non-revoked keys; null when it has more than MAX_PREFIXES_PER_CLIENT. */
  keyPrefixes: ReadonlySet<string> | null;
};

export type Directory = {
  loadedAt: number;
  /** False when the catalog held more clients than the bound: absent names are not proof. */
  complete: boolean;
  clients: ReadonlyMap<string, DirectoryClient>;
  /** Key prefix → client name, for every listed prefix. */
  prefixOwner: ReadonlyMap<string, string>;
  /** True when `prefixOwner` holds every live key's prefix (complete, and no client over the list bound). */
  prefixesComplete: boolean;
};

/**
 * The isolate's directory: the one-entry cache (entries expire at once: `peek` answers, `get`
 * always (re)loads — single-flight) and when its last foreground reload failed (persists with the
 * isolate, so a failing catalog costs one reload per AUTH_DIRECTORY_RECHECK_MS, not one per request).
 */
export type DirectoryService = { readonly cache: LoadingCache<Directory>; failedAt: number | undefined };

export type DirectoryRow = {
  client_name: string;
  database_url: string | null;
  is_active: boolean;
  is_frozen: boolean;
  api_key_enforcement: string | null;
  key_prefixes: string[] | null;
  /** The client's default rate limit (absent in rows of older callers = none). */
  rate_limit_requests?: number | null;
  rate_limit_period_s?: number | null;
};

/** A `clients` row as a policy: the client's enforcement, else the gateway default. One mapping for the directory and the per-name lookup. */
export function policyOfRow(row: Omit<DirectoryRow, 'key_prefixes'>, defaultEnforcement: Enforcement): ClientPolicy {
  const configured = row.api_key_enforcement;
  return {
    clientName: row.client_name,
    databaseUrl: row.database_url,
    isActive: row.is_active,
    isFrozen: row.is_frozen,
    enforcement: configured === 'required' || configured === 'optional' ? configured : defaultEnforcement,
    rateLimit: rateLimitOf(row.rate_limit_requests, row.rate_limit_period_s),
  };
}

/** Builds the directory from at most `maxClients + 1` rows (one more than the bound means "incomplete"). */
export function buildDirectory(rows: readonly DirectoryRow[], opts: { loadedAt: number; maxClients: number; defaultEnforcement: Enforcement }): Directory {
  const clients = new Map<string, DirectoryClient>();
  const prefixOwner = new Map<string, string>();
  let everyPrefixListed = true;
  for (const row of rows.slice(0, opts.maxClients)) {
    const prefixes = row.key_prefixes ?? [];
    const listed = prefixes.length <= MAX_PREFIXES_PER_CLIENT ? new Set(prefixes) : null;
    if (!listed) everyPrefixListed = false;
    for (const p of listed ?? []) prefixOwner.set(p, row.client_name);
    clients.set(row.client_name, { ...policyOfRow(row, opts.defaultEnforcement), keyPrefixes: listed });
  }
  const complete = rows.length <= opts.maxClients;
  return { loadedAt: opts.loadedAt, complete, clients, prefixOwner, prefixesComplete: complete && everyPrefixListed };
}

export type Freshness = { ttlMs: number; recheckMs: number };

/**
 * What to do for a request about `found` (whether the directory lists what it asks about):
 * `answer` from memory, `answer-and-refresh` (reload in the background), or `reload` first.
 */
export function decide(dir: Directory | undefined, found: boolean, now: number, f: Freshness): 'answer' | 'answer-and-refresh' | 'reload' {
  if (!dir) return 'reload';
  const age = now - dir.loadedAt;
  if (!found) return age < f.recheckMs ? 'answer' : 'reload';
  if (age < f.ttlMs) return 'answer';
  return age < 2 * f.ttlMs ? 'answer-and-refresh' : 'reload';
}

/**
 * After a reload that could not run (now, or within `recheck`): whether the copy may still answer
 * a request about `found`. A listed name is served within the fail-static window; "not listed"
 * is a definitive refusal, so it is said only on knowledge loaded within `recheck`.
 */
export function answersWithoutReload(dir: Directory, found: boolean, now: number, f: Freshness & { staleIfUnavailableMs: number }): boolean {
  const age = now - dir.loadedAt;
  return found ? age < 2 * f.ttlMs + f.staleIfUnavailableMs : age < f.recheckMs;
}

/** Whether a reload failed at `failedAt` (after the copy was loaded) recently enough not to try again at `now`. */
export function reloadBackingOff(dir: Directory | undefined, failedAt: number | undefined, now: number, f: Freshness): boolean {
  if (failedAt === undefined || (dir !== undefined && dir.loadedAt >= failedAt)) return false;
  return now - failedAt < f.recheckMs;
}

export type KeyCheck = 'listed' | 'unlisted' | 'unknown';

/**
 * Whether a legacy key's `prefix` is one of the directory's live keys (of `clientName` when given):
 * `unknown` when the directory cannot tell (incomplete, or the client lists too many keys).
 */
export function checkPrefix(dir: Directory, prefix: string, clientName: string | undefined): KeyCheck {
  if (clientName !== undefined) {
    const client = dir.clients.get(clientName);
    if (!client) return dir.complete ? 'unlisted' : 'unknown';
    if (client.keyPrefixes === null) return 'unknown';
    return client.keyPrefixes.has(prefix) ? 'listed' : 'unlisted';
  }
  if (dir.prefixOwner.has(prefix)) return 'listed';
  return dir.prefixesComplete ? 'unlisted' : 'unknown';
}
