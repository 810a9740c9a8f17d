/**
 * `STATS_SINK=direct`: the worker applies a batch itself in one transaction on the logging target,
 * under that target's budget — ledger insert, then one statement per table. The ledger row makes
 * a retried batch (whose first commit succeeded but whose answer was lost) a no-op. After an
 * applied batch it prunes old ledger rows now and then, a bounded number at a time, as the flusher
 * does; and a batch the database refuses for its data is rejected (dropped, counted), not retried.
 */
import type { Batch } from '../../drizzle/batch.js';
import { batchRows } from '../../drizzle/batch.js';
import { dataErrorState } from '../../drizzle/data-errors.js';
import { deltaStatements, ledgerInsert, ledgerPrune, mergeDeltas } from '../../drizzle/upserts.js';
import { withSession, type SessionContext } from '../db/with-session.js';
import type { Session } from '../db/session.js';
import { log } from '../log.js';
import type { SinkResult, CountersSink } from './sink.js';

type LedgerPruning = {
  /** Ledger rows older than this are deleted: far beyond any retry of a batch id. */
  retentionMs: number;
  /** At most this often per isolate (the first applied batch of an isolate prunes at once). */
  intervalMs: number;
  /** At most this many rows per prune: more than an isolate adds in `intervalMs`. */
  limit: number;
  now: () => number;
};

const DEFAULT_PRUNING = { retentionMs: 24 * 3_600_000, intervalMs: 60_000, limit: 1000 };

export class DirectSink implements CountersSink {
  readonly kind = 'direct';
  private readonly pruning: LedgerPruning;
  private lastPruneAt: number | undefined;

  constructor(
    private readonly databaseUrl: string,
    pruning: Partial<LedgerPruning> & { now: () => number },
  ) {
    this.pruning = { ...DEFAULT_PRUNING, ...pruning };
  }

  async send(batch: Batch, ctx: SessionContext): Promise<SinkResult> {
    try {
      return await withSession(ctx, this.databaseUrl, 'stats', async (s) => {
        const status = await applyOnce(s, batch);
        if (status === 'applied') await this.maybePrune(s);
        return { ok: true, status } as const;
      });
    } catch (err) {
      // Alone in its transaction already: a data error is this batch's own, and permanent.
      const state = dataErrorState(err);
      if (state) return { ok: false, kind: 'rejected', message: `the database rejected the batch's data (SQLSTATE ${state})` };
      return { ok: false, kind: 'unavailable', message: err instanceof Error ? err.message.slice(0, 200) : 'stats write failed' };
    }
  }

  /** Bounded ledger pruning after a commit; its failure never fails the batch it follows. */
  private async maybePrune(s: Session): Promise<void> {
    const t = this.pruning.now();
    if (this.lastPruneAt !== undefined && t - this.lastPruneAt < this.pruning.intervalMs) return;
    this.lastPruneAt = t;
    const st = ledgerPrune(this.pruning.retentionMs, this.pruning.limit);
    await s.query(st.text, st.params).catch((err: unknown) => {
      log('warn', 'stats_ledger_prune_failed', { message: err instanceof Error ? err.message.slice(0, 200) : 'unknown' });
    });
  }
}

/** Ledger insert then the deltas, in one transaction: 'duplicate' when the id was applied before. */
async function applyOnce(s: Session, batch: Batch): Promise<'applied' | 'duplicate'> {
  await s.query('BEGIN');
  try {
    const ledger = ledgerInsert([{ batch_id: batch.batch_id, source: batch.source, rows: batchRows(batch) }]);
    const fresh = ledger ? (await s.query(ledger.text, ledger.params)).rows.length > 0 : false;
    if (!fresh) {
      await s.query('ROLLBACK');
      return 'duplicate';
    }
    for (const st of deltaStatements(mergeDeltas([batch]))) await s.query(st.text, st.params);
    await s.query('COMMIT');
    return 'applied';
  } catch (err) {
    await s.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
