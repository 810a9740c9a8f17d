/**
 * Idempotency keys of `/gateway/transaction`, kept in the catalog database: a key is reserved
 * before the transaction runs (so two concurrent repeats cannot both run it), completed with the
 * committed response, or released when the transaction did not commit (so a retry may run it).
 * Records older than `TRANSACTION_IDEMPOTENCY_TTL_MS` are ignored and purged a few at a time.
 */
import type { SessionContext } from '../db/with-session.js';
import { withSession } from '../db/with-session.js';
import type { Session } from '../db/session.js';

export type Reservation =
  | { kind: 'reserved' }
  | { kind: 'replay'; status: number; response: unknown }
  | { kind: 'running' }
  | { kind: 'mismatch' };

/** Expired records removed per reservation: cleanup keeps pace with use without a scheduler. */
const PURGE_BATCH = 100;

/** SHA-256 hex of a canonical JSON text (object keys sorted), so key order does not matter. */
export async function requestHash(value: unknown): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(canonicalJson(value)));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

type Key = { client: string; key: string; hash: string; ttlMs: number };

const withCatalog = <T>(ctx: SessionContext, fn: (s: Session) => Promise<T>) => withSession(ctx, ctx.isolate.settings.DATABASE_URL, 'idempotency', fn);

export function reserve(ctx: SessionContext, k: Key): Promise<Reservation> {
  return withCatalog(ctx, async (s) => {
    await s.query(
      `DELETE FROM transaction_idempotency
        WHERE created_at < now() - make_interval(secs => $3::float8 / 1000)
          AND ((client_name = $1 AND idempotency_key = $2)
               OR ctid = ANY (ARRAY(SELECT ctid FROM transaction_idempotency
                                     WHERE created_at < now() - make_interval(secs => $3::float8 / 1000) LIMIT ${PURGE_BATCH})))`,
      [k.client, k.key, k.ttlMs],
    );
    const inserted = await s.query(
      `INSERT INTO transaction_idempotency (client_name, idempotency_key, request_hash) VALUES ($1, $2, $3)
       ON CONFLICT (client_name, idempotency_key) DO NOTHING RETURNING 1 AS ok`,
      [k.client, k.key, k.hash],
    );
    if (inserted.rows.length) return { kind: 'reserved' };
    const found = await s.query<{ request_hash: string; status: number | null; response: unknown }>(
      `SELECT request_hash, status, response FROM transaction_idempotency WHERE client_name = $1 AND idempotency_key = $2`,
      [k.client, k.key],
    );
    const row = found.rows[0];
    // Gone between the insert and the read: its first request released it; report it as running.
    if (!row || row.status === null) return row && row.request_hash !== k.hash ? { kind: 'mismatch' } : { kind: 'running' };
    if (row.request_hash !== k.hash) return { kind: 'mismatch' };
    return { kind: 'replay', status: row.status, response: row.response };
  });
}

export function complete(ctx: SessionContext, k: Key, status: number, response: unknown): Promise<void> {
  return withCatalog(ctx, async (s) => {
    await s.query(`UPDATE transaction_idempotency SET status = $3, response = $4::jsonb WHERE client_name = $1 AND idempotency_key = $2`, [
      k.client,
      k.key,
      status,
      JSON.stringify(response),
    ]);
  });
}

export function release(ctx: SessionContext, k: Key): Promise<void> {
  return withCatalog(ctx, async (s) => {
    await s.query(`DELETE FROM transaction_idempotency WHERE client_name = $1 AND idempotency_key = $2 AND status IS NULL`, [k.client, k.key]);
  });
}
