import { describe, expect, it } from 'vitest';
import { createBatcher, type BatcherOptions } from '../../worker/counters/batcher.js';
import type { CountedRequest } from '../../worker/counters/deltas.js';
import type { Batch } from '../../drizzle/batch.js';

/** A batcher on a hand-driven clock with sequential ids. */
function setup(over: Partial<BatcherOptions> = {}) {
  let t = 1_000_000;
  let id = 0;
  const batcher = createBatcher({
    maxPendingKeys: 100,
    flushIntervalMs: 1000,
    flushMaxKeys: 50,
    flightTimeoutMs: 30_000,
    retryBaseMs: 100,
    retryMaxMs: 1000,
    source: 'worker:test',
    now: () => t,
    newId: () => `00000000-0000-4000-8000-${String(++id).padStart(12, '0')}`,
    ...over,
  });
  const use = (u: Partial<CountedRequest> = {}): CountedRequest => ({ clientName: 'acme', isError: false, at: t, ...u });
  return { batcher, use, advance: (ms: number) => (t += ms), now: () => t };
}

const take = (b: ReturnType<typeof setup>['batcher'], force = false): Batch => {
  const batch = b.take({ force });
  if (!batch) throw new Error('expected a batch');
  return batch;
};

describe('stats batcher', () => {
  it('coalesces requests per client, per (client, table, operation) and per key', () => {
    const { batcher, use, advance } = setup();
    batcher.record(use({ keyId: 'k1', table: { tableName: 'users', operation: 'read', durationMs: 5 } }));
    advance(10);
    batcher.record(use({ isError: true, keyId: 'k1', table: { tableName: 'users', operation: 'read', durationMs: 7.4 } }));
    batcher.record(use({ table: { tableName: 'users', operation: 'insert', durationMs: 1 } }));
    batcher.record(use({ clientName: 'other' }));
    batcher.record(use({ clientName: 'other', isError: true, rateLimited: true }));
    expect(batcher.snapshot().pendingKeys).toBe(5);
    const batch = take(batcher, true);
    expect(batch.clients).toEqual([
      { client_name: 'acme', requests: 3, errors: 1, rate_limited: 0, last_seen: new Date(1_000_010).toISOString() },
      { client_name: 'other', requests: 2, errors: 1, rate_limited: 1, last_seen: new Date(1_000_010).toISOString() },
    ]);
    expect(batch.tables).toContainEqual({
      client_name: 'acme',
      table_name: 'users',
      operation: 'read',
      requests: 2,
      errors: 1,
      duration_ms: 12,
      last_seen: new Date(1_000_010).toISOString(),
    });
    expect(batch.tables).toHaveLength(2);
    expect(batch.keys).toEqual([{ key_id: 'k1', last_used: new Date(1_000_010).toISOString() }]);
    expect(batch.source).toBe('worker:test');
  });

  it('is due when the oldest delta reaches the interval, or at STATS_FLUSH_MAX_KEYS rows', () => {
    const { batcher, use, advance } = setup({ flushMaxKeys: 3 });
    expect(batcher.due()).toBe(false);
    batcher.record(use());
    advance(999);
    expect(batcher.due()).toBe(false);
    expect(batcher.take()).toBeUndefined();
    advance(1);
    expect(batcher.due()).toBe(true);
    take(batcher);

    batcher.record(use({ clientName: 'a' }));
    batcher.record(use({ clientName: 'b' }));
    expect(batcher.due()).toBe(false); // in flight anyway, and only 2 rows
    batcher.record(use({ clientName: 'c' }));
    expect(batcher.due()).toBe(false); // one batch at a time
  });

  it('swaps before sending: deltas recorded during a send go into the next batch', () => {
    const { batcher, use } = setup();
    batcher.record(use());
    const first = take(batcher, true);
    batcher.record(use());
    batcher.record(use());
    expect(batcher.take({ force: true })).toBeUndefined(); // at most one in flight
    batcher.settle(first.batch_id, 'delivered');
    const second = take(batcher, true);
    expect(first.clients[0]?.requests).toBe(1);
    expect(second.clients[0]?.requests).toBe(2);
    expect(second.batch_id).not.toBe(first.batch_id);
  });

  it('keeps a failed batch intact and resends it under the same id after the backoff, before newer deltas', () => {
    const { batcher, use, advance } = setup({ retryBaseMs: 100, retryMaxMs: 250 });
    batcher.record(use());
    const first = take(batcher, true);
    batcher.settle(first.batch_id, 'failed');
    batcher.record(use());
    expect(batcher.snapshot()).toMatchObject({ retryRows: 1, retryBatchId: first.batch_id, failures: 1, pendingKeys: 1 });
    advance(99);
    expect(batcher.due()).toBe(false);
    advance(1);
    expect(batcher.due()).toBe(true);
    const again = take(batcher);
    expect(again).toEqual(first);
    batcher.settle(again.batch_id, 'failed');
    advance(199);
    expect(batcher.take()).toBeUndefined(); // backoff doubled to 200
    advance(1);
    batcher.settle(take(batcher).batch_id, 'failed');
    advance(250); // capped at retryMaxMs
    const third = take(batcher);
    expect(third.batch_id).toBe(first.batch_id);
    batcher.settle(third.batch_id, 'delivered');
    const next = take(batcher, true);
    expect(next.batch_id).not.toBe(first.batch_id);
    expect(next.clients[0]?.requests).toBe(1);
    expect(batcher.snapshot()).toMatchObject({ consecutiveFailures: 0, flushes: 1, failures: 3 });
  });

  it('force ignores the retry backoff', () => {
    const { batcher, use } = setup({ retryBaseMs: 10_000 });
    batcher.record(use());
    const first = take(batcher, true);
    batcher.settle(first.batch_id, 'failed');
    expect(batcher.take()).toBeUndefined();
    expect(take(batcher, true).batch_id).toBe(first.batch_id);
  });

  it('drops a rejected batch and counts it', () => {
    const { batcher, use } = setup();
    batcher.record(use());
    batcher.settle(take(batcher, true).batch_id, 'rejected');
    expect(batcher.take({ force: true })).toBeUndefined();
    expect(batcher.snapshot()).toMatchObject({ rejected: 1, retryRows: 0, pendingKeys: 0, inFlight: false });
  });

  it('bounds memory at STATS_MAX_PENDING_KEYS, counting the batch out for delivery; known rows still absorb deltas', () => {
    const { batcher, use } = setup({ maxPendingKeys: 3 });
    batcher.record(use({ clientName: 'a' }));
    batcher.record(use({ clientName: 'b' }));
    const out = take(batcher, true);
    batcher.record(use({ clientName: 'c' }));
    batcher.record(use({ clientName: 'd' })); // 2 out + 1 pending = 3: dropped
    batcher.record(use({ clientName: 'c' })); // existing row: absorbed
    expect(batcher.snapshot()).toMatchObject({ pendingKeys: 1, dropped: 1 });
    batcher.settle(out.batch_id, 'failed'); // still held, as the retry batch
    batcher.record(use({ clientName: 'e', keyId: 'k', table: { tableName: 't', operation: 'read', durationMs: 1 } }));
    expect(batcher.snapshot().dropped).toBe(4);
    const retry = take(batcher, true);
    batcher.settle(retry.batch_id, 'delivered');
    batcher.record(use({ clientName: 'e' }));
    const next = take(batcher, true);
    expect(next.clients).toEqual([expect.objectContaining({ client_name: 'c', requests: 2 }), expect.objectContaining({ client_name: 'e', requests: 1 })]);
  });

  it('reclaims a flight that never settles (its request died) as the retry batch, and tolerates its late report', () => {
    const { batcher, use, advance } = setup({ flightTimeoutMs: 5000 });
    batcher.record(use());
    const lost = take(batcher, true);
    advance(4999);
    expect(batcher.take({ force: true })).toBeUndefined();
    advance(1);
    const resent = take(batcher, true);
    expect(resent.batch_id).toBe(lost.batch_id);
    expect(batcher.snapshot().lostFlights).toBe(1);
    batcher.settle(lost.batch_id, 'delivered'); // the same id: this settles the resend
    expect(batcher.snapshot()).toMatchObject({ inFlight: false, flushes: 1 });
  });

  it('a late success of a reclaimed flight cancels its pending retry', () => {
    const { batcher, use, advance } = setup({ flightTimeoutMs: 5000 });
    batcher.record(use());
    const lost = take(batcher, true);
    advance(5000);
    expect(batcher.due()).toBe(true); // reclaimed: the retry is due
    batcher.settle(lost.batch_id, 'delivered');
    expect(batcher.snapshot()).toMatchObject({ retryRows: 0, inFlight: false });
    expect(batcher.take({ force: true })).toBeUndefined();
  });
});

