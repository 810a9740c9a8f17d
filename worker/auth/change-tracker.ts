/**
 * What this isolate knows of the catalog's changes (docs/auth.md "The revocation bound"): the epoch it
 * has applied and since when it knows of every committed change, whichever way it heard (a batch
 * ack, the direct sink's flush, its own check). Pure: it decides, the caller's clock and caches act.
 */
import type { Change, Changes } from '../../drizzle/changes.js';
import type { LoadingCache } from './cache-types.js';

export type ChangeTracker = {
  /** Every change up to this epoch has been applied; undefined until the first read. */
  epoch: number | undefined;
  /** Every change committed before this instant (isolate clock, ms) has been applied. */
  checkedAt: number;
  /** When the isolate's own check last failed: it is not retried within the bound. */
  failedAt: number | undefined;
  /** Reads applied, changes applied, resets (every cache dropped), failed checks: for status. */
  counts: { reads: number; changes: number; resets: number; failures: number };
};

/** What the caches drop: key ids and client names, or everything. */
/** The isolate's tracker and its one epoch check at a time (a one-entry cache that expires at once). */
export type ChangesService = { readonly tracker: ChangeTracker; readonly check: LoadingCache<true> };

export type Drops = { all: true } | { all: false; keyIds: ReadonlySet<string>; clients: ReadonlySet<string> };

export const createChangeTracker = (): ChangeTracker => ({
  epoch: undefined,
  checkedAt: -Infinity,
  failedAt: undefined,
  counts: { reads: 0, changes: 0, resets: 0, failures: 0 },
});

/**
 * Whether a request must check the epoch before trusting the caches: the isolate has not heard
 * within `boundMs`, and its own check has not failed within it either (then the caches answer,
 * each entry within its TTL: the bound falls back to AUTH_CACHE_TTL_MS).
 */
export function mustCheck(t: ChangeTracker, now: number, boundMs: number): boolean {
  if (t.epoch !== undefined && now - t.checkedAt < boundMs) return false;
  return t.failedAt === undefined || now - t.failedAt >= boundMs;
}

/**
 * A lookup whose statement also read the catalog epoch (`epoch`) and began at `startedAt`: the
 * first one gives the isolate its epoch — what it caches from then on is read at that epoch or
 * later — and one read at an older epoch (a slow lookup) moves it back, so the next read
 * re-delivers what that lookup may have missed.
 */
export function noteLoaded(t: ChangeTracker, epoch: number, startedAt: number): void {
  if (t.epoch === undefined) {
    t.epoch = epoch;
    t.checkedAt = Math.max(t.checkedAt, startedAt);
  } else if (epoch < t.epoch) t.epoch = epoch;
}

/** A failed check at `now`. */
export function checkFailed(t: ChangeTracker, now: number): void {
  t.failedAt = now;
  t.counts.failures++;
}

/**
 * Takes `changes`, read from the catalog at `readAt` (isolate clock; no later than the read really
 * was), into the tracker; returns what the caches must drop, or undefined for nothing.
 */
export function advance(t: ChangeTracker, changes: Changes, readAt: number): Drops | undefined {
  t.checkedAt = Math.max(t.checkedAt, readAt);
  t.failedAt = undefined;
  t.counts.reads++;
  if (changes.reset) {
    t.epoch = Math.max(t.epoch ?? 0, changes.through);
    t.counts.resets++;
    return { all: true };
  }
  const known = t.epoch;
  if (known === undefined) return undefined; // a non-reset answer is for an isolate that has an epoch
  const fresh = changes.items.filter((c) => c.epoch > known);
  t.epoch = Math.max(known, changes.through);
  if (fresh.length === 0) return undefined;
  t.counts.changes += fresh.length;
  return dropsOf(fresh);
}

function dropsOf(changes: readonly Change[]): Drops {
  const keyIds = new Set<string>();
  const clients = new Set<string>();
  for (const c of changes) {
    if (c.kind === 'all') return { all: true };
    if (c.kind === 'key' && c.key_id !== null) keyIds.add(c.key_id);
    if (c.kind === 'client' && c.client_name !== null) clients.add(c.client_name);
  }
  return { all: false, keyIds, clients };
}
