/**
 * The auth cache policy (docs/auth.md "The revocation bound"): positive TTL (the revocation bound), negative TTL, bounded LRU,
 * single-flight with a per-caller timeout, failures never cached, fail-static only when enabled.
 */
import { describe, expect, it } from 'vitest';
import { createLoadingCache, type LoadingCacheOptions } from '../../worker/auth/cache.js';
import { elapse, manualClock } from './manual-clock.js';

const make = (over: Partial<LoadingCacheOptions> = {}) => {
  const clock = manualClock(1_000_000);
  const cache = createLoadingCache<string>({
    maxEntries: 100,
    ttlMs: 1000,
    negativeTtlMs: 200,
    staleIfUnavailableMs: 0,
    flightTimeoutMs: 5000,
    ...clock,
    ...over,
  });
  let loads = 0;
  const loader = (value: string | null) => () => {
    loads++;
    return Promise.resolve(value);
  };
  return { cache, clock, loader, loads: () => loads };
};

describe('auth loading cache', () => {
  it('serves a found value for exactly the positive TTL, then loads again', async () => {
    const { cache, clock, loader, loads } = make();
    expect(await cache.get('h', loader('v1'))).toEqual({ ok: true, value: 'v1', source: 'load' });
    clock.advance(999);
    expect(await cache.get('h', loader('v2'))).toEqual({ ok: true, value: 'v1', source: 'cache' });
    clock.advance(1);
    expect(await cache.get('h', loader('v2'))).toEqual({ ok: true, value: 'v2', source: 'load' });
    expect(loads()).toBe(2);
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 2, loads: 2, size: 1 });
  });

  it('answers a fresh found value synchronously (a counted hit); not found, expired and missing go through get', async () => {
    const { cache, clock, loader } = make();
    expect(cache.found('h')).toBeUndefined(); // missing: nothing counted
    await cache.get('h', loader('v1'));
    await cache.get('n', loader(null));
    expect(cache.found('h')).toBe('v1');
    expect(cache.found('n')).toBeUndefined(); // "not found" is get's to answer
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 2 });
    clock.advance(1000);
    expect(cache.found('h')).toBeUndefined(); // expired
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 2 });
  });

  it('reads a stored value as it is, expired or not, without counting or touching it', async () => {
    const { cache, clock, loader } = make();
    expect(cache.stored('h')).toBeUndefined();
    await cache.get('h', loader('v1'));
    await cache.get('n', loader(null));
    clock.advance(5000);
    expect(cache.stored('h')).toBe('v1');
    expect(cache.stored('n')).toBeNull();
    expect(cache.stats()).toMatchObject({ hits: 0, misses: 2 });
  });

  it('remembers "not found" for the negative TTL only', async () => {
    const { cache, clock, loader, loads } = make();
    expect(await cache.get('x', loader(null))).toMatchObject({ ok: true, value: null });
    clock.advance(199);
    expect(await cache.get('x', loader('late'))).toEqual({ ok: true, value: null, source: 'cache' });
    clock.advance(1);
    expect(await cache.get('x', loader('late'))).toEqual({ ok: true, value: 'late', source: 'load' });
    expect(loads()).toBe(2);
  });

  it('coalesces concurrent misses into one load', async () => {
    const { cache, clock } = make();
    let release: (v: string) => void = () => undefined;
    let calls = 0;
    const load = () => {
      calls++;
      return new Promise<string>((resolve) => {
        release = resolve;
      });
    };
    const all = Promise.all(Array.from({ length: 50 }, () => cache.get('k', load)));
    release('shared');
    await elapse(clock, 8); // followers see the outcome on their own next re-check
    const results = await all;
    expect(calls).toBe(1);
    expect(results.every((r) => r.ok && r.value === 'shared')).toBe(true);
    expect(cache.stats()).toMatchObject({ loads: 1, misses: 50, inFlight: 0 });
  });

  it('never caches a failure', async () => {
    const { cache, loader } = make();
    const boom = new Error('db down');
    expect(await cache.get('k', () => Promise.reject(boom))).toEqual({ ok: false, reason: 'load_failed', cause: boom });
    expect(await cache.get('k', loader('ok'))).toEqual({ ok: true, value: 'ok', source: 'load' });
    expect(cache.stats()).toMatchObject({ failures: 1, loads: 2 });
  });

  it('evicts beyond its bound, giving an entry hit since the last sweep one second chance', async () => {
    const { cache, loader, loads } = make({ maxEntries: 2 });
    await cache.get('a', loader('A'));
    await cache.get('b', loader('B'));
    await cache.get('a', loader('A')); // a is now most recent
    await cache.get('c', loader('C')); // evicts b
    expect(cache.stats()).toMatchObject({ size: 2, evictions: 1 });
    expect(await cache.get('a', loader('A2'))).toEqual({ ok: true, value: 'A', source: 'cache' });
    expect(await cache.get('b', loader('B2'))).toMatchObject({ value: 'B2', source: 'load' });
    expect(loads()).toBe(4);
  });

  it('a second chance is spent: an entry not hit again goes at the next eviction, before newer ones', async () => {
    const { cache, loader } = make({ maxEntries: 2 });
    await cache.get('a', loader('A'));
    await cache.get('b', loader('B'));
    expect(cache.found('a')).toBe('A'); // marked used
    await cache.get('c', loader('C')); // a moves back unmarked, b goes
    await cache.get('d', loader('D')); // c, unused and oldest, goes; a stays
    expect(cache.stored('a')).toBe('A');
    expect(cache.stored('b')).toBeUndefined();
    expect(cache.stored('c')).toBeUndefined();
    await cache.get('e', loader('E')); // a was not hit since its second chance: it goes
    expect(cache.stored('a')).toBeUndefined();
    expect(cache.stored('d')).toBe('D');
    expect(cache.stats()).toMatchObject({ size: 2, evictions: 3 });
  });

  it('callers stop waiting for a lost leader, and a later caller starts a new flight', async () => {
    const { cache, clock } = make({ flightTimeoutMs: 300 });
    const never = () => new Promise<string>(() => undefined); // the leader's request died
    const leader = cache.get('k', never);
    clock.advance(100);
    const follower = cache.get('k', never);
    clock.advance(200);
    expect(await leader).toEqual({ ok: false, reason: 'flight_timeout', cause: undefined });
    expect(await follower).toEqual({ ok: false, reason: 'flight_timeout', cause: undefined });
    expect(await cache.get('k', () => Promise.resolve('fresh'))).toEqual({ ok: true, value: 'fresh', source: 'load' });
    expect(cache.stats()).toMatchObject({ loads: 2, failures: 2 });
  });

  it('fail-static serves a recently expired found value only when loading fails, within its window', async () => {
    const { cache, clock, loader } = make({ staleIfUnavailableMs: 500 });
    const fail = () => Promise.reject(new Error('timeout'));
    await cache.get('k', loader('v'));
    await cache.get('n', loader(null));
    clock.advance(1000 + 499);
    expect(await cache.get('k', fail)).toEqual({ ok: true, value: 'v', source: 'stale' });
    expect(await cache.get('n', fail)).toMatchObject({ ok: false }); // "not found" is never served stale
    clock.advance(1);
    expect(await cache.get('k', fail)).toMatchObject({ ok: false, reason: 'load_failed' });
    expect(cache.stats().staleServed).toBe(1);
  });

  it('fail-static off (0) never serves an expired value', async () => {
    const { cache, clock, loader } = make();
    await cache.get('k', loader('v'));
    clock.advance(1001);
    expect(await cache.get('k', () => Promise.reject(new Error('x')))).toMatchObject({ ok: false, reason: 'load_failed' });
    expect(cache.stats().staleServed).toBe(0);
  });
});

