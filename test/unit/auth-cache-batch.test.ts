/**
 * Coalesced lookups (`getBatched`): concurrent misses of one group share one load, sealed only when
 * the leader's session is ready, bounded in size, settled per key (found or not found), handed back
 * when the leader's request goes away, and never stored once superseded.
 */
import { describe, expect, it } from 'vitest';
import { createLoadingCache, type BatchLoad, type LoadContext } from '../../worker/auth/cache.js';
import { elapse, manualClock } from './manual-clock.js';

type Call = { lc: LoadContext; keys: string[] | undefined; ready(): void; answer(found: Record<string, string>): void; fail(e: Error): void };

const make = (maxBatch = 64, flightTimeoutMs = 5000) => {
  const clock = manualClock(1_000_000);
  const cache = createLoadingCache<string>({ maxEntries: 100, ttlMs: 1000, negativeTtlMs: 200, staleIfUnavailableMs: 0, flightTimeoutMs, maxBatch, ...clock });
  const calls: Call[] = [];
  // A load that waits for its "session" (`ready`) before sealing, then for its "query" (`answer`).
  const load: BatchLoad<string> = (lc, seal) =>
    new Promise((resolve, reject) => {
      const call: Call = {
        lc,
        keys: undefined,
        ready: () => (call.keys = seal()),
        answer: (found) => resolve(new Map(Object.entries(found))),
        fail: reject,
      };
      lc.signal?.addEventListener('abort', () => reject(new Error('budget: cancelled')));
      calls.push(call);
    });
  const call = (i: number): Call => {
    const c = calls[i];
    if (!c) throw new Error(`no load #${i}`);
    return c;
  };
  return { cache, clock, load, calls, call };
};

describe('coalesced lookups', () => {
  it('misses join the open batch until the leader seals it; one load settles each key, found or not', async () => {
    const { cache, clock, load, calls, call } = make();
    const first = ['a', 'b', 'c', 'd'].map((k) => cache.getBatched(k, 'client-1', load));
    call(0).ready(); // the leader's session is ready: the batch is sealed
    const late = cache.getBatched('e', 'client-1', load); // opens a new batch
    expect(call(0).keys).toEqual(['a', 'b', 'c', 'd']);
    expect(calls.length).toBe(2);
    call(0).answer({ a: 'A', c: 'C' });
    await elapse(clock, 8);
    expect(await Promise.all(first)).toEqual([
      { ok: true, value: 'A', source: 'load' },
      { ok: true, value: null, source: 'load' },
      { ok: true, value: 'C', source: 'load' },
      { ok: true, value: null, source: 'load' },
    ]);
    expect(cache.stats()).toMatchObject({ misses: 5, loads: 2, batched: 3, inFlight: 1 });
    // Absent keys are remembered as "not found" for the negative TTL, found ones for the positive TTL.
    expect(await cache.getBatched('b', 'client-1', load)).toEqual({ ok: true, value: null, source: 'cache' });
    clock.advance(200);
    expect(await cache.getBatched('c', 'client-1', load)).toEqual({ ok: true, value: 'C', source: 'cache' });
    void cache.getBatched('b', 'client-1', load); // negative TTL over: joins the open batch of 'e'
    call(1).ready();
    expect(call(1).keys).toEqual(['e', 'b']);
    call(1).answer({ e: 'E' });
    expect(await late).toEqual({ ok: true, value: 'E', source: 'load' });
  });

  it('a batch holds at most maxBatch keys; groups never share a batch', async () => {
    const { cache, clock, load, calls, call } = make(3);
    const got = ['k0', 'k1', 'k2', 'k3', 'k4'].map((k) => cache.getBatched(k, 'client-1', load));
    const other = cache.getBatched('x', 'client-2', load);
    expect(calls.length).toBe(3);
    for (const c of calls) c.ready();
    expect(calls.map((c) => c.keys)).toEqual([['k0', 'k1', 'k2'], ['k3', 'k4'], ['x']]);
    call(0).answer({ k0: '0', k1: '1', k2: '2' });
    call(1).answer({ k3: '3', k4: '4' });
    call(2).answer({ x: 'X' });
    await elapse(clock, 8);
    expect((await Promise.all([...got, other])).map((r) => r.ok && r.value)).toEqual(['0', '1', '2', '3', '4', 'X']);
  });

  it('refreshes of known-good keys and first-time lookups batch apart', async () => {
    const { cache, clock, load, call } = make();
    const seed = cache.getBatched('known', 'c', load);
    call(0).ready();
    call(0).answer({ known: 'v1' });
    await seed;
    clock.advance(1000); // expired: the next read of it is a refresh
    const refresh = cache.getBatched('known', 'c', load);
    const fresh = cache.getBatched('new', 'c', load);
    expect([call(1).lc.refresh, call(2).lc.refresh]).toEqual([true, false]);
    call(1).ready();
    call(2).ready();
    expect([call(1).keys, call(2).keys]).toEqual([['known'], ['new']]);
    call(1).answer({ known: 'v2' });
    call(2).answer({});
    expect(await refresh).toMatchObject({ value: 'v2' });
    expect(await fresh).toMatchObject({ value: null });
  });

  it('members are resumed only by their own re-check, never by the leader settling', async () => {
    const { cache, clock, load, call } = make();
    const leader = cache.getBatched('a', 'c', load);
    let memberResumed = false;
    const member = cache.getBatched('b', 'c', load).then((r) => {
      memberResumed = true;
      return r;
    });
    await elapse(clock, 20); // the member sleeps between re-checks
    call(0).ready();
    call(0).answer({ a: 'A', b: 'B' });
    expect(await leader).toMatchObject({ value: 'A' });
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(memberResumed).toBe(false);
    await elapse(clock, 8);
    expect(await member).toEqual({ ok: true, value: 'B', source: 'load' });
  });
});

