/**
 * Hostile corpus, errors: keys of narrow scope make the database fail on purpose and must learn
 * only what their scopes allow — the exact status, columns of their own table, never a row value,
 * never a table outside their scope — in the body, the headers, the worker's log and the
 * catalog's log tables alike (docs/auth.md "What an error tells the caller").
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { newCaller, tableName, tenantSql, type Caller, type GatewayResponse } from './gateway-support.js';
import { catalogLogRows, withWorkerLog } from './traces.js';

const ISOLATE = 'hostile-errors';
const todos = tableName('hx_todos');
const secretNotes = tableName('hx_secret_notes');
const ROW_ID = 917263;
const TITLE = 'TITLE-SECRET-7f3a';
const NOTE = 'NOTE-SECRET-c41d';
const CREATED = '2031-05-06';
/** Row values: never in an answer, the worker's log or the log tables. */
const VALUES = [TITLE, NOTE, String(ROW_ID), CREATED];
/** What only operators see: the table holding a reference, the detail's wording. */
const OPERATOR_ONLY = [secretNotes, 'Failing row', 'still referenced from', 'Key ('];

const vars = { REQUEST_LOG: 'all' };
let upd: Caller;
let ins: Caller;
let del: Caller;

beforeAll(async () => {
  await tenantSql(
    `CREATE TABLE ${todos} (id int PRIMARY KEY, title text NOT NULL CHECK (length(title) < 40), done boolean DEFAULT false, created timestamptz DEFAULT '${CREATED}')`,
  );
  await tenantSql(`CREATE TABLE ${secretNotes} (id int PRIMARY KEY, todo_id int REFERENCES ${todos}(id), body text)`);
  await tenantSql(`INSERT INTO ${todos} (id, title) VALUES ($1, $2)`, [ROW_ID, TITLE]);
  await tenantSql(`INSERT INTO ${secretNotes} VALUES (1, $1, $2)`, [ROW_ID, NOTE]);
  const scoped = (op: 'update' | 'insert' | 'delete') => newCaller(ISOLATE, { scopes: { operations: [op], tables: [todos] }, vars });
  [upd, ins, del] = await Promise.all([scoped('update'), scoped('insert'), scoped('delete')]);
});

/** The exact answer, and no secret in its body, its headers, the worker log or the log tables. */
async function expectRefused(
  call: () => Promise<GatewayResponse>,
  expected: { status: number; code: string; message: string },
): Promise<{ lines: string[]; requestId: string }> {
  const { result: res, lines } = await withWorkerLog(call);
  expect(res.status, res.text).toBe(expected.status);
  expect(res.body.error).toMatchObject({ code: expected.code, message: expected.message });
  const requestId = res.headers.get('x-request-id') ?? '';
  expect(requestId).not.toBe('');
  const headers = JSON.stringify([...res.headers.entries()]);
  const logs = JSON.stringify(await catalogLogRows(requestId));
  expect(logs).toContain(`"error_code":"${expected.code}"`);
  for (const secret of [...VALUES, ...OPERATOR_ONLY]) {
    expect(res.text, `body leaks ${secret}`).not.toContain(secret);
    expect(headers, `headers leak ${secret}`).not.toContain(secret);
    expect(logs, `log tables leak ${secret}`).not.toContain(secret);
  }
  for (const value of VALUES) expect(lines.join('\n'), `worker log leaks ${value}`).not.toContain(value);
  return { lines, requestId };
}

/** The operator's line of the request: under its id, with the detail's shape and no value. */
function operatorLine(lines: string[], requestId: string): Record<string, unknown> {
  const line = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.event === 'tenant_query_failed' && l.requestId === requestId);
  expect(line, lines.join('\n')).toBeDefined();
  return line ?? {};
}

