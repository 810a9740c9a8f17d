/**
 * `POST /gateway/query`: the statements the 5.x SDK generates (uuid/cast equality, match, findMany)
 * and plain selects users write are answered from Postgres rows; hostile texts are 4xx and nothing
 * of them runs — counted in pg_stat_statements, where every statement on the test tables shows up.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { adminDatabaseUrl } from './harness.js';
import { withConnection } from './seed.js';
import { newCaller, tableName, tenantSql, type Caller } from './gateway-support.js';

const schema = tableName('qs');
const table = tableName('gw_query');
const sentinel = tableName('gw_qsent');
const q = `"${schema}"."${table}"`;
const U1 = '11111111-1111-4111-8111-111111111111';
const U2 = '22222222-2222-4222-8222-222222222222';
let api: Caller;

beforeAll(async () => {
  await tenantSql(`CREATE SCHEMA ${schema}`);
  await tenantSql(`CREATE TABLE ${schema}.${table} (id uuid PRIMARY KEY, owner_id uuid, n int, label text, flag boolean, price numeric)`);
  await tenantSql(
    `INSERT INTO ${schema}.${table} VALUES ($1, $2, 1, 'alpha', true, 1.5), ($2, $1, 2, 'beta', false, 2.25), ('33333333-3333-4333-8333-333333333333', $1, 3, NULL, NULL, 10)`,
    [U1, U2],
  );
  await tenantSql(`CREATE TABLE ${sentinel} (id int PRIMARY KEY)`);
  await tenantSql(`INSERT INTO ${sentinel} VALUES (1), (2), (3)`);
  api = await newCaller('gateway-query');
});

const query = (sql: string, extra: Record<string, unknown> = {}, path = 'query') => api.call(path, { query: sql, ...extra });

describe('statements the SDK generates', () => {
  it('eq on a uuid id (column_cast text), with columns, alias, order and limit', async () => {
    const res = await query(`SELECT "n", "label" AS "name" FROM ${q} WHERE "id"::text = '${U1}' AND "n" >= 1 ORDER BY "n" DESC LIMIT 2;`);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({ data: [{ n: 1, name: 'alpha' }], count: 1 });
  });

  it('eqUuid (value_cast uuid), eqCast, IN with casts, IS NULL, FALSE for in([]), OFFSET', async () => {
    const byOwner = await query(`SELECT * FROM ${q} WHERE "owner_id" = '${U1}'::uuid ORDER BY "n" ASC;`);
    expect(byOwner.status, byOwner.text).toBe(200);
    expect(byOwner.body.data.map((r) => r.n)).toEqual([2, 3]);
    const cast = await query(`SELECT "n" FROM ${q} WHERE "n" = '3'::integer;`);
    expect(cast.body.data).toEqual([{ n: 3 }]);
    const inList = await query(`SELECT "n" FROM ${q} WHERE "id" IN ('${U1}'::uuid, '${U2}'::uuid) ORDER BY "n" ASC OFFSET 1;`);
    expect(inList.body.data).toEqual([{ n: 2 }]);
    const isNull = await query(`SELECT "n" FROM ${q} WHERE "label" IS NULL;`);
    expect(isNull.body.data).toEqual([{ n: 3 }]);
    const none = await query(`SELECT * FROM ${q} WHERE FALSE;`);
    expect(none.body).toEqual({ data: [], count: 0 });
  });

  it('plain selects users write: unquoted names, OR/NOT, LIKE/ILIKE, NOT IN, booleans, exact numerics', async () => {
    const res = await query(`select n, label from ${schema}.${table} t where (t.label ilike 'AL%' or label like 'b_ta') and not n in (2) order by n`);
    expect(res.status, res.text).toBe(200);
    expect(res.body.data).toEqual([{ n: 1, label: 'alpha' }]);
    expect((await query(`SELECT n FROM ${q} WHERE flag`)).body.data).toEqual([{ n: 1 }]);
    expect((await query(`SELECT n FROM ${q} WHERE flag IS NOT TRUE ORDER BY n`)).body.data).toEqual([{ n: 2 }, { n: 3 }]);
    expect((await query(`SELECT n FROM ${q} WHERE price = 2.25`)).body.data).toEqual([{ n: 2 }]);
    expect((await query(`SELECT n FROM ${q} WHERE n <> 1 AND n != 3`)).body.data).toEqual([{ n: 2 }]);
  });

  it('db.query / admin.query bodies: params bound by position, expectedShape and operation accepted', async () => {
    const res = await query(`SELECT "label" FROM ${q} WHERE "n" > $1 AND "label" = $2`, { params: [1, 'beta'], expectedShape: 'rows', operation: 'select' });
    expect(res.status, res.text).toBe(200);
    expect(res.body.data).toEqual([{ label: 'beta' }]);
    const missing = await query(`SELECT * FROM ${q} WHERE "n" = $2`, { params: [1] });
    expect(missing.status).toBe(400);
  });

  it('X-Strip-Nulls is honoured; /db/gateway/query is the same route', async () => {
    const sql = `SELECT "n", "label" FROM ${q} WHERE "n" = 3`;
    expect((await query(sql)).body.data).toEqual([{ n: 3 }]);
    expect((await api.call('query', { query: sql }, { headers: { 'x-strip-nulls': 'false' } })).body.data).toEqual([{ n: 3, label: null }]);
    const mirrored = await api.call('/db/gateway/query', { query: sql, strip_nulls: false });
    expect(mirrored.status, mirrored.text).toBe(200);
    expect(mirrored.body.data).toEqual([{ n: 3, label: null }]);
  });
});

describe('scopes and bodies', () => {
  it('needs the read scope on that table, exactly as fetch', async () => {
    const other = await newCaller('gateway-query', { scopes: { operations: ['read'], tables: [`${schema}.elsewhere`] } });
    const denied = await other.call('query', { query: `SELECT * FROM ${q}` });
    expect(denied.status).toBe(403);
    expect(denied.body.error?.code).toBe('scope_denied');
    const writer = await newCaller('gateway-query', { scopes: { operations: ['insert'], tables: ['*'] } });
    expect((await writer.call('query', { query: `SELECT * FROM ${q}` })).status).toBe(403);
    const allowed = await newCaller('gateway-query', { scopes: { operations: ['read'], tables: [`${schema}.*`] } });
    expect((await allowed.call('query', { query: `SELECT "n" FROM ${q} WHERE "n" = 1` })).body.data).toEqual([{ n: 1 }]);
  });

  it('unknown fields, a missing query and unknown columns → 400', async () => {
    for (const body of [{ query: `SELECT * FROM ${q}`, sql: 'x' }, {}, { query: '' }, { query: `SELECT * FROM ${q}`, params: [{ a: 1 }] }]) {
      const res = await api.call('query', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error?.code).toBe('invalid_request');
    }
    const col = await query(`SELECT "nope" FROM ${q}`);
    expect(col.status).toBe(400);
    expect(col.body.error?.code).toBe('unknown_column');
  });
});

/** Calls of statements naming either test table, over the whole cluster. */
const statementCalls = () =>
  withConnection(adminDatabaseUrl, async (s) => {
    const rows = await s.query<{ n: number }>(`SELECT coalesce(sum(calls), 0)::int AS n FROM pg_stat_statements WHERE query ILIKE $1 OR query ILIKE $2`, [
      `%${table}%`,
      `%${sentinel}%`,
    ]);
    return rows.rows[0]?.n ?? 0;
  });

