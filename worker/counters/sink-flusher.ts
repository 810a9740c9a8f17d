/**
 * `STATS_SINK=flusher`: POSTs the batch, signed with the first FLUSH_SIGNING_SECRET, to
 * `<FLUSHER_URL>/v1/batches` — the base URL's own path kept, so a flusher behind a path-prefix proxy
 * works. FLUSHER_URL may list several replicas: sends rotate over them, and a replica that fails is
 * followed by the next under the same batch id (the flusher ledger makes a second copy a duplicate).
 *
 * Outcomes: `applied`/`duplicate` mean durable (the flusher answers after its group commit). 400/413
 * can never succeed: `rejected`. 404/405 means the URL reaches something that is not a flusher:
 * `misconfigured`, logged as an error each time. Everything else (network, 401 during a secret
 * rotation, 5xx, timeout) is `unavailable` and retried under the same id.
 *
 * Each POST sends the isolate's catalog epoch (header `x-athena-changes-since`); the ack's `changes`
 * are applied to the isolate's auth caches at once (docs/counters.md "Changes in the ack").
 */
import { batchResultSchema, type Batch } from '../../drizzle/batch.js';
import { CHANGES_SINCE_HEADER } from '../../drizzle/changes.js';
import { signBatch } from '../../crypto/batch-signing.js';
import { applyChanges } from '../auth/catalog-changes.js';
import { originAndPath } from '../config.js';
import type { SessionContext } from '../db/with-session.js';
import { log } from '../log.js';
import type { SinkResult, CountersSink } from './sink.js';
import { parseJsonText } from '../../drizzle/json-text.js';

type FlusherSinkOptions = {
  /** FLUSHER_URL entries (one per replica). */
  flusherUrls: readonly string[];
  signingSecret: string;
  /** Time for one whole send; split over the replicas tried, so a wedged one cannot eat it all. */
  timeoutMs: number;
  now: () => number;
};

/** One replica as operators see it in status. */
export type ReplicaSnapshot = {
  endpoint: string;
  sent: number;
  failures: number;
  lastStatus: number | null;
  /** Set while the replica answers 404/405: the URL does not reach a flusher. */
  misconfigured: string | null;
};

type Replica = ReplicaSnapshot & { url: string };
type Failure = Extract<SinkResult, { ok: false }>;

/** `<base>/v1/batches`, keeping the base's path (`new URL('/v1/batches', base)` would drop it). */
function batchesEndpoint(base: string): string {
  const u = new URL(base);
  u.pathname = `${u.pathname.replace(/\/+$/, '')}/v1/batches`;
  u.hash = '';
  return u.toString();
}

export class FlusherSink implements CountersSink {
  readonly kind = 'flusher';
  private readonly replicas: Replica[];
  private next = 0;

  constructor(private readonly opts: FlusherSinkOptions) {
    if (opts.flusherUrls.length === 0) throw new Error('FlusherSink needs at least one FLUSHER_URL');
    this.replicas = opts.flusherUrls.map((base) => {
      const url = batchesEndpoint(base);
      return { url, endpoint: originAndPath(url), sent: 0, failures: 0, lastStatus: null, misconfigured: null };
    });
  }

  async send(batch: Batch, ctx: SessionContext): Promise<SinkResult> {
    const body = JSON.stringify(batch);
    const epoch = ctx.isolate.services.changes.tracker.epoch;
    const headers = {
      ...(await signBatch(this.opts.signingSecret, body, this.opts.now())),
      'content-type': 'application/json',
      // The ack then carries the catalog changes this isolate has not seen (`none`: it has no epoch yet).
      [CHANGES_SINCE_HEADER]: epoch === undefined ? 'none' : String(epoch),
    };
    const perAttemptMs = Math.max(1000, Math.floor(this.opts.timeoutMs / this.replicas.length));
    const failures: Failure[] = [];
    for (const replica of this.order()) {
      const sentAt = this.opts.now();
      const result = await this.attempt(replica, batch.batch_id, body, headers, perAttemptMs);
      // The flusher read the catalog `age_ms` before it answered, and it answered after `sentAt`.
      if (result.ok && result.changes) applyChanges(ctx.isolate.services, result.changes, sentAt - result.changes.age_ms);
      if (result.ok || result.kind === 'rejected') return result;
      failures.push(result);
    }
    // Every replica failed: an outage anywhere may heal, so it outranks a misconfigured URL.
    const kind = failures.some((f) => f.kind === 'unavailable') ? 'unavailable' : 'misconfigured';
    return {
      ok: false,
      kind,
      message: failures
        .map((f) => f.message)
        .join('; ')
        .slice(0, 500),
    };
  }

  /** Per-replica counters for the status endpoint. */
  snapshot(): ReplicaSnapshot[] {
    return this.replicas.map(({ url: _url, ...rest }) => ({ ...rest }));
  }

  /** Rotation spreads batches; replicas known to be misconfigured go last (still tried: a 404 may be a proxy's hiccup). */
  private order(): Replica[] {
    const start = this.next++ % this.replicas.length;
    const rotated = [...this.replicas.slice(start), ...this.replicas.slice(0, start)];
    return [...rotated.filter((r) => !r.misconfigured), ...rotated.filter((r) => r.misconfigured)];
  }

  private async attempt(replica: Replica, batchId: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<SinkResult> {
    replica.sent++;
    const result = await post(replica.url, batchId, body, headers, timeoutMs);
    replica.lastStatus = result.status;
    if (result.outcome.ok) {
      replica.misconfigured = null;
      return result.outcome;
    }
    replica.failures++;
    if (result.outcome.kind === 'misconfigured') {
      replica.misconfigured = result.outcome.message;
      log('error', 'flusher_url_misconfigured', {
        endpoint: replica.endpoint,
        status: result.status,
        message: 'FLUSHER_URL does not reach a flusher; check the URL and its path',
      });
    }
    return { ...result.outcome, message: `${replica.endpoint}: ${result.outcome.message}` };
  }
}

/** One POST to one replica; never throws. */
async function post(
  url: string,
  batchId: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<{ status: number | null; outcome: SinkResult }> {
  try {
    const res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    const status = res.status;
    if (status === 400 || status === 413) {
      return { status, outcome: { ok: false, kind: 'rejected', message: `flusher answered ${status}: ${text.slice(0, 200)}` } };
    }
    if (status === 404 || status === 405) {
      return { status, outcome: { ok: false, kind: 'misconfigured', message: `answered ${status}: no flusher at this URL` } };
    }
    if (!res.ok) return { status, outcome: { ok: false, kind: 'unavailable', message: `flusher answered ${status}` } };
    const parsed = batchResultSchema.safeParse(parseJsonText(text));
    if (!parsed.success || parsed.data.batch_id !== batchId) {
      return { status, outcome: { ok: false, kind: 'unavailable', message: 'flusher answer not understood' } };
    }
    const { changes } = parsed.data;
    return { status, outcome: { ok: true, status: parsed.data.status, ...(changes ? { changes } : {}) } };
  } catch (err) {
    return {
      status: null,
      outcome: { ok: false, kind: 'unavailable', message: err instanceof Error ? `${err.name}: ${err.message.slice(0, 200)}` : 'flusher unreachable' },
    };
  }
}
