/**
 * The isolate's counters service: the delivery STATS_SINK picks (the one place that choice is
 * made) — a batcher in front of the flusher or direct sink, or per-request writes. One of the
 * isolate's services, so it persists across requests; it holds only data — every send runs inside
 * the `waitUntil` of the live request that triggered it.
 */
import type { Settings } from '../config.js';
import type { SessionContext } from '../db/with-session.js';
import { isolateSnapshot } from '../fleet/snapshot.js';
import { log } from '../log.js';
import { createBatcher, type Batcher } from './batcher.js';
import { runFlush, type FlushReport } from './flush.js';
import { logFlushFailure, type CountersSink } from './sink.js';
import { DirectSink } from './sink-direct.js';
import { FlusherSink } from './sink-flusher.js';
import type { CountersService } from './service-types.js';
import { createPerRequestCounters } from './sink-per-request.js';
import { createWakePolicy, type WakeClaim } from './wake.js';

/** One attempt at the flusher gives up after this long; the batch is then retried. */
const FLUSHER_TIMEOUT_MS = 10_000;
/** Retry backoff cap after consecutive failures. */
const RETRY_MAX_MS = 30_000;
/**
 * How long one request's `waitUntil` may wait to flush deltas that are not yet due: Workers end work
 * after the response at about 30 s, so a due time further away is left to later traffic.
 */
const WAKE_BUDGET_MS = 20_000;

/** The isolate's counters service (one of its services): per-request writes, or batched into a sink. */
export function createCountersService(settings: Settings): CountersService {
  const source = `worker:${crypto.randomUUID().slice(0, 8)}`;
  if (settings.STATS_SINK === 'per_request') return createPerRequestCounters(settings, source);
  return createBatchedCounters(settings, sinkFor(settings), source);
}

function sinkFor(settings: Settings): CountersSink {
  const secret = settings.FLUSH_SIGNING_SECRET?.[0];
  if (settings.STATS_SINK === 'flusher' && settings.FLUSHER_URL && secret) {
    // The first secret signs; the flusher accepts every secret it lists, so rotations overlap.
    return new FlusherSink({ flusherUrls: settings.FLUSHER_URL, signingSecret: secret, timeoutMs: FLUSHER_TIMEOUT_MS, now: Date.now });
  }
  // config.ts refuses STATS_SINK=flusher without URL and secret, so this is direct.
  return new DirectSink(settings.loggingDatabaseUrl, { now: Date.now });
}

/** Counters recorded into the batcher and flushed through `sink` when due (flusher or direct). */
function createBatchedCounters(settings: Settings, sink: CountersSink, source: string, now: () => number = Date.now): CountersService {
  const batcher = batcherFor(settings, source, now);
  let lastError: string | null = null;
  const onFailure = (r: { kind: string; message: string }, batchId: string) => {
    lastError = `${r.kind}: ${r.message}`;
    logFlushFailure(sink.kind, batchId, r);
  };
  const flush = (ctx: SessionContext, force: boolean) =>
    runFlush(batcher, sink, ctx, { force, onFailure, snapshot: () => isolateSnapshot(ctx.isolate, now()) }).catch((err: unknown) => {
      log('error', 'stats_flush_crashed', { message: err instanceof Error ? err.message : 'unknown' });
      return { sent: 0, results: [] } satisfies FlushReport;
    });
  const wake = createWakePolicy({ now, lostAfterMs: WAKE_BUDGET_MS });
  /**
   * Flushes after `first` (or now), then keeps flushing what became due meanwhile while no other
   * wake covers it, within WAKE_BUDGET_MS. Stops at a failure: a failing sink is retried on traffic.
   */
  const flushAndFollow = async (ctx: SessionContext, first: WakeClaim | undefined): Promise<void> => {
    const deadline = now() + WAKE_BUDGET_MS;
    for (let claim = first; ; ) {
      if (claim) {
        await new Promise((r) => setTimeout(r, claim?.waitMs));
        wake.release(claim.at);
      }
      const report = await flush(ctx, false);
      if (report.results.some((r) => !r.ok)) return;
      claim = wake.claim(batcher.nextDueAt(), deadline - now());
      if (!claim) return;
    }
  };

  return {
    record(usage, ctx) {
      batcher.record(usage);
      if (batcher.due()) return ctx.waitUntil(flushAndFollow(ctx, undefined));
      const claim = wake.claim(batcher.nextDueAt(), WAKE_BUDGET_MS);
      if (claim) ctx.waitUntil(flushAndFollow(ctx, claim));
    },

    async flushNow(ctx) {
      // A flight belongs to another request's waitUntil; poll rather than await its promise
      // across requests (workerd drops such cross-request resolutions).
      const deadline = now() + settings.DB_PERMIT_LEASE_MS;
      while (batcher.snapshot().inFlight && now() < deadline) await new Promise((r) => setTimeout(r, 20));
      return flush(ctx, true);
    },

    snapshot() {
      const replicas = sink instanceof FlusherSink ? sink.snapshot() : undefined;
      return { ...batcher.snapshot(), sink: settings.STATS_SINK, source, lastError, ...(replicas ? { replicas } : {}) };
    },
  };
}

function batcherFor(settings: Settings, source: string, now: () => number): Batcher {
  return createBatcher({
    maxPendingKeys: settings.STATS_MAX_PENDING_KEYS,
    flushIntervalMs: settings.STATS_FLUSH_INTERVAL_MS,
    flushMaxKeys: settings.STATS_FLUSH_MAX_KEYS,
    flightTimeoutMs: settings.DB_PERMIT_LEASE_MS,
    retryBaseMs: Math.max(100, settings.STATS_FLUSH_INTERVAL_MS),
    retryMaxMs: RETRY_MAX_MS,
    source,
    now,
    newId: () => crypto.randomUUID(),
  });
}