describe('hostile texts', () => {
  const t = q;
  const s = `"${sentinel}"`;
  const cases: [string, number][] = [
    [`DROP TABLE ${s}`, 400],
    [`CREATE TABLE ${s}_x (id int)`, 400],
    [`TRUNCATE ${s}`, 400],
    [`ALTER TABLE ${s} ADD COLUMN x int`, 400],
    [`DELETE FROM ${t}`, 400],
    [`UPDATE ${t} SET n = 0`, 400],
    [`INSERT INTO ${t} (n) VALUES (9)`, 400],
    [`SELECT * FROM ${t}; DROP TABLE ${s}`, 400],
    [`SELECT * FROM ${t}; SELECT * FROM ${s}`, 400],
    [`SELECT pg_sleep(5) FROM ${t}`, 400],
    [`SELECT * FROM ${t} WHERE n = pg_sleep(5)`, 400],
    [`SELECT * FROM ${t} WHERE pg_sleep(5) IS NULL`, 400],
    [`SELECT upper(label) FROM ${t}`, 400],
    [`SELECT count(*) FROM ${t}`, 400],
    [`SELECT * FROM ${t} WHERE n IN (SELECT id FROM ${s})`, 400],
    [`SELECT * FROM (SELECT * FROM ${s}) x`, 400],
    [`SELECT (SELECT 1 FROM ${s}) FROM ${t}`, 400],
    [`SELECT * FROM ${t} WHERE EXISTS (SELECT 1 FROM ${s})`, 400],
    [`WITH d AS (DELETE FROM ${s} RETURNING *) SELECT * FROM ${t}`, 400],
    [`WITH x AS (SELECT * FROM ${s}) SELECT * FROM x`, 400],
    [`SELECT * FROM ${t} -- ; DROP TABLE ${s}`, 400],
    [`SELECT * FROM ${t} /* */ WHERE n = 1`, 400],
    [`SELECT * FROM ${t} WHERE label = 'a'; DROP TABLE ${s}; --'`, 400],
    [`SELECT * FROM ${t} WHERE label = $$x$$ OR ${s} IS NULL`, 400],
    [`SELECT * FROM ${t} WHERE label = E'\\''; DROP TABLE ${s}; --'`, 400],
    [`SELECT * FROM ${t} WHERE label = NULL`, 400],
    [`SELECT * FROM ${t} UNION SELECT * FROM ${s}`, 400],
    [`SELECT * FROM ${t} JOIN ${s} ON true`, 400],
    [`SELECT * FROM ${t} FOR UPDATE`, 400],
    [`SELECT DISTINCT n FROM ${t}`, 400],
    [`SELECT n FROM ${t} GROUP BY n`, 400],
    [`SELECT * FROM ${t} WHERE n = ${s}.id`, 400],
    [`SELECT * FROM generate_series(1, 3) AS ${s}`, 400],
    [`SELECT * FROM other_schema_${sentinel}.${table}`, 400],
    [`SELECT relname AS ${s} FROM pg_catalog.pg_class`, 403],
    [`SELECT * FROM information_schema.tables AS ${s}`, 403],
    [`SELECT * FROM pg_shadow AS ${s}`, 400],
    [`EXPLAIN ANALYZE SELECT * FROM ${t}`, 400],
    [`COPY ${s} TO STDOUT`, 400],
    [`SET statement_timeout = 0; DROP TABLE ${s}`, 400],
    [`BEGIN; DROP TABLE ${s}; COMMIT`, 400],
    [`DO $$ BEGIN DROP TABLE ${s}; END $$`, 400],
    [`SELECT * FROM ${t} WHERE ${'('.repeat(50_000)}n = 1${')'.repeat(50_000)}`, 400],
    [`SELECT * FROM ${t} WHERE ${'NOT '.repeat(5000)}n = 1`, 400],
  ];

  it('are all refused with 4xx, and no statement of them reaches Postgres', async () => {
    const before = await statementCalls();
    for (const [sql, status] of cases) {
      const res = await query(sql);
      expect(res.status, `${sql.slice(0, 120)}: ${res.text.slice(0, 300)}`).toBe(status);
      expect(res.body.error?.hint ?? '', sql.slice(0, 80)).not.toBe('');
    }
    expect(await statementCalls()).toBe(before);
    // The counter does see this table: one accepted query adds its re-planned statement.
    expect((await query(`SELECT "n" FROM ${t} WHERE "n" = 1`)).status).toBe(200);
    expect(await statementCalls()).toBeGreaterThan(before);
    expect(await tenantSql(`SELECT count(*)::int AS n FROM ${sentinel}`)).toEqual([{ n: 3 }]);
    expect(await tenantSql(`SELECT count(*)::int AS n FROM ${schema}.${table}`)).toEqual([{ n: 3 }]);
  });
});
