/** The auth loading cache's options, outcomes, counters and loader contracts (cache.ts). */
import type { TimerAdapter } from '../admission/clock.js';

export type LoadingCacheOptions = TimerAdapter & {
  maxEntries: number;
  /** Lifetime of a found value. */
  ttlMs: number;
  /** Lifetime of "not found" (`null`). */
  negativeTtlMs: number;
  /** Fail-static window: a found value expired less than this long ago may serve when loading fails. */
  staleIfUnavailableMs: number;
  /** How long any caller waits for one load before giving up (and when a new leader may start). */
  flightTimeoutMs: number;
  /** Most keys one batched load reads (`getBatched`); 1 = no coalescing. */
  maxBatch?: number;
  now: () => number;
};

export type CacheOutcome<V> =
  | { ok: true; value: V | null; source: 'cache' | 'load' | 'stale' }
  | { ok: false; reason: 'load_failed' | 'flight_timeout' | 'cancelled'; cause: unknown };

export type CacheStats = {
  size: number;
  hits: number;
  misses: number;
  /** Loads started (DB lookups); misses minus this = callers served by single-flight. */
  loads: number;
  staleServed: number;
  failures: number;
  evictions: number;
  inFlight: number;
  /** Loads that settled after a newer flight replaced them: their result was dropped. */
  superseded: number;
  /** Misses that joined another key's batched load instead of starting one. */
  batched: number;
};

/** What the loader learns about the call: its leader's signal, and whether a known-good entry is being re-read. */
export type LoadContext = { signal: AbortSignal | undefined; refresh: boolean };

/**
 * A batched load: calls `seal()` once its session is ready (no key joins after that), reads every
 * key `seal()` returns in one go and maps each found key to its value (a key left out = not found).
 */
export type BatchLoad<V> = (lc: LoadContext, seal: () => string[]) => Promise<ReadonlyMap<string, V | null>>;

export type LoadingCache<V> = {
  /**
   * Cached value for `key`, else the result of `load` shared with concurrent callers. Never rejects.
   * `signal` ends only this caller's wait; a leader's signal is also handed to its load.
   */
  get(key: string, load: (lc: LoadContext) => Promise<V | null>, signal?: AbortSignal): Promise<CacheOutcome<V>>;
  /** As `get`, but a miss joins the open batch of `group` when there is one (see above). */
  getBatched(key: string, group: string, load: BatchLoad<V>, signal?: AbortSignal): Promise<CacheOutcome<V>>;
  /**
   * A fresh found value (marked used for eviction, counted as a hit), else undefined: the synchronous cache-hit
   * path, with no promise or outcome object. Misses and "not found" go through `get`.
   */
  found(key: string): V | undefined;
  /** The stored value even when expired (not marked used, no counters, no object built), or undefined. */
  stored(key: string): V | null | undefined;
  /** The stored entry even when expired (not marked used, no counters), or undefined. */
  peek(key: string): { value: V | null; fresh: boolean } | undefined;
  stats(): CacheStats;
  /**
   * Drops the entries `match` selects (every entry without it) and every load in flight, whose
   * result is then handed to its callers but not stored: a catalog change was applied
   * (docs/auth.md "The revocation bound"). Returns the entries dropped.
   */
  invalidate(match?: (value: V | null) => boolean): number;
};
