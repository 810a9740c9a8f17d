/**
 * The auth caches' policy: bounded, with a positive TTL (the revocation bound), a negative TTL,
 * single-flight loads per key, and optional fail-static. Pure: clock and timers are injected.
 * Eviction is second-chance, close to LRU (cache-entries.ts).
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
import { createBatches, type Batches } from './lookup-batch.js';
import { storeEntry, type Entry } from './cache-entries.js';

import type { BatchLoad, CacheOutcome, CacheStats, LoadContext, LoadingCache, LoadingCacheOptions } from './cache-types.js';

export type { BatchLoad, CacheOutcome, CacheStats, LoadContext, LoadingCache, LoadingCacheOptions } from './cache-types.js';

type LoadResult<V> = { ok: true; value: V | null } | { ok: false; cause: unknown; cancelled: boolean };
/** Plain data only: followers read `result`, never a promise. */
type Flight<V> = { startedAt: number; result?: LoadResult<V> };

/** Creates an empty cache. */
export function createLoadingCache<V>(opts: LoadingCacheOptions): LoadingCache<V> {
  return new Cache<V>(opts);
}

type Wait<V> = Promise<PollResult<LoadResult<V>>>;

class Cache<V> implements LoadingCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private readonly flights = new Map<string, Flight<V>>();
  private readonly batches: Batches<Flight<V>>;
  private readonly counts = { hits: 0, misses: 0, loads: 0, staleServed: 0, failures: 0, evictions: 0, superseded: 0, batched: 0 };

  constructor(private readonly opts: LoadingCacheOptions) {
    this.batches = createBatches<Flight<V>>({ maxSize: Math.max(1, opts.maxBatch ?? 1), maxAgeMs: opts.flightTimeoutMs });
  }

  get(key: string, load: (lc: LoadContext) => Promise<V | null>, signal?: AbortSignal): Promise<CacheOutcome<V>> {
    const cached = this.cachedOutcome(key);
    if (cached) return Promise.resolve(cached);
    return this.miss(key, () => ({ wait: this.lead(key, load, signal), led: true }), signal);
  }

  getBatched(key: string, group: string, load: BatchLoad<V>, signal?: AbortSignal): Promise<CacheOutcome<V>> {
    const cached = this.cachedOutcome(key);
    if (cached) return Promise.resolve(cached);
    const begin = () => {
      // Refreshes queue ahead of first-time lookups, so the two never share a batch.
      const g = `${this.contextFor(key, signal).refresh ? 'refresh' : 'first'}:${group}`;
      const joined = this.join(key, g, signal);
      return joined ? { wait: joined, led: false } : { wait: this.leadBatch(key, g, load, signal), led: true };
    };
    return this.miss(key, begin, signal);
  }

  found(key: string): V | undefined {
    const e = this.entries.get(key);
    if (!e || e.value === null || e.expiresAt <= this.opts.now()) return undefined;
    e.used = true;
    this.counts.hits++;
    return e.value;
  }

  peek(key: string): { value: V | null; fresh: boolean } | undefined {
    const e = this.entries.get(key);
    return e ? { value: e.value, fresh: e.expiresAt > this.opts.now() } : undefined;
  }

  stored(key: string): V | null | undefined {
    return this.entries.get(key)?.value;
  }

  stats(): CacheStats {
    return { size: this.entries.size, inFlight: this.flights.size, ...this.counts };
  }

  invalidate(match?: (value: V | null) => boolean): number {
    let dropped = 0;
    for (const [key, e] of this.entries) {
      if (match && !match(e.value)) continue;
      this.entries.delete(key);
      dropped++;
    }
    // A load in flight may have read the row before the change: it still answers its callers, but
    // no longer stores (settle() only lets the current flight write).
    this.flights.clear();
    return dropped;
  }

  /**
   * A miss: follows the key's live flight, else `begin()` (join a batch or lead). At most two
   * rounds: following a flight whose leader was cancelled, then starting our own.
   */
  private async miss(key: string, begin: () => { wait: Wait<V>; led: boolean }, signal: AbortSignal | undefined): Promise<CacheOutcome<V>> {
    this.counts.misses++;
    for (let round = 0; round < 2; round++) {
      if (signal?.aborted) return { ok: false, reason: 'cancelled', cause: undefined }; // starts no lookup
      const current = this.flights.get(key);
      const live = current && this.opts.now() - current.startedAt < this.opts.flightTimeoutMs ? current : undefined;
      const { wait, led } = live ? { wait: this.follow(live, signal), led: false } : begin();
      const waited = await wait;
      if (!waited.ok && waited.reason === 'cancelled') return { ok: false, reason: 'cancelled', cause: undefined };
      if (waited.ok && waited.value.ok) return { ok: true, value: waited.value.value, source: 'load' };
      if (waited.ok && !waited.value.ok && !led && waited.value.cancelled) continue; // the leader's request went away, not the database
      this.counts.failures++;
      const failure: CacheOutcome<V> =
        waited.ok && !waited.value.ok
          ? { ok: false, reason: 'load_failed', cause: waited.value.cause }
          : { ok: false, reason: 'flight_timeout', cause: undefined };
      return this.stale(key) ?? failure;
    }
    this.counts.failures++;
    return this.stale(key) ?? { ok: false, reason: 'load_failed', cause: undefined };
  }

  /** Leads a new flight for `key`. */
  private lead(key: string, load: (lc: LoadContext) => Promise<V | null>, signal: AbortSignal | undefined): Wait<V> {
    const flight = this.newFlight(key);
    this.counts.loads++;
    const settleAll = (r: LoadResult<V>): void => this.settle(key, flight, r);
    return this.run(flight, load(this.contextFor(key, signal)), (value) => settleAll({ ok: true, value }), settleAll, signal);
  }

  /** Leads a new batch of `group`: the load seals it when its session is ready. */
  private leadBatch(key: string, group: string, load: BatchLoad<V>, signal: AbortSignal | undefined): Wait<V> {
    const flight = this.newFlight(key);
    this.counts.loads++;
    const batch = this.batches.open(group, { key, flight }, flight.startedAt);
    let queried: ReadonlySet<string> = new Set();
    const seal = (): string[] => {
      const keys = this.batches.seal(batch).map((m) => m.key);
      queried = new Set(keys);
      return keys;
    };
    const settleAll = (r: LoadResult<V>): void => {
      for (const m of this.batches.seal(batch)) this.settle(m.key, m.flight, r);
    };
    // A member the load never read (it did not seal) is handed back to look itself up.
    const onLoaded = (found: ReadonlyMap<string, V | null>): void => {
      for (const m of this.batches.seal(batch))
        this.settle(m.key, m.flight, queried.has(m.key) ? { ok: true, value: found.get(m.key) ?? null } : failed(undefined, true));
    };
    return this.run(flight, load(this.contextFor(key, signal), seal), onLoaded, settleAll, signal);
  }

  /**
   * Waits for this caller's own `loaded` on its own timer. If the request is cancelled,
   * `settleAll` hands the flight(s) back at once, from the abort event itself: workerd may drop a
   * cancelled request's continuations, so the load's own rejection might never run.
   */
  private run<T>(
    flight: Flight<V>,
    loaded: Promise<T>,
    onLoaded: (v: T) => void,
    settleAll: (r: LoadResult<V>) => void,
    signal: AbortSignal | undefined,
  ): Wait<V> {
    const onAbort = (): void => settleAll(failed(undefined, true));
    signal?.addEventListener('abort', onAbort, { once: true });
    const settled = loaded
      .then(onLoaded, (cause: unknown) => settleAll(failed(cause, signal?.aborted === true)))
      .finally(() => signal?.removeEventListener('abort', onAbort));
    // The load is this caller's own I/O, so awaiting it directly is safe (and saves a re-check).
    return raceOwn(
      this.opts,
      settled.then(() => flight.result as LoadResult<V>),
      flight.startedAt + this.opts.flightTimeoutMs,
      signal,
    );
  }

  /** Joins `group`'s open batch when there is one: this key's flight then ends with the batch. */
  private join(key: string, group: string, signal: AbortSignal | undefined): Wait<V> | undefined {
    const batch = this.batches.joinable(group, this.opts.now());
    const leader = batch?.members[0];
    if (!batch || !leader) return undefined;
    const flight = this.newFlight(key, leader.flight.startedAt); // lost with its leader, not later
    batch.members.push({ key, flight });
    this.counts.batched++;
    return this.follow(flight, signal);
  }

  /** Waits for `flight` on this caller's own timers: its outcome, its deadline, or this caller's cancellation. */
  private follow(flight: Flight<V>, signal: AbortSignal | undefined): Wait<V> {
    return pollFor(this.opts, () => flight.result, flight.startedAt + this.opts.flightTimeoutMs, signal);
  }

  private newFlight(key: string, startedAt = this.opts.now()): Flight<V> {
    const flight: Flight<V> = { startedAt };
    this.flights.set(key, flight);
    return flight;
  }

  /** Settles `flight` with `result`; only the current flight of `key` may store or clear it. */
  private settle(key: string, flight: Flight<V>, result: LoadResult<V>): void {
    if (flight.result) return; // settled already (its leader's request was cancelled)
    flight.result = result;
    if (this.flights.get(key) !== flight) {
      this.counts.superseded++;
      return;
    }
    this.flights.delete(key);
    if (result.ok) this.store(key, result.value);
  }

  private store(key: string, value: V | null): void {
    const { opts } = this;
    const expiresAt = opts.now() + (value === null ? opts.negativeTtlMs : opts.ttlMs);
    this.counts.evictions += storeEntry(this.entries, key, { value, expiresAt, used: false }, opts.maxEntries);
  }

  private contextFor(key: string, signal: AbortSignal | undefined): LoadContext {
    const known = this.entries.get(key);
    return { signal, refresh: known !== undefined && known.value !== null };
  }

  private cachedOutcome(key: string): CacheOutcome<V> | undefined {
    const e = this.entries.get(key);
    if (!e || e.expiresAt <= this.opts.now()) return undefined;
    e.used = true;
    this.counts.hits++;
    return { ok: true, value: e.value, source: 'cache' };
  }

  /** Fail-static: a found value that expired less than `staleIfUnavailableMs` ago. */
  private stale(key: string): CacheOutcome<V> | undefined {
    const e = this.entries.get(key);
    if (!e || e.value === null || this.opts.staleIfUnavailableMs <= 0) return undefined;
    if (this.opts.now() - e.expiresAt >= this.opts.staleIfUnavailableMs) return undefined;
    this.counts.staleServed++;
    return { ok: true, value: e.value, source: 'stale' };
  }
}

function failed<V>(cause: unknown, cancelled: boolean): LoadResult<V> {
  return { ok: false, cause, cancelled };
}