describe('auth loading cache, cancelled callers', () => {
  it('a cancelled follower stops waiting; the shared load still serves the others', async () => {
    const { cache, clock } = make();
    let release: (v: string) => void = () => undefined;
    const load = () =>
      new Promise<string>((resolve) => {
        release = resolve;
      });
    const ac = new AbortController();
    const leader = cache.get('k', load);
    const cancelled = cache.get('k', load, ac.signal);
    const follower = cache.get('k', load);
    ac.abort();
    await elapse(clock, 8); // it notices on its own next re-check
    expect(await cancelled).toEqual({ ok: false, reason: 'cancelled', cause: undefined });
    release('v');
    await elapse(clock, 8);
    expect(await leader).toEqual({ ok: true, value: 'v', source: 'load' });
    expect(await follower).toEqual({ ok: true, value: 'v', source: 'load' });
    expect(await cache.get('k', load)).toEqual({ ok: true, value: 'v', source: 'cache' });
    expect(cache.stats().loads).toBe(1);
  });

  it('a leader whose request was cancelled hands over: a follower still waiting leads its own load', async () => {
    const { cache, clock } = make();
    const ac = new AbortController();
    const leaderLoad = ({ signal }: { signal: AbortSignal | undefined }) =>
      new Promise<string>((_, reject) => signal?.addEventListener('abort', () => reject(new Error('budget: cancelled'))));
    let ownLoads = 0;
    const leader = cache.get('k', leaderLoad, ac.signal);
    const follower = cache.get('k', () => {
      ownLoads++;
      return Promise.resolve('mine');
    });
    ac.abort();
    await elapse(clock, 8);
    expect(await leader).toEqual({ ok: false, reason: 'cancelled', cause: undefined });
    expect(await follower).toEqual({ ok: true, value: 'mine', source: 'load' });
    expect(ownLoads).toBe(1);
    expect(cache.stats()).toMatchObject({ loads: 2, failures: 0 });
  });
});

