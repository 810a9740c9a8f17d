/**
 * Group commit (docs/counters.md "Group commit and the ledger"): batches arriving within `groupCommitMs` (or until `maxGroupRows`) share
 * one transaction — record their ids in the `flush_batches` ledger, apply only the new ones'
 * merged deltas with one statement per table, commit, and only then answer each batch. A failed
 * transaction fails the whole group (the workers retry under the same ids, so nothing doubles).
 *
 * At most `maxConcurrentCommits` transactions run at once. While they do, the open group keeps
 * collecting (up to `maxGroupRows`): concurrent transactions on the same hot rows would only queue
 * on each other's row locks, whereas one larger group merges their deltas into fewer rows.
 */
import type pg from 'pg';
import { batchRows, type Batch } from '../drizzle/batch.js';
import { dataErrorState } from '../drizzle/data-errors.js';
import { deltaStatements, ledgerInsert, ledgerPrune, mergeDeltas, type MergedDeltas } from '../drizzle/upserts.js';
import type { FlusherMetrics } from './metrics.js';

export type GroupCommitOptions = {
  pool: pg.Pool;
  metrics: FlusherMetrics;
  /** FLUSHER_GROUP_COMMIT_MS: how long the first batch of a group waits for company. */
  groupCommitMs: number;
  /** FLUSHER_GROUP_MAX_ROWS: a group reaching this many rows closes (and commits when a slot is free). */
  maxGroupRows: number;
  /** FLUSHER_MAX_CONCURRENT_COMMITS: transactions in flight at once (default 1). */
  maxConcurrentCommits?: number;
  /** FLUSHER_LEDGER_RETENTION_HOURS in ms: ledger rows older than this are pruned. */
  ledgerRetentionMs: number;
  /** Prune at most this often (after a successful commit). */
  pruneIntervalMs: number;
  now: () => number;
  onError?: (event: string, err: unknown) => void;
};

export type SubmitResult = 'applied' | 'duplicate';

/** The group's transaction failed: every batch in it is answered 503 and retried by its worker. */
export class GroupCommitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GroupCommitError';
  }
}

/**
 * The database refused this batch's data itself (SQLSTATE class 22 or 23), alone in its own
 * transaction: retrying can never succeed, so it is answered 400 and the worker drops it.
 */
export class BatchRejectedError extends Error {
  constructor(readonly sqlState: string) {
    super(`the database rejected the batch's data (SQLSTATE ${sqlState})`);
    this.name = 'BatchRejectedError';
  }
}

/** Submitted after `drain()` began. */
export class ShuttingDownError extends Error {
  constructor() {
    super('flusher is shutting down');
    this.name = 'ShuttingDownError';
  }
}

type Waiter = { batch: Batch; resolve: (r: SubmitResult) => void; reject: (e: Error) => void };

export type GroupCommitter = {
  submit(batch: Batch): Promise<SubmitResult>;
  /** Stops accepting, commits the open group, waits for every transaction and prune in flight. */
  drain(): Promise<void>;
};

const TABLES = ['client_statistics', 'client_table_statistics', 'api_keys'] as const;

