/**
 * The pure parts of catalog changes: what an isolate at an epoch is told (drizzle/changes.ts), what
 * the flusher's window holds (flusher/change-feed.ts), and how the isolate's tracker takes an
 * answer and when it must check the epoch itself (worker/auth/change-tracker.ts).
 */
import { describe, expect, it } from 'vitest';
import { changesFor, MAX_CHANGES, parseChangeRead, type Change } from '../../drizzle/changes.js';
import { createChangeWindow } from '../../flusher/change-feed.js';
import { advance, checkFailed, createChangeTracker, mustCheck } from '../../worker/auth/change-tracker.js';

const KEY = '0b7e3f5c-64a5-4c39-9a3f-2a4b0c1d2e3f';
const key = (epoch: number, keyId = KEY): Change => ({ epoch, kind: 'key', client_name: 'acme', key_id: keyId });
const client = (epoch: number, name: string): Change => ({ epoch, kind: 'client', client_name: name, key_id: null });
const run = (from: number, to: number): Change[] => Array.from({ length: to - from + 1 }, (_, i) => key(from + i));

describe('changesFor: what an isolate at an epoch is told', () => {
  const read = { through: 5, items: run(3, 5) };

  it('lists exactly the changes after its epoch', () => {
    expect(changesFor(read, 2, 3, 40)).toEqual({ through: 5, age_ms: 40, reset: false, items: [key(4), key(5)] });
    expect(changesFor(read, 2, 5, 0)).toEqual({ through: 5, age_ms: 0, reset: false, items: [] });
  });

  it('resets an isolate without an epoch, or behind what the read reaches', () => {
    expect(changesFor(read, 2, undefined, 0)).toMatchObject({ through: 5, reset: true, items: [] });
    expect(changesFor(read, 2, 1, 0)).toMatchObject({ reset: true, items: [] });
  });

  it('resets when the listed changes do not follow on (pruned) or are more than one answer holds', () => {
    expect(changesFor({ through: 5, items: [key(5)] }, 3, 3, 0)).toMatchObject({ reset: true });
    const many = run(1, MAX_CHANGES + 1);
    expect(changesFor({ through: MAX_CHANGES + 1, items: many }, 0, 0, 0)).toMatchObject({ reset: true, items: [] });
    expect(changesFor({ through: MAX_CHANGES, items: run(1, MAX_CHANGES) }, 0, 0, 0).items).toHaveLength(MAX_CHANGES);
  });

  it('tells an isolate ahead of the read nothing new, without a reset', () => {
    expect(changesFor(read, 2, 9, 0)).toEqual({ through: 5, age_ms: 0, reset: false, items: [] });
  });

  it('parses the feed column, whether the driver hands JSON text or an object', () => {
    expect(parseChangeRead({ through: 2, items: [key(2)] })).toEqual({ through: 2, items: [key(2)] });
    expect(parseChangeRead(JSON.stringify({ through: 0, items: [] }))).toEqual({ through: 0, items: [] });
    expect(parseChangeRead({ through: 'x', items: [] })).toBeUndefined();
    expect(parseChangeRead(undefined)).toBeUndefined();
  });
});

describe("the flusher's change window", () => {
  it('answers nothing before its first read, then accumulates reads that follow on', () => {
    const w = createChangeWindow();
    expect(w.answer(0, 0)).toBeUndefined();
    w.take({ through: 3, items: run(2, 3) }, 1, 1000);
    expect(w.position()).toEqual({ through: 3, readAt: 1000 });
    w.take({ through: 5, items: run(4, 5) }, 3, 1250);
    expect(w.answer(2, 1300)).toEqual({ through: 5, age_ms: 50, reset: false, items: run(3, 5) });
    expect(w.answer(1, 1300)).toMatchObject({ reset: false, items: run(2, 5) });
    expect(w.answer(0, 1300)).toMatchObject({ reset: true }); // before the window
    expect(w.answer(undefined, 1300)).toMatchObject({ reset: true });
  });

  it('restarts at `through` after a read that stops short of it', () => {
    const w = createChangeWindow();
    w.take({ through: 1000, items: run(1, MAX_CHANGES + 1) }, 0, 0);
    expect(w.position()).toMatchObject({ through: 1000 });
    expect(w.answer(1000, 0)).toMatchObject({ reset: false, items: [] });
    expect(w.answer(10, 0)).toMatchObject({ reset: true });
  });

  it('keeps at most 4 × MAX_CHANGES changes: older isolates are reset, newer ones still listed', () => {
    const w = createChangeWindow();
    w.take({ through: 0, items: [] }, 0, 0);
    for (let from = 0; from < 5 * MAX_CHANGES; from += MAX_CHANGES) w.take({ through: from + MAX_CHANGES, items: run(from + 1, from + MAX_CHANGES) }, from, 0);
    expect(w.answer(MAX_CHANGES - 1, 0)).toMatchObject({ reset: true });
    expect(w.answer(5 * MAX_CHANGES - 2, 0)).toMatchObject({ reset: false, items: run(5 * MAX_CHANGES - 1, 5 * MAX_CHANGES) });
  });
});

describe("the isolate's change tracker", () => {
  it('must check before its first read and once its knowledge is older than the bound', () => {
    const t = createChangeTracker();
    expect(mustCheck(t, 0, 2000)).toBe(true);
    expect(advance(t, { through: 7, age_ms: 0, reset: true, items: [] }, 100)).toEqual({ all: true }); // no epoch yet: drop anything cached
    expect(t.epoch).toBe(7);
    expect(mustCheck(t, 2099, 2000)).toBe(false);
    expect(mustCheck(t, 2100, 2000)).toBe(true);
  });

  it('a failed check is not retried within the bound: the caches answer meanwhile', () => {
    const t = createChangeTracker();
    checkFailed(t, 500);
    expect(mustCheck(t, 2499, 2000)).toBe(false);
    expect(mustCheck(t, 2500, 2000)).toBe(true);
    expect(t.counts.failures).toBe(1);
  });

  it('turns changes into the key ids and client names to drop, once each', () => {
    const t = createChangeTracker();
    advance(t, { through: 3, age_ms: 0, reset: true, items: [] }, 0);
    const other = '9d1f2e3c-0000-4000-8000-000000000001';
    const answer = { through: 6, age_ms: 0, reset: false, items: [key(4), client(5, 'frozen-co'), key(6, other)] };
    expect(advance(t, answer, 10)).toEqual({ all: false, keyIds: new Set([KEY, other]), clients: new Set(['frozen-co']) });
    expect(t.epoch).toBe(6);
    // The same answer again (a retried ack): nothing new to drop.
    expect(advance(t, answer, 20)).toBeUndefined();
    expect(advance(t, { through: 7, age_ms: 0, reset: false, items: [{ epoch: 7, kind: 'all', client_name: null, key_id: null }] }, 30)).toEqual({ all: true });
    expect(t.counts).toMatchObject({ changes: 4, resets: 1 });
  });

  it('never moves its knowledge back: an older answer keeps the later check time and epoch', () => {
    const t = createChangeTracker();
    advance(t, { through: 9, age_ms: 0, reset: true, items: [] }, 5000);
    expect(advance(t, { through: 8, age_ms: 0, reset: false, items: [] }, 4000)).toBeUndefined();
    expect(t).toMatchObject({ epoch: 9, checkedAt: 5000 });
  });
});