describe('auth loading cache, a leader cancelled for good', () => {
  it('a cancelled leader whose load never settles (workerd dropped its request) frees the key at once', async () => {
    const { cache, clock, loader } = make();
    const ac = new AbortController();
    const leader = cache.get('k', () => new Promise<string>(() => undefined), ac.signal);
    const follower = cache.get('k', loader('mine'));
    ac.abort();
    await elapse(clock, 8);
    expect(await leader).toEqual({ ok: false, reason: 'cancelled', cause: undefined });
    expect(await follower).toEqual({ ok: true, value: 'mine', source: 'load' });
    expect(cache.stats()).toMatchObject({ inFlight: 0, loads: 2 });
  });
});

describe('auth loading cache, no cross-caller continuations', () => {
  it('followers are never resumed by the leader settling: only by their own re-check', async () => {
    const { cache, clock } = make();
    let release: (v: string) => void = () => undefined;
    const load = () => new Promise<string>((resolve) => (release = resolve));
    const leader = cache.get('k', load);
    let followerResumed = false;
    const follower = cache.get('k', load).then((r) => {
      followerResumed = true;
      return r;
    });
    await elapse(clock, 20); // the follower is between re-checks now
    release('v');
    expect(await leader).toEqual({ ok: true, value: 'v', source: 'load' }); // the leader awaits its own load
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(followerResumed).toBe(false); // settling the leader's load woke nobody else
    await elapse(clock, 8);
    expect(await follower).toEqual({ ok: true, value: 'v', source: 'load' });
  });

  it('a superseded load that settles late never stores: only the current flight writes the cache', async () => {
    const { cache, clock } = make({ flightTimeoutMs: 300 });
    let releaseOld: (v: string) => void = () => undefined;
    const old = cache.get('k', () => new Promise<string>((resolve) => (releaseOld = resolve)));
    await elapse(clock, 300);
    expect(await old).toMatchObject({ ok: false, reason: 'flight_timeout' });
    // A newer flight replaces it and stores the revoked state…
    expect(await cache.get('k', () => Promise.resolve('revoked'))).toEqual({ ok: true, value: 'revoked', source: 'load' });
    // …then the old load settles with the older row: dropped, never stored with a fresh TTL.
    releaseOld('active');
    await elapse(clock, 1);
    expect(await cache.get('k', () => Promise.resolve('unexpected load'))).toEqual({ ok: true, value: 'revoked', source: 'cache' });
    expect(cache.stats().superseded).toBe(1);
  });

  it('a caller whose request is already cancelled starts no load', async () => {
    const { cache } = make();
    let loads = 0;
    const r = await cache.get(
      'k',
      () => {
        loads++;
        return Promise.resolve('v');
      },
      AbortSignal.abort(),
    );
    expect(r).toEqual({ ok: false, reason: 'cancelled', cause: undefined });
    expect(loads).toBe(0);
  });
});
