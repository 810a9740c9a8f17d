import { beforeAll, describe, expect, it } from 'vitest';
import { newCaller, tableName, tenantSql, type Caller } from './gateway-support.js';

const table = tableName('gw_mut');
let api: Caller;

beforeAll(async () => {
  await tenantSql(
    `CREATE TABLE ${table} (id serial PRIMARY KEY, email text UNIQUE, name text, status text DEFAULT 'new', score int DEFAULT 0, meta jsonb, tags text[])`,
  );
  api = await newCaller('gateway-mutations');
});

const rowsWhere = (where: string, params: unknown[] = []) =>
  tenantSql<{ id: number; email: string | null; name: string | null; status: string | null; score: number | null }>(
    `SELECT id, email, name, status, score FROM ${table} WHERE ${where} ORDER BY id`,
    params,
  );

describe('insert', () => {
  it('inserts one object: 201, RETURNING projection via columns, row in Postgres', async () => {
    const res = await api.call('insert', { table_name: table, insert_body: { email: 'frodo@shire', name: 'Frodo' }, columns: 'id,name' });
    expect(res.status, res.text).toBe(201);
    expect(res.body.data).toEqual([{ id: expect.any(Number), name: 'Frodo' }]);
    expect(res.body.count).toBe(1);
    expect(await rowsWhere('email = $1', ['frodo@shire'])).toEqual([
      { id: res.body.data[0]?.id, email: 'frodo@shire', name: 'Frodo', status: 'new', score: 0 },
    ]);
  });

  it('sparse multi-row: missing keys get DEFAULT, or NULL with default_to_null', async () => {
    const rows = [
      { email: 'a@x', name: 'A', status: 'set' },
      { email: 'b@x', name: 'B' },
    ];
    const def = await api.call('insert', { table_name: table, insert_body: rows });
    expect(def.status, def.text).toBe(201);
    expect(def.body.count).toBe(2);
    expect((await rowsWhere(`email IN ('a@x','b@x')`)).map((r) => r.status)).toEqual(['set', 'new']);
    const nul = await api.call(
      'insert',
      { table_name: table, insert_body: [{ email: 'c@x', status: 'set' }, { email: 'd@x' }], default_to_null: true },
      { method: 'POST' },
    );
    expect(nul.status, nul.text).toBe(201);
    expect((await rowsWhere(`email IN ('c@x','d@x')`)).map((r) => r.status)).toEqual(['set', null]);
  });

  it('jsonb and array values round-trip; head and count report without rows', async () => {
    const res = await api.call('insert', {
      table_name: table,
      insert_body: { email: 'j@x', meta: { list: [1, 'two'], nested: { ok: true } }, tags: ['a', 'b,c'] },
      columns: ['meta', 'tags'],
    });
    expect(res.body.data).toEqual([{ meta: { list: [1, 'two'], nested: { ok: true } }, tags: ['a', 'b,c'] }]);
    const head = await api.call('insert', { table_name: table, insert_body: [{ email: 'h1@x' }, { email: 'h2@x' }], head: true, count: 'exact' });
    expect(head.status).toBe(201);
    expect(head.body).toEqual({ data: [], count: 2 });
    expect(await rowsWhere(`email LIKE 'h_@x'`)).toHaveLength(2);
  });
});

describe('upsert', () => {
  it('on_conflict without update_body updates the inserted non-conflict columns from EXCLUDED', async () => {
    await api.call('insert', { table_name: table, insert_body: { email: 'u1@x', name: 'old', score: 1 } });
    const res = await api.call('insert', {
      table_name: table,
      insert_body: [{ email: 'u1@x', name: 'new' }],
      on_conflict: 'email',
      columns: 'email,name,score',
    });
    expect(res.status, res.text).toBe(201);
    expect(res.body.data).toEqual([{ email: 'u1@x', name: 'new', score: 1 }]);
    expect(await rowsWhere(`email = 'u1@x'`)).toMatchObject([{ name: 'new', score: 1 }]);
  });

  it('update_body sets exactly its columns; empty update_body does nothing', async () => {
    await api.call('insert', { table_name: table, insert_body: { email: 'u2@x', name: 'keep', score: 5 } });
    const set = await api.call('insert', {
      table_name: table,
      insert_body: { email: 'u2@x', name: 'ignored', score: 9 },
      on_conflict: ['email'],
      update_body: { score: 6 },
    });
    expect(set.status, set.text).toBe(201);
    expect(await rowsWhere(`email = 'u2@x'`)).toMatchObject([{ name: 'keep', score: 6 }]);
    const nothing = await api.call('insert', { table_name: table, insert_body: { email: 'u2@x', name: 'x' }, on_conflict: 'email', update_body: {} });
    expect(nothing.status).toBe(201);
    expect(nothing.body).toEqual({ data: [], count: 0 });
    expect(await rowsWhere(`email = 'u2@x'`)).toMatchObject([{ name: 'keep', score: 6 }]);
  });

  it('update_body without on_conflict targets the primary key', async () => {
    const [row] = await tenantSql<{ id: number }>(`INSERT INTO ${table} (email, name) VALUES ('pk@x', 'before') RETURNING id`);
    const res = await api.call('insert', { table_name: table, insert_body: { id: row?.id, email: 'pk@x' }, update_body: { name: 'after' } });
    expect(res.status, res.text).toBe(201);
    expect(await rowsWhere('id = $1', [row?.id])).toMatchObject([{ name: 'after' }]);
  });
});

