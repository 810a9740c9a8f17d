/**
 * Prometheus metrics of the flusher (`GET /metrics`). Each app gets its own registry, so tests (and
 * several apps in one process) never share counters.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Why a batch was refused; the `reason` label of `flusher_batches_rejected_total`. */
export type RejectReason =
  | 'missing_signature'
  | 'malformed_signature'
  | 'bad_signature'
  | 'clock_skew'
  | 'too_large'
  | 'invalid_json'
  | 'invalid_shape'
  | 'invalid_data'
  | 'unavailable'
  | 'shutting_down';

export type FlusherMetrics = {
  registry: Registry;
  batches: Counter<'outcome'>;
  rejected: Counter<'reason'>;
  rows: Counter<'table'>;
  groupSize: Histogram;
  commitSeconds: Histogram;
  dbErrors: Counter;
  openGroup: Gauge;
  /** The catalog epoch the change feed last read, and its reads by outcome. */
  changesEpoch: Gauge;
  changeReads: Counter<'outcome'>;
};

export function createMetrics(opts: { defaultMetrics?: boolean } = {}): FlusherMetrics {
  const registry = new Registry();
  if (opts.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'flusher_' });
  const registers = [registry];
  return {
    registry,
    batches: new Counter({
      name: 'flusher_batches_total',
      help: 'Batches answered after commit, by outcome (applied | duplicate).',
      labelNames: ['outcome'],
      registers,
    }),
    rejected: new Counter({ name: 'flusher_batches_rejected_total', help: 'Batches refused, by reason.', labelNames: ['reason'], registers }),
    rows: new Counter({ name: 'flusher_rows_applied_total', help: 'Delta rows applied (after merging), by table.', labelNames: ['table'], registers }),
    groupSize: new Histogram({
      name: 'flusher_group_size_batches',
      help: 'Batches per group-commit transaction.',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers,
    }),
    commitSeconds: new Histogram({
      name: 'flusher_commit_duration_seconds',
      help: 'Time from opening a group transaction to its commit (or failure).',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    dbErrors: new Counter({ name: 'flusher_db_errors_total', help: 'Group transactions that failed in the database (answered 503).', registers }),
    openGroup: new Gauge({ name: 'flusher_open_group_batches', help: 'Batches waiting in the open group for their commit.', registers }),
    changesEpoch: new Gauge({ name: 'flusher_catalog_epoch', help: "Catalog change epoch of the change feed's last read.", registers }),
    changeReads: new Counter({
      name: 'flusher_change_reads_total',
      help: 'Reads of the catalog change log, by outcome (ok | failed).',
      labelNames: ['outcome'],
      registers,
    }),
  };
}
