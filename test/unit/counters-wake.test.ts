/**
 * The wake policy: exactly one live request waits for a due time, within the time Workers allow
 * after a response; a wake whose request ended early is claimed anew. (When deltas fall due:
 * batcher.test.ts, "batcher.nextDueAt".)
 */
import { describe, expect, it } from 'vitest';
import { createWakePolicy } from '../../worker/counters/wake.js';

function setup() {
  let t = 1_000_000;
  return { wake: createWakePolicy({ now: () => t, lostAfterMs: 20_000 }), advance: (ms: number) => (t += ms), now: () => t };
}

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
