/**
 * Batched-upsert statement builders, shared by the worker's direct sink and the flusher (docs/counters.md).
 * Pure: rows in, SQL text + params out. One statement per table however many rows: rows travel as
 * one array parameter per column (`unnest`), so the parameter count never grows with the batch.
 * Rows are merged by key and sorted, so concurrent writers lock rows in one global order (no
 * deadlocks); counters add `EXCLUDED` deltas, timestamps keep `GREATEST`, key last-used only moves forward.
 */
import type { Batch, ClientDelta, KeyDelta, TableDelta } from './batch.js';

import { join, param, raw, render, sql, type Fragment, type Statement } from './statement.js';

/** Deltas merged by key and sorted by key: the input every builder expects. */
export type MergedDeltas = { clients: ClientDelta[]; tables: TableDelta[]; keys: KeyDelta[] };

/** The later of two ISO instants; equal strings (the common case within a flush window) skip parsing. */
const later = (a: string, b: string): string => (a !== b && Date.parse(b) > Date.parse(a) ? b : a);
// \u0000 cannot occur in Postgres text, so the joined key is unambiguous and sorts like the tuple.
const tableKey = (r: TableDelta): string => `${r.client_name}\u0000${r.table_name}\u0000${r.operation}`;
/** Map values in key order (UTF-16 code-unit order, the default string sort). */
const sortedValues = <T>(m: Map<string, T>): T[] => [...m.keys()].sort().map((k) => m.get(k) as T);

/**
 * Sums the deltas of several batches per key (client; client × table × operation; key id) and
 * sorts each list by key. `ON CONFLICT DO UPDATE` may touch a row only once per statement, so the
 * builders need unique keys; sorting gives every writer the same lock order. Each key's first row
 * is copied once and later rows add into the copy: the flusher merges thousands of rows per group.
 */
export function mergeDeltas(batches: ReadonlyArray<Pick<Batch, 'clients' | 'tables' | 'keys'>>): MergedDeltas {
  const clients = new Map<string, ClientDelta>();
  const tables = new Map<string, TableDelta>();
  const keys = new Map<string, KeyDelta>();
  for (const b of batches) {
    for (const r of b.clients) {
      const cur = clients.get(r.client_name);
      if (!cur) clients.set(r.client_name, { ...r });
      else {
        cur.requests += r.requests;
        cur.errors += r.errors;
        cur.rate_limited = (cur.rate_limited ?? 0) + (r.rate_limited ?? 0);
        cur.last_seen = later(cur.last_seen, r.last_seen);
      }
    }
    for (const r of b.tables) {
      const k = tableKey(r);
      const cur = tables.get(k);
      if (!cur) tables.set(k, { ...r });
      else {
        cur.requests += r.requests;
        cur.errors += r.errors;
        cur.duration_ms += r.duration_ms;
        cur.last_seen = later(cur.last_seen, r.last_seen);
      }
    }
    for (const r of b.keys) {
      const cur = keys.get(r.key_id);
      if (!cur) keys.set(r.key_id, { ...r });
      else cur.last_used = later(cur.last_used, r.last_used);
    }
  }
  return { clients: sortedValues(clients), tables: sortedValues(tables), keys: sortedValues(keys) };
}

/** What an upsert does to an existing row: counters add, last_seen keeps the later instant. */
export const CLIENT_CONFLICT = `ON CONFLICT (client_name) DO UPDATE SET
  requests = t.requests + EXCLUDED.requests,
  errors = t.errors + EXCLUDED.errors,
  rate_limited = t.rate_limited + EXCLUDED.rate_limited,
  last_seen = GREATEST(t.last_seen, EXCLUDED.last_seen)`;
export const TABLE_CONFLICT = `ON CONFLICT (client_name, table_name, operation) DO UPDATE SET
  requests = t.requests + EXCLUDED.requests,
  errors = t.errors + EXCLUDED.errors,
  duration_ms = t.duration_ms + EXCLUDED.duration_ms,
  last_seen = GREATEST(t.last_seen, EXCLUDED.last_seen)`;

/** `client_statistics`: add requests/errors/rate_limited, keep the latest last_seen. */
export function clientStatisticsUpsert(rows: readonly ClientDelta[]): Statement | undefined {
  if (rows.length === 0) return undefined;
  const columns = unnest([
    [rows.map((r) => r.client_name), 'text[]'],
    [rows.map((r) => r.requests), 'bigint[]'],
    [rows.map((r) => r.errors), 'bigint[]'],
    [rows.map((r) => r.rate_limited ?? 0), 'bigint[]'],
    [rows.map((r) => r.last_seen), 'timestamptz[]'],
  ]);
  return render(sql`INSERT INTO client_statistics AS t (client_name, requests, errors, rate_limited, last_seen)
SELECT u.client_name, u.requests, u.errors, u.rate_limited, u.last_seen
FROM ${columns} WITH ORDINALITY AS u(client_name, requests, errors, rate_limited, last_seen, ord)
ORDER BY u.ord
${raw(CLIENT_CONFLICT)}`);
}

