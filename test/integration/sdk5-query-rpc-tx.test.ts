/**
 * The 5.x SDK's query, rpc and transaction requests against the worker served over HTTP (wrangler,
 * workerd), with its headers and the unified `/db` base: concurrent repeats of one idempotent
 * transaction run it once, and every request of the burst answers the same result or a 409.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import pg from 'pg';
import { clientWithKey } from '../support/served-client.js';

const databaseUrl = inject('databaseUrl');
const tenantDatabaseUrl = inject('tenantDatabaseUrl');
const suffix = `${process.pid}_${Date.now().toString(36)}`;
const table = `sdk5_tx_${suffix}`;
const clientName = `sdk5-${suffix.replaceAll('_', '-')}`;

/** The run's one served worker (test/setup/global.ts). */
const gatewayUrl = inject('gatewayUrl');
let tenant: pg.Client;
let apiKey: string;

beforeAll(async () => {
  tenant = new pg.Client({ connectionString: tenantDatabaseUrl });
  await tenant.connect();
  await tenant.query(`CREATE TABLE ${table} (id serial PRIMARY KEY, label text NOT NULL, owner_id uuid)`);
  await tenant.query(`INSERT INTO ${table} (label, owner_id) VALUES ('seed', '11111111-1111-4111-8111-111111111111')`);
  await tenant.query(`CREATE FUNCTION ${table}_count() RETURNS bigint LANGUAGE sql STABLE AS 'SELECT count(*) FROM ${table}'`);
  const scopes = { operations: ['read' as const, 'insert' as const, 'rpc' as const], tables: [table], functions: [`${table}_count`] };
  apiKey = await clientWithKey(databaseUrl, clientName, scopes);
});

afterAll(async () => {
  await tenant?.query(`DROP FUNCTION IF EXISTS ${table}_count()`).catch(() => undefined);
  await tenant?.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
  await tenant?.end();
});

/** As the 5.2 SDK sends it: key only in X-Athena-Key, JSON content type even on GET. */
async function sdk(method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown>; replayed: string | null }> {
  const res = await fetch(`${gatewayUrl}/db${path}`, {
    method,
    headers: {
      'content-type': 'application/json',
      'x-athena-sdk': 'xylex-group/athena 5.2.0',
      'x-athena-client': clientName,
      'x-athena-key': apiKey,
      'x-strip-nulls': 'true',
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown>, replayed: res.headers.get('idempotent-replayed') };
}

describe('5.x query, rpc and transaction over HTTP', () => {
  it('generated uuid-cast select and GET rpc answer from Postgres', async () => {
    const q = await sdk('POST', '/gateway/query', {
      query: `SELECT "label" FROM "public"."${table}" WHERE "owner_id"::text = '11111111-1111-4111-8111-111111111111';`,
    });
    expect(q.status, JSON.stringify(q.json)).toBe(200);
    expect(q.json.data).toEqual([{ label: 'seed' }]);
    const r = await sdk('GET', `/rpc/${table}_count`);
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    expect(r.json.data).toEqual([{ [`${table}_count`]: '1' }]);
  });

  it('a burst of one idempotent transaction runs it once; every answer is its result or 409', async () => {
    const body = {
      idempotency_key: `burst-${suffix}`,
      operations: [{ id: 'txop_1', kind: 'insert', payload: { table_name: table, insert_body: { label: 'burst' }, columns: 'label' } }],
      options: { deferrable: false, isolation_level: null, read_only: false },
    };
    const answers = await Promise.all(Array.from({ length: 8 }, () => sdk('POST', '/gateway/transaction', body)));
    const ok = answers.filter((a) => a.status === 200);
    expect(
      answers.every((a) => a.status === 200 || a.status === 409),
      JSON.stringify(answers.map((a) => [a.status, a.json])),
    ).toBe(true);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    const expected = { data: { committed: true, results: [{ id: 'txop_1', ok: true, status: 201, data: [{ label: 'burst' }], count: 1 }] } };
    for (const a of ok) expect(a.json).toEqual(expected);
    expect((await tenant.query(`SELECT count(*)::int AS n FROM ${table} WHERE label = 'burst'`)).rows).toEqual([{ n: 1 }]);
    const later = await sdk('POST', '/gateway/transaction', body);
    expect(later).toEqual({ status: 200, json: expected, replayed: 'true' });
  });
});
