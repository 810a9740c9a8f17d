/**
 * The counters sink port: where a batch of counter deltas goes. Implementations are chosen in one
 * place (service.ts, from STATS_SINK); expected failures are values, never thrown.
 */
import type { Batch } from '../../drizzle/batch.js';
import type { Changes } from '../../drizzle/changes.js';
import type { SessionContext } from '../db/with-session.js';
import { log } from '../log.js';

export type SinkResult =
  /** `changes`: the catalog changes a flusher's ack carried (applied by the sink that heard them). */
  | { ok: true; status: 'applied' | 'duplicate'; changes?: Changes }
  /**
   * `unavailable`: may succeed later (network, 5xx, DB down, bad signature during a secret
   * rotation) — keep the batch and retry under the same id. `rejected`: can never succeed (the
   * receiver refused its shape or size) — retrying would block every later batch.
   * `misconfigured`: the receiver is not there at all (the flusher URL answers 404/405) — an
   * operator must fix a var; the batch is kept (retried with backoff) and the problem is logged
   * as an error and shown in status rather than passed off as an outage.
   */
  | { ok: false; kind: 'unavailable' | 'rejected' | 'misconfigured'; message: string };

export interface CountersSink {
  /** Names the sink in logs (`flusher`, `direct`, `per_request`). */
  readonly kind: string;
  send(batch: Batch, ctx: SessionContext): Promise<SinkResult>;
}

/** A misconfigured sink never heals by waiting: said at error level, other failures as warnings. */
export function logFlushFailure(sink: CountersSink['kind'], batchId: string, r: { kind: string; message: string }): void {
  log(r.kind === 'misconfigured' ? 'error' : 'warn', 'stats_flush_failed', { sink, batchId, kind: r.kind, message: r.message });
}
