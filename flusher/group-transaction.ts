/**
 * One group's transaction (docs/counters.md "Group commit and the ledger"): record the batch ids
 * in the `flush_batches` ledger, apply only the new ones' merged deltas with one statement per
 * table, commit, and only then answer each batch. A failed transaction fails the whole group (the
 * workers retry under the same ids, so nothing doubles).
 */
import type pg from 'pg';
import type { Batch } from '../drizzle/batch.js';
import { dataErrorState } from '../drizzle/data-errors.js';
import { deltaStatements, ledgerInsert, mergeDeltas, type MergedDeltas } from '../drizzle/upserts.js';
import { BatchRejectedError, GroupCommitError } from './commit-errors.js';
import type { FlusherMetrics } from './metrics.js';

export type SubmitResult = 'applied' | 'duplicate';
export type Waiter = { batch: Batch; rows: number; resolve: (r: SubmitResult) => void; reject: (e: Error) => void };

export type TransactionDeps = {
  pool: pg.Pool;
  metrics: FlusherMetrics;
  onError?: (event: string, err: unknown) => void;
  /** Called after every successful commit (the ledger prune hangs off it). */
  afterCommit: () => void;
};

type Applied = { outcomes: SubmitResult[]; merged: MergedDeltas };

/**
 * Commits a group. When the database refuses the group's data (not the connection), one bad
 * batch must not fail its neighbours forever: each batch is retried in its own transaction, and
 * only a batch that fails alone is rejected.
 */
export async function commitGroup(deps: TransactionDeps, group: Waiter[]): Promise<void> {
  const started = performance.now();
  deps.metrics.groupSize.observe(group.length);
  const err = await attempt(deps, group, started);
  if (err === undefined) return;
  if (dataErrorState(err) === undefined) return fail(deps, group, err, started);
  if (group.length === 1) return reject(deps, group, err);
  deps.onError?.('group_commit_isolating', err);
  for (const w of group) {
    const alone = await attempt(deps, [w], performance.now());
    if (alone === undefined) continue;
    if (dataErrorState(alone) === undefined) fail(deps, [w], alone, started);
    else reject(deps, [w], alone);
  }
}

/** Ledger, then the deltas of the batches new to it, inside the caller's transaction. */
async function apply(client: pg.PoolClient, group: readonly Waiter[]): Promise<Applied> {
  const ledger = ledgerInsert(group.map((w) => ({ batch_id: w.batch.batch_id, source: w.batch.source, rows: w.rows })));
  const inserted = ledger ? await client.query<{ batch_id: string }>(ledger.text, ledger.params) : { rows: [] };
  const newIds = new Set(inserted.rows.map((r) => r.batch_id.toLowerCase()));
  // Only ids new to the ledger apply; a second copy of one id in the same group is a duplicate.
  const outcomes = group.map((w): SubmitResult => (newIds.delete(w.batch.batch_id.toLowerCase()) ? 'applied' : 'duplicate'));
  const merged = mergeDeltas(group.filter((_, i) => outcomes[i] === 'applied').map((w) => w.batch));
  for (const st of deltaStatements(merged)) await client.query(st.text, st.params);
  return { outcomes, merged };
}

/** One transaction for `group`; answers its batches on success, returns the error otherwise. */
async function attempt(deps: TransactionDeps, group: Waiter[], started: number): Promise<unknown> {
  const client = await deps.pool.connect().catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
  if (client instanceof Error) return client;
  let applied: Applied;
  try {
    await client.query('BEGIN');
    applied = await apply(client, group);
    await client.query('COMMIT');
    client.release();
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    // A broken connection must not go back to the pool.
    client.release(err instanceof Error ? err : true);
    return err;
  }
  const { metrics } = deps;
  metrics.commitSeconds.observe((performance.now() - started) / 1000);
  metrics.rows.inc({ table: 'client_statistics' }, applied.merged.clients.length);
  metrics.rows.inc({ table: 'client_table_statistics' }, applied.merged.tables.length);
  metrics.rows.inc({ table: 'api_keys' }, applied.merged.keys.length);
  group.forEach((w, i) => {
    const outcome = applied.outcomes[i] ?? 'duplicate';
    metrics.batches.inc({ outcome });
    w.resolve(outcome);
  });
  deps.afterCommit();
  return undefined;
}

function reject(deps: TransactionDeps, group: Waiter[], err: unknown): void {
  const state = dataErrorState(err) ?? 'unknown';
  deps.metrics.rejected.inc({ reason: 'invalid_data' }, group.length);
  deps.onError?.('batch_rejected_by_database', err);
  for (const w of group) w.reject(new BatchRejectedError(state));
}

function fail(deps: TransactionDeps, group: Waiter[], err: unknown, started: number): void {
  deps.metrics.commitSeconds.observe((performance.now() - started) / 1000);
  deps.metrics.dbErrors.inc();
  deps.metrics.rejected.inc({ reason: 'unavailable' }, group.length);
  deps.onError?.('group_commit_failed', err);
  const e = new GroupCommitError(err instanceof Error ? err.message : 'group commit failed');
  for (const w of group) w.reject(e);
}
