import { describe, expect, it } from 'vitest';
import { createLimiter, type LimiterPermit } from '../../worker/telemetry/limiter.js';

/** A limiter on a hand-driven clock. */
function setup(limit = 2, warnIntervalMs = 1000, leaseMs = 30_000) {
  let t = 1_000;
  const limiter = createLimiter({ limit, warnIntervalMs, leaseMs, now: () => t });
  return { limiter, advance: (ms: number) => (t += ms) };
}

describe('telemetry limiter', () => {
  it('grants up to its size without waiting, then refuses until a permit is released', () => {
    const { limiter } = setup(2);
    const a = limiter.tryAcquire();
    const b = limiter.tryAcquire();
    expect(a).toBeDefined();
    expect(b).toBeDefined();
    expect(limiter.tryAcquire()).toBeUndefined();
    expect(limiter.snapshot()).toMatchObject({ limit: 2, inFlight: 2, maxInFlight: 2, accepted: 2 });
    limiter.release(a as LimiterPermit);
    expect(limiter.snapshot().inFlight).toBe(1);
    expect(limiter.tryAcquire()).toBeDefined();
    expect(limiter.snapshot()).toMatchObject({ inFlight: 2, accepted: 3 });
  });

  it('releasing a permit twice frees one slot only', () => {
    const { limiter } = setup(2);
    const a = limiter.tryAcquire() as LimiterPermit;
    limiter.tryAcquire();
    limiter.release(a);
    limiter.release(a);
    expect(limiter.snapshot().inFlight).toBe(1);
    expect(limiter.tryAcquire()).toBeDefined();
    expect(limiter.tryAcquire()).toBeUndefined();
  });

  it('a size below 1 still throttles with one permit', () => {
    const { limiter } = setup(0);
    expect(limiter.tryAcquire()).toBeDefined();
    expect(limiter.tryAcquire()).toBeUndefined();
    expect(limiter.snapshot().limit).toBe(1);
  });

  it('never exceeds its size under any interleaving of acquires and releases', () => {
    const { limiter } = setup(3);
    const held: LimiterPermit[] = [];
    let seed = 42;
    const rnd = () => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
    for (let i = 0; i < 5_000; i++) {
      if (rnd() < 0.6) {
        const p = limiter.tryAcquire();
        if (p) held.push(p);
      } else if (held.length > 0) {
        limiter.release(held.splice(Math.floor(rnd() * held.length), 1)[0] as LimiterPermit);
      }
      expect(limiter.snapshot().inFlight).toBe(held.length);
      expect(held.length).toBeLessThanOrEqual(3);
    }
    expect(limiter.snapshot().maxInFlight).toBe(3);
  });

  it('counts drops per kind and per reason, and writes per kind', () => {
    const { limiter } = setup();
    limiter.recordDropped(['request', 'auth_attempt'], 'saturated');
    limiter.recordDropped(['admission'], 'unavailable');
    limiter.recordDropped(['request'], 'failed');
    limiter.recordWritten(['request', 'admission', 'admission']);
    const s = limiter.snapshot();
    expect(s.dropped).toEqual({ request: 2, auth_attempt: 1, admission: 1 });
    expect(s.droppedByReason).toEqual({ saturated: 2, unavailable: 1, failed: 1 });
    expect(s.written).toEqual({ request: 1, auth_attempt: 0, admission: 2 });
  });

  it('warns at the first drop, then at most once per interval with a summary of what was suppressed', () => {
    const { limiter, advance } = setup(1, 1000);
    expect(limiter.takeWarning()).toBeUndefined(); // nothing dropped yet
    limiter.recordDropped(['request'], 'saturated');
    expect(limiter.takeWarning()).toEqual({
      dropped: { request: 1, auth_attempt: 0, admission: 0 },
      byReason: { saturated: 1, unavailable: 0, failed: 0 },
      windowMs: 0,
    });
    for (let i = 0; i < 100; i++) {
      limiter.recordDropped(['request', 'auth_attempt'], 'saturated');
      advance(5);
      expect(limiter.takeWarning()).toBeUndefined(); // 500 ms < interval
    }
    advance(500);
    expect(limiter.takeWarning()).toEqual({
      dropped: { request: 100, auth_attempt: 100, admission: 0 },
      byReason: { saturated: 200, unavailable: 0, failed: 0 },
      windowMs: 1000,
    });
    advance(5000);
    expect(limiter.takeWarning()).toBeUndefined(); // interval passed but nothing new was dropped
    expect(limiter.snapshot()).toMatchObject({ warningsEmitted: 2, lastWarningAt: 2000 });
    expect(limiter.snapshot().dropped.request).toBe(101);
  });

  it('reclaims a permit whose task never released it after the lease, counting it as leaked', () => {
    const { limiter, advance } = setup(1, 1000, 10_000);
    expect(limiter.tryAcquire()).toBeDefined();
    advance(9_999);
    expect(limiter.tryAcquire()).toBeUndefined();
    advance(1);
    const again = limiter.tryAcquire();
    expect(again).toBeDefined();
    expect(limiter.snapshot()).toMatchObject({ inFlight: 1, leaked: 1, accepted: 2 });
  });
});
