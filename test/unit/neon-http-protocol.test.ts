/**
 * The HTTP SQL endpoint's protocol as pure functions: what a request from the driver parses to,
 * what is refused with which message, how parameters become Postgres text, the statement that
 * opens a batch, and the result and error bodies the driver reads.
 */
import { describe, expect, it } from 'vitest';
import { beginStatement, errorBody, readSqlRequest, resultBody } from '../../dev/neon-http-protocol.js';
import { toPgText } from '../../dev/neon-http-params.js';

const CONN = 'postgresql://app:s%40cret@127.0.0.1:5432/my_db?application_name=x&sslmode=require';
/** Headers as the driver sends them (Node lowercases names). */
const driver = (extra: Record<string, string> = {}) => ({
  'neon-connection-string': CONN,
  'neon-raw-text-output': 'true',
  'neon-array-mode': 'true',
  'content-type': 'text/plain;charset=UTF-8',
  ...extra,
});
const body = (b: unknown) => JSON.stringify(b);
const refusal = (headers: Record<string, string>, b: unknown = { query: 'SELECT 1', params: [] }) => {
  const r = readSqlRequest(headers, body(b));
  return r.ok ? undefined : r.error;
};

describe('a request from the driver', () => {
  it('parses one statement with its target (password decoded, query parameters not passed on)', () => {
    expect(readSqlRequest(driver(), body({ query: 'SELECT $1', params: ['a', null] }))).toEqual({
      ok: true,
      value: {
        target: { host: '127.0.0.1', port: 5432, user: 'app', password: 's@cret', database: 'my_db' },
        statements: [{ query: 'SELECT $1', params: ['a', null], arrayMode: true }],
        batch: undefined,
      },
    });
  });

  it('parses a batch with its transaction options; a per-query arrayMode wins', () => {
    const r = readSqlRequest(
      driver({ 'neon-batch-isolation-level': 'RepeatableRead', 'neon-batch-read-only': 'true', 'neon-batch-deferrable': 'false' }),
      body({
        queries: [
          { query: 'SELECT 1', params: [] },
          { query: 'SELECT 2', params: [], arrayMode: false },
        ],
      }),
    );
    expect(r.ok && r.value.batch).toEqual({ isolation: 'RepeatableRead', readOnly: true, deferrable: false });
    expect(r.ok && r.value.statements.map((s) => s.arrayMode)).toEqual([true, false]);
  });

  it('ignores batch options on a single statement, as Neon does', () => {
    const r = readSqlRequest(driver({ 'neon-batch-read-only': 'true' }), body({ query: 'SELECT 1' }));
    expect(r.ok && r.value.batch).toBeUndefined();
  });
});

describe('refused, never a silent difference', () => {
  it.each([
    [{ 'neon-raw-text-output': 'false' }, 'Neon-Raw-Text-Output must be true'],
    [{ 'neon-array-mode': 'maybe' }, 'Neon-Array-Mode must be true or false'],
    [{ 'neon-batch-isolation-level': 'serializable' }, 'invalid isolation level'],
    [{ 'neon-batch-deferrable': '1' }, 'Neon-Batch-Deferrable must be true or false'],
    [{ 'neon-pool-opt-in': 'yes' }, 'Neon-Pool-Opt-In must be true or false'],
    [{ 'neon-request-id': 'x' }, 'header neon-request-id is not supported'],
    [{ authorization: 'Bearer a.b.c' }, 'JWT authentication'],
    [{ 'neon-connection-string': 'mysql://a:b@h/db' }, 'postgres:// or postgresql://'],
    [{ 'neon-connection-string': 'postgresql://app@127.0.0.1/db' }, 'no password'],
    [{ 'neon-connection-string': 'postgresql://app:pw@127.0.0.1/' }, 'no database'],
    [{ 'neon-connection-string': 'not a url' }, 'not a valid URL'],
  ])('%j', (extra, message) => {
    expect(refusal(driver(extra))?.message).toContain(message);
  });

  it('a missing connection string or raw-output header', () => {
    const { 'neon-connection-string': _c, ...noConn } = driver();
    expect(refusal(noConn)?.message).toContain('connection string not provided');
    const { 'neon-raw-text-output': _r, ...noRaw } = driver();
    expect(refusal(noRaw)?.message).toContain('Neon-Raw-Text-Output');
  });

  it.each([
    ['not json', 'request body is not JSON'],
    [[], 'request body must be'],
    [{ queries: 'x' }, 'request body must be'],
    [{ queries: [], extra: 1 }, 'body field extra is not supported'],
    [{ query: 'SELECT 1', typeHints: true }, 'body field typeHints is not supported'],
    [{ query: 1 }, 'query must be a string'],
    [{ query: 'SELECT 1', params: 'a' }, 'params must be an array'],
    [{ queries: [1] }, 'each of queries must be'],
  ])('body %j', (b, message) => {
    const r = readSqlRequest(driver(), typeof b === 'string' ? b : body(b));
    expect(r.ok ? undefined : r.error).toEqual({ status: 400, message: expect.stringContaining(message) });
  });
});

