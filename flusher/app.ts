/**
 * The flusher's HTTP app (docs/counters.md "The flush service"). `createApp(deps)` never listens — index.ts serves it and
 * tests call `app.request()` or serve it on a free port. Every refusal is a JSON error envelope.
 */
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { CHANGES_SINCE_HEADER } from '../drizzle/changes.js';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../crypto/batch-signing.js';
import { decodeBatch } from './batch-check.js';
import { BatchRejectedError, GroupCommitError, ShuttingDownError } from './commit-errors.js';
import type { Fleet } from './fleet.js';
import type { FleetMetrics } from './fleet-metrics.js';
import type { ChangeFeed } from './change-feed.js';
import type { GroupCommitter } from './group-commit.js';
import type { FlusherMetrics, RejectReason } from './metrics.js';
import { verifyBatchSync } from './verify.js';

export type FlusherDeps = {
  committer: GroupCommitter;
  metrics: FlusherMetrics;
  /** Every accepted FLUSH_SIGNING_SECRET (old and new during a rotation). */
  signingSecrets: readonly string[];
  /** FLUSHER_MAX_BODY_BYTES. */
  maxBodyBytes: number;
  now: () => number;
  /** The isolates' latest snapshots (`GET /fleet`), fed by the batches that carry one. */
  fleet: Fleet;
  fleetMetrics: FleetMetrics;
  /** The fleet's change feed: an ack tells an isolate that sends its epoch what it has not seen. */
  changes?: Pick<ChangeFeed, 'answer'>;
};

const HINTS: Record<RejectReason, { status: ContentfulStatusCode; message: string; hint: string | null }> = {
  missing_signature: { status: 401, message: 'Missing batch signature', hint: `Send ${TIMESTAMP_HEADER} and ${SIGNATURE_HEADER}.` },
  malformed_signature: { status: 401, message: 'Malformed batch signature', hint: `${SIGNATURE_HEADER} is v1=<64 hex>, ${TIMESTAMP_HEADER} is Unix ms.` },
  bad_signature: { status: 401, message: 'Invalid batch signature', hint: 'Worker and flusher must share FLUSH_SIGNING_SECRET.' },
  clock_skew: { status: 401, message: 'Batch timestamp outside the allowed clock skew (5 minutes)', hint: 'Check the clocks, or a replayed request.' },
  too_large: { status: 413, message: 'Batch body too large', hint: 'Raise FLUSHER_MAX_BODY_BYTES or lower STATS_MAX_PENDING_KEYS.' },
  invalid_json: { status: 400, message: 'Batch body is not valid JSON', hint: null },
  invalid_shape: { status: 400, message: 'Batch does not match the batch schema', hint: null },
  invalid_data: {
    status: 400,
    message: "The database rejected this batch's data; it was not applied",
    hint: 'The batch is dropped; look at the sender (flusher log: batch_rejected_by_database).',
  },
  unavailable: { status: 503, message: 'Database unavailable; batch not applied', hint: 'Retry with the same batch_id.' },
  shutting_down: { status: 503, message: 'Flusher is shutting down; batch not applied', hint: 'Retry with the same batch_id.' },
};

/** One strict decoder for every request: `decode()` without `stream` keeps no state between calls. */
const utf8 = new TextDecoder('utf-8', { fatal: true });

export function createApp(deps: FlusherDeps): Hono {
  const { metrics } = deps;
  const app = new Hono();
  const refuse = refuser(metrics);

  app.get('/healthz', (c) => c.json({ status: 'ok' }));

  app.get('/metrics', async (c) => {
    c.header('content-type', metrics.registry.contentType);
    return c.body(await metrics.registry.metrics());
  });

  // As open as /metrics: targets appear as host:port/database, never credentials.
  app.get('/fleet', (c) => c.json(deps.fleet.view(), 200, { 'cache-control': 'no-store' }));

  app.post('/v1/batches', bodyLimit({ maxSize: deps.maxBodyBytes, onError: (c) => refuse(c, 'too_large') }), (c) => acceptBatch(c, deps, refuse));

  app.notFound((c) =>
    c.json(
      {
        error: { code: 'not_found', message: `No route for ${c.req.method} ${c.req.path}`, hint: 'POST /v1/batches, GET /healthz, GET /metrics, GET /fleet.' },
      },
      404,
    ),
  );
  app.onError((_err, c) => c.json({ error: { code: 'internal_error', message: 'Internal flusher error', hint: null } }, 500));
  return app;
}

type Refuse = (c: Context, reason: RejectReason, detail?: string) => Response;

/** The JSON error envelope of a refusal, counted; a 503 tells the worker when to retry. */
function refuser(metrics: FlusherMetrics): Refuse {
  return (c, reason, detail) => {
    // `unavailable` and `invalid_data` are counted by the committer, which knows the group.
    if (reason !== 'unavailable' && reason !== 'invalid_data') metrics.rejected.inc({ reason });
    const { status, message, hint } = HINTS[reason];
    if (status === 503) c.header('retry-after', '1');
    return c.json({ error: { code: reason, message: detail ? `${message}: ${detail}` : message, hint } }, status);
  };
}

/** `POST /v1/batches`: verify the signature, decode, note the snapshot, commit, acknowledge. */
async function acceptBatch(c: Context, deps: FlusherDeps, refuse: Refuse): Promise<Response> {
  const body = new Uint8Array(await c.req.arrayBuffer());
  const verdict = verifyBatchSync(
    deps.signingSecrets,
    { timestamp: c.req.header(TIMESTAMP_HEADER), signature: c.req.header(SIGNATURE_HEADER) },
    body,
    deps.now(),
  );
  if (!verdict.ok) return refuse(c, verdict.reason);
  let json: unknown;
  try {
    json = JSON.parse(utf8.decode(body));
  } catch {
    return refuse(c, 'invalid_json');
  }
  const decoded = decodeBatch(json);
  if (!decoded.ok) return refuse(c, 'invalid_shape', decoded.detail);
  const { batch } = decoded;
  // Signed and well-formed: the snapshot is the isolate's state now, whatever its deltas' fate.
  if (batch.snapshot) {
    deps.fleet.observe(batch.snapshot);
    deps.fleetMetrics.snapshots.inc();
  }
  try {
    const status = await deps.committer.submit(batch);
    const changes = changesFor(deps, c.req.header(CHANGES_SINCE_HEADER));
    return c.json({ batch_id: batch.batch_id, status, ...(changes ? { changes } : {}) });
  } catch (err) {
    if (err instanceof ShuttingDownError) return refuse(c, 'shutting_down');
    if (err instanceof GroupCommitError) return refuse(c, 'unavailable');
    if (err instanceof BatchRejectedError) return refuse(c, 'invalid_data', `SQLSTATE ${err.sqlState}`);
    throw err;
  }
}

/**
 * The `changes` of an ack: only for a worker that sent its epoch (a number, or `none` before its
 * first read), so a worker that predates the field gets the ack it knows; none before the first read.
 */
function changesFor(deps: FlusherDeps, since: string | undefined) {
  if (since === undefined || !deps.changes) return undefined;
  const epoch = /^\d{1,15}$/.test(since) ? Number(since) : undefined;
  return deps.changes.answer(epoch);
}
