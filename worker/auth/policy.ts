/**
 * Client policy: effective API-key enforcement (`clients.api_key_enforcement` ??
 * `API_KEY_ENFORCEMENT_DEFAULT`) plus active/frozen. Answered from the isolate's client directory
 * (client-directory.ts); only when the directory is incomplete (more clients than its bound) is a
 * name it does not list read on its own — cached per name, single-flight, under the fair share.
 */
import type { Settings } from '../config.js';
import type { SessionContext } from '../db/with-session.js';
import { systemClock } from '../admission/clock.js';
import { createLoadingCache, type CacheOutcome } from './cache.js';
import { lookupTimeoutMs } from './lookup-timeout.js';
import { authQuery } from './auth-query.js';
import { directoryFor, directoryInMemory } from './client-directory.js';
import { policyOfRow, type Directory, type DirectoryRow } from './directory.js';
import type { ClientPolicy } from './records.js';

/** Client names the catalog accepts (its CHECK constraint); anything else cannot exist. */
export const CLIENT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

/** The per-name policy cache, used only beyond the directory's bound (one of the isolate's services). */
export const createPolicyCache = (settings: Settings) =>
  createLoadingCache<ClientPolicy>({
    maxEntries: settings.AUTH_CACHE_MAX_ENTRIES,
    ttlMs: settings.AUTH_POLICY_CACHE_TTL_MS,
    negativeTtlMs: settings.AUTH_NEGATIVE_CACHE_TTL_MS,
    staleIfUnavailableMs: settings.AUTH_STALE_IF_UNAVAILABLE_MS,
    flightTimeoutMs: lookupTimeoutMs(settings),
    ...systemClock,
  });

/** A `clients` row as the per-name policy query reads it. */
type PolicyRow = Omit<DirectoryRow, 'key_prefixes'>;

/**
 * The policy of `clientName` (null when no such client), from the directory, or for a name an
 * incomplete directory does not list, from one shared DB read. `signal` ends only this caller's wait.
 */
export async function loadClientPolicy(ctx: SessionContext, clientName: string, signal?: AbortSignal): Promise<CacheOutcome<ClientPolicy>> {
  const answer = await directoryFor(ctx, (d) => answersFor(d, clientName), signal);
  if (!answer.ok) return answer.outcome as CacheOutcome<ClientPolicy>;
  const listed = answer.directory.clients.get(clientName);
  if (listed) return { ok: true, value: listed, source: 'cache' };
  if (answer.directory.complete) return { ok: true, value: null, source: 'cache' };
  return loadPolicyByName(ctx, clientName, signal);
}

/** Whether the directory can answer for `clientName`: it lists the name, or it lists every client. */
const answersFor = (d: Directory, clientName: string): boolean => d.clients.has(clientName) || !d.complete;

/**
 * The policy of `clientName` when memory answers without waiting (the directory, or a cached
 * per-name read; null = no such client), else undefined: the synchronous half of loadClientPolicy.
 */
export function policyInMemory(ctx: SessionContext, clientName: string): ClientPolicy | null | undefined {
  const directory = directoryInMemory(ctx, answersFor, clientName);
  if (!directory) return undefined;
  const listed = directory.clients.get(clientName);
  if (listed) return listed;
  return directory.complete ? null : ctx.isolate.services.policyCache.found(clientName);
}

function loadPolicyByName(ctx: SessionContext, clientName: string, signal: AbortSignal | undefined): Promise<CacheOutcome<ClientPolicy>> {
  const { settings } = ctx.isolate;
  return ctx.isolate.services.policyCache.get(
    clientName,
    async (lc) => {
      const rows = await authQuery(
        ctx,
        'policy',
        clientName,
        lc,
        async (s) =>
          (
            await s.query<PolicyRow>(
              'SELECT client_name, database_url, is_active, is_frozen, api_key_enforcement, rate_limit_requests, rate_limit_period_s FROM clients WHERE client_name = $1',
              [clientName],
            )
          ).rows,
      );
      const row = rows[0];
      return row ? policyOfRow(row, settings.API_KEY_ENFORCEMENT_DEFAULT) : null;
    },
    signal,
  );
}