describe('batcher.nextDueAt (when a quiet isolate flushes)', () => {
  it('is the oldest pending delta plus the interval; now once flushMaxKeys rows are pending', () => {
    const { batcher, use, advance, now } = setup({ flushMaxKeys: 3 });
    expect(batcher.nextDueAt()).toBeUndefined();
    const first = now();
    batcher.record(use());
    advance(300);
    batcher.record(use());
    expect(batcher.nextDueAt()).toBe(first + 1000);
    batcher.record(use({ clientName: 'b' }));
    batcher.record(use({ clientName: 'c' }));
    expect(batcher.nextDueAt()).toBe(now());
  });

  it('is undefined while a batch is in flight (its sender follows up) and while a failed batch waits', () => {
    const { batcher, use, advance, now } = setup();
    batcher.record(use());
    advance(1000);
    const batch = take(batcher);
    batcher.record(use({ clientName: 'b' }));
    expect(batcher.nextDueAt()).toBeUndefined();
    batcher.settle(batch.batch_id, 'delivered');
    expect(batcher.nextDueAt()).toBe(now() + 1000);
    advance(1000);
    batcher.settle(take(batcher).batch_id, 'failed');
    batcher.record(use({ clientName: 'c' }));
    expect(batcher.nextDueAt()).toBeUndefined();
  });
});
