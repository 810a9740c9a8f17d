/**
 * The auth cache policy (docs/auth.md "The revocation bound"): positive TTL (the revocation bound), negative TTL, bounded LRU,
 * single-flight with a per-caller timeout, failures never cached, fail-static only when enabled.
 */
import { describe, expect, it } from 'vitest';
import { createLoadingCache, type LoadingCacheOptions } from '../../worker/auth/cache.js';
import { manualClock } from './manual-clock.js';

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
    const { cache } = make();
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

  it('evicts the least recently used entry beyond its bound', async () => {
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
  it('a cancelled caller stops waiting; the shared load still serves the others', async () => {
    const { cache } = make();
    let release: (v: string) => void = () => undefined;
    const load = () =>
      new Promise<string>((resolve) => {
        release = resolve;
      });
    const ac = new AbortController();
    const leader = cache.get('k', load, ac.signal);
    const follower = cache.get('k', load);
    ac.abort();
    expect(await leader).toEqual({ ok: false, reason: 'cancelled', cause: undefined });
    release('v');
    expect(await follower).toEqual({ ok: true, value: 'v', source: 'load' });
    expect(await cache.get('k', load)).toEqual({ ok: true, value: 'v', source: 'cache' });
  });
});
