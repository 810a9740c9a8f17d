/**
 * The auth caches' policy: a bounded LRU with a positive TTL (the revocation bound), a negative TTL,
 * single-flight loads per key, and optional fail-static. Pure: clock and timers are injected.
 *
 * Single-flight across requests has the Workers hazard of docs/architecture.md "The Workers rule": the leader's request may end
 * and its promise never settle for others. So every caller (leader or follower) races the flight
 * against its own timer, and a flight older than `flightTimeoutMs` is replaced by a new one.
 */
import type { TimerAdapter } from '../admission/budget.js';

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
};

export type LoadingCache<V> = {
  /**
   * Cached value for `key`, else the result of `load` shared with concurrent callers. Never rejects.
   * `signal` ends only this caller's wait: the shared load goes on for the others.
   */
  get(key: string, load: () => Promise<V | null>, signal?: AbortSignal): Promise<CacheOutcome<V>>;
  stats(): CacheStats;
};

type Entry<V> = { value: V | null; expiresAt: number };
type LoadResult<V> = { ok: true; value: V | null } | { ok: false; cause: unknown };
type Flight<V> = { startedAt: number; promise: Promise<LoadResult<V>> };

const TIMED_OUT = Symbol('timed out');
const CANCELLED = Symbol('cancelled');

/** Creates an empty cache. */
export function createLoadingCache<V>(opts: LoadingCacheOptions): LoadingCache<V> {
  const entries = new Map<string, Entry<V>>();
  const flights = new Map<string, Flight<V>>();
  const stats = { hits: 0, misses: 0, loads: 0, staleServed: 0, failures: 0, evictions: 0 };

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

  const startFlight = (key: string, load: () => Promise<V | null>): Flight<V> => {
    stats.loads++;
    const flight: Flight<V> = {
      startedAt: opts.now(),
      promise: load().then(
        (value): LoadResult<V> => {
          store(key, value);
          return { ok: true, value };
        },
        (cause: unknown): LoadResult<V> => ({ ok: false, cause }),
      ),
    };
    flights.set(key, flight);
    void flight.promise.then(() => {
      if (flights.get(key) === flight) flights.delete(key);
    });
    return flight;
  };

  const waitFor = (flight: Flight<V>, signal: AbortSignal | undefined): Promise<LoadResult<V> | typeof TIMED_OUT | typeof CANCELLED> => {
    const remaining = flight.startedAt + opts.flightTimeoutMs - opts.now();
    if (remaining <= 0) return Promise.resolve(TIMED_OUT);
    if (signal?.aborted) return Promise.resolve(CANCELLED);
    return new Promise((resolve) => {
      const onAbort = (): void => finish(CANCELLED);
      const timer = opts.setTimer(() => finish(TIMED_OUT), remaining);
      function finish(r: LoadResult<V> | typeof TIMED_OUT | typeof CANCELLED): void {
        opts.clearTimer(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(r);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      void flight.promise.then(finish);
    });
  };

  /** Fail-static: a found value that expired less than `staleIfUnavailableMs` ago. */
  const stale = (key: string): CacheOutcome<V> | undefined => {
    const e = entries.get(key);
    if (!e || e.value === null || opts.staleIfUnavailableMs <= 0) return undefined;
    if (opts.now() - e.expiresAt >= opts.staleIfUnavailableMs) return undefined;
    stats.staleServed++;
    return { ok: true, value: e.value, source: 'stale' };
  };

  return {
    async get(key, load, signal) {
      const t = opts.now();
      const e = entries.get(key);
      if (e && e.expiresAt > t) {
        stats.hits++;
        entries.delete(key);
        entries.set(key, e);
        return { ok: true, value: e.value, source: 'cache' };
      }
      stats.misses++;
      let flight = flights.get(key);
      if (!flight || t - flight.startedAt >= opts.flightTimeoutMs) flight = startFlight(key, load);
      const result = await waitFor(flight, signal);
      if (result === CANCELLED) return { ok: false, reason: 'cancelled', cause: undefined };
      if (result !== TIMED_OUT && result.ok) return { ok: true, value: result.value, source: 'load' };
      stats.failures++;
      return (
        stale(key) ??
        (result === TIMED_OUT ? { ok: false, reason: 'flight_timeout', cause: undefined } : { ok: false, reason: 'load_failed', cause: result.cause })
      );
    },
    stats() {
      return { size: entries.size, inFlight: flights.size, ...stats };
    },
  };
}
