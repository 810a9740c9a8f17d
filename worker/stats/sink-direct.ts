/**
 * `STATS_SINK=direct`: the worker applies a batch itself in one transaction on the logging target,
 * under that target's budget — ledger insert, then one statement per table. The ledger row makes
 * a retried batch (whose first commit succeeded but whose answer was lost) a no-op.
 */
import type { Batch } from '../../drizzle/batch.js';
import { batchRows } from '../../drizzle/batch.js';
import { deltaStatements, ledgerInsert, mergeDeltas } from '../../drizzle/upserts.js';
import { withSession, type SessionContext } from '../db/with-session.js';
import type { SinkResult, StatsSink } from './sink.js';

export class DirectSink implements StatsSink {
  readonly kind = 'direct';

  constructor(private readonly databaseUrl: string) {}

  async send(batch: Batch, ctx: SessionContext): Promise<SinkResult> {
    try {
      return await withSession(ctx, this.databaseUrl, 'stats', async (s) => {
        await s.query('BEGIN');
        try {
          const ledger = ledgerInsert([{ batch_id: batch.batch_id, source: batch.source, rows: batchRows(batch) }]);
          const fresh = ledger ? (await s.query(ledger.text, ledger.params)).rows.length > 0 : false;
          if (!fresh) {
            await s.query('ROLLBACK');
            return { ok: true, status: 'duplicate' } as const;
          }
          for (const st of deltaStatements(mergeDeltas([batch]))) await s.query(st.text, st.params);
          await s.query('COMMIT');
          return { ok: true, status: 'applied' } as const;
        } catch (err) {
          await s.query('ROLLBACK').catch(() => undefined);
          throw err;
        }
      });
    } catch (err) {
      return { ok: false, kind: 'unavailable', message: err instanceof Error ? err.message.slice(0, 200) : 'stats write failed' };
    }
  }
}
