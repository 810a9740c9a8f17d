/**
 * SQL of the `isolate_snapshots` table (docs/operations.md "Fleet view"): the direct sink upserts
 * each flush's snapshot in the flush's own transaction, keeping the one before it beside it so a
 * reader computes rates from one row; rows of isolates silent for longer than the expiry go.
 * Pure: values in, statements out.
 */
import type { IsolateSnapshot } from './fleet-snapshot.js';
import type { Statement } from './statement.js';

/** Rows not updated for this long belong to isolates that are gone (or idle): pruned, and not shown. */
export const SNAPSHOT_EXPIRY_MS = 60_000;

/** Upserts `snap` as its isolate's latest; the row's previous latest becomes `previous`. */
export function snapshotUpsert(snap: IsolateSnapshot): Statement {
  return {
    text: `INSERT INTO isolate_snapshots AS t (isolate_id, snapshot, taken_at, updated_at)
VALUES ($1, $2::jsonb, $3::timestamptz, now())
ON CONFLICT (isolate_id) DO UPDATE SET previous = t.snapshot, snapshot = EXCLUDED.snapshot, taken_at = EXCLUDED.taken_at, updated_at = now()
WHERE t.taken_at <= EXCLUDED.taken_at`,
    params: [snap.isolate_id, JSON.stringify(snap), snap.at],
  };
}

/** Deletes at most `limit` rows silent for longer than `expiryMs` (skipping rows another flush holds). */
export function snapshotPrune(expiryMs: number, limit: number): Statement {
  return {
    text: `DELETE FROM isolate_snapshots WHERE isolate_id IN (
  SELECT isolate_id FROM isolate_snapshots WHERE updated_at < now() - make_interval(secs => $1::double precision / 1000) LIMIT $2 FOR UPDATE SKIP LOCKED)`,
    params: [expiryMs, limit],
  };
}
