/**
 * Helpers for the usage-counter tests inside workerd: a tenant table to query through the real
 * `/gateway/fetch`, load at bounded concurrency, the admin flush, counter rows, real flushers
 * (Node, via the control server of test/setup/flusher-control.ts), and statement counts by role.
 */
import { inject } from 'vitest';
import { adminDatabaseUrl, databaseUrl, fetchWith, tenantDatabaseUrl } from './harness.js';
import { sql, uniqueName, withConnection } from './seed.js';
import type { CountersSnapshot } from '../../worker/counters/service-types.js';
import { TEST_ADMIN_TOKEN } from '../support/admin-token.js';

export const ADMIN = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
export const flushSigningSecret = inject('flushSigningSecret');
const control = inject('flusherControlUrl');

/** Creates a small table in the tenant DB; returns its name. */
export async function createTenantTable(): Promise<string> {
  const table = uniqueName('stats_items');
  await withConnection(tenantDatabaseUrl, (s) =>
    s.query(`CREATE TABLE "${table}" (id int PRIMARY KEY, name text); INSERT INTO "${table}" VALUES (1, 'a'), (2, 'b')`),
  );
  return table;
}

export type Caller = { client: string; key: string };

/** `POST /gateway/fetch` as `caller` with `vars`; `column` lets a test provoke a 400 after auth. */
export function fetchRows(vars: Record<string, string>, caller: Caller, table: string, column = 'id'): Promise<Response> {
  return fetchWith(vars, 'http://gateway/gateway/fetch', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-athena-client': caller.client, 'x-athena-key': caller.key },
    body: JSON.stringify({ table_name: table, columns: [column] }),
  });
}

/** Runs `total` calls of `fn`, at most `concurrency` at a time; returns the statuses in order. */
export async function load(total: number, concurrency: number, fn: (i: number) => Promise<Response>): Promise<number[]> {
  const statuses: number[] = new Array<number>(total);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < total; i = next++) {
      const res = await fn(i);
      await res.arrayBuffer();
      statuses[i] = res.status;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return statuses;
}

export type FlushAnswer = { sent: number; results: Array<{ ok: boolean; status?: string; kind?: string }>; stats: CountersSnapshot };

