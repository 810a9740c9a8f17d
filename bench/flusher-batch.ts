/**
 * Synthetic signed batches for the flusher-ingest scenario. The body follows drizzle/batch.ts; the
 * signature is the format of crypto/batch-signing.ts computed with node:crypto, because autocannon
 * builds requests synchronously and Web Crypto is async. `checkSignatureFormat` proves the two
 * agree before any load is sent.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, signBatch } from '../crypto/batch-signing.js';
import type { Batch } from '../drizzle/batch.js';

export type BatchShape = { secret: string; deltasPerBatch: number; clients: number };

const TABLES = ['orders', 'users', 'events', 'items', 'sessions'] as const;
const OPS = ['read', 'insert', 'update', 'delete'] as const;
/** Client names used by the scenario; the counter check sums rows with this prefix. */
export const FLUSH_CLIENT_PREFIX = 'flushbench-';

function signSync(secret: string, body: string, nowMs: number): Record<string, string> {
  const timestamp = String(Math.trunc(nowMs));
  const mac = createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
  return { [TIMESTAMP_HEADER]: timestamp, [SIGNATURE_HEADER]: `v1=${mac}` };
}

/**
 * Batch number `n`: one row per client for a window of clients, the rest table rows of those
 * clients, every row distinct within the batch and every count 1 — so the sum of `requests` over
 * the scenario's rows in the DB must equal the deltas acknowledged.
 */
export function signedBatch(shape: BatchShape, n: number): { body: string; headers: Record<string, string>; deltas: number } {
  const perClient = 1 + TABLES.length * OPS.length;
  const clientCount = Math.max(1, Math.min(shape.clients, Math.ceil(shape.deltasPerBatch / perClient)));
  const now = new Date().toISOString();
  const first = (n * clientCount) % shape.clients;
  const batch: Batch = { batch_id: randomUUID(), source: 'bench', created_at: now, clients: [], tables: [], keys: [] };
  let rows = 0;
  for (let i = 0; i < clientCount && rows < shape.deltasPerBatch; i++) {
    const client = `${FLUSH_CLIENT_PREFIX}${(first + i) % shape.clients}`;
    batch.clients.push({ client_name: client, requests: 1, errors: 0, last_seen: now });
    rows++;
    for (const table of TABLES) {
      for (const operation of OPS) {
        if (rows >= shape.deltasPerBatch) break;
        batch.tables.push({ client_name: client, table_name: table, operation, requests: 1, errors: 0, duration_ms: 1, last_seen: now });
        rows++;
      }
    }
  }
  const body = JSON.stringify(batch);
  return { body, headers: { 'content-type': 'application/json', ...signSync(shape.secret, body, Date.now()) }, deltas: rows };
}

/** Throws unless the synchronous signature equals crypto/batch-signing.ts's for the same input. */
export async function checkSignatureFormat(secret: string): Promise<void> {
  const body = '{"probe":true}';
  const now = Date.now();
  const ours = signSync(secret, body, now);
  const theirs = await signBatch(secret, body, now);
  if (ours[SIGNATURE_HEADER] !== theirs[SIGNATURE_HEADER] || ours[TIMESTAMP_HEADER] !== theirs[TIMESTAMP_HEADER]) {
    throw new Error('bench signature format differs from crypto/batch-signing.ts');
  }
}
