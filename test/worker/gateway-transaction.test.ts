/**
 * `POST /gateway/transaction` with the SDK's bodies: all-or-nothing on one session, per-operation
 * results in order, the failing operation named, scopes per operation, options sent to Postgres,
 * idempotent replay from the catalog, and the bounds.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { adminDatabaseUrl } from './harness.js';
import { sql, withConnection } from './seed.js';
import { newCaller, tableName, tenantSql, type Caller } from './gateway-support.js';

const table = tableName('gw_tx');
let api: Caller;

beforeAll(async () => {
  await tenantSql(`CREATE TABLE ${table} (id serial PRIMARY KEY, label text UNIQUE, n int DEFAULT 0)`);
  await tenantSql(`INSERT INTO ${table} (label, n) VALUES ('keep', 1), ('gone', 2)`);
  api = await newCaller('gateway-transaction');
});

const labels = async () => (await tenantSql<{ label: string }>(`SELECT label FROM ${table} ORDER BY id`)).map((r) => r.label);
const op = (id: string, kind: string, payload: Record<string, unknown>) => ({ id, kind, payload: { table_name: table, ...payload } });
const tx = (operations: unknown[], extra: Record<string, unknown> = {}) =>
  api.call('transaction', { idempotency_key: null, operations, options: { deferrable: false, isolation_level: null, read_only: false }, ...extra });

describe('all or nothing', () => {
  it('commits insert, update, delete and fetch together; results in order, in the SDK shape', async () => {
    const res = await tx([
      op('txop_1', 'insert', { insert_body: { label: 'a', n: 5 }, columns: 'label,n' }),
      op('txop_2', 'update', { update_body: { n: 6 }, conditions: [{ column: 'label', operator: 'eq', value: 'a' }] }),
      op('txop_3', 'delete', { conditions: [{ column: 'label', operator: 'eq', value: 'gone' }] }),
      op('txop_4', 'fetch', {
        columns: ['label', 'n'],
        conditions: [{ column: 'label', operator: 'in', value: ['a', 'keep'] }],
        sort_by: { field: 'n', direction: 'descending' },
        count: 'exact',
      }),
    ]);
    expect(res.status, res.text).toBe(200);
    expect(res.body.data).toEqual({
      committed: true,
      results: [
        { id: 'txop_1', ok: true, status: 201, data: [{ label: 'a', n: 5 }], count: 1 },
        { id: 'txop_2', ok: true, status: 200, data: [], count: 1 },
        { id: 'txop_3', ok: true, status: 200, data: [], count: 1 },
        {
          id: 'txop_4',
          ok: true,
          status: 200,
          data: [
            { label: 'a', n: 6 },
            { label: 'keep', n: 1 },
          ],
          count: 2,
        },
      ],
    });
    expect(await labels()).toEqual(['keep', 'a']);
  });

  it('a failing operation rolls back the ones before it and is named; /db mirror', async () => {
    const res = await api.call('/db/gateway/transaction', {
      operations: [
        op('txop_1', 'insert', { insert_body: { label: 'b' } }),
        op('txop_2', 'delete', { conditions: [{ column: 'label', operator: 'eq', value: 'keep' }] }),
        op('txop_3', 'insert', { insert_body: { label: 'a' } }),
      ],
    });
    expect(res.status, res.text).toBe(409);
    expect(res.body.error?.code).toBe('conflict');
    expect(res.body.error?.message).toMatch(/^operations\[2\] \(txop_3\) failed, the transaction was rolled back/);
    expect(await labels()).toEqual(['keep', 'a']);
  });

  it('every operation is checked against the key scopes as if alone; a refusal runs nothing', async () => {
    const inserter = await newCaller('gateway-transaction', { scopes: { operations: ['insert'], tables: [table] } });
    const res = await inserter.call('transaction', {
      operations: [
        op('a', 'insert', { insert_body: { label: 'scoped' } }),
        op('b', 'delete', { conditions: [{ column: 'label', operator: 'eq', value: 'keep' }] }),
      ],
    });
    expect(res.status, res.text).toBe(403);
    expect(res.body.error?.code).toBe('scope_denied');
    expect(res.body.error?.message).toContain('operations[1] (b)');
    expect(await labels()).toEqual(['keep', 'a']);
    const upsert = await inserter.call('transaction', { operations: [op('a', 'insert', { insert_body: { label: 'keep', n: 9 }, on_conflict: 'label' })] });
    expect(upsert.status).toBe(403);
  });
});

describe('options and bodies', () => {
  const beginCalls = () =>
    withConnection(adminDatabaseUrl, async (s) => {
      // A WebSocket session sends BEGIN …; Neon's HTTP endpoint opens the batch with START TRANSACTION …, …
      const r = await s.query<{ n: number }>(
        `SELECT coalesce(sum(calls), 0)::int AS n FROM pg_stat_statements WHERE regexp_replace(query, '^(BEGIN|START TRANSACTION) |,', '', 'g') = 'ISOLATION LEVEL SERIALIZABLE READ ONLY DEFERRABLE'`,
      );
      return r.rows[0]?.n ?? 0;
    });

  it('isolation level, read only and deferrable reach Postgres as the start of the transaction', async () => {
    const before = await beginCalls();
    const res = await tx([op('r', 'fetch', { columns: 'label', conditions: [{ column: 'label', operator: 'eq', value: 'keep' }] })], {
      options: { isolation_level: 'serializable', read_only: true, deferrable: true },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body.data).toMatchObject({ committed: true, results: [{ data: [{ label: 'keep' }] }] });
    expect(await beginCalls()).toBe(before + 1);
  });

  it('writes in read_only, deferrable without serializable read only, unknown fields and bad ops → 400; nothing runs', async () => {
    const ins = op('w', 'insert', { insert_body: { label: 'nope' } });
    const bodies: Record<string, unknown>[] = [
      { operations: [ins], options: { read_only: true } },
      { operations: [op('r', 'fetch', {})], options: { deferrable: true, read_only: true } },
      { operations: [ins], options: { isolation: 'serializable' } },
      { operations: [ins], rollback: true },
      { operations: [{ ...ins, extra: 1 }] },
      { operations: [op('w', 'insert', { insert_body: { label: 'nope' }, bogus: 1 })] },
      { operations: [op('w', 'upsert', { insert_body: { label: 'nope' } })] },
      { operations: [op('w', 'update', { update_body: { n: 1 } })] },
      { operations: [] },
    ];
    for (const body of bodies) {
      const res = await api.call('transaction', body);
      expect(res.status, `${JSON.stringify(body)}: ${res.text}`).toBe(400);
    }
    expect(await labels()).toEqual(['keep', 'a']);
  });

  it('bounds: more operations than TRANSACTION_MAX_OPERATIONS or a body over the limit → 413', async () => {
    const ops = Array.from({ length: 4 }, (_, i) => op(`o${i}`, 'fetch', {}));
    const many = await api.call('transaction', { operations: ops }, { vars: { TRANSACTION_MAX_OPERATIONS: '3' } });
    expect(many.status, many.text).toBe(413);
    expect((await api.call('transaction', { operations: ops.slice(0, 3) }, { vars: { TRANSACTION_MAX_OPERATIONS: '3' } })).status).toBe(200);
    const big = await api.call(
      'transaction',
      { operations: [op('big', 'insert', { insert_body: { label: 'x'.repeat(5000) } })] },
      { vars: { GATEWAY_MAX_BODY_BYTES: '4096' } },
    );
    expect(big.status).toBe(413);
    expect(await labels()).toEqual(['keep', 'a']);
  });
});

describe('idempotency_key', () => {
  it('a repeat with the same body replays the first result and writes nothing more; another body → 409', async () => {
    const key = `idem-${crypto.randomUUID()}`;
    const ops = [op('txop_1', 'insert', { insert_body: { label: 'once' }, columns: 'label' })];
    const first = await tx(ops, { idempotency_key: key });
    expect(first.status, first.text).toBe(200);
    const again = await tx(ops, { idempotency_key: key });
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(await labels()).toEqual(['keep', 'a', 'once']);
    const other = await tx([op('txop_1', 'insert', { insert_body: { label: 'twice' } })], { idempotency_key: key });
    expect(other.status).toBe(409);
    expect(await labels()).toEqual(['keep', 'a', 'once']);
    const stored = await sql<{ status: number; request_hash: string }>(
      `SELECT status, request_hash FROM transaction_idempotency WHERE client_name = $1 AND idempotency_key = $2`,
      [api.clientName, key],
    );
    expect(stored).toEqual([{ status: 200, request_hash: expect.stringMatching(/^[0-9a-f]{64}$/) }]);
  });

  it('a failed transaction does not consume its key; an expired record is not replayed', async () => {
    const key = `idem-${crypto.randomUUID()}`;
    const failing = await tx([op('x', 'insert', { insert_body: { label: 'keep' } })], { idempotency_key: key });
    expect(failing.status).toBe(409);
    const ok = await tx([op('x', 'insert', { insert_body: { label: 'retried' } })], { idempotency_key: key });
    expect(ok.status, ok.text).toBe(200);
    await sql(`UPDATE transaction_idempotency SET created_at = now() - interval '2 days' WHERE client_name = $1 AND idempotency_key = $2`, [
      api.clientName,
      key,
    ]);
    const afterTtl = await tx([op('x', 'insert', { insert_body: { label: 'after-ttl' } })], { idempotency_key: key });
    expect(afterTtl.status, afterTtl.text).toBe(200);
    expect(afterTtl.headers.get('idempotent-replayed')).toBeNull();
    expect((await labels()).slice(-2)).toEqual(['retried', 'after-ttl']);
  });
});

describe('the 5.x body forms inside a transaction', () => {
  it('fetch honours select/where/orderBy and a bounded update changes exactly its rows', async () => {
    const t = tableName('gw_tx5');
    await tenantSql(`CREATE TABLE ${t} (id serial PRIMARY KEY, label text, n int)`);
    await tenantSql(`INSERT INTO ${t} (label, n) VALUES ('x', 1), ('y', 2), ('z', 3), ('w', 4)`);
    const on = (id: string, kind: string, payload: Record<string, unknown>) => ({ id, kind, payload: { table_name: t, ...payload } });
    const res = await tx([
      on('u', 'update', {
        update_body: { label: 'top' },
        conditions: [{ column: 'n', operator: 'gte', value: 2 }],
        sort_by: { field: 'n', direction: 'descending' },
        limit: 1,
      }),
      on('f', 'fetch', { select: 'label,num:n', where: { n: { gte: 2 } }, orderBy: { column: 'n', ascending: true } }),
    ]);
    expect(res.status, res.text).toBe(200);
    const results = (res.body.data as unknown as { results: unknown[] }).results;
    expect(results[0]).toMatchObject({ id: 'u', ok: true, count: 1 });
    expect(results[1]).toMatchObject({
      id: 'f',
      ok: true,
      data: [
        { label: 'y', num: 2 },
        { label: 'z', num: 3 },
        { label: 'top', num: 4 },
      ],
    });
    expect(await tenantSql<{ label: string }>(`SELECT label FROM ${t} ORDER BY id`)).toEqual([
      { label: 'x' },
      { label: 'y' },
      { label: 'z' },
      { label: 'top' },
    ]);
    const embed = await tx([on('e', 'fetch', { select: 'label, other:public.nothing(id)' })]);
    expect(embed.status, embed.text).toBe(400);
  });
});

describe('least privilege inside a transaction', () => {
  it('a write-only key mutates but gets no rows back, exactly as on the mutation routes', async () => {
    const writer = await newCaller('gateway-transaction', { scopes: { operations: ['insert', 'update', 'delete'], tables: [table] } });
    const res = await writer.call('transaction', {
      operations: [
        op('i', 'insert', { insert_body: { label: 'w1', n: 7 }, columns: '*' }),
        op('u', 'update', { update_body: { n: 8 }, conditions: [{ column: 'label', operator: 'eq', value: 'w1' }], columns: '*' }),
        op('d', 'delete', { conditions: [{ column: 'label', operator: 'eq', value: 'w1' }], columns: '*' }),
      ],
    });
    expect(res.status, res.text).toBe(200);
    const results = (res.body.data as unknown as { results: { id: string; data: unknown; count: number }[] }).results;
    expect(results.map((r) => [r.id, r.data, r.count])).toEqual([
      ['i', [], 1],
      ['u', [], 1],
      ['d', [], 1],
    ]);
  });
});
