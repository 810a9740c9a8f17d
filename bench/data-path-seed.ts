/**
 * The data path's fixtures: a tenant database of its own (the hot client's `clients.database_url`
 * points at it) with `bench_items` (read by primary key) and `bench_events` (one row inserted per
 * request), a second key of the hot client scoped to those two tables, the requests the SDK sends
 * for them and the statements the gateway builds for those requests.
 */
import pg from 'pg';
import { hashApiKey, mintApiKey } from '../crypto/key-format.js';
import { signerFor } from '../crypto/key-signing.js';
import type { HttpRequestSpec } from './load-spec.js';
import { HOT_CLIENT } from './seed.js';
import type { Ctx } from './scenarios.js';

export type DataPathRequests = { fetch: HttpRequestSpec; insert: HttpRequestSpec; verify: HttpRequestSpec };

export const TENANT_DB = 'gateway_bench_tenant';
/** Connections of every data path load: scenarios 11–12, their rounds and profiles. */
export const DATA_PATH_CONNECTIONS = 64;
export type DataKind = 'fetch' | 'insert';
/** How the data path's profiles are labelled (bench/data-path-report.ts pairs them by it). */
export const profileTag = (side: 'gateway' | 'minimal', kind: DataKind): string =>
  `(data path ${kind}, ${side === 'gateway' ? `gateway at DB_POOL_MAX=${DATA_PATH_CONNECTIONS}` : 'minimal worker'})`;
const ITEMS = 1_000;
const ITEM_ID = 421;

/**
 * The statements the gateway builds for the two bodies below (bench/data-path-rounds.ts checks them
 * against what pg_stat_statements saw from the gateway in the same run): the minimal worker runs these.
 */
export const DATA_SQL = {
  fetch: { text: 'SELECT "id", "name", "qty" FROM "public"."bench_items" WHERE ("id" = $1) LIMIT $2 OFFSET $3', params: [ITEM_ID, 1, 0] },
  insert: { text: 'INSERT INTO "public"."bench_events" ("kind", "amount") VALUES ($1, $2) RETURNING *', params: ['bench', 1] },
} as const;

/** Creates the tenant database and tables, points the hot client at it and mints its data key. */
export async function seedTenant(ctx: Ctx): Promise<{ tenantUrl: string; dataKey: string }> {
  const admin = new pg.Client({ connectionString: ctx.stack.adminUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${TENANT_DB} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${TENANT_DB}`);
  } finally {
    await admin.end();
  }
  const url = new URL(ctx.stack.catalogUrl);
  url.pathname = `/${TENANT_DB}`;
  const tenantUrl = url.toString();
  const tenant = new pg.Client({ connectionString: tenantUrl });
  await tenant.connect();
  try {
    await tenant.query('CREATE TABLE bench_items (id integer PRIMARY KEY, name text NOT NULL, qty integer NOT NULL)');
    await tenant.query(`INSERT INTO bench_items SELECT i, 'item ' || i, i % 97 FROM generate_series(1, ${ITEMS}) AS i`);
    await tenant.query(
      'CREATE TABLE bench_events (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, kind text NOT NULL, amount integer NOT NULL, created_at timestamptz NOT NULL DEFAULT now())',
    );
    await tenant.query('ANALYZE');
  } finally {
    await tenant.end();
  }
  const sign = await signerFor([ctx.keySigningSecret]);
  const { key, prefix } = await mintApiKey(sign);
  const catalog = new pg.Client({ connectionString: ctx.stack.catalogUrl });
  await catalog.connect();
  try {
    await catalog.query('UPDATE clients SET database_url = $2 WHERE client_name = $1', [HOT_CLIENT, tenantUrl]);
    await catalog.query(`DELETE FROM api_keys WHERE client_name = $1 AND name = 'data'`, [HOT_CLIENT]);
    await catalog.query(`INSERT INTO api_keys (client_name, name, prefix, key_hash, scopes) VALUES ($1, 'data', $2, $3, $4::jsonb)`, [
      HOT_CLIENT,
      prefix,
      await hashApiKey(key),
      JSON.stringify({ operations: ['read', 'insert'], tables: ['bench_items', 'bench_events'] }),
    ]);
  } finally {
    await catalog.end();
  }
  return { tenantUrl, dataKey: key };
}

/** The two measured requests (the SDK's headers and bodies for one row by key and one insert). */
export function dataRequests(dataKey: string): DataPathRequests {
  const headers = { 'content-type': 'application/json', 'x-athena-client': HOT_CLIENT, 'x-athena-key': dataKey };
  const post = (path: string, body: unknown): HttpRequestSpec => ({ method: 'POST', path, headers, body: JSON.stringify(body) });
  return {
    fetch: post('/gateway/fetch', {
      table_name: 'bench_items',
      columns: 'id,name,qty',
      conditions: [{ column: 'id', operator: 'eq', value: ITEM_ID }],
      limit: 1,
    }),
    insert: post('/gateway/insert', { table_name: 'bench_events', insert_body: { kind: 'bench', amount: 1 }, columns: '*' }),
    verify: { method: 'GET', path: '/v1/auth/verify', headers },
  };
}
