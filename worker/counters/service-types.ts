/**
 * What the isolate's counters service offers, whichever delivery STATS_SINK picked (service.ts
 * batched, sink-per-request.ts per request): record a request, flush now, show its figures.
 */
import type { Settings } from '../config.js';
import type { SessionContext } from '../db/with-session.js';
import type { BatcherSnapshot } from './batcher.js';
import type { CountedRequest } from './deltas.js';
import type { FlushReport } from './flush.js';
import type { ReplicaSnapshot } from './sink-flusher.js';

export type CountersSnapshot = BatcherSnapshot & {
  sink: Settings['STATS_SINK'];
  source: string;
  lastError: string | null;
  /** Flusher sink only: each FLUSHER_URL replica's sends, failures and misconfiguration. */
  replicas?: ReplicaSnapshot[];
};

export type CountersService = {
  /**
   * Records one finished request. A due flush runs on `ctx.waitUntil` now; deltas due later are
   * flushed when due within the same `waitUntil`, unless another live request already waits for them.
   */
  record(usage: CountedRequest, ctx: SessionContext): void;
  /** Flushes now regardless of the interval (operators, tests); waits for a running flush first. */
  flushNow(ctx: SessionContext): Promise<FlushReport>;
  snapshot(): CountersSnapshot;
};
