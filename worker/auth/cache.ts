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
 *
 * Coalesced lookups (`getBatched`): a miss with no flight joins its group's open batch (whose leader
 * still waits for its session) and follows its own key's flight; the leader seals the batch when
 * its session is ready, reads every key in one query and settles each flight.
 */
import { pollFor, raceOwn, type PollResult } from '../admission/poll.js';
import { createBatches } from './lookup-batch.js';

import type { BatchLoad, CacheOutcome, CacheStats, LoadContext, LoadingCache, LoadingCacheOptions } from './cache-types.js';

export type { BatchLoad, CacheOutcome, CacheStats, LoadContext, LoadingCache, LoadingCacheOptions } from './cache-types.js';

type Entry<V> = { value: V | null; expiresAt: number };
type LoadResult<V> = { ok: true; value: V | null } | { ok: false; cause: unknown; cancelled: boolean };
/** Plain data only: followers read `result`, never a promise. */
type Flight<V> = { startedAt: number; result?: LoadResult<V> };

/** Creates an empty cache. */
export function createLoadingCache<V>(opts: LoadingCacheOptions): LoadingCache<V> {
  const entries = new Map<string, Entry<V>>();
  const flights = new Map<string, Flight<V>>();
  const batches = createBatches<Flight<V>>({ maxSize: Math.max(1, opts.maxBatch ?? 1), maxAgeMs: opts.flightTimeoutMs });
  const stats = { hits: 0, misses: 0, loads: 0, staleServed: 0, failures: 0, evictions: 0, superseded: 0, batched: 0 };

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
    if (flight.result) return; // settled already (its leader's request was cancelled)
    flight.result = result;
    if (flights.get(key) !== flight) {
      stats.superseded++;
      return;
    }
    flights.delete(key);
    if (result.ok) store(key, result.value);
  };

  const newFlight = (key: string, startedAt = opts.now()): Flight<V> => {
    const flight: Flight<V> = { startedAt };
    flights.set(key, flight);
    return flight;
  };
  const contextFor = (key: string, signal: AbortSignal | undefined): LoadContext => {
    const known = entries.get(key);
    return { signal, refresh: known !== undefined && known.value !== null };
  };
  const failed = (cause: unknown, cancelled: boolean): LoadResult<V> => ({ ok: false, cause, cancelled });

  /**
   * Runs `load` in this caller's request and waits for it on this caller's timer. If the request
   * is cancelled, `settleAll` hands the flight(s) back at once, from the abort event itself: workerd
   * may drop a cancelled request's continuations, so the load's own rejection might never run.
   */
  const run = <T>(flight: Flight<V>, loaded: Promise<T>, onLoaded: (v: T) => void, settleAll: (r: LoadResult<V>) => void, signal: AbortSignal | undefined) => {
    const onAbort = (): void => settleAll(failed(undefined, true));
    signal?.addEventListener('abort', onAbort, { once: true });
    const settled = loaded.then(onLoaded, (cause: unknown) => settleAll(failed(cause, signal?.aborted === true))).finally(() => signal?.removeEventListener('abort', onAbort));
    // The load is this caller's own I/O, so awaiting it directly is safe (and saves a re-check).
    return raceOwn(opts, settled.then(() => flight.result as LoadResult<V>), flight.startedAt + opts.flightTimeoutMs, signal);
  };

  /** Leads a new flight for `key`. */
  const lead = (key: string, load: (lc: LoadContext) => Promise<V | null>, signal: AbortSignal | undefined) => {
    const flight = newFlight(key);
    stats.loads++;
    const settleAll = (r: LoadResult<V>): void => settle(key, flight, r);
    return run(flight, load(contextFor(key, signal)), (value) => settleAll({ ok: true, value }), settleAll, signal);
  };

  /** Leads a new batch of `group` (refreshes and first-time lookups batch apart: they queue apart). */
  const leadBatch = (key: string, group: string, load: BatchLoad<V>, signal: AbortSignal | undefined) => {
    const flight = newFlight(key);
    stats.loads++;
    const batch = batches.open(group, { key, flight }, flight.startedAt);
    let queried: ReadonlySet<string> = new Set();
    const seal = (): string[] => {
      const keys = batches.seal(batch).map((m) => m.key);
      queried = new Set(keys);
      return keys;
    };
    const settleAll = (r: LoadResult<V>): void => {
      for (const m of batches.seal(batch)) settle(m.key, m.flight, r);
    };
    // A member the load never read (it did not seal) is handed back to look itself up.
    const onLoaded = (found: ReadonlyMap<string, V | null>): void => {
      for (const m of batches.seal(batch)) settle(m.key, m.flight, queried.has(m.key) ? { ok: true, value: found.get(m.key) ?? null } : failed(undefined, true));
    };
    return run(flight, load(contextFor(key, signal), seal), onLoaded, settleAll, signal);
  };

  /** Joins `group`'s open batch when there is one: this key's flight then ends with the batch. */
  const join = (key: string, group: string, signal: AbortSignal | undefined) => {
    const batch = batches.joinable(group, opts.now());
    const leader = batch?.members[0];
    if (!batch || !leader) return undefined;
    const flight = newFlight(key, leader.flight.startedAt); // lost with its leader, not later
    batch.members.push({ key, flight });
    stats.batched++;
    return follow(flight, signal);
  };
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

  type Wait = Promise<PollResult<LoadResult<V>>>;

  /**
   * A miss: follows the key's live flight, else `begin()` (join a batch or lead). At most two
   * rounds: following a flight whose leader was cancelled, then starting our own.
   */
  async function miss(key: string, begin: () => { wait: Wait; led: boolean }, signal: AbortSignal | undefined): Promise<CacheOutcome<V>> {
    stats.misses++;
    for (let round = 0; round < 2; round++) {
      if (signal?.aborted) return { ok: false, reason: 'cancelled', cause: undefined }; // starts no lookup
      const current = flights.get(key);
      const live = current && opts.now() - current.startedAt < opts.flightTimeoutMs ? current : undefined;
      const { wait, led } = live ? { wait: follow(live, signal), led: false } : begin();
      const waited = await wait;
      if (!waited.ok && waited.reason === 'cancelled') return { ok: false, reason: 'cancelled', cause: undefined };
      if (waited.ok && waited.value.ok) return { ok: true, value: waited.value.value, source: 'load' };
      if (waited.ok && !waited.value.ok && !led && waited.value.cancelled) continue; // the leader's request went away, not the database
      stats.failures++;
      const failure: CacheOutcome<V> =
        waited.ok && !waited.value.ok ? { ok: false, reason: 'load_failed', cause: waited.value.cause } : { ok: false, reason: 'flight_timeout', cause: undefined };
      return stale(key) ?? failure;
    }
    stats.failures++;
    return stale(key) ?? { ok: false, reason: 'load_failed', cause: undefined };
  }

  const cachedOutcome = (key: string): CacheOutcome<V> | undefined => {
    const cached = hit(key);
    if (!cached) return undefined;
    stats.hits++;
    return { ok: true, value: cached.value, source: 'cache' };
  };

  async function get(key: string, load: (lc: LoadContext) => Promise<V | null>, signal?: AbortSignal): Promise<CacheOutcome<V>> {
    return cachedOutcome(key) ?? miss(key, () => ({ wait: lead(key, load, signal), led: true }), signal);
  }

  async function getBatched(key: string, group: string, load: BatchLoad<V>, signal?: AbortSignal): Promise<CacheOutcome<V>> {
    const cached = cachedOutcome(key);
    if (cached) return cached;
    return miss(
      key,
      () => {
        // Refreshes queue ahead of first-time lookups, so the two never share a batch.
        const g = `${contextFor(key, signal).refresh ? 'refresh' : 'first'}:${group}`;
        const joined = join(key, g, signal);
        return joined ? { wait: joined, led: false } : { wait: leadBatch(key, g, load, signal), led: true };
      },
      signal,
    );
  }

  return {
    get,
    getBatched,
    peek(key) {
      const e = entries.get(key);
      return e ? { value: e.value, fresh: e.expiresAt > opts.now() } : undefined;
    },
    stats() {
      return { size: entries.size, inFlight: flights.size, ...stats };
    },
  };
}
