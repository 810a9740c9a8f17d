/**
 * The auth caches' policy: a bounded LRU with a positive TTL (the revocation bound), a negative TTL,
 * single-flight loads per key, and optional fail-static. Pure: clock and timers are injected.
 *
 * Single-flight without cross-request continuations (docs/architecture.md "The Workers rule"): only the leader awaits the load (its own I/O);
 * it writes the outcome into the flight as plain data. Followers never await the leader's promise:
 * they re-check the flight on timers of their own (poll.ts) until the outcome lands, their deadline
 * passes or their request is cancelled. When the leader's own request was cancelled, a follower
 * that is still wanted starts a new flight and does its own I/O. Only the current flight may write
 * the cache, so a superseded load that settles late never overwrites newer data.
 */
import type { TimerAdapter } from '../admission/budget.js';
import { pollFor, type PollResult } from '../admission/poll.js';

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
};

/** What the loader learns about the call: its leader's signal, and whether a known-good entry is being re-read. */
export type LoadContext = { signal: AbortSignal | undefined; refresh: boolean };

export type LoadingCache<V> = {
  /**
   * Cached value for `key`, else the result of `load` shared with concurrent callers. Never rejects.
   * `signal` ends only this caller's wait; a leader's signal is also handed to its load.
   */
  get(key: string, load: (lc: LoadContext) => Promise<V | null>, signal?: AbortSignal): Promise<CacheOutcome<V>>;
  /** The stored entry even when expired (no LRU touch, no counters), or undefined. */
  peek(key: string): { value: V | null; fresh: boolean } | undefined;
  stats(): CacheStats;
};

type Entry<V> = { value: V | null; expiresAt: number };
type LoadResult<V> = { ok: true; value: V | null } | { ok: false; cause: unknown; cancelled: boolean };
/** Plain data only: followers read `result`, never a promise. */
type Flight<V> = { startedAt: number; result?: LoadResult<V> };

/** Creates an empty cache. */
export function createLoadingCache<V>(opts: LoadingCacheOptions): LoadingCache<V> {
  const entries = new Map<string, Entry<V>>();
  const flights = new Map<string, Flight<V>>();
  const stats = { hits: 0, misses: 0, loads: 0, staleServed: 0, failures: 0, evictions: 0, superseded: 0 };

  const store = (key: string, value: V | null): void => {
    entries.delete(key); // re-insert: Map order is the LRU order
    entries.set(key, { value, expiresAt: opts.now() + (value === null ? opts.negativeTtlMs : opts.ttlMs) });
    while (entries.size > opts.maxEntries) {
      const oldest = entries.keys().next();
      if (oldest.done) break;
      entries.delete(oldest.value);
      stats.evictions++;
    }
  };

  /** Settles `flight` with `result`; only the current flight of `key` may store or clear it. */
  const settle = (key: string, flight: Flight<V>, result: LoadResult<V>): void => {
    flight.result = result;
    if (flights.get(key) !== flight) {
      stats.superseded++;
      return;
    }
    flights.delete(key);
    if (result.ok) store(key, result.value);
  };

  /** Leads a new flight: runs `load` in this caller's request and waits for it on this caller's timer. */
  const lead = async (key: string, load: (lc: LoadContext) => Promise<V | null>, signal: AbortSignal | undefined) => {
    const flight: Flight<V> = { startedAt: opts.now() };
    flights.set(key, flight);
    stats.loads++;
    const known = entries.get(key);
    const lc: LoadContext = { signal, refresh: known !== undefined && known.value !== null };
    const settled = load(lc).then(
      (value) => settle(key, flight, { ok: true, value }),
      (cause: unknown) => settle(key, flight, { ok: false, cause, cancelled: signal?.aborted === true }),
    );
    // The load is this caller's own I/O, so awaiting it directly is safe (and saves a re-check).
    return raceOwn(settled.then(() => flight.result as LoadResult<V>), flight.startedAt + opts.flightTimeoutMs, signal);
  };

  /** `p`, or timeout at `deadline`, or cancellation: every wake-up belongs to the calling request. */
  const raceOwn = <T>(p: Promise<T>, deadline: number, signal: AbortSignal | undefined): Promise<PollResult<T>> =>
    new Promise((resolve) => {
      const finish = (r: PollResult<T>): void => {
        opts.clearTimer(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(r);
      };
      const onAbort = (): void => finish({ ok: false, reason: 'cancelled' });
      const timer = opts.setTimer(() => finish({ ok: false, reason: 'timeout' }), Math.max(0, deadline - opts.now()));
      signal?.addEventListener('abort', onAbort, { once: true });
      void p.then((value) => finish({ ok: true, value }));
    });

  /** Waits for `flight` on this caller's own timers: its outcome, its deadline, or this caller's cancellation. */
  const follow = (flight: Flight<V>, signal: AbortSignal | undefined) =>
    pollFor(opts, () => flight.result, flight.startedAt + opts.flightTimeoutMs, signal);

  /** Fail-static: a found value that expired less than `staleIfUnavailableMs` ago. */
  const stale = (key: string): CacheOutcome<V> | undefined => {
    const e = entries.get(key);
    if (!e || e.value === null || opts.staleIfUnavailableMs <= 0) return undefined;
    if (opts.now() - e.expiresAt >= opts.staleIfUnavailableMs) return undefined;
    stats.staleServed++;
    return { ok: true, value: e.value, source: 'stale' };
  };

  const hit = (key: string): Entry<V> | undefined => {
    const e = entries.get(key);
    if (!e || e.expiresAt <= opts.now()) return undefined;
    entries.delete(key);
    entries.set(key, e);
    return e;
  };

  async function get(key: string, load: (lc: LoadContext) => Promise<V | null>, signal?: AbortSignal): Promise<CacheOutcome<V>> {
    const cached = hit(key);
    if (cached) {
      stats.hits++;
      return { ok: true, value: cached.value, source: 'cache' };
    }
    stats.misses++;
    // At most two rounds: following a flight whose leader was cancelled, then leading our own.
    for (let round = 0; round < 2; round++) {
      if (signal?.aborted) return { ok: false, reason: 'cancelled', cause: undefined }; // starts no lookup
      const current = flights.get(key);
      const live = current && opts.now() - current.startedAt < opts.flightTimeoutMs ? current : undefined;
      const waited = live ? await follow(live, signal) : await lead(key, load, signal);
      if (!waited.ok && waited.reason === 'cancelled') return { ok: false, reason: 'cancelled', cause: undefined };
      if (waited.ok && waited.value.ok) return { ok: true, value: waited.value.value, source: 'load' };
      if (waited.ok && !waited.value.ok && live && waited.value.cancelled) continue; // the leader's request went away, not the database
      stats.failures++;
      const failure: CacheOutcome<V> =
        waited.ok && !waited.value.ok ? { ok: false, reason: 'load_failed', cause: waited.value.cause } : { ok: false, reason: 'flight_timeout', cause: undefined };
      return stale(key) ?? failure;
    }
    stats.failures++;
    return stale(key) ?? { ok: false, reason: 'load_failed', cause: undefined };
  }

  return {
    get,
    peek(key) {
      const e = entries.get(key);
      return e ? { value: e.value, fresh: e.expiresAt > opts.now() } : undefined;
    },
    stats() {
      return { size: entries.size, inFlight: flights.size, ...stats };
    },
  };
}
