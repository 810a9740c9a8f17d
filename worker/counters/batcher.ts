/**
 * The counters batcher (docs/counters.md): a pure state machine over one isolate's deltas. It decides
 * when a flush is due, hands out at most one batch at a time, and keeps a failed batch intact for
 * retry under its original id. It never sends anything itself and takes its clock.
 *
 * Why a failed batch is retried as-is rather than merged into newer deltas: a failure can be
 * ambiguous (the flusher committed, the answer was lost). Resending the same id is then a
 * harmless duplicate; resending that id with extra deltas would silently lose the extras.
 */
import { batchRows, type Batch } from '../../drizzle/batch.js';
import { Deltas, type CountedRequest } from './deltas.js';

export type BatcherOptions = {
  /** STATS_MAX_PENDING_KEYS: rows held in memory, pending plus the batch out for delivery. */
  maxPendingKeys: number;
  /** STATS_FLUSH_INTERVAL_MS: flush once the oldest pending delta is this old. */
  flushIntervalMs: number;
  /** STATS_FLUSH_MAX_KEYS: flush as soon as this many rows are pending. */
  flushMaxKeys: number;
  /** A batch out longer than this is presumed lost with its request and becomes the retry batch. */
  flightTimeoutMs: number;
  /** First retry delay after a failure; doubles per consecutive failure up to `retryMaxMs`. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** Names the producer in each batch (`worker:<id>`). */
  source: string;
  now: () => number;
  newId: () => string;
};

type SettleOutcome = 'delivered' | 'failed' | 'rejected';

/** Counters and state for operators (the status endpoint). */
export type BatcherSnapshot = {
  pendingKeys: number;
  /** Age of the oldest pending delta, ms; null when nothing is pending. */
  pendingAgeMs: number | null;
  inFlight: boolean;
  /** Rows of a failed batch waiting to be resent under its original id. */
  retryRows: number;
  retryBatchId: string | null;
  consecutiveFailures: number;
  lastFlushAt: number | null;
  lastFailureAt: number | null;
  flushes: number;
  failures: number;
  /** Batches the sink refused permanently (bad shape / too large): their deltas are gone. */
  rejected: number;
  /** Rows dropped because STATS_MAX_PENDING_KEYS was reached. */
  dropped: number;
  /** Flights that never settled within `flightTimeoutMs` (their request died) and were retried. */
  lostFlights: number;
};

export type Batcher = {
  record(usage: CountedRequest): void;
  /** A batch could be taken now. */
  due(): boolean;
  /**
   * When pending deltas become due, for a flush without further traffic; undefined when none are
   * pending, a batch is in flight (its sender follows up) or a failed batch waits for its retry.
   */
  nextDueAt(): number | undefined;
  /** The next batch to send, or undefined. `force` ignores the interval and the retry backoff. */
  take(opts?: { force?: boolean }): Batch | undefined;
  /** Reports how the batch taken last ended. Stale reports (a reclaimed flight) are tolerated. */
  settle(batchId: string, outcome: SettleOutcome): void;
  snapshot(): BatcherSnapshot;
};

export function createBatcher(opts: BatcherOptions): Batcher {
  return new DeltaBatcher(opts);
}

type BatcherCounters = Pick<BatcherSnapshot, 'lastFlushAt' | 'lastFailureAt' | 'flushes' | 'failures' | 'rejected' | 'dropped' | 'lostFlights'>;

/** The batcher's state machine: pending deltas → one batch in flight → delivered, rejected or retried. */
class DeltaBatcher implements Batcher {
  private pending = new Deltas();
  private pendingSince: number | undefined;
  private flight: { batch: Batch; since: number } | undefined;
  private retry: { batch: Batch; at: number } | undefined;
  private consecutiveFailures = 0;
  private readonly stats: BatcherCounters = { lastFlushAt: null, lastFailureAt: null, flushes: 0, failures: 0, rejected: 0, dropped: 0, lostFlights: 0 };

  constructor(private readonly opts: BatcherOptions) {}