/** `POST /__gateway/flush` in the isolate state of `vars`. */
export async function flush(vars: Record<string, string>): Promise<FlushAnswer> {
  const res = await fetchWith(vars, 'http://gateway/__gateway/flush', { method: 'POST', headers: ADMIN });
  if (res.status !== 200) throw new Error(`flush answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as FlushAnswer;
}

export async function clientRow(client: string): Promise<{ requests: number; errors: number } | undefined> {
  const rows = await sql<{ requests: string; errors: string }>('SELECT requests, errors FROM client_statistics WHERE client_name = $1', [client]);
  const r = rows[0];
  return r ? { requests: Number(r.requests), errors: Number(r.errors) } : undefined;
}

export async function tableRows(
  client: string,
): Promise<Array<{ table_name: string; operation: string; requests: number; errors: number; duration_ms: number }>> {
  const rows = await sql<{ table_name: string; operation: string; requests: string; errors: string; duration_ms: string }>(
    'SELECT table_name, operation, requests, errors, duration_ms FROM client_table_statistics WHERE client_name = $1 ORDER BY table_name, operation',
    [client],
  );
  return rows.map((r) => ({
    table_name: r.table_name,
    operation: r.operation,
    requests: Number(r.requests),
    errors: Number(r.errors),
    duration_ms: Number(r.duration_ms),
  }));
}

export async function keyLastUsed(keyId: string): Promise<Date | null> {
  const rows = await sql<{ last_used_at: string | null }>('SELECT last_used_at::text AS last_used_at FROM api_keys WHERE id = $1', [keyId]);
  const v = rows[0]?.last_used_at;
  return v ? new Date(v) : null;
}

export type TestFlusher = { id: string; url: string; stop(): Promise<void>; start(): Promise<void>; metrics(): Promise<string> };

/** A real flusher of its own (Node), stoppable and restartable on the same port. */
export async function startFlusher(): Promise<TestFlusher> {
  const created = (await (await fetch(`${control}/flushers`, { method: 'POST' })).json()) as { id: string; url: string };
  const call = async (action: string) => {
    const res = await fetch(`${control}/flushers/${created.id}/${action}`, { method: action === 'metrics' ? 'GET' : 'POST' });
    if (!res.ok) throw new Error(`flusher control ${action}: ${res.status}`);
    return res.text();
  };
  return {
    ...created,
    stop: async () => void (await call('stop')),
    start: async () => void (await call('start')),
    metrics: () => call('metrics'),
  };
}

/** One sample from Prometheus text (`name{label="v"} 3`). */
export function sample(text: string, name: string, label?: string): number {
  const line = text.split('\n').find((l) => (label ? l.startsWith(`${name}{`) && l.includes(label) : l.startsWith(`${name} `)));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

export type StatsRole = { url: string; role: string; calls(): Promise<Record<string, number>> };

/**
 * A login role with just the stats privileges, as a connection URL to the catalog DB: pass it as
 * LOGGING_DATABASE_URL and count, from pg_stat_statements, the statements that sink ran per table.
 */
export async function createStatsRole(): Promise<StatsRole> {
  const role = uniqueName('stats');
  const password = crypto.randomUUID().replaceAll('-', '');
  await sql(`CREATE ROLE "${role}" LOGIN PASSWORD '${password}'`);
  await sql(`GRANT SELECT, INSERT, UPDATE ON client_statistics, client_table_statistics, api_keys, flush_batches TO "${role}"`);
  await sql(`GRANT DELETE ON flush_batches TO "${role}"`);
  await sql(`GRANT SELECT, INSERT, UPDATE, DELETE ON isolate_snapshots TO "${role}"`);
  const u = new URL(databaseUrl);
  u.username = role;
  u.password = password;
  const catalogDb = decodeURIComponent(new URL(databaseUrl).pathname.slice(1));
  return {
    url: u.toString(),
    role,
    async calls() {
      const rows = await withConnection(
        adminDatabaseUrl,
        async (s) =>
          (
            await s.query<{ t: string; n: number }>(
              `SELECT CASE WHEN query ILIKE 'INSERT INTO client_statistics%' THEN 'client_statistics'
                         WHEN query ILIKE 'INSERT INTO client_table_statistics%' THEN 'client_table_statistics'
                         WHEN query ILIKE '%UPDATE api_keys%' THEN 'api_keys'
                         WHEN query ILIKE 'INSERT INTO flush_batches%' THEN 'flush_batches'
                         WHEN query ILIKE 'DELETE FROM flush_batches%' THEN 'ledger_prune'
                         WHEN query ILIKE 'INSERT INTO isolate_snapshots%' THEN 'isolate_snapshots'
                         WHEN query ILIKE 'DELETE FROM isolate_snapshots%' THEN 'snapshot_prune' ELSE 'other' END AS t,
                    sum(calls)::int AS n
               FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid JOIN pg_database d ON d.oid = s.dbid
              WHERE r.rolname = $1 AND d.datname = $2 AND query !~* '^(BEGIN|COMMIT|ROLLBACK)'
                AND query !~* '^SELECT pg_catalog\\.set_config' -- each statement's own timeouts, same batch
                -- the HTTP endpoint's reset of a pooled connection between requests, not the sink's
                AND query !~* '^(CLOSE ALL|SET SESSION AUTHORIZATION|RESET ALL|DEALLOCATE ALL|UNLISTEN|DISCARD|SELECT pg_advisory_unlock_all)'
              GROUP BY 1`,
              [role, catalogDb],
            )
          ).rows,
      );
      return Object.fromEntries(rows.map((r) => [r.t, r.n]));
    },
  };
}
