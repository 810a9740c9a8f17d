import { describe, expect, it } from 'vitest';
import { createBatcher } from '../../worker/counters/batcher.js';
import { runFlush } from '../../worker/counters/flush.js';
import { MemorySink } from '../support/memory-sink.js';
import type { SessionContext } from '../../worker/db/with-session.js';
import type { Isolate } from '../../worker/isolate.js';

// The memory sink ignores the session context; the flush loop only passes it through.
const ctx: SessionContext = { isolate: {} as Isolate, waitUntil: () => undefined };

function setup() {
  let t = 0;
  const batcher = createBatcher({
    maxPendingKeys: 10_000,
    flushIntervalMs: 50,
    flushMaxKeys: 500,
    flightTimeoutMs: 30_000,
    retryBaseMs: 100,
    retryMaxMs: 1000,
    source: 'worker:test',
    now: () => t,
    newId: () => crypto.randomUUID(),
  });
  return { batcher, sink: new MemorySink(), advance: (ms: number) => (t += ms), now: () => t };
}

const totals = (sink: MemorySink) => {
  const out = { requests: 0, errors: 0, table: 0, duration: 0 };
  for (const b of sink.applied) {
    for (const c of b.clients) {
      out.requests += c.requests;
      out.errors += c.errors;
    }
    for (const r of b.tables) {
      out.table += r.requests;
      out.duration += r.duration_ms;
    }
  }
  return out;
};

describe('flush loop with the memory sink', () => {
  it('delivers exact sums through intermittent sink failures, resending failed batches under their ids', async () => {
    const { batcher, sink, advance, now } = setup();
    let n = 0;
    for (let i = 0; i < 1000; i++) {
      batcher.record({ clientName: `c${i % 7}`, isError: i % 10 === 0, at: now(), table: { tableName: `t${i % 3}`, operation: 'read', durationMs: 2 } });
      n++;
      if (i % 97 === 0) sink.failNext(2);
      advance(7);
      if (batcher.due()) await runFlush(batcher, sink, ctx);
    }
    advance(10_000);
    await runFlush(batcher, sink, ctx, { force: true });
    await runFlush(batcher, sink, ctx, { force: true });
    expect(totals(sink)).toEqual({ requests: n, errors: 100, table: n, duration: 2 * n });
    const ids = sink.applied.map((b) => b.batch_id);
    expect(new Set(ids).size).toBe(ids.length);
    // Every failed send was later resent with identical content.
    for (const b of sink.sent) expect(sink.applied.find((a) => a.batch_id === b.batch_id)).toEqual(b);
  });

  it('sends the retained batch then the pending deltas in one call, and stops at the first failure', async () => {
    const { batcher, sink, now } = setup();
    batcher.record({ clientName: 'a', isError: false, at: now() });
    sink.failNext(1);
    const failed = await runFlush(batcher, sink, ctx, { force: true });
    expect(failed).toMatchObject({ sent: 1, results: [{ ok: false, kind: 'unavailable' }] });
    batcher.record({ clientName: 'a', isError: false, at: now() });
    const report = await runFlush(batcher, sink, ctx, { force: true });
    expect(report.results).toEqual([
      { ok: true, status: 'applied' },
      { ok: true, status: 'applied' },
    ]);
    expect(sink.applied).toHaveLength(2);
    expect(totals(sink).requests).toBe(2);
  });

  it('a sink that throws is a failure, not a crash', async () => {
    const { batcher, now } = setup();
    batcher.record({ clientName: 'a', isError: false, at: now() });
    const report = await runFlush(batcher, { kind: 'memory', send: () => Promise.reject(new Error('boom')) }, ctx, { force: true });
    expect(report.results).toEqual([{ ok: false, kind: 'unavailable', message: 'boom' }]);
    expect(batcher.snapshot().retryRows).toBe(1);
  });
});
