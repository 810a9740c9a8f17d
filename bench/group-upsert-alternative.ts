/**
 * A measured alternative, not used by the flusher (bench/commit-anatomy.ts times it against the
 * committer's path; docs/performance.md has the figures). A whole group of batches as ONE statement: record the batch ids in the `flush_batches` ledger,
 * then sum (in SQL) and apply the deltas of exactly the batches the ledger took as new, to every
 * counter table. One statement is its own transaction, so a group costs one round trip instead of
 * BEGIN, ledger, one upsert per table and COMMIT, and the deltas need no merge in JavaScript
 * (docs/performance.md "Flusher: where a group commit's time goes").
 *
 * Same semantics as `ledgerInsert` + `mergeDeltas` + `deltaStatements` (drizzle/upserts.ts), whose
 * conflict clauses it shares: exactly once per batch id, counters add, timestamps keep the later
 * instant, key last-used moves forward only, rows locked in one global key order (`COLLATE "C"`
 * is code-point order, which is the JavaScript sort's order for every name outside the surrogate
 * range) so concurrent writers never deadlock.
 */
import type { Batch } from '../drizzle/batch.js';
import { CLIENT_CONFLICT, TABLE_CONFLICT } from '../drizzle/upserts.js';
import type { Statement } from '../drizzle/statement.js';

const GROUP_SQL = `WITH b AS (
  SELECT * FROM unnest($1::uuid[], $2::text[], $3::integer[]) WITH ORDINALITY AS b(batch_id, source, rows, ord)
), ledger AS (
  INSERT INTO flush_batches (batch_id, source, rows)
  SELECT batch_id, source, rows FROM b ORDER BY batch_id
  ON CONFLICT (batch_id) DO NOTHING
  RETURNING batch_id
), fresh AS MATERIALIZED (
  SELECT b.ord FROM b JOIN ledger USING (batch_id)
), cs AS (
  INSERT INTO client_statistics AS t (client_name, requests, errors, rate_limited, last_seen)
  SELECT u.client_name, sum(u.requests), sum(u.errors), sum(u.rate_limited), max(u.last_seen)
  FROM unnest($4::integer[], $5::text[], $6::bigint[], $7::bigint[], $8::bigint[], $9::timestamptz[]) AS u(b, client_name, requests, errors, rate_limited, last_seen)
  WHERE u.b IN (SELECT ord FROM fresh)
  GROUP BY u.client_name ORDER BY u.client_name COLLATE "C"
  ${CLIENT_CONFLICT}
  RETURNING 1
), cts AS (
  INSERT INTO client_table_statistics AS t (client_name, table_name, operation, requests, errors, duration_ms, last_seen)
  SELECT u.client_name, u.table_name, u.operation, sum(u.requests), sum(u.errors), sum(u.duration_ms), max(u.last_seen)
  FROM unnest($10::integer[], $11::text[], $12::text[], $13::text[], $14::bigint[], $15::bigint[], $16::bigint[], $17::timestamptz[])
    AS u(b, client_name, table_name, operation, requests, errors, duration_ms, last_seen)
  WHERE u.b IN (SELECT ord FROM fresh)
  GROUP BY u.client_name, u.table_name, u.operation
  ORDER BY u.client_name COLLATE "C", u.table_name COLLATE "C", u.operation COLLATE "C"
  ${TABLE_CONFLICT}
  RETURNING 1
), ku AS (
  SELECT u.id, max(u.last_used) AS last_used
  FROM unnest($18::integer[], $19::uuid[], $20::timestamptz[]) AS u(b, id, last_used)
  WHERE u.b IN (SELECT ord FROM fresh)
  GROUP BY u.id
), locked AS MATERIALIZED (
  SELECT k.id FROM api_keys k JOIN ku ON ku.id = k.id
  WHERE k.last_used_at IS NULL OR k.last_used_at < ku.last_used
  ORDER BY k.id
  FOR UPDATE OF k
), keys AS (
  UPDATE api_keys AS k SET last_used_at = GREATEST(k.last_used_at, ku.last_used)
  FROM ku, locked
  WHERE k.id = ku.id AND locked.id = k.id
  RETURNING 1
)
SELECT batch_id::text AS batch_id FROM ledger`;

/** Column arrays of one list, each row tagged with its batch's ordinal (1-based, as `WITH ORDINALITY`). */
function columns<T>(batches: readonly Batch[], list: (b: Batch) => readonly T[], cols: ReadonlyArray<(r: T) => unknown>): unknown[][] {
  const out: unknown[][] = [[], ...cols.map(() => [])];
  batches.forEach((b, i) => {
    for (const r of list(b)) {
      out[0]?.push(i + 1);
      cols.forEach((col, c) => {
        out[c + 1]?.push(col(r));
      });
    }
  });
  return out;
}

/**
 * The group statement for batches with unique ids. Its rows are the ids the
 * ledger took as new: those batches were applied, every other one is a duplicate.
 */
export function groupStatement(batches: readonly Batch[]): Statement {
  const ids = batches.map((b) => b.batch_id.toLowerCase());
  const sources = batches.map((b) => b.source);
  const sizes = batches.map((b) => Math.min(b.clients.length + b.tables.length + b.keys.length, 2_147_483_647));
  const clients = columns(batches, (b) => b.clients, [
    (r) => r.client_name,
    (r) => r.requests,
    (r) => r.errors,
    (r) => r.rate_limited ?? 0,
    (r) => r.last_seen,
  ]);
  const tables = columns(batches, (b) => b.tables, [
    (r) => r.client_name,
    (r) => r.table_name,
    (r) => r.operation,
    (r) => r.requests,
    (r) => r.errors,
    (r) => r.duration_ms,
    (r) => r.last_seen,
  ]);
  const keys = columns(batches, (b) => b.keys, [(r) => r.key_id, (r) => r.last_used]);
  return { text: GROUP_SQL, params: [ids, sources, sizes, ...clients, ...tables, ...keys] };
}
