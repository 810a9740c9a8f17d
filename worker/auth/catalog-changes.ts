/**
 * Catalog changes applied to this isolate's auth caches (docs/auth.md "The revocation bound"). Changes
 * arrive with a batch ack (flusher sink), the direct sink's flush, or — when neither has brought
 * news within AUTH_CHANGE_BOUND_MS — the isolate's own check, run by the request that needs the
 * caches: one coalesced read per isolate, never one per request. Followers of that read wait on
 * their own timers (cache.ts), never on the leader's promise.
 */
import { changesFor, changesSince, parseChangeRead, type Changes } from '../../drizzle/changes.js';
import type { Settings } from '../config.js';
import type { SessionContext } from '../db/with-session.js';
import { log } from '../log.js';
import { authQuery } from './auth-query.js';
import type { LoadContext, LoadingCache } from './cache.js';
import type { DirectoryService } from './directory.js';
import { advance, checkFailed, createChangeTracker, mustCheck, noteLoaded, type ChangesService, type ChangeTracker } from './change-tracker.js';
import { createSingleFlight } from './lookup-timeout.js';
import type { ClientPolicy, KeyRecord } from './records.js';

/** The isolate's change tracking (one of its services): what it knows, and its single-flight check. */
export const createChangesService = (settings: Settings): ChangesService => ({
  tracker: createChangeTracker(),
  check: createSingleFlight<true>(settings),
});

/** The caches a change drops entries from. */
export type ChangeTargets = {
  readonly changes: ChangesService;
  readonly keyCache: LoadingCache<KeyRecord>;
  readonly policyCache: LoadingCache<ClientPolicy>;
  readonly directory: DirectoryService;
};

/**
 * Applies `changes`, read from the catalog no earlier than `readAt` (isolate clock), at once: a
 * changed key leaves the key cache, a changed client empties the directory (reloaded by the next
 * request that needs it) and its per-name policy. Synchronous: the caches are plain data.
 */
export function applyChanges(targets: ChangeTargets, changes: Changes, readAt: number): void {
  const drops = advance(targets.changes.tracker, changes, readAt);
  if (!drops) return;
  if (drops.all) {
    targets.keyCache.invalidate();
    targets.policyCache.invalidate();
    targets.directory.cache.invalidate();
    return;
  }
  const { keyIds, clients } = drops;
  if (keyIds.size > 0) targets.keyCache.invalidate((record) => record !== null && keyIds.has(record.id));
  if (clients.size > 0) {
    targets.policyCache.invalidate((policy) => policy === null || clients.has(policy.clientName));
    targets.directory.cache.invalidate();
  }
}

const CHECK = 'epoch';

/** The select-list item auth lookups add: the catalog epoch their statement read at. */
export const EPOCH_COLUMN = '(SELECT epoch FROM catalog_epoch WHERE id = 1) AS catalog_epoch';

/** Notes the epoch a lookup begun at `startedAt` read at (from its first row; none without rows). */
export function noteLookup(targets: Pick<ChangeTargets, 'changes'>, rows: readonly { catalog_epoch?: unknown }[], startedAt: number): void {
  const epoch = Number(rows[0]?.catalog_epoch ?? Number.NaN);
  if (Number.isSafeInteger(epoch) && epoch >= 0) noteLoaded(targets.changes.tracker, epoch, startedAt);
}

/**
 * Runs `decide` (the auth decision); when it admits on knowledge of catalog changes older than the
 * bound, checks the epoch (coalesced) and, if the check dropped anything, decides again on what it
 * left in the caches. A refusal stands as it is: refusing on older knowledge is never the unsafe side.
 */
export async function admittedOnFreshKnowledge<V extends object>(ctx: SessionContext, signal: AbortSignal | undefined, decide: () => Promise<V>): Promise<V> {
  const { tracker } = ctx.isolate.services.changes;
  const applied = tracker.counts.changes + tracker.counts.resets; // before deciding: a change landing meanwhile counts too
  const verdict = await decide();
  if (!('admitted' in verdict) || !mustCheck(tracker, Date.now(), ctx.isolate.settings.AUTH_CHANGE_BOUND_MS)) return verdict;
  await changesChecked(ctx, signal);
  return tracker.counts.changes + tracker.counts.resets === applied ? verdict : decide();
}

/**
 * `verdict` (decided from memory), unless it admits while the isolate's knowledge of catalog
 * changes is older than the bound: then undefined, and the caller takes the path that checks first.
 * A refusal from memory stands: refusing on older knowledge is never the unsafe side.
 */
export function unlessStaleAdmission<V extends object>(ctx: SessionContext, verdict: V | undefined): V | undefined {
  if (!verdict || !('admitted' in verdict)) return verdict;
  return mustCheck(ctx.isolate.services.changes.tracker, Date.now(), ctx.isolate.settings.AUTH_CHANGE_BOUND_MS) ? undefined : verdict;
}

/** A found, fresh entry of `cache` (none counted as a hit): the record a check may just have dropped. */
export function freshRecord<V>(cache: LoadingCache<V>, key: string): V | undefined {
  const entry = cache.peek(key);
  return entry?.fresh && entry.value !== null ? entry.value : undefined;
}

/**
 * Undefined when the caches may be trusted as they are; else this request's wait for the isolate's
 * epoch check (never rejects). A check that cannot run lets the caches answer — each entry within
 * AUTH_CACHE_TTL_MS — and is not retried within the bound.
 */
function changesChecked(ctx: SessionContext, signal: AbortSignal | undefined): Promise<void> | undefined {
  const { services, settings } = ctx.isolate;
  const { tracker, check } = services.changes;
  if (!mustCheck(tracker, Date.now(), settings.AUTH_CHANGE_BOUND_MS)) return undefined;
  return check
    .get(CHECK, (lc) => readChanges(ctx, lc), signal)
    .then((outcome) => {
      if (outcome.ok || outcome.reason === 'cancelled' || !mustCheck(tracker, Date.now(), settings.AUTH_CHANGE_BOUND_MS)) return;
      checkFailed(tracker, Date.now());
      const cause = outcome.cause instanceof Error ? outcome.cause.name : undefined;
      log('warn', 'auth_change_check_failed', {
        requestId: ctx.requestId,
        reason: outcome.reason,
        cause,
        message: 'catalog changes could not be read: cached keys and clients answer within AUTH_CACHE_TTL_MS',
      });
    });
}

/** The check itself: the changes after the isolate's epoch, on the auth target, applied before it returns. */
async function readChanges(ctx: SessionContext, lc: LoadContext): Promise<true> {
  const { services } = ctx.isolate;
  const since = services.changes.tracker.epoch;
  const readAt = Date.now();
  const st = changesSince(since ?? 0);
  const rows = await authQuery(ctx, 'policy', undefined, lc, async (s) => (await s.query<{ feed: unknown }>(st.text, st.params)).rows);
  const read = parseChangeRead(rows[0]?.feed);
  if (!read) throw new Error('catalog change log answer not understood');
  applyChanges(services, changesFor(read, since ?? 0, since, 0), readAt);
  return true;
}

/** This isolate's change tracking, for status: its epoch, how old its knowledge is, and its counts. */
export function changesSnapshot(
  targets: Pick<ChangeTargets, 'changes'>,
  now: number,
): { epoch: number | null; ageMs: number | null } & ChangeTracker['counts'] {
  const { tracker } = targets.changes;
  return { epoch: tracker.epoch ?? null, ageMs: tracker.epoch === undefined ? null : Math.max(0, now - tracker.checkedAt), ...tracker.counts };
}
