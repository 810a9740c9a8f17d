/**
 * The isolate's usage-counter service: one batcher and the sink STATS_SINK picks (the one place
 * that choice is made). Isolate-scoped, so it persists across requests; it holds only data —
 * every send runs inside the `waitUntil` of the live request that triggered it.
 */
import type { Settings } from '../config.js';
import type { SessionContext } from '../db/with-session.js';
import { isolateScoped, type Isolate } from '../isolate.js';
import { log } from '../log.js';
import { createBatcher, type Batcher, type BatcherSnapshot } from './batcher.js';
import { Deltas, type RequestUsage } from './deltas.js';
import { runFlush, type FlushReport } from './flush.js';
import type { StatsSink } from './sink.js';
import { DirectSink } from './sink-direct.js';
import { FlusherSink, type ReplicaSnapshot } from './sink-flusher.js';
import { PerRequestSink } from './sink-per-request.js';
import { createWakePolicy, type WakeClaim } from './wake.js';

/** One attempt at the flusher gives up after this long; the batch is then retried. */
const FLUSHER_TIMEOUT_MS = 10_000;
/** Retry backoff cap after consecutive failures. */
const RETRY_MAX_MS = 30_000;
/**
 * How long one request's `waitUntil` may wait to flush deltas that are not yet due: Workers end work
 * after the response at about 30 s, so a due time further away is left to later traffic.
 */
export const WAKE_BUDGET_MS = 20_000;

export type StatsSnapshot = BatcherSnapshot & {
  sink: Settings['STATS_SINK'];
  source: string;
  lastError: string | null;
  /** Flusher sink only: each FLUSHER_URL replica's sends, failures and misconfiguration. */
  replicas?: ReplicaSnapshot[];
};

export type StatsService = {
  /**
   * Records one finished request. A due flush runs on `ctx.waitUntil` now; deltas due later are
   * flushed when due within the same `waitUntil`, unless another live request already waits for them.
   */
  record(usage: RequestUsage, ctx: SessionContext): void;
  /** Flushes now regardless of the interval (operators, tests); waits for a running flush first. */
  flushNow(ctx: SessionContext): Promise<FlushReport>;
  snapshot(): StatsSnapshot;
};

function sinkFor(settings: Settings): StatsSink {
  const secret = settings.FLUSH_SIGNING_SECRET?.[0];
  if (settings.STATS_SINK === 'flusher' && settings.FLUSHER_URL && secret) {
    // The first secret signs; the flusher accepts every secret it lists, so rotations overlap.
    return new FlusherSink({ flusherUrls: settings.FLUSHER_URL, signingSecret: secret, timeoutMs: FLUSHER_TIMEOUT_MS, now: Date.now });
  }
  // config.ts refuses STATS_SINK=flusher without URL and secret, so this is direct or per_request.
  if (settings.STATS_SINK === 'per_request') return new PerRequestSink(settings.loggingDatabaseUrl);
  return new DirectSink(settings.loggingDatabaseUrl, { now: Date.now });
}

/** Builds the service for one isolate's settings; request code reaches it through `statsOf`. */
function createStatsService(settings: Settings, sink: StatsSink = sinkFor(settings), now: () => number = Date.now): StatsService {
  const source = `worker:${crypto.randomUUID().slice(0, 8)}`;
  const batcher: Batcher = createBatcher({
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
  let lastError: string | null = null;
  // per_request bookkeeping (the batcher is bypassed in that mode).
  const perRequest = { sent: 0, failures: 0 };

  const onFailure = (r: { kind: string; message: string }, batchId: string) => {
    lastError = `${r.kind}: ${r.message}`;
    // A misconfigured sink never heals by waiting: say so at error level.
    log(r.kind === 'misconfigured' ? 'error' : 'warn', 'stats_flush_failed', { sink: sink.kind, batchId, kind: r.kind, message: r.message });
  };
  const flush = (ctx: SessionContext, force: boolean) =>
    runFlush(batcher, sink, ctx, { force, onFailure }).catch((err: unknown) => {
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
      if (sink.kind === 'per_request') {
        const one = new Deltas();
        one.add(usage, () => true);
        const batch = one.toBatch({ batchId: crypto.randomUUID(), source, createdAt: now() });
        ctx.waitUntil(
          sink
            .send(batch, ctx)
            .then((r) => {
              perRequest.sent++;
              if (!r.ok) {
                perRequest.failures++;
                onFailure(r, batch.batch_id);
              }
            })
            .catch((err: unknown) => {
              log('error', 'stats_flush_crashed', { message: err instanceof Error ? err.message : 'unknown' });
            }),
        );
        return;
      }
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
      const snap = batcher.snapshot();
      if (sink.kind === 'per_request') return { ...snap, flushes: perRequest.sent - perRequest.failures, failures: perRequest.failures, sink: settings.STATS_SINK, source, lastError };
      const replicas = sink instanceof FlusherSink ? sink.snapshot() : undefined;
      return { ...snap, sink: settings.STATS_SINK, source, lastError, ...(replicas ? { replicas } : {}) };
    },
  };
}

/** The isolate's stats service, created on first use. */
export const statsOf: (isolate: Isolate) => StatsService = isolateScoped('stats', (iso) => createStatsService(iso.settings));

/** For the status endpoint: pending rows, last flush, failures, dropped. */
export const statsSnapshot = (isolate: Isolate): StatsSnapshot => statsOf(isolate).snapshot();
