/**
 * `STATS_SINK=per_request`: the old gateway's behaviour — every request upserts its own counter
 * rows, as separate statements without a ledger. Kept only as the benchmark baseline that
 * reproduces the row-lock pile-up this gateway was built to end (docs/architecture.md); never use it in production.
 */
import type { Batch } from '../../drizzle/batch.js';
import { deltaStatements, mergeDeltas } from '../../drizzle/upserts.js';
import { withSession, type SessionContext } from '../db/with-session.js';
import type { SinkResult, StatsSink } from './sink.js';

export class PerRequestSink implements StatsSink {
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