describe('update', () => {
  it('updates matching rows; RETURNING only with columns; count = affected rows', async () => {
    await api.call('insert', {
      table_name: table,
      insert_body: [
        { email: 'up1@x', score: 1 },
        { email: 'up2@x', score: 1 },
        { email: 'up3@x', score: 2 },
      ],
    });
    const quiet = await api.call('update', {
      table_name: table,
      update_body: { status: 'bulk' },
      conditions: [
        { column: 'email', operator: 'like', value: 'up%' },
        { column: 'score', operator: 'eq', value: 1 },
      ],
    });
    expect(quiet.status, quiet.text).toBe(200);
    expect(quiet.body).toEqual({ data: [], count: 2 });
    expect((await rowsWhere(`email LIKE 'up%'`)).map((r) => r.status)).toEqual(['bulk', 'bulk', 'new']);
    const loud = await api.call(
      'update',
      {
        table_name: table,
        update_body: { name: null, score: 3 },
        conditions: [{ column: 'email', operator: 'eq', value: 'up3@x' }],
        columns: 'email,name,score',
        strip_nulls: false,
      },
      { method: 'PATCH' },
    );
    expect(loud.body).toEqual({ data: [{ email: 'up3@x', name: null, score: 3 }], count: 1 });
  });

  it('refuses an update without conditions and leaves every row alone', async () => {
    const before = await rowsWhere('true');
    const res = await api.call('update', { table_name: table, update_body: { name: 'everyone' } });
    expect(res.status).toBe(400);
    expect(res.body.error?.code).toBe('unfiltered_update');
    expect(await rowsWhere('true')).toEqual(before);
  });
});

describe('delete', () => {
  it('deletes by resource_id (id) and by conditions, RETURNING when columns are given', async () => {
    const ins = await api.call('insert', { table_name: table, insert_body: [{ email: 'd1@x' }, { email: 'd2@x' }, { email: 'd3@x' }], columns: 'id,email' });
    const [d1, d2] = ins.body.data as { id: number; email: string }[];
    const byId = await api.call('delete', { table_name: table, resource_id: String(d1?.id) });
    expect(byId.status, byId.text).toBe(200);
    expect(byId.body).toEqual({ data: [], count: 1 });
    const byCond = await api.call(
      'delete',
      { table_name: table, conditions: [{ column: 'email', operator: 'in', value: ['d2@x', 'd3@x'] }], columns: ['email'] },
      { method: 'POST' },
    );
    expect(field(byCond.body.data)).toEqual(['d2@x', 'd3@x']);
    expect(await rowsWhere(`email LIKE 'd_@x'`)).toEqual([]);
    expect(d2?.email).toBe('d2@x');
  });

  it('refuses a delete without conditions or resource_id', async () => {
    const before = await rowsWhere('true');
    const res = await api.call('delete', { table_name: table });
    expect(res.status).toBe(400);
    expect(res.body.error?.code).toBe('unfiltered_delete');
    const emptyConds = await api.call('delete', { table_name: table, conditions: [] });
    expect(emptyConds.body.error?.code).toBe('unfiltered_delete');
    expect(await rowsWhere('true')).toEqual(before);
  });
});

function field(rows: Record<string, unknown>[]): unknown[] {
  return rows.map((r) => r.email).sort();
}
