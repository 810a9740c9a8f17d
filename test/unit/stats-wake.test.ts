/**
 * When pending counters are flushed without further traffic: the batcher says when they fall due
 * (never while a batch is in flight or a failed one waits), and the wake policy lets exactly one
 * live request wait for a due time, within the time Workers allow after a response.
 */
import { describe, expect, it } from 'vitest';
import { createBatcher } from '../../worker/stats/batcher.js';
import { createWakePolicy } from '../../worker/stats/wake.js';

function setup() {
  let t = 1_000_000;
  const batcher = createBatcher({
    maxPendingKeys: 100,
    flushIntervalMs: 1000,
    flushMaxKeys: 3,
    flightTimeoutMs: 30_000,
    retryBaseMs: 100,
    retryMaxMs: 1000,
    source: 'worker:test',
    now: () => t,
    newId: () => crypto.randomUUID(),
  });
  const wake = createWakePolicy({ now: () => t, lostAfterMs: 20_000 });
  return { batcher, wake, advance: (ms: number) => (t += ms), now: () => t };
}

describe('batcher.nextDueAt', () => {
  it('is the oldest pending delta plus the interval; now once flushMaxKeys rows are pending', () => {
    const { batcher, advance, now } = setup();
    expect(batcher.nextDueAt()).toBeUndefined();
    const first = now();
    batcher.record({ clientName: 'a', isError: false, at: now() });
    advance(300);
    batcher.record({ clientName: 'a', isError: false, at: now() });
    expect(batcher.nextDueAt()).toBe(first + 1000);
    batcher.record({ clientName: 'b', isError: false, at: now() });
    batcher.record({ clientName: 'c', isError: false, at: now() });
    expect(batcher.nextDueAt()).toBe(now());
  });

  it('is undefined while a batch is in flight (its sender follows up) and while a failed batch waits', () => {
    const { batcher, advance, now } = setup();
    batcher.record({ clientName: 'a', isError: false, at: now() });
    advance(1000);
    const batch = batcher.take();
    if (!batch) throw new Error('expected a batch');
    batcher.record({ clientName: 'b', isError: false, at: now() });
    expect(batcher.nextDueAt()).toBeUndefined();
    batcher.settle(batch.batch_id, 'delivered');
    expect(batcher.nextDueAt()).toBe(now() + 1000);
    advance(1000);
    const second = batcher.take();
    if (!second) throw new Error('expected a batch');
    batcher.settle(second.batch_id, 'failed');
    batcher.record({ clientName: 'c', isError: false, at: now() });
    expect(batcher.nextDueAt()).toBeUndefined();
  });
});

describe('wake policy', () => {
  it('one live claim covers every due time at or after it; released, the next record claims again', () => {
    const { wake, advance, now } = setup();
    const due = now() + 1000;
    expect(wake.claim(undefined, 20_000)).toBeUndefined();
    expect(wake.claim(due, 20_000)).toEqual({ waitMs: 1000, at: due });
    advance(200);
    expect(wake.claim(due, 20_000)).toBeUndefined();
    expect(wake.claim(due + 500, 20_000)).toBeUndefined();
    // An earlier due time (the key bound reached) is not covered by a later wake.
    expect(wake.claim(now(), 20_000)).toEqual({ waitMs: 0, at: now() });
    wake.release(now());
    wake.release(due);
    expect(wake.claim(due + 500, 20_000)).toEqual({ waitMs: 1300, at: due + 500 });
  });

  it('never waits longer than the request may, and reclaims a wake whose request ended early', () => {
    const { wake, advance, now } = setup();
    expect(wake.claim(now() + 600_000, 20_000)).toBeUndefined();
    const due = now() + 1000;
    expect(wake.claim(due, 20_000)).toEqual({ waitMs: 1000, at: due });
    advance(1000 + 20_000); // the claimer never released: its request was cut off
    expect(wake.claim(now() + 1000, 20_000)).toEqual({ waitMs: 1000, at: now() + 1000 });
    expect(wake.claim(now() + 5000, 2000)).toBeUndefined();
  });
});