/** `client_table_statistics`: add requests/errors/duration_ms, keep the latest last_seen. */
export function clientTableStatisticsUpsert(rows: readonly TableDelta[]): Statement | undefined {
  if (rows.length === 0) return undefined;
  const columns = unnest([
    [rows.map((r) => r.client_name), 'text[]'],
    [rows.map((r) => r.table_name), 'text[]'],
    [rows.map((r) => r.operation), 'text[]'],
    [rows.map((r) => r.requests), 'bigint[]'],
    [rows.map((r) => r.errors), 'bigint[]'],
    [rows.map((r) => r.duration_ms), 'bigint[]'],
    [rows.map((r) => r.last_seen), 'timestamptz[]'],
  ]);
  return render(sql`INSERT INTO client_table_statistics AS t (client_name, table_name, operation, requests, errors, duration_ms, last_seen)
SELECT u.client_name, u.table_name, u.operation, u.requests, u.errors, u.duration_ms, u.last_seen
FROM ${columns} WITH ORDINALITY AS u(client_name, table_name, operation, requests, errors, duration_ms, last_seen, ord)
ORDER BY u.ord
${raw(TABLE_CONFLICT)}`);
}

/**
 * `api_keys.last_used_at`, forward only. Keys are locked in id order first (`FOR UPDATE` under
 * `ORDER BY`): a plain `UPDATE … FROM` locks in join order, which two writers may not share.
 * Unknown (deleted) key ids are skipped.
 */
export function apiKeyLastUsedUpdate(rows: readonly KeyDelta[]): Statement | undefined {
  if (rows.length === 0) return undefined;
  const columns = unnest([
    [rows.map((r) => r.key_id), 'uuid[]'],
    [rows.map((r) => r.last_used), 'timestamptz[]'],
  ]);
  return render(sql`WITH u AS (
  SELECT * FROM ${columns} AS u(id, last_used)
), locked AS (
  SELECT k.id FROM api_keys k JOIN u ON u.id = k.id
  WHERE k.last_used_at IS NULL OR k.last_used_at < u.last_used
  ORDER BY k.id
  FOR UPDATE OF k
)
UPDATE api_keys AS k SET last_used_at = GREATEST(k.last_used_at, u.last_used)
FROM u, locked
WHERE k.id = u.id AND locked.id = k.id`);
}

/** A ledger entry: one batch id the `flush_batches` table records. */
export type LedgerEntry = { batch_id: string; source: string; rows: number };

/**
 * Records batch ids in `flush_batches`; `RETURNING` names the ids that were new in this
 * transaction — only those batches' deltas may be applied (exactly once per id). Sorted by id for
 * the same lock-order reason as the upserts; duplicate ids in the input are collapsed. `fail`: an
 * id already recorded is a unique violation that ends the transaction, for a writer that sends
 * the ledger and its deltas together in one batch and so cannot skip the deltas itself.
 */
export function ledgerInsert(entries: readonly LedgerEntry[], onDuplicate: 'skip' | 'fail' = 'skip'): Statement | undefined {
  if (entries.length === 0) return undefined;
  const unique = sortedValues(new Map(entries.map((e) => [e.batch_id.toLowerCase(), e])));
  const columns = unnest([
    [unique.map((e) => e.batch_id.toLowerCase()), 'uuid[]'],
    [unique.map((e) => e.source), 'text[]'],
    [unique.map((e) => Math.min(e.rows, 2_147_483_647)), 'integer[]'],
  ]);
  return render(sql`INSERT INTO flush_batches (batch_id, source, rows)
SELECT u.batch_id, u.source, u.rows
FROM ${columns} WITH ORDINALITY AS u(batch_id, source, rows, ord)
ORDER BY u.ord${raw(onDuplicate === 'skip' ? '\nON CONFLICT (batch_id) DO NOTHING' : '')}
RETURNING batch_id::text AS batch_id`);
}

/**
 * Deletes ledger rows older than `retentionMs` (a worker never retries a batch that old). With
 * `limit`, at most that many of the oldest, skipping rows another pruner holds: bounded work that
 * concurrent writers never queue on.
 */
export function ledgerPrune(retentionMs: number, limit?: number): Statement {
  const old = sql`applied_at < now() - make_interval(secs => ${param(retentionMs, 'double precision')} / 1000)`;
  if (limit === undefined) return render(sql`DELETE FROM flush_batches WHERE ${old}`);
  return render(sql`DELETE FROM flush_batches WHERE batch_id IN (
  SELECT batch_id FROM flush_batches WHERE ${old} ORDER BY applied_at LIMIT ${limit} FOR UPDATE SKIP LOCKED)`);
}

/** `unnest(…)` of one array parameter per column, each cast to its array type: a fixed number of parameters for any number of rows. */
function unnest(columns: readonly (readonly [unknown[], string])[]): Fragment {
  return sql`unnest(${join(
    columns.map(([values, type]) => param(values, type)),
    ', ',
  )})`;
}

/** The statements that apply merged deltas, in the one table order every writer uses. */
export function deltaStatements(deltas: MergedDeltas): Statement[] {
  return [clientStatisticsUpsert(deltas.clients), clientTableStatisticsUpsert(deltas.tables), apiKeyLastUsedUpdate(deltas.keys)].filter(
    (s): s is Statement => s !== undefined,
  );
}
