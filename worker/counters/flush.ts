/**
 * One flush: take a batch from the batcher, send it through the sink, settle the outcome. At most
 * two sends per call — a retained retry batch, then the pending deltas — and it stops at the
 * first failure, so a dead sink costs one attempt per due flush, never a loop. Never throws.
 */
import type { IsolateSnapshot } from '../../drizzle/fleet-snapshot.js';
import type { SessionContext } from '../db/with-session.js';
import type { Batcher } from './batcher.js';
import type { SinkResult, CountersSink } from './sink.js';

export type FlushReport = { sent: number; results: SinkResult[] };

export async function runFlush(
  batcher: Batcher,
  sink: CountersSink,
  ctx: SessionContext,
  opts: {
    force?: boolean;
    onFailure?: (result: Extract<SinkResult, { ok: false }>, batchId: string) => void;
    /** The isolate's snapshot, taken per send: a retried batch carries a fresh one, never its first. */
    snapshot?: () => IsolateSnapshot;
  } = {},
): Promise<FlushReport> {
  const results: SinkResult[] = [];
  for (let i = 0; i < 2; i++) {
    const batch = batcher.take({ force: opts.force ?? false });
    if (!batch) break;
    let result: SinkResult;
    try {
      result = await sink.send(opts.snapshot ? { ...batch, snapshot: opts.snapshot() } : batch, ctx);
    } catch (err) {
      result = { ok: false, kind: 'unavailable', message: err instanceof Error ? err.message : 'sink threw' };
    }
    results.push(result);
    batcher.settle(batch.batch_id, result.ok ? 'delivered' : result.kind === 'rejected' ? 'rejected' : 'failed');
    if (!result.ok) {
      opts.onFailure?.(result, batch.batch_id);
      break;
    }
  }
  return { sent: results.length, results };
}
