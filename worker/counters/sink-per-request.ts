/**
 * `STATS_SINK=per_request`: the old gateway's behaviour — every request upserts its own counter
 * rows, as separate statements without a ledger. Kept only as the benchmark baseline that
 * reproduces the row-lock pile-up this gateway was built to end (docs/architecture.md); never use it in production.
 */
import type { Batch } from '../../drizzle/batch.js';
import { deltaStatements, mergeDeltas } from '../../drizzle/upserts.js';
import type { Settings } from '../config.js';
import { withSession, type SessionContext } from '../db/with-session.js';
import { log } from '../log.js';
import { Deltas } from './deltas.js';
import type { BatcherSnapshot } from './batcher.js';
import type { CountersService } from './service-types.js';
import { logFlushFailure, type SinkResult, type CountersSink } from './sink.js';

class PerRequestSink implements CountersSink {
  readonly kind = 'per_request';

  constructor(private readonly databaseUrl: string) {}

  async send(batch: Batch, ctx: SessionContext): Promise<SinkResult> {
    try {
      await withSession(ctx, this.databaseUrl, 'stats', async (s) => {
        for (const st of deltaStatements(mergeDeltas([batch]))) await s.query(st.text, st.params);
      });
      return { ok: true, status: 'applied' };
    } catch (err) {
      return { ok: false, kind: 'unavailable', message: err instanceof Error ? err.message.slice(0, 200) : 'stats write failed' };
    }
  }
}

/** The batcher part of the status in this mode: there is none. */
const NO_BATCHER: BatcherSnapshot = {
  pendingKeys: 0,
  pendingAgeMs: null,
  inFlight: false,
  retryRows: 0,
  retryBatchId: null,
  consecutiveFailures: 0,
  lastFlushAt: null,
  lastFailureAt: null,
  flushes: 0,
  failures: 0,
  rejected: 0,
  dropped: 0,
  lostFlights: 0,
};

/** Counters without a batcher: every recorded request is sent as its own batch in its `waitUntil`. */
export function createPerRequestCounters(settings: Settings, source: string, now: () => number = Date.now): CountersService {
  const sink = new PerRequestSink(settings.loggingDatabaseUrl);
  const counts = { sent: 0, failures: 0 };
  let lastError: string | null = null;
  return {
    record(usage, ctx) {
      const one = new Deltas();
      one.add(usage, () => true);
      const batch = one.toBatch({ batchId: crypto.randomUUID(), source, createdAt: now() });
      const sent = sink.send(batch, ctx).then((r) => {
        counts.sent++;
        if (r.ok) return;
        counts.failures++;
        lastError = `${r.kind}: ${r.message}`;
        logFlushFailure(sink.kind, batch.batch_id, r);
      });
      ctx.waitUntil(sent.catch((err: unknown) => log('error', 'stats_flush_crashed', { message: err instanceof Error ? err.message : 'unknown' })));
    },
    flushNow: async () => ({ sent: 0, results: [] }),
    snapshot: () => ({ ...NO_BATCHER, flushes: counts.sent - counts.failures, failures: counts.failures, sink: settings.STATS_SINK, source, lastError }),
  };
}
