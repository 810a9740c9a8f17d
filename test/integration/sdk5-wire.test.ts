/**
 * SDK 5.x on the wire, over HTTP against the served worker: the exact requests it sends (config
 * headers, `/db`-prefixed routes, PUT insert, DELETE with a body, structured fetch, bounded
 * writes, the discovery probes), asserting on rows in Postgres. The registry only has SDK 0.2.1,
 * so the requests are built here as the 5.x builders build them. Also: bounded "claim one row"
 * updates racing each other take distinct rows (row locks across concurrent requests).
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import pg from 'pg';
import { clientWithKey } from '../support/served-client.js';

const databaseUrl = inject('databaseUrl');
const tenantDatabaseUrl = inject('tenantDatabaseUrl');
const schema = `sdk5_${process.pid}_${Date.now().toString(36)}`;
const clientName = `sdk5-${process.pid}-${Date.now().toString(36)}`;

/** The run's one served worker (test/setup/global.ts). */
const gatewayUrl = inject('gatewayUrl');
let tenant: pg.Client;
let apiKey: string;

type Reply = { status: number; body: { data: Record<string, unknown>[]; count: number | null; error?: { code: string; message: string } } };

/** One request as SDK 5.2 sends it (headers from its request builder). */
async function sdk5(method: string, path: string, body?: unknown): Promise<Reply> {
  const res = await fetch(`${gatewayUrl}${path}`, {
    method,
    headers: {
      'Content-Type': 'application/json',
      'X-Athena-Sdk': 'xylex-group/athena 5.2.0',
      'X-Athena-Key': apiKey,
      'X-Athena-Client': clientName,
      'X-Strip-Nulls': 'true',
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Reply['body'] };
}

beforeAll(async () => {
  tenant = new pg.Client({ connectionString: tenantDatabaseUrl });
  await tenant.connect();
  await tenant.query(`CREATE SCHEMA ${schema}`);
  await tenant.query(`CREATE TABLE ${schema}.owners (id int PRIMARY KEY, label text NOT NULL)`);
  await tenant.query(
    `CREATE TABLE ${schema}.widgets (id serial PRIMARY KEY, n int NOT NULL, owner_id int REFERENCES ${schema}.owners(id), state text NOT NULL DEFAULT 'new')`,
  );
  await tenant.query(`INSERT INTO ${schema}.owners VALUES (1, 'ann'), (2, 'bob')`);
  apiKey = await clientWithKey(databaseUrl, clientName, { operations: ['read', 'insert', 'update', 'delete'], tables: [`${schema}.*`] });
});

afterAll(async () => {
  await tenant?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
  await tenant?.end();
});

const widgets = () => `${schema}.widgets`;
const states = async () =>
  (await tenant.query<{ n: number; state: string }>(`SELECT n, state FROM ${schema}.widgets ORDER BY n`)).rows.map((r) => `${r.n}:${r.state}`);

describe('SDK 5.x requests with the unified root URL (/db)', () => {
  it('discovery: GET /db/health and GET /db/ report a supported Athena 5 server', async () => {
    for (const path of ['/db/health', '/db/']) {
      const res = await fetch(`${gatewayUrl}${path}`, { headers: { Accept: 'application/json', 'X-API-Key': apiKey } });
      expect(res.status, path).toBe(200);
      expect(await res.json()).toMatchObject({ status: 'ok', release: { version: expect.stringMatching(/^5\./) } });
    }
  });

  it('PUT insert, structured fetch with an embed, bounded update and bounded delete', async () => {
    const rows = [100, 200, 250, 300, 350].map((n, i) => ({ n, owner_id: i % 2 === 0 ? 1 : 2 }));
    const ins = await sdk5('PUT', '/db/gateway/insert', { table_name: widgets(), insert_body: rows, columns: '*' });
    expect(ins.status).toBe(201);
    expect(ins.body.count).toBe(5);

    // select('n, owner:<schema>.owners(label)').gte('n', 300).order('n') → structured select transport.
    const embed = await sdk5('POST', '/db/gateway/fetch', {
      table_name: widgets(),
      select: `n, owner:${schema}.owners(label)`,
      where: { n: { gt: 250 } },
      orderBy: { n: 'asc' },
      strip_nulls: true,
    });
    expect(embed.status).toBe(200);
    expect(embed.body.data).toEqual([
      { n: 300, owner: { label: 'bob' } },
      { n: 350, owner: { label: 'ann' } },
    ]);

    // gte('n', 200).order('n').limit(1).update({state: 'one'})
    const up = await sdk5('POST', '/db/gateway/update', {
      conditions: [{ column: 'n', operator: 'gte', value: 200 }],
      strip_nulls: true,
      table_name: widgets(),
      update_body: { state: 'one' },
      sort_by: { field: 'n', direction: 'ascending' },
      limit: 1,
    });
    expect(up.body).toEqual({ data: [], count: 1 });
    // gte('n', 200).order('n', {ascending: false}).range(0, 0).delete()
    const del = await sdk5('DELETE', '/db/gateway/delete', {
      conditions: [{ column: 'n', operator: 'gte', value: 200 }],
      table_name: widgets(),
      sort_by: { field: 'n', direction: 'descending' },
      limit: 1,
      offset: 0,
    });
    expect(del.body).toEqual({ data: [], count: 1 });
    expect(await states()).toEqual(['100:new', '200:one', '250:new', '300:new']);

    // findMany({select: {n: true}, where: {state: 'new'}, orderBy: {n: 'desc'}, limit: 2}) with findManyAst.
    const many = await sdk5('POST', '/db/gateway/fetch', {
      select: { n: true },
      table_name: widgets(),
      where: { state: { eq: 'new' } },
      orderBy: { column: 'n', ascending: false },
      limit: 2,
    });
    expect(many.body.data).toEqual([{ n: 300 }, { n: 250 }]);
    const alias = await sdk5('POST', '/db/gateway/fetch', {
      table_name: widgets(),
      columns: 'num:n',
      conditions: [{ column: 'n', operator: 'eq', value: 100 }],
      strip_nulls: true,
    });
    expect(alias.body.data).toEqual([{ num: 100 }]);
  });
});

describe('bounded writes across concurrent requests', () => {
  it('N racing "claim the lowest new row" updates each take a different row; none takes two', async () => {
    await tenant.query(`TRUNCATE ${schema}.widgets`);
    await tenant.query(`INSERT INTO ${schema}.widgets (n) SELECT i FROM generate_series(1, 6) i`);
    const claim = (i: number) =>
      sdk5('POST', '/gateway/update', {
        table_name: widgets(),
        update_body: { state: `w${i}` },
        conditions: [{ column: 'state', operator: 'eq', value: 'new' }],
        sort_by: { field: 'n', direction: 'ascending' },
        limit: 1,
        columns: 'n',
      });
    const replies = await Promise.all(Array.from({ length: 8 }, (_, i) => claim(i)));
    for (const r of replies) expect(r.status).toBe(200);
    const counts = replies.map((r) => r.body.count).sort();
    // Six rows: six claims win exactly one row each, two find none left.
    expect(counts).toEqual([0, 0, 1, 1, 1, 1, 1, 1]);
    const claimed = (await tenant.query<{ state: string }>(`SELECT state FROM ${schema}.widgets`)).rows.map((r) => r.state);
    expect(claimed.filter((s) => s === 'new')).toEqual([]);
    expect(new Set(claimed).size).toBe(6); // six distinct winners
    const returned = replies.flatMap((r) => r.body.data.map((row) => row.n)).sort((a, b) => Number(a) - Number(b));
    expect(returned).toEqual([1, 2, 3, 4, 5, 6]);
  });
});
