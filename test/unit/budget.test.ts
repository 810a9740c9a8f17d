/**
 * The acquire budget: FIFO (refreshes first), per-waiter timeouts, release in finally, cancelled
 * waiters, reservations for waiters that already gave up, lease reclaim, the invariant in-use → 0,
 * and that a waiter only ever resumes from a timer of its own (never from the releasing caller).
 * Plus the registry: auth and logging share a budget exactly when their URLs are one target.
 */
import { describe, expect, it } from 'vitest';
import { createBudget, type AcquireOptions, type AcquireResult, type Budget } from '../../worker/admission/budget.js';
import { admissionSnapshot, budgetFor } from '../../worker/admission/registry.js';
import { targetOf } from '../../worker/db/target.js';
import { isolateFor } from '../../worker/isolate.js';
import { elapse, manualClock, type ManualClock } from './manual-clock.js';

const setup = (permits: number, timeoutMs = 100, leaseMs = 10_000): { budget: Budget; clock: ManualClock } => {
  const clock = manualClock();
  return { budget: createBudget({ permits, timeoutMs, leaseMs, ...clock }), clock };
};

const granted = (r: AcquireResult) => {
  if (!r.ok) throw new Error(`expected a permit, got ${r.reason}`);
  return r.permit;
};

describe('budget', () => {
  it('grants up to its size at once, then queues', async () => {
    const { budget, clock } = setup(2);
    const a = granted(await budget.acquire());
    granted(await budget.acquire());
    const third = budget.acquire();
    expect(budget.snapshot()).toMatchObject({ size: 2, inUse: 2, waiting: 1, acquired: 2 });
    a.release();
    await elapse(clock, 8);
    const r = await third;
    expect(r.ok).toBe(true);
    expect(budget.snapshot()).toMatchObject({ inUse: 2, waiting: 0, acquired: 3 });
  });

  it('serves waiters first in, first out', async () => {
    const { budget, clock } = setup(1, 1000);
    const holder = granted(await budget.acquire());
    const order: string[] = [];
    const waiters = ['a', 'b', 'c'].map((name) =>
      budget.acquire().then((r) => {
        order.push(name);
        return granted(r);
      }),
    );
    holder.release();
    const [a, b, c] = waiters;
    if (!a || !b || !c) throw new Error('three waiters');
    await elapse(clock, 8);
    (await a).release();
    await elapse(clock, 8);
    (await b).release();
    await elapse(clock, 8);
    (await c).release();
    expect(order).toEqual(['a', 'b', 'c']);
    expect(budget.snapshot()).toMatchObject({ inUse: 0, waiting: 0, acquired: 4, timeouts: 0 });
  });

  it('times each waiter out on its own timer and keeps the queue moving', async () => {
    const { budget, clock } = setup(1, 100);
    const holder = granted(await budget.acquire());
    const short = budget.acquire({ timeoutMs: 50 });
    const long = budget.acquire({ timeoutMs: 500 });
    await elapse(clock, 50);
    expect(await short).toEqual({ ok: false, reason: 'timeout', waitedMs: 50 });
    expect(budget.snapshot()).toMatchObject({ waiting: 1, timeouts: 1, maxWaitMs: 50 });
    await elapse(clock, 100);
    holder.release();
    await elapse(clock, 8);
    const r = await long;
    expect(r.ok && r.waitedMs).toBeGreaterThan(150);
    expect(r.ok && r.waitedMs).toBeLessThanOrEqual(158); // seen within one re-check (≤ 8 ms)
    granted(r).release();
    expect(budget.snapshot()).toMatchObject({ inUse: 0, waiting: 0, timeouts: 1 });
    expect(clock.pending()).toBe(0); // no timer outlives its wait
  });

  it('try-acquire (timeout 0) never queues', async () => {
    const { budget } = setup(1);
    granted(await budget.acquire({ timeoutMs: 0 }));
    expect(await budget.acquire({ timeoutMs: 0 })).toEqual({ ok: false, reason: 'timeout', waitedMs: 0 });
    expect(budget.snapshot()).toMatchObject({ inUse: 1, waiting: 0, timeouts: 1 });
  });

  it('a cancelled waiter leaves the queue and never takes a permit', async () => {
    const { budget, clock } = setup(1, 1000);
    const holder = granted(await budget.acquire());
    const ac = new AbortController();
    const cancelled = budget.acquire({ signal: ac.signal });
    const next = budget.acquire();
    await elapse(clock, 10);
    ac.abort();
    expect(budget.snapshot().waiting).toBe(1); // left the queue in the abort event itself
    await elapse(clock, 8);
    expect(await cancelled).toEqual({ ok: false, reason: 'cancelled', waitedMs: 10 });
    holder.release();
    await elapse(clock, 8);
    granted(await next).release();
    expect(await budget.acquire({ signal: AbortSignal.abort() })).toMatchObject({ ok: false, reason: 'cancelled' });
    expect(budget.snapshot()).toMatchObject({ inUse: 0, waiting: 0, cancelled: 2 });
  });

  it('a permit reserved for a waiter that is cancelled before it claims goes straight back', async () => {
    const { budget, clock } = setup(1, 100);
    const holder = granted(await budget.acquire());
    const ac = new AbortController();
    const late = budget.acquire({ timeoutMs: 100, signal: ac.signal });
    const next = budget.acquire({ timeoutMs: 1000 });
    await elapse(clock, 50);
    // Same tick: the release reserves the permit for `late`, then its request is cancelled before
    // its next re-check: the reservation must move on to `next`.
    holder.release();
    ac.abort();
    await elapse(clock, 8);
    expect(await late).toMatchObject({ ok: false, reason: 'cancelled' });
    const n = granted(await next);
    expect(budget.snapshot()).toMatchObject({ inUse: 1, waiting: 0, cancelled: 1 });
    n.release();
    expect(budget.snapshot().inUse).toBe(0);
  });

  it('a release never resumes a waiter: the waiter finds its permit on its own timer', async () => {
    const { budget, clock } = setup(1, 1000);
    const holder = granted(await budget.acquire());
    let resumed = false;
    const waiter = budget.acquire().then((r) => {
      resumed = true;
      return r;
    });
    await elapse(clock, 20);
    holder.release();
    // Drain every continuation the release could have scheduled, without moving time.
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(resumed).toBe(false);
    expect(budget.snapshot()).toMatchObject({ inUse: 1, waiting: 0 }); // reserved, not yet claimed
    await elapse(clock, 8);
    expect(resumed).toBe(true);
    granted(await waiter).release();
  });

  it('serves refreshes of known-good entries before first-time lookups', async () => {
    const { budget, clock } = setup(1, 1000);
    const holder = granted(await budget.acquire());
    const order: string[] = [];
    const track = (name: string, p: Promise<AcquireResult>) =>
      p.then((r) => {
        order.push(name);
        granted(r).release();
      });
    const first = track('first', budget.acquire({ priority: 'normal' }));
    const refresh = track('refresh', budget.acquire({ priority: 'refresh' }));
    holder.release();
    await elapse(clock, 40);
    await Promise.all([first, refresh]);
    expect(order).toEqual(['refresh', 'first']);
  });

  it('reclaims leases never released, counts them, and ignores their late release', async () => {
    const { budget, clock } = setup(1, 100, 1000);
    const leaked = granted(await budget.acquire());
    clock.advance(1000);
    const fresh = granted(await budget.acquire());
    expect(budget.snapshot()).toMatchObject({ inUse: 1, reclaimedLeases: 1 });
    leaked.release(); // too late: must not free the new holder's permit
    expect(budget.snapshot().inUse).toBe(1);
    fresh.release();
    fresh.release(); // idempotent
    expect(budget.snapshot().inUse).toBe(0);
  });

  it('a reclaimed lease stays busy (reclaiming) through the grace unless its holder releases it first', async () => {
    const clock = manualClock();
    const budget = createBudget({ permits: 1, timeoutMs: 100, leaseMs: 1000, reclaimGraceMs: 500, ...clock });
    const ending = granted(await budget.acquire());
    clock.advance(1000);
    expect(budget.snapshot()).toMatchObject({ inUse: 1, reclaiming: 1, reclaimedLeases: 1 });
    expect((await budget.acquire({ timeoutMs: 0 })).ok).toBe(false); // still busy: its backend may run
    ending.release(); // the holder cancelled its session and closed it
    expect(budget.snapshot()).toMatchObject({ inUse: 0, reclaiming: 0, reclaimedLeases: 1 });
    const gone = granted(await budget.acquire()); // a holder that never comes back
    clock.advance(1499);
    expect(budget.snapshot()).toMatchObject({ inUse: 1, reclaiming: 1, reclaimedLeases: 2 });
    clock.advance(1);
    expect(budget.snapshot()).toMatchObject({ inUse: 0, reclaiming: 0, reclaimedLeases: 2 });
    gone.release(); // too late: a no-op
    expect(budget.snapshot().inUse).toBe(0);
  });

  it('a waiter whose deadline passes after a lease expired gets the reclaimed permit', async () => {
    const { budget, clock } = setup(1, 600, 500);
    granted(await budget.acquire()); // never released
    const waiter = budget.acquire();
    await elapse(clock, 600);
    const r = await waiter;
    expect(r.ok).toBe(true);
    granted(r).release();
    expect(budget.snapshot()).toMatchObject({ inUse: 0, reclaimedLeases: 1, timeouts: 0 });
  });

  it('in-use returns to 0 after any mix of timeouts, errors, cancellations and leaks: only the leaks are reclaimed', async () => {
    const { budget, clock } = setup(3, 40, 2000);
    let seed = 42;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const runs: Promise<unknown>[] = [];
    let total = 0;
    let leaks = 0;
    for (let step = 0; step < 300; step++) {
      const kind = rand(5);
      const ac = new AbortController();
      total++;
      runs.push(
        withPermit(budget, { timeoutMs: rand(3) === 0 ? 0 : 10 + rand(60), signal: ac.signal }, async () => {
          await Promise.resolve();
          if (kind === 0) throw new Error('query failed');
        }).catch(() => undefined),
      );
      if (kind === 1) ac.abort();
      if (kind === 2) {
        total++;
        // Acquired and never released: a leak (when it gets a permit at all).
        runs.push(budget.acquire({ timeoutMs: 5 }).then((r) => void (r.ok && leaks++)));
      }
      if (step % 7 === 0) await elapse(clock, rand(30));
      await Promise.resolve();
    }
    await elapse(clock, 100);
    await Promise.all(runs);
    // No lease has expired yet: every permit still held is a leak; every caller gave all of its back.
    expect(leaks).toBeGreaterThan(0);
    expect(budget.snapshot()).toMatchObject({ inUse: leaks, reclaimedLeases: 0 });
    clock.advance(2000); // past every lease
    const snap = budget.snapshot();
    expect(snap).toMatchObject({ inUse: 0, waiting: 0, reclaimedLeases: leaks });
    expect(snap.acquired + snap.timeouts + snap.cancelled).toBe(total);
  });
});

