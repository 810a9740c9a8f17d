/**
 * Idempotency records of `/gateway/transaction` in the catalog database, one per client, API key
 * and idempotency key. A run reserves its record under a random `attempt` id; only that attempt
 * may store (the response text with the tenant transaction id, before the tenant COMMIT) or release
 * it. A record with a response is as final as the tenant says of its transaction id; a reservation
 * that never stored is taken over once older than the run could live, and any record after
 * `TRANSACTION_IDEMPOTENCY_TTL_MS`. Expired records are purged a few at a time.
 * (docs/protocol-sql-rpc-transactions.md "Idempotency per key")
 */
import type { Session } from '../db/session.js';

/** Whose record and which body: `keyId` '' for a request admitted without a key. */
export type RecordKey = { client: string; keyId: string; key: string; hash: string };

/** How long records live, and how long a reservation may stay without a stored response. */
export type RecordTimes = { ttlMs: number; abandonedAfterMs: number };

export type Reservation =
  | { kind: 'reserved'; attempt: string }
  | { kind: 'stored'; attempt: string; status: number; response: string; tenantXid: string | null }
  | { kind: 'running'; retryAfterS: number }
  | { kind: 'mismatch' };

/** Expired records removed per reservation: cleanup keeps pace with use without a scheduler. */
const PURGE_BATCH = 100;

const PK = 'client_name = $1 AND key_id = $2 AND idempotency_key = $3';

/**
 * Reserves the record, or reports the one there. An expired record, or a reservation older than
 * `abandonedAfterMs` that stored nothing (its run never reached COMMIT), is taken over in place.
 */
export async function reserve(s: Session, k: RecordKey, times: RecordTimes): Promise<Reservation> {
  const attempt = crypto.randomUUID();
  const taken = await s.query<{ attempt: string }>(
    `WITH purged AS (
       DELETE FROM transaction_idempotency
        WHERE ctid = ANY (ARRAY(SELECT ctid FROM transaction_idempotency
                                 WHERE created_at < now() - make_interval(secs => $6::float8 / 1000)
                                   AND NOT (${PK}) LIMIT ${PURGE_BATCH})))
     INSERT INTO transaction_idempotency AS t (client_name, key_id, idempotency_key, request_hash, attempt)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (client_name, key_id, idempotency_key) DO UPDATE
        SET request_hash = excluded.request_hash, attempt = excluded.attempt, status = NULL, response = NULL, tenant_xid = NULL, created_at = now()
      WHERE t.created_at < now() - make_interval(secs => $6::float8 / 1000)
         OR (t.response IS NULL AND t.created_at < now() - make_interval(secs => $7::float8 / 1000))
     RETURNING t.attempt::text AS attempt`,
    [k.client, k.keyId, k.key, k.hash, attempt, times.ttlMs, times.abandonedAfterMs],
  );
  if (taken.rows[0]?.attempt === attempt) return { kind: 'reserved', attempt };
  const found = await s.query<{
    attempt: string;
    request_hash: string;
    status: number | null;
    response: string | null;
    tenant_xid: string | null;
    age_ms: number;
  }>(
    `SELECT attempt::text AS attempt, request_hash, status, response, tenant_xid,
            (extract(epoch FROM now() - created_at) * 1000)::float8 AS age_ms
       FROM transaction_idempotency WHERE ${PK}`,
    [k.client, k.keyId, k.key],
  );
  const row = found.rows[0];
  // Gone between the two statements: its run released it; the retry may run it.
  if (!row) return { kind: 'running', retryAfterS: 1 };
  if (row.request_hash !== k.hash) return { kind: 'mismatch' };
  if (row.response === null || row.status === null) {
    return { kind: 'running', retryAfterS: Math.max(1, Math.ceil((times.abandonedAfterMs - row.age_ms) / 1000)) };
  }
  return { kind: 'stored', attempt: row.attempt, status: row.status, response: row.response, tenantXid: row.tenant_xid };
}

/** Takes over a stored record whose tenant transaction aborted; 'running' when another retry did first. */
export async function takeOver(s: Session, k: RecordKey, staleAttempt: string): Promise<Reservation> {
  const attempt = crypto.randomUUID();
  const res = await s.query(
    `UPDATE transaction_idempotency SET attempt = $5, status = NULL, response = NULL, tenant_xid = NULL, created_at = now()
      WHERE ${PK} AND attempt = $4::uuid AND request_hash = $6 RETURNING 1 AS ok`,
    [k.client, k.keyId, k.key, staleAttempt, attempt, k.hash],
  );
  return res.rows.length ? { kind: 'reserved', attempt } : { kind: 'running', retryAfterS: 1 };
}

/** Stores the response text and tenant transaction id of `attempt`; false when the record is no longer its own. */
export async function store(s: Session, k: RecordKey, attempt: string, status: number, response: string, tenantXid: string | null): Promise<boolean> {
  const res = await s.query(
    `UPDATE transaction_idempotency SET status = $5, response = $6, tenant_xid = $7 WHERE ${PK} AND attempt = $4::uuid RETURNING 1 AS ok`,
    [k.client, k.keyId, k.key, attempt, status, response, tenantXid],
  );
  return res.rows.length > 0;
}

/** Deletes `attempt`'s record: its transaction did not commit, so a retry may run it. */
export async function release(s: Session, k: RecordKey, attempt: string): Promise<void> {
  await s.query(`DELETE FROM transaction_idempotency WHERE ${PK} AND attempt = $4::uuid`, [k.client, k.keyId, k.key, attempt]);
}

/** The tenant transaction id if the transaction wrote anything (run inside it, before COMMIT). */
export async function currentXid(tenant: Session): Promise<string | null> {
  const res = await tenant.query<{ xid: string | null }>('SELECT pg_current_xact_id_if_assigned()::text AS xid');
  return res.rows[0]?.xid ?? null;
}

export type XactStatus = 'committed' | 'aborted' | 'in progress' | 'unknown';

/** What the tenant database says of a transaction id (`pg_xact_status`); 'unknown' when it cannot say. */
export async function xactStatus(tenant: Session, xid: string): Promise<XactStatus> {
  try {
    const res = await tenant.query<{ status: string | null }>('SELECT pg_xact_status($1::xid8) AS status', [xid]);
    const status = res.rows[0]?.status;
    return status === 'committed' || status === 'aborted' || status === 'in progress' ? status : 'unknown';
  } catch {
    return 'unknown';
  }
}