export function createGroupCommitter(opts: GroupCommitOptions): GroupCommitter {
  const { pool, metrics } = opts;
  let open: Waiter[] = [];
  let openRows = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let draining = false;
  let lastPrune = opts.now();
  const running = new Set<Promise<void>>();

  const track = (p: Promise<void>) => {
    running.add(p);
    void p.finally(() => running.delete(p));
  };

  const maxConcurrent = Math.max(1, opts.maxConcurrentCommits ?? 1);
  let committing = 0;
  /** Closed groups waiting for a commit slot (only full groups wait here). */
  const ready: Waiter[][] = [];
  /** The open group's timer fired while every slot was busy: close it when one frees up. */
  let due = false;

  function closeGroup(): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (open.length === 0) return;
    // Keep collecting while every slot is busy, unless the group is full or we are draining.
    if (committing >= maxConcurrent && openRows < opts.maxGroupRows && !draining) {
      due = true;
      return;
    }
    due = false;
    ready.push(open);
    open = [];
    openRows = 0;
    metrics.openGroup.set(0);
    pump();
  }

  function pump(): void {
    while (committing < maxConcurrent && ready.length > 0) {
      const group = ready.shift();
      if (!group) break;
      committing += 1;
      track(
        commit(group).finally(() => {
          committing -= 1;
          if (due || draining) closeGroup();
          pump();
        }),
      );
    }
  }

  /**
   * Commits a group. When the database refuses the group's data (not the connection), one bad
   * batch must not fail its neighbours forever: each batch is retried in its own transaction, and
   * only a batch that fails alone is rejected.
   */
  async function commit(group: Waiter[]): Promise<void> {
    const started = performance.now();
    metrics.groupSize.observe(group.length);
    const err = await attempt(group, started);
    if (err === undefined) return;
    if (dataErrorState(err) === undefined) return fail(group, err, started);
    if (group.length === 1) return reject(group, err);
    opts.onError?.('group_commit_isolating', err);
    for (const w of group) {
      const alone = await attempt([w], performance.now());
      if (alone === undefined) continue;
      if (dataErrorState(alone) === undefined) fail([w], alone, started);
      else reject([w], alone);
    }
  }

  /** One transaction for `group`; answers its batches on success, returns the error otherwise. */
  async function attempt(group: Waiter[], started: number): Promise<unknown> {
    const outcomes = new Map<Waiter, SubmitResult>();
    let merged: MergedDeltas;
    const client = await pool.connect().catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
    if (client instanceof Error) return client;
    try {
      await client.query('BEGIN');
      const ledger = ledgerInsert(group.map((w) => ({ batch_id: w.batch.batch_id, source: w.batch.source, rows: batchRows(w.batch) })));
      const inserted = ledger ? await client.query<{ batch_id: string }>(ledger.text, ledger.params) : { rows: [] };
      const newIds = new Set(inserted.rows.map((r) => r.batch_id.toLowerCase()));
      // Only ids new to the ledger apply; a second copy of one id in the same group is a duplicate.
      for (const w of group) outcomes.set(w, newIds.delete(w.batch.batch_id.toLowerCase()) ? 'applied' : 'duplicate');
      merged = mergeDeltas(group.filter((w) => outcomes.get(w) === 'applied').map((w) => w.batch));
      for (const st of deltaStatements(merged)) await client.query(st.text, st.params);
      await client.query('COMMIT');
      client.release();
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      // A broken connection must not go back to the pool.
      client.release(err instanceof Error ? err : true);
      return err;
    }
    metrics.commitSeconds.observe((performance.now() - started) / 1000);
    metrics.rows.inc({ table: TABLES[0] }, merged.clients.length);
    metrics.rows.inc({ table: TABLES[1] }, merged.tables.length);
    metrics.rows.inc({ table: TABLES[2] }, merged.keys.length);
    for (const w of group) {
      const outcome = outcomes.get(w) ?? 'duplicate';
      metrics.batches.inc({ outcome });
      w.resolve(outcome);
    }
    maybePrune();
    return undefined;
  }

  function reject(group: Waiter[], err: unknown): void {
    const state = dataErrorState(err) ?? 'unknown';
    metrics.rejected.inc({ reason: 'invalid_data' }, group.length);
    opts.onError?.('batch_rejected_by_database', err);
    for (const w of group) w.reject(new BatchRejectedError(state));
  }

  function fail(group: Waiter[], err: unknown, started: number): void {
    metrics.commitSeconds.observe((performance.now() - started) / 1000);
    metrics.dbErrors.inc();
    metrics.rejected.inc({ reason: 'unavailable' }, group.length);
    opts.onError?.('group_commit_failed', err);
    const e = new GroupCommitError(err instanceof Error ? err.message : 'group commit failed');
    for (const w of group) w.reject(e);
  }

  function maybePrune(): void {
    const t = opts.now();
    if (t - lastPrune < opts.pruneIntervalMs) return;
    lastPrune = t;
    const st = ledgerPrune(opts.ledgerRetentionMs);
    track(
      pool.query(st.text, st.params).then(
        () => undefined,
        (err: unknown) => opts.onError?.('ledger_prune_failed', err),
      ),
    );
  }

  return {
    submit(batch) {
      if (draining) return Promise.reject(new ShuttingDownError());
      return new Promise<SubmitResult>((resolve, reject) => {
        open.push({ batch, resolve, reject });
        openRows += batchRows(batch);
        metrics.openGroup.set(open.length);
        if (openRows >= opts.maxGroupRows) closeGroup();
        else timer ??= setTimeout(closeGroup, opts.groupCommitMs);
      });
    },

    async drain() {
      draining = true;
      closeGroup();
      while (running.size > 0 || ready.length > 0) {
        pump();
        await Promise.allSettled([...running]);
      }
    },
  };
}
