/**
 * Hostile corpus, request log: passwords, keys and looked-up values sent in a URL never reach the
 * catalog's log tables or the worker's log, on failed requests as on successful ones; the names of
 * the parameters and the values that shape a read are kept (docs/operations.md "What the request
 * log keeps").
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { newCaller, tableName, tenantSql, type Caller } from './gateway-support.js';
import { catalogLogRows, withWorkerLog } from './traces.js';

const ISOLATE = 'hostile-request-log';
const people = tableName('hrl_people');
const fn = tableName('hrl_whoami');
const PASSWORD = 'hunter2';
const SSN = '078-05-1120';

let reader: Caller;
let writer: Caller;

beforeAll(async () => {
  await tenantSql(`CREATE TABLE ${people} (id int PRIMARY KEY, ssn text)`);
  await tenantSql(`INSERT INTO ${people} VALUES (1, $1)`, [SSN]);
  await tenantSql(`CREATE FUNCTION ${fn}(pw text) RETURNS text LANGUAGE sql AS $$ SELECT 'me'::text $$`);
  reader = await newCaller(ISOLATE, { scopes: { operations: ['read', 'rpc'], tables: [people], functions: [fn] } });
  writer = await newCaller(ISOLATE, { scopes: { operations: ['insert'], tables: [people] } });
});

/** Calls `path` with GET under REQUEST_LOG=all and a fresh request id; returns what was stored and logged. */
async function logged(caller: Caller, path: string): Promise<{ status: number; text: string; headers: string; stored: string; path: string; lines: string }> {
  const requestId = `hrl-${crypto.randomUUID()}`;
  const { result: res, lines } = await withWorkerLog(() =>
    caller.call(path, undefined, { method: 'GET', headers: { 'x-request-id': requestId }, vars: { REQUEST_LOG: 'all' } }),
  );
  const rows = await catalogLogRows(requestId);
  const [requestRows = []] = rows;
  expect(requestRows, `one request-log row for ${path}`).toHaveLength(1);
  return {
    status: res.status,
    text: res.text,
    headers: JSON.stringify([...res.headers.entries()]),
    stored: JSON.stringify(rows),
    path: String(requestRows[0]?.path),
    lines: lines.join('\n'),
  };
}

const conditions = (value: string) => encodeURIComponent(JSON.stringify([{ column: 'ssn', operator: 'eq', value }]));

describe('the request log keeps parameter names, and values only of structural parameters', () => {
  it('GET /rpc/<fn>?pw=hunter2&passwd=x: the password is not stored, succeeded or refused', async () => {
    const ok = await logged(reader, `/rpc/${fn}?pw=${PASSWORD}&limit=1`);
    expect(ok.status, ok.text).toBe(200);
    expect(ok.path).toBe(`/rpc/${fn}?pw=[redacted]&limit=1`);
    // passwd is no argument of the function: a filter the gateway cannot read.
    const invalid = await logged(reader, `/rpc/${fn}?pw=${PASSWORD}&passwd=x`);
    expect(invalid.status, invalid.text).toBe(400);
    const refused = await logged(writer, `/rpc/${fn}?pw=${PASSWORD}&passwd=x`);
    expect(refused.status, refused.text).toBe(403);
    for (const r of [invalid, refused]) expect(r.path).toBe(`/rpc/${fn}?pw=[redacted]&passwd=[redacted]`);
    for (const r of [ok, invalid, refused]) {
      expect(r.stored).not.toContain(PASSWORD);
      expect(r.lines).not.toContain(PASSWORD);
      expect(r.headers).not.toContain(PASSWORD);
    }
  });

  it('a condition value (an SSN) in GET /gateway/fetch is not stored, on a 200, a 403 and a 400', async () => {
    const query = `table_name=${people}&columns=id&limit=5&offset=0&sort_by=id.desc&count=exact&conditions=${conditions(SSN)}`;
    const kept = `/gateway/fetch?table_name=${people}&columns=id&limit=5&offset=0&sort_by=id.desc&count=exact&conditions=[redacted]`;
    const ok = await logged(reader, `/gateway/fetch?${query}`);
    expect(ok.status, ok.text).toBe(200);
    expect(JSON.parse(ok.text)).toMatchObject({ data: [{ id: 1 }], count: 1 });
    const refused = await logged(writer, `/gateway/fetch?${query}`);
    expect(refused.status, refused.text).toBe(403);
    const invalid = await logged(reader, `/gateway/fetch?${query}&note=${SSN}`);
    expect(invalid.status, invalid.text).toBe(400);
    expect([ok.path, refused.path, invalid.path]).toEqual([kept, kept, `${kept}&note=[redacted]`]);
    for (const r of [ok, refused, invalid]) {
      expect(r.stored).not.toContain(SSN);
      expect(r.lines).not.toContain(SSN);
      expect(r.headers).not.toContain(SSN);
    }
    expect(refused.text).not.toContain(SSN);
  });

  it('credential-looking parameter names and pasted keys are withheld too', async () => {
    const r = await logged(reader, `/gateway/fetch?table_name=${people}&apikey=${encodeURIComponent(reader.key)}&token=t0p&Authorization=Bearer%20x`);
    expect(r.status, r.text).toBe(400);
    expect(r.path).toBe(`/gateway/fetch?table_name=${people}&apikey=[redacted]&token=[redacted]&Authorization=[redacted]`);
    expect(r.stored).not.toContain(reader.key.slice(-20));
    expect(r.stored).not.toContain('t0p');
  });
});
