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
  const { now } = opts;
  let pending = new Deltas();
  let pendingSince: number | undefined;
  let flight: { batch: Batch; since: number } | undefined;
  let retry: { batch: Batch; at: number } | undefined;
  let consecutiveFailures = 0;
  const stats = { lastFlushAt: null as number | null, lastFailureAt: null as number | null, flushes: 0, failures: 0, rejected: 0, dropped: 0, lostFlights: 0 };

  const heldRows = () => pending.size + (flight ? batchRows(flight.batch) : 0) + (retry ? batchRows(retry.batch) : 0);

  function reclaimLostFlight(t: number): void {
    if (flight && t - flight.since >= opts.flightTimeoutMs) {
      retry = { batch: flight.batch, at: t };
      flight = undefined;
      stats.lostFlights++;
    }
  }

  function pendingDue(t: number, force: boolean): boolean {
    if (pending.size === 0 || pendingSince === undefined) return false;
    return force || pending.size >= opts.flushMaxKeys || t - pendingSince >= opts.flushIntervalMs;
  }

  return {
    record(usage) {
      if (pending.size === 0) pendingSince = now();
      stats.dropped += pending.add(usage, () => heldRows() < opts.maxPendingKeys);
      if (pending.size === 0) pendingSince = undefined;
    },

    due() {
      const t = now();
      reclaimLostFlight(t);
      if (flight) return false;
      if (retry) return t >= retry.at;
      return pendingDue(t, false);
    },

    nextDueAt() {
      if (flight || retry || pending.size === 0 || pendingSince === undefined) return undefined;
      return pending.size >= opts.flushMaxKeys ? now() : pendingSince + opts.flushIntervalMs;
    },

    take({ force = false } = {}) {
      const t = now();
      reclaimLostFlight(t);
      if (flight) return undefined;
      if (retry) {
        if (!force && t < retry.at) return undefined;
        flight = { batch: retry.batch, since: t };
        retry = undefined;
        return flight.batch;
      }
      if (!pendingDue(t, force)) return undefined;
      const batch = pending.toBatch({ batchId: opts.newId(), source: opts.source, createdAt: t });
      pending = new Deltas(); // swap first: requests arriving during the send start a fresh buffer
      pendingSince = undefined;
      flight = { batch, since: t };
      return batch;
    },

    settle(batchId, outcome) {
      const t = now();
      if (!flight || flight.batch.batch_id !== batchId) {
        // The flight was reclaimed as lost; if it did get through, its retry is no longer needed.
        if (outcome === 'delivered' && retry?.batch.batch_id === batchId) retry = undefined;
        return;
      }
      const { batch } = flight;
      flight = undefined;
      if (outcome === 'delivered') {
        consecutiveFailures = 0;
        stats.flushes++;
        stats.lastFlushAt = t;
      } else if (outcome === 'rejected') {
        stats.rejected++;
        stats.lastFailureAt = t;
      } else {
        consecutiveFailures++;
        stats.failures++;
        stats.lastFailureAt = t;
        const delay = Math.min(opts.retryMaxMs, opts.retryBaseMs * 2 ** Math.min(consecutiveFailures - 1, 20));
        retry = { batch, at: t + delay };
      }
    },

    snapshot() {
      const t = now();
      return {
        pendingKeys: pending.size,
        pendingAgeMs: pendingSince === undefined ? null : t - pendingSince,
        inFlight: flight !== undefined,
        retryRows: retry ? batchRows(retry.batch) : 0,
        retryBatchId: retry?.batch.batch_id ?? null,
        consecutiveFailures,
        ...stats,
      };
    },
  };
}
