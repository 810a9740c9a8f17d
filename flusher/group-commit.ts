/**
 * Group commit (docs/counters.md "Group commit and the ledger"): batches arriving within
 * `groupCommitMs` (or until `maxGroupRows`) share one transaction (flusher/group-transaction.ts).
 *
 * At most `maxConcurrentCommits` transactions run at once. While they do, the open group keeps
 * collecting (up to `maxGroupRows`): concurrent transactions on the same hot rows would only queue
 * on each other's row locks, whereas one larger group merges their deltas into fewer rows.
 */
import type pg from 'pg';
import { batchRows, type Batch } from '../drizzle/batch.js';
import { ledgerPrune } from '../drizzle/upserts.js';
import { ShuttingDownError } from './commit-errors.js';
import { commitGroup, type SubmitResult, type TransactionDeps, type Waiter } from './group-transaction.js';
import type { FlusherMetrics } from './metrics.js';

export type GroupCommitOptions = {
  pool: pg.Pool;
  metrics: FlusherMetrics;
  /** FLUSHER_GROUP_COMMIT_MS: how long the first batch of a group waits for company. */
  groupCommitMs: number;
  /** FLUSHER_GROUP_MAX_ROWS: a group reaching this many rows closes (and commits when a slot is free). */
  maxGroupRows: number;
  /** FLUSHER_MAX_CONCURRENT_COMMITS: transactions in flight at once (at least 1). */
  maxConcurrentCommits: number;
  /** FLUSHER_LEDGER_RETENTION_HOURS in ms: ledger rows older than this are pruned. */
  ledgerRetentionMs: number;
  /** Prune at most this often (after a successful commit). */
  pruneIntervalMs: number;
  now: () => number;
  onError?: (event: string, err: unknown) => void;
};

export type GroupCommitter = {
  submit(batch: Batch): Promise<SubmitResult>;
  /** Stops accepting, commits the open group, waits for every transaction and prune in flight. */
  drain(): Promise<void>;
};

class GroupScheduler implements GroupCommitter {
  private open: Waiter[] = [];
  private openRows = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private draining = false;
  private lastPrune: number;
  private readonly running = new Set<Promise<void>>();
  private readonly maxConcurrent: number;
  private committing = 0;
  /** Closed groups waiting for a commit slot (only full groups wait here). */
  private readonly ready: Waiter[][] = [];
  /** The open group's timer fired while every slot was busy: close it when one frees up. */
  private due = false;
  private readonly tx: TransactionDeps;

  constructor(private readonly opts: GroupCommitOptions) {
    this.lastPrune = opts.now();
    this.maxConcurrent = Math.max(1, opts.maxConcurrentCommits);
    this.tx = { pool: opts.pool, metrics: opts.metrics, afterCommit: () => this.maybePrune(), ...(opts.onError ? { onError: opts.onError } : {}) };
  }

  submit(batch: Batch): Promise<SubmitResult> {
    if (this.draining) return Promise.reject(new ShuttingDownError());
    return new Promise<SubmitResult>((resolve, reject) => {
      const rows = batchRows(batch);
      this.open.push({ batch, rows, resolve, reject });
      this.openRows += rows;
      this.opts.metrics.openGroup.set(this.open.length);
      if (this.openRows >= this.opts.maxGroupRows) this.closeGroup();
      else this.timer ??= setTimeout(() => this.closeGroup(), this.opts.groupCommitMs);
    });
  }

  async drain(): Promise<void> {
    this.draining = true;
    this.closeGroup();
    while (this.running.size > 0 || this.ready.length > 0) {
      this.pump();
      await Promise.allSettled([...this.running]);
    }
  }

  private track(p: Promise<void>): void {
    this.running.add(p);
    void p.finally(() => this.running.delete(p));
  }

  private closeGroup(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.open.length === 0) return;
    // Keep collecting while every slot is busy, unless the group is full or we are draining.
    if (this.committing >= this.maxConcurrent && this.openRows < this.opts.maxGroupRows && !this.draining) {
      this.due = true;
      return;
    }
    this.due = false;
    this.ready.push(this.open);
    this.open = [];
    this.openRows = 0;
    this.opts.metrics.openGroup.set(0);
    this.pump();
  }

  private pump(): void {
    while (this.committing < this.maxConcurrent && this.ready.length > 0) {
      const group = this.ready.shift();
      if (!group) break;
      this.committing += 1;
      this.track(
        commitGroup(this.tx, group).finally(() => {
          this.committing -= 1;
          if (this.due || this.draining) this.closeGroup();
          this.pump();
        }),
      );
    }
  }

  private maybePrune(): void {
    const t = this.opts.now();
    if (t - this.lastPrune < this.opts.pruneIntervalMs) return;
    this.lastPrune = t;
    const st = ledgerPrune(this.opts.ledgerRetentionMs);
    this.track(
      this.opts.pool.query(st.text, st.params).then(
        () => undefined,
        (err: unknown) => this.opts.onError?.('ledger_prune_failed', err),
      ),
    );
  }
}

export function createGroupCommitter(opts: GroupCommitOptions): GroupCommitter {
  return new GroupScheduler(opts);
}
