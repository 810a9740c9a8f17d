/**
 * `STATS_SINK=direct`: the worker applies a batch itself in one transaction on the logging target,
 * under that target's budget — ledger insert, then one statement per table. The ledger row makes
 * a retried batch (whose first commit succeeded but whose answer was lost) a no-op. After an
 * applied batch it prunes old ledger rows now and then, a bounded number at a time, as the flusher
 * does; and a batch the database refuses for its data is rejected (dropped, counted), not retried.
 * The batch's isolate snapshot, when it carries one, is upserted into `isolate_snapshots` in the
 * same transaction (and rows of silent isolates are pruned with the ledger).
 * When the logging target is the catalog, the ledger statement also reads the catalog's changes
 * since the isolate's epoch, which the isolate applies at once (docs/auth.md "The revocation bound").
 */
import type { Batch } from '../../drizzle/batch.js';
import { batchRows } from '../../drizzle/batch.js';
import { dataErrorState } from '../../drizzle/data-errors.js';
import { SNAPSHOT_EXPIRY_MS, snapshotPrune, snapshotUpsert } from '../../drizzle/fleet-sql.js';
import { deltaStatements, ledgerInsert, ledgerPrune, mergeDeltas } from '../../drizzle/upserts.js';
import { changesFor, changesSince, parseChangeRead } from '../../drizzle/changes.js';
import { applyChanges, type ChangeTargets } from '../auth/catalog-changes.js';
import { targetOf } from '../db/target.js';
import { withSession, type SessionContext } from '../db/with-session.js';
import type { Session } from '../db/session.js';
import type { Statement } from '../../drizzle/statement.js';
import { BatchStatementError } from '../db/batch.js';
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
        const status = await applyOnce(s, batch, this.readsChanges(ctx) ? ctx.isolate.services : undefined);
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

  /** The catalog's changes come with the flush only when the logging target is the auth target (the catalog). */
  private readsChanges(ctx: SessionContext): boolean {
    return targetOf(this.databaseUrl).key === targetOf(ctx.isolate.settings.authDatabaseUrl).key;
  }

  /** Bounded ledger pruning after a commit; its failure never fails the batch it follows. */
  private async maybePrune(s: Session): Promise<void> {
    const t = this.pruning.now();
    if (this.lastPruneAt !== undefined && t - this.lastPruneAt < this.pruning.intervalMs) return;
    this.lastPruneAt = t;
    for (const st of [ledgerPrune(this.pruning.retentionMs, this.pruning.limit), snapshotPrune(SNAPSHOT_EXPIRY_MS, this.pruning.limit)]) {
      await s.query(st.text, st.params).catch((err: unknown) => {
        log('warn', 'stats_ledger_prune_failed', { message: err instanceof Error ? err.message.slice(0, 200) : 'unknown' });
      });
    }
  }
}

/**
 * The ledger insert ('fail': a batch id recorded before fails it, 23505), and with `changesFrom`
 * the catalog's changes after that epoch read in the same statement (no round trip of its own).
 */
function ledgerStatement(batch: Batch, changesFrom: { since: number | undefined } | undefined): Statement | undefined {
  const ledger = ledgerInsert([{ batch_id: batch.batch_id, source: batch.source, rows: batchRows(batch) }], 'fail');
  if (!ledger || !changesFrom) return ledger;
  const changes = changesSince(changesFrom.since ?? 0, ledger.params.length + 1);
  return { text: `WITH ledger AS (${ledger.text}) SELECT (${changes.text}) AS feed`, params: [...ledger.params, ...changes.params] };
}

/**
 * Ledger insert then the deltas (and the isolate's snapshot), in one transaction sent as one batch:
 * a batch id recorded before makes the ledger insert fail, which rolls the rest back ('duplicate').
 * The catalog changes read with the ledger are applied to the isolate's caches at once.
 */
async function applyOnce(s: Session, batch: Batch, changesTo: ChangeTargets | undefined): Promise<'applied' | 'duplicate'> {
  const since = changesTo?.changes.tracker.epoch;
  const readAt = Date.now();
  const ledger = ledgerStatement(batch, changesTo ? { since } : undefined);
  if (!ledger) return 'duplicate';
  try {
    const snapshot = batch.snapshot ? [snapshotUpsert(batch.snapshot)] : [];
    const [ledgerResult] = await s.batch({ statements: [ledger, ...deltaStatements(mergeDeltas([batch])), ...snapshot] });
    const read = changesTo ? parseChangeRead(ledgerResult?.rows[0]?.feed) : undefined;
    if (changesTo && read) applyChanges(changesTo, changesFor(read, since ?? 0, since, 0), readAt);
    return 'applied';
  } catch (err) {
    if (!(err instanceof BatchStatementError)) throw err;
    if (isLedgerDuplicate(err.cause)) return 'duplicate';
    throw err.cause;
  }
}

/** The ledger already holds this batch id. */
function isLedgerDuplicate(err: unknown): boolean {
  const e = (typeof err === 'object' && err !== null ? err : {}) as { code?: unknown; table?: unknown };
  return e.code === '23505' && e.table === 'flush_batches';
}