describe('coalesced lookups, failures', () => {
  it('a leader whose request is cancelled hands its members back: they look themselves up, coalesced again', async () => {
    const { cache, clock, load, calls, call } = make();
    const ac = new AbortController();
    const leader = cache.getBatched('a', 'c', load, ac.signal);
    const members = ['b', 'c', 'd'].map((k) => cache.getBatched(k, 'c', load));
    ac.abort(); // before its session was ready
    expect(await leader).toEqual({ ok: false, reason: 'cancelled', cause: undefined });
    await elapse(clock, 8);
    expect(calls.length).toBe(2); // one new batch for the three members, not three loads
    call(1).ready();
    expect(call(1).keys).toEqual(['b', 'c', 'd']);
    call(1).answer({ b: 'B', c: 'C', d: 'D' });
    await elapse(clock, 8);
    expect((await Promise.all(members)).map((r) => r.ok && r.value)).toEqual(['B', 'C', 'D']);
    expect(cache.stats()).toMatchObject({ loads: 2, failures: 0 });
  });

  it('a cancelled leader whose load never settles (workerd dropped its request) still hands its members back at once', async () => {
    const { cache, clock } = make();
    const ac = new AbortController();
    const never: BatchLoad<string> = () => new Promise(() => undefined);
    const leader = cache.getBatched('a', 'c', never, ac.signal);
    const member = cache.getBatched('b', 'c', (_lc, seal) => Promise.resolve(new Map(seal().map((k) => [k, 'mine']))));
    ac.abort();
    await elapse(clock, 8);
    expect(await leader).toEqual({ ok: false, reason: 'cancelled', cause: undefined });
    expect(await member).toEqual({ ok: true, value: 'mine', source: 'load' });
    expect(cache.stats()).toMatchObject({ inFlight: 0, superseded: 0 });
  });

  it('a failed load fails every member (not cached); the next miss loads again', async () => {
    const { cache, clock, load, calls, call } = make();
    const got = ['a', 'b'].map((k) => cache.getBatched(k, 'c', load));
    const boom = new Error('lookup timeout');
    call(0).fail(boom);
    await elapse(clock, 8);
    expect(await Promise.all(got)).toEqual([
      { ok: false, reason: 'load_failed', cause: boom },
      { ok: false, reason: 'load_failed', cause: boom },
    ]);
    void cache.getBatched('b', 'c', load);
    expect(calls.length).toBe(2);
  });

  it('a batch whose leader is lost stops taking members; its late result never overwrites newer data', async () => {
    const { cache, clock, load, calls, call } = make(64, 300);
    const lost = ['a', 'b'].map((k) => cache.getBatched(k, 'c', load));
    await elapse(clock, 300);
    expect((await Promise.all(lost)).map((r) => !r.ok && r.reason)).toEqual(['flight_timeout', 'flight_timeout']);
    // The stale batch is not joinable: a new miss leads its own, which stores the newer row.
    const newer = cache.getBatched('b', 'c', load);
    expect(calls.length).toBe(2);
    call(1).ready();
    expect(call(1).keys).toEqual(['b']);
    call(1).answer({ b: 'revoked' });
    expect(await newer).toMatchObject({ value: 'revoked' });
    // The lost batch settles late with the older rows: dropped.
    call(0).ready();
    call(0).answer({ a: 'old-a', b: 'active' });
    await elapse(clock, 1);
    expect(await cache.getBatched('b', 'c', load)).toEqual({ ok: true, value: 'revoked', source: 'cache' });
    expect(cache.stats().superseded).toBe(1); // b's; a had no newer flight, so its row is the newest
    expect(await cache.getBatched('a', 'c', load)).toEqual({ ok: true, value: 'old-a', source: 'cache' });
  });

  it('a member whose own request is cancelled stops waiting; the batch still serves the others', async () => {
    const { cache, clock, load, call } = make();
    const ac = new AbortController();
    const leader = cache.getBatched('a', 'c', load);
    const member = cache.getBatched('b', 'c', load, ac.signal);
    ac.abort();
    await elapse(clock, 8); // it notices on its own next re-check
    expect(await member).toEqual({ ok: false, reason: 'cancelled', cause: undefined });
    call(0).ready();
    call(0).answer({ a: 'A', b: 'B' });
    await elapse(clock, 8);
    expect(await leader).toMatchObject({ value: 'A' });
    expect(await cache.getBatched('b', 'c', load)).toEqual({ ok: true, value: 'B', source: 'cache' });
  });
});