describe('parameters', () => {
  it('become Postgres text as Neon converts JSON', () => {
    expect([null, 'a"b', 42, 1.5, true, { k: [1] }].map(toPgText)).toEqual([null, 'a"b', '42', '1.5', 'true', '{"k":[1]}']);
    expect(toPgText([1, null, 'NULL', 'x"y', [true, false], { a: 1 }])).toBe('{1,NULL,"NULL","x\\"y",{true,false},"{\\"a\\":1}"}');
  });
});

describe('a batch opens with', () => {
  it.each([
    [{ isolation: undefined, readOnly: false, deferrable: false }, 'BEGIN'],
    [{ isolation: 'ReadUncommitted', readOnly: false, deferrable: false }, 'START TRANSACTION ISOLATION LEVEL READ UNCOMMITTED'],
    [{ isolation: 'Serializable', readOnly: true, deferrable: true }, 'START TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ ONLY, DEFERRABLE'],
    [{ isolation: undefined, readOnly: true, deferrable: false }, 'START TRANSACTION READ ONLY'],
  ] as const)('%j: %s', (b, sql) => {
    expect(beginStatement(b)).toBe(sql);
  });
});

describe('bodies', () => {
  const field = { name: 'n', tableID: 0, columnID: 0, dataTypeID: 23, dataTypeSize: 4, dataTypeModifier: -1 };
  it('a result in array and object mode; a command without a count has rowCount null', () => {
    const r = { fields: [field, { ...field, name: 't', dataTypeID: 25 }], rows: [['1', null]], command: 'SELECT', rowCount: 1 };
    expect(resultBody(r, true)).toEqual({
      rowAsArray: true,
      fields: [
        { ...field, format: 'text' },
        { ...field, name: 't', dataTypeID: 25, format: 'text' },
      ],
      rows: [['1', null]],
      command: 'SELECT',
      rowCount: 1,
    });
    expect(resultBody(r, false).rows).toEqual([{ n: '1', t: null }]);
    expect(resultBody({ fields: [], rows: [], command: 'CREATE', rowCount: null }, true)).toMatchObject({ command: 'CREATE', rowCount: null });
  });

  it('an error with every field, null where Postgres gave none, code and severity empty without a Postgres error', () => {
    expect(errorBody('boom', { code: '23505', severity: 'ERROR', line: 42, constraint: 'pk' })).toMatchObject({
      message: 'boom',
      code: '23505',
      severity: 'ERROR',
      line: '42',
      constraint: 'pk',
      detail: null,
      where: null,
      internalQuery: null,
    });
    expect(errorBody('refused')).toMatchObject({ message: 'refused', code: '', severity: '', hint: null });
    expect(Object.keys(errorBody('x'))).toHaveLength(17);
  });
});