describe('budget registry', () => {
  const base = { DATABASE_URL: 'postgres://gw:secret@localhost:5432/catalog', DB_POOL_MAX: '3' };

  it('auth and logging share one budget when their URLs resolve to the same target', () => {
    const entry = isolateFor({ ...base, AUTH_DATABASE_URL: 'postgresql://gw:other@127.0.0.1/catalog?sslmode=disable' });
    if (!entry.ok) throw new Error(entry.problem);
    const { isolate } = entry;
    const { settings, services } = isolate;
    const auth = budgetFor(services.budgets, settings, targetOf(settings.authDatabaseUrl));
    expect(budgetFor(services.budgets, settings, targetOf(settings.loggingDatabaseUrl))).toBe(auth);
    const snaps = admissionSnapshot(services.budgets, services.slowAcquire);
    expect(snaps).toEqual([expect.objectContaining({ target: '127.0.0.1:5432/catalog', size: 3, inUse: 0 })]);
    expect(JSON.stringify(snaps)).not.toContain('secret');
  });

  it('and have separate budgets when the role or database differs', () => {
    const entry = isolateFor({ ...base, AUTH_DATABASE_URL: 'postgres://auth_role:pw@localhost:5432/catalog' });
    if (!entry.ok) throw new Error(entry.problem);
    const { isolate } = entry;
    const { settings, services } = isolate;
    const auth = budgetFor(services.budgets, settings, targetOf(settings.authDatabaseUrl));
    expect(budgetFor(services.budgets, settings, targetOf(settings.loggingDatabaseUrl))).not.toBe(auth);
    expect(admissionSnapshot(services.budgets, services.slowAcquire)).toHaveLength(2);
  });
});

/** How callers use a budget: `fn` under a permit, released whatever `fn` does. */
async function withPermit<T>(budget: Budget, opts: AcquireOptions, fn: () => Promise<T>): Promise<{ ok: boolean }> {
  const acquired = await budget.acquire(opts);
  if (!acquired.ok) return acquired;
  try {
    await fn();
    return { ok: true };
  } finally {
    acquired.permit.release();
  }
}
