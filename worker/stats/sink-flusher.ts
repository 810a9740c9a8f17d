/**
 * `STATS_SINK=flusher`: POSTs the batch, signed with FLUSH_SIGNING_SECRET, to
 * `${FLUSHER_URL}/v1/batches`. The flusher answers only after its group commit, so `applied` and
 * `duplicate` both mean the deltas are durable. 400/413 can never succeed and are `rejected`;
 * everything else (network, 401 during a secret rotation, 5xx, timeout) is retried under the same id.
 */
import { batchResultSchema, type Batch } from '../../drizzle/batch.js';
import { signBatch } from '../../drizzle/signing.js';
import type { SessionContext } from '../db/with-session.js';
import type { SinkResult, StatsSink } from './sink.js';

export type FlusherSinkOptions = {
  flusherUrl: string;
  signingSecret: string;
  /** Gives up on one attempt after this long (the flusher may be wedged). */
  timeoutMs: number;
  now: () => number;
};

export class FlusherSink implements StatsSink {
  readonly kind = 'flusher';
  private readonly endpoint: string;

  constructor(private readonly opts: FlusherSinkOptions) {
    this.endpoint = new URL('/v1/batches', opts.flusherUrl).toString();
  }

  async send(batch: Batch, _ctx: SessionContext): Promise<SinkResult> {
    const body = JSON.stringify(batch);
    try {
      const headers = await signBatch(this.opts.signingSecret, body, this.opts.now());
      const res = await fetch(this.endpoint, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(this.opts.timeoutMs),
      });
      const text = await res.text();
      if (res.status === 400 || res.status === 413) return { ok: false, kind: 'rejected', message: `flusher answered ${res.status}: ${text.slice(0, 200)}` };
      if (!res.ok) return { ok: false, kind: 'unavailable', message: `flusher answered ${res.status}` };
      const parsed = batchResultSchema.safeParse(JSON.parse(text));
      if (!parsed.success || parsed.data.batch_id !== batch.batch_id) return { ok: false, kind: 'unavailable', message: 'flusher answer not understood' };
      return { ok: true, status: parsed.data.status };
    } catch (err) {
      return { ok: false, kind: 'unavailable', message: err instanceof Error ? `${err.name}: ${err.message.slice(0, 200)}` : 'flusher unreachable' };
    }
  }
}
