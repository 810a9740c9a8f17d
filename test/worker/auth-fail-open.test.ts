/**
 * What fail-open lets an anonymous caller do. Under AUTH_FAIL_MODE=open a request whose key cannot
 * be checked is admitted unverified — on a client whose enforcement is `required` — but only with
 * AUTH_FAIL_OPEN_SCOPES (default `read`): it may fetch, and every insert, update and delete is
 * refused 403 scope_denied with the rows untouched. Every such admission is counted per client.
 * AUTH_FAIL_OPEN_SCOPES=none keeps the door shut (503, as fail-closed).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseEnv, fetchWith } from './harness.js';
import { createAuthSandbox, sql, type AuthSandbox, type SeededKey } from './seed.js';
import { tableName, tenantSql } from './gateway-support.js';
import { isolateFor } from '../../worker/isolate.js';
import { authStatus } from '../../worker/auth/auth-metrics.js';

describe('fail-open is bounded', () => {
  let box: AuthSandbox;
  let client: string;
  let warm: SeededKey;
  let unchecked: SeededKey;
  const table = tableName('failopen');
  let vars: Record<string, string>;

  beforeAll(async () => {
    box = await createAuthSandbox();
    client = await box.createClient(undefined, { enforcement: 'required' });
    warm = await box.createKey(client);
    unchecked = await box.createKey(client, undefined, { name: 'unchecked' }); // all scopes, but never verifiable below
    vars = { AUTH_DATABASE_URL: box.url, AUTH_FAIL_MODE: 'open', AUTH_POLICY_CACHE_TTL_MS: '600000' };
    await tenantSql(`CREATE TABLE ${table} (id int PRIMARY KEY, name text NOT NULL)`);
    await tenantSql(`INSERT INTO ${table} VALUES (1, 'one'), (2, 'two')`);
  });
  afterAll(async () => {
    await tenantSql(`DROP TABLE IF EXISTS ${table}`);
    await box.drop();
  });

  const call = (op: string, method: string, body: unknown, key: SeededKey, v = vars) =>
    fetchWith(v, `http://gateway/gateway/${op}`, {
      method,
      headers: { 'content-type': 'application/json', 'x-athena-client': client, 'x-athena-key': key.key },
      body: JSON.stringify(body),
    });

  it('an unverifiable key may read, never write; each admission is counted', async () => {
    const closedDoor = { ...vars, AUTH_FAIL_OPEN_SCOPES: 'none' };
    for (const v of [vars, closedDoor]) expect((await call('fetch', 'POST', { table_name: table, columns: 'id' }, warm, v)).status).toBe(200); // directory loaded
    await sql(`REVOKE SELECT ON "${box.schema}".api_keys FROM "${box.role}"`); // key lookups now fail

    const read = await call('fetch', 'POST', { table_name: table, columns: 'id,name', sort_by: { field: 'id' } }, unchecked);
    expect(read.status).toBe(200);
    expect(((await read.json()) as { data: unknown[] }).data).toEqual([
      { id: 1, name: 'one' },
      { id: 2, name: 'two' },
    ]);

    const writes: [string, string, unknown][] = [
      ['insert', 'PUT', { table_name: table, insert_body: { id: 3, name: 'three' } }],
      ['update', 'POST', { table_name: table, update_body: { name: 'changed' }, conditions: [{ column: 'id', operator: 'eq', value: 1 }] }],
      ['delete', 'DELETE', { table_name: table, resource_id: '2' }],
    ];
    for (const [op, method, body] of writes) {
      const res = await call(op, method, body, unchecked);
      const err = (await res.json()) as { error?: { code: string } };
      expect({ op, status: res.status, code: err.error?.code }).toEqual({ op, status: 403, code: 'scope_denied' });
    }
    expect(await tenantSql(`SELECT id, name FROM ${table} ORDER BY id`)).toEqual([
      { id: 1, name: 'one' },
      { id: 2, name: 'two' },
    ]);

    const iso = isolateFor({ ...baseEnv, ...vars });
    if (!iso.ok) throw new Error(iso.problem);
    expect(authStatus(iso.isolate.settings, iso.isolate.services).clients[client]).toMatchObject({ failOpenAdmissions: 4 });

    // AUTH_FAIL_OPEN_SCOPES=none: nothing is admitted unverified.
    const none = await call('fetch', 'POST', { table_name: table, columns: 'id' }, unchecked, closedDoor);
    expect(none.status).toBe(503);
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe('api_key_validation_unavailable');
  });
});