describe('integrity errors', () => {
  it('UPD sets id to null: 400 naming the column "id", none of the row', async () => {
    const { lines, requestId } = await expectRefused(
      () => upd.call('update', { table_name: todos, update_body: { id: null }, conditions: [{ column: 'id', operator: 'eq', value: ROW_ID }] }),
      { status: 400, code: 'invalid_request', message: 'Column "id" may not be null' },
    );
    expect(operatorLine(lines, requestId)).toMatchObject({ sqlstate: '23502', column: 'id', table: todos, detail: 'Failing row contains (…).' });
  });

  it('UPD breaks a check constraint: 400 naming the column "title"', async () => {
    await expectRefused(
      () => upd.call('update', { table_name: todos, update_body: { title: 'x'.repeat(60) }, conditions: [{ column: 'id', operator: 'eq', value: ROW_ID }] }),
      { status: 400, code: 'invalid_request', message: 'The value of column "title" fails the table\'s check' },
    );
  });

  it('INS inserts a duplicate key: 409 naming the column "id", not the value', async () => {
    const { lines, requestId } = await expectRefused(() => ins.call('insert', { table_name: todos, insert_body: { id: ROW_ID, title: 'mine' } }), {
      status: 409,
      code: 'conflict',
      message: 'A row with the same "id" already exists',
    });
    expect(operatorLine(lines, requestId)).toMatchObject({ sqlstate: '23505', detail: 'Key (id)=(…) already exists.', constraint: `${todos}_pkey` });
  });

  it('DEL deletes a referenced row: 409 naming neither the referencing table nor its constraint', async () => {
    const { lines, requestId } = await expectRefused(
      () => del.call('delete', { table_name: todos, conditions: [{ column: 'id', operator: 'eq', value: ROW_ID }] }),
      { status: 409, code: 'conflict', message: 'The row is still referenced by other rows' },
    );
    // The operator sees which table holds the reference; the client never does.
    expect(operatorLine(lines, requestId)).toMatchObject({
      sqlstate: '23503',
      table: secretNotes,
      detail: `Key (id)=(…) is still referenced from table "${secretNotes}".`,
    });
    expect(await tenantSql(`SELECT count(*)::int AS n FROM ${todos}`)).toEqual([{ n: 1 }]);
  });

  it('UPD casts a column it may not read: 400 without the stored value the cast choked on', async () => {
    // Postgres' own text would be `invalid input syntax for type integer: "TITLE-SECRET-7f3a"`.
    await expectRefused(
      () =>
        upd.call('update', {
          table_name: todos,
          update_body: { done: true },
          conditions: [{ column: 'title', operator: 'eq', value: 1, column_cast: 'integer' }],
        }),
      { status: 400, code: 'invalid_request', message: "A value does not fit its column's type" },
    );
    expect(await tenantSql(`SELECT done FROM ${todos}`)).toEqual([{ done: false }]);
  });

  it('the same errors inside a transaction: the operation is named, the row is not', async () => {
    await expectRefused(
      () =>
        upd.call('transaction', {
          operations: [
            {
              id: 'u',
              kind: 'update',
              payload: { table_name: todos, update_body: { id: null }, conditions: [{ column: 'id', operator: 'eq', value: ROW_ID }] },
            },
          ],
        }),
      { status: 400, code: 'invalid_request', message: 'operations[0] (u) failed, the transaction was rolled back: Column "id" may not be null' },
    );
  });
});

describe('names JavaScript reserves', () => {
  it('__proto__ as an alias is a 400 naming it, not a 200 without the column', async () => {
    const reader = await newCaller(ISOLATE, { scopes: { operations: ['read'], tables: [todos] } });
    const res = await reader.call('fetch', { table_name: todos, columns: 'id,__proto__:title' });
    expect(res.status, res.text).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'invalid_request', message: 'columns: "__proto__" cannot be used as a column name, key or alias' });
    // JSON.stringify cannot write an own __proto__ key: the body goes as text.
    const body = await ins.call('insert', undefined, { raw: `{"table_name":"${todos}","insert_body":{"id":5,"title":"t","__proto__":{"x":1}}}` });
    expect(body.status, body.text).toBe(400);
    expect(body.body.error?.message).toBe('insert_body.__proto__: cannot be used as a column name, key or alias');
    expect(await tenantSql(`SELECT count(*)::int AS n FROM ${todos}`)).toEqual([{ n: 1 }]);
  });
});