  private heldRows(): number {
    return this.pending.size + (this.flight ? batchRows(this.flight.batch) : 0) + (this.retry ? batchRows(this.retry.batch) : 0);
  }

  private reclaimLostFlight(t: number): void {
    if (this.flight && t - this.flight.since >= this.opts.flightTimeoutMs) {
      this.retry = { batch: this.flight.batch, at: t };
      this.flight = undefined;
      this.stats.lostFlights++;
    }
  }

  private pendingDue(t: number, force: boolean): boolean {
    if (this.pending.size === 0 || this.pendingSince === undefined) return false;
    return force || this.pending.size >= this.opts.flushMaxKeys || t - this.pendingSince >= this.opts.flushIntervalMs;
  }

  /** Whether a new row fits under STATS_MAX_PENDING_KEYS; one closure per batcher, none per request. */
  private readonly canGrow = (): boolean => this.heldRows() < this.opts.maxPendingKeys;

  record(usage: Parameters<Batcher['record']>[0]): void {
    if (this.pending.size === 0) this.pendingSince = this.opts.now();
    this.stats.dropped += this.pending.add(usage, this.canGrow);
    if (this.pending.size === 0) this.pendingSince = undefined;
  }

  due(): boolean {
    const t = this.opts.now();
    this.reclaimLostFlight(t);
    if (this.flight) return false;
    if (this.retry) return t >= this.retry.at;
    return this.pendingDue(t, false);
  }

  nextDueAt(): number | undefined {
    if (this.flight || this.retry || this.pending.size === 0 || this.pendingSince === undefined) return undefined;
    return this.pending.size >= this.opts.flushMaxKeys ? this.opts.now() : this.pendingSince + this.opts.flushIntervalMs;
  }

  take({ force = false }: { force?: boolean } = {}): Batch | undefined {
    const t = this.opts.now();
    this.reclaimLostFlight(t);
    if (this.flight) return undefined;
    if (this.retry) {
      if (!force && t < this.retry.at) return undefined;
      this.flight = { batch: this.retry.batch, since: t };
      this.retry = undefined;
      return this.flight.batch;
    }
    if (!this.pendingDue(t, force)) return undefined;
    const batch = this.pending.toBatch({ batchId: this.opts.newId(), source: this.opts.source, createdAt: t });
    this.pending = new Deltas(); // swap first: requests arriving during the send start a fresh buffer
    this.pendingSince = undefined;
    this.flight = { batch, since: t };
    return batch;
  }

  settle(batchId: string, outcome: SettleOutcome): void {
    const t = this.opts.now();
    if (!this.flight || this.flight.batch.batch_id !== batchId) {
      // The flight was reclaimed as lost; if it did get through, its retry is no longer needed.
      if (outcome === 'delivered' && this.retry?.batch.batch_id === batchId) this.retry = undefined;
      return;
    }
    const { batch } = this.flight;
    this.flight = undefined;
    if (outcome === 'delivered') {
      this.consecutiveFailures = 0;
      this.stats.flushes++;
      this.stats.lastFlushAt = t;
    } else if (outcome === 'rejected') {
      this.stats.rejected++;
      this.stats.lastFailureAt = t;
    } else {
      this.consecutiveFailures++;
      this.stats.failures++;
      this.stats.lastFailureAt = t;
      const delay = Math.min(this.opts.retryMaxMs, this.opts.retryBaseMs * 2 ** Math.min(this.consecutiveFailures - 1, 20));
      this.retry = { batch, at: t + delay };
    }
  }

  snapshot(): BatcherSnapshot {
    const t = this.opts.now();
    return {
      pendingKeys: this.pending.size,
      pendingAgeMs: this.pendingSince === undefined ? null : t - this.pendingSince,
      inFlight: this.flight !== undefined,
      retryRows: this.retry ? batchRows(this.retry.batch) : 0,
      retryBatchId: this.retry?.batch.batch_id ?? null,
      consecutiveFailures: this.consecutiveFailures,
      ...this.stats,
    };
  }
}
