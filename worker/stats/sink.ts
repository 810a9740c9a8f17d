/**
 * The stats sink port: where a batch of counter deltas goes. Implementations are chosen in one
 * place (service.ts, from STATS_SINK); expected failures are values, never thrown.
 */
import type { Batch } from '../../drizzle/batch.js';
import type { SessionContext } from '../db/with-session.js';

export type SinkResult =
  | { ok: true; status: 'applied' | 'duplicate' }
  /**
   * `unavailable`: may succeed later (network, 5xx, DB down, bad signature during a secret
   * rotation) — keep the batch and retry under the same id. `rejected`: can never succeed (the
   * receiver refused its shape or size) — retrying would block every later batch.
   */
  | { ok: false; kind: 'unavailable' | 'rejected'; message: string };

export interface StatsSink {
  readonly kind: 'flusher' | 'direct' | 'per_request' | 'memory';
  send(batch: Batch, ctx: SessionContext): Promise<SinkResult>;
}
