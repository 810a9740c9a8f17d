/**
 * Scopes and tenant URLs as an operator sets them with the real CLI, and as the served worker (the
 * run's shared one) then enforces them: `keys create --tables 'app.*'` is accepted and covers schema
 * `app` only (not a schema named "app.b"); `clients add|set --database-url` refuse query parameters other than
 * sslmode/channel_binding, and a URL stored around the CLI is refused by the worker before it
 * connects, without echoing the URL.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { gateway, uniq } from './cli-support.js';

const databaseUrl = inject('databaseUrl');
const tenantUrl = inject('tenantDatabaseUrl');
/** The run's shared served worker (test/setup/global.ts): clients made here are used at once. */
const gatewayUrl = inject('gatewayUrl');
const catalog = new pg.Pool({ connectionString: databaseUrl, max: 1 });
const tenant = new pg.Pool({ connectionString: tenantUrl, max: 1 });
const schema = `app_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`;
const secret = `cli-scope-secret-${crypto.randomUUID()}`;

beforeAll(async () => {
  await tenant.query(`CREATE SCHEMA "${schema}"; CREATE SCHEMA "${schema}.b"`);
  await tenant.query(`CREATE TABLE "${schema}.b".c (id int PRIMARY KEY, secret text); INSERT INTO "${schema}.b".c VALUES (1, '${secret}')`);
  await tenant.query(`CREATE TABLE "${schema}".t (id int PRIMARY KEY, c_id int REFERENCES "${schema}.b".c (id)); INSERT INTO "${schema}".t VALUES (1, 1)`);
});

afterAll(async () => {
  await tenant.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE; DROP SCHEMA IF EXISTS "${schema}.b" CASCADE`).catch(() => undefined);
  await Promise.all([catalog.end(), tenant.end()]);
});

async function post(client: string, key: string, body: unknown): Promise<{ status: number; text: string }> {
  const res = await fetch(`${gatewayUrl}/gateway/fetch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-athena-client': client, 'x-athena-key': key },
    body: JSON.stringify(body),
  });
  return { status: res.status, text: await res.text() };
}

describe('keys create --tables schema.*', () => {
  it('is accepted, stored as written, and the worker reads that schema only', async () => {
    const client = uniq('cli-scope');
    expect((await gateway('clients', 'add', client)).code).toBe(0);
    const created = await gateway('keys', 'create', '--client', client, '--name', 'app', '--tables', `${schema}.*`, '--json');
    expect(created.code, created.stderr).toBe(0);
    const { key, id, scopes } = JSON.parse(created.stdout) as { key: string; id: string; scopes: { tables: string[] } };
    expect(scopes.tables).toEqual([`${schema}.*`]);
    expect((await catalog.query('SELECT scopes FROM api_keys WHERE id = $1', [id])).rows).toEqual([
      { scopes: { operations: ['read'], tables: [`${schema}.*`] } },
    ]);

    const own = await post(client, key, { table_name: `${schema}.t` });
    expect(own.status, own.text).toBe(200);
    expect(JSON.parse(own.text)).toMatchObject({ data: [{ id: 1, c_id: 1 }] });
    const other = await post(client, key, { table_name: 'todos' });
    expect(other.status, other.text).toBe(403);
    const embedded = await post(client, key, { table_name: `${schema}.t`, columns: 'id,c_id(id,secret)' });
    expect(embedded.status, embedded.text).toBe(403);
    expect(JSON.parse(embedded.text)).toMatchObject({ error: { code: 'scope_denied', message: 'This API key may not read c_id' } });
    expect(embedded.text).not.toContain(secret);
  });

  it('refuses entries that are not table, schema.table, schema.* or *', async () => {
    const client = uniq('cli-scope-bad');
    expect((await gateway('clients', 'add', client)).code).toBe(0);
    const refused = ['app.b.*', '*.t', 'app.*.t', 'a-b.*'];
    const results = await Promise.all(refused.map((tables) => gateway('keys', 'create', '--client', client, '--name', 'x', '--tables', tables)));
    for (const [i, res] of results.entries()) {
      expect(res.code, refused[i]).toBe(2);
      expect(res.stderr).toContain('--tables: tables are names like todos, public.todos, app.* or *');
    }
    expect((await catalog.query('SELECT count(*)::int AS n FROM api_keys WHERE client_name = $1', [client])).rows).toEqual([{ n: 0 }]);
  });
});

describe('tenant URLs take no connection parameters but sslmode and channel_binding', () => {
  const withQuery = (query: string) => `${tenantUrl}${tenantUrl.includes('?') ? '&' : '?'}${query}`;

  it('clients add and set refuse host=, options=, user=… naming the parameter, never its value', async () => {
    const name = uniq('cli-url');
    const queries = ['host=10.0.0.9', 'options=-c%20search_path%3Dhidden', 'sslmode=require&user=postgres', 'application_name=x&port=1'];
    const results = await Promise.all(queries.map((query) => gateway('clients', 'add', name, '--database-url', withQuery(query))));
    for (const [i, res] of results.entries()) {
      expect(res.code, queries[i]).toBe(2);
      expect(res.stderr).toMatch(
        /^error: --database-url: query parameter "[a-z_]+"(, "[a-z_]+")* not accepted: a tenant URL may carry only sslmode and channel_binding after "\?"/m,
      );
      expect(res.stderr).not.toMatch(/10\.0\.0\.9|hidden|postgres:\/\//);
    }
    expect((await catalog.query('SELECT count(*)::int AS n FROM clients WHERE client_name = $1', [name])).rows).toEqual([{ n: 0 }]);

    const ok = await gateway('clients', 'add', name, '--database-url', withQuery('sslmode=disable&channel_binding=disable'));
    expect(ok.code, ok.stderr).toBe(0);
    const refused = await gateway('clients', 'set', name, '--database-url', withQuery('host=10.0.0.9'));
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--database-url: query parameter "host" not accepted');
    expect((await catalog.query('SELECT database_url FROM clients WHERE client_name = $1', [name])).rows).toEqual([
      { database_url: withQuery('sslmode=disable&channel_binding=disable') },
    ]);
  });

  it('the worker refuses a stored URL with such a parameter before connecting, without showing it', async () => {
    const name = uniq('cli-url-stored');
    const stored = withQuery('host=127.0.0.1&options=-c%20search_path%3Dhidden');
    await catalog.query('INSERT INTO clients (client_name, database_url) VALUES ($1, $2)', [name, stored]);
    const created = await gateway('keys', 'create', '--client', name, '--name', 'k', '--json');
    expect(created.code, created.stderr).toBe(0);
    const { key } = JSON.parse(created.stdout) as { key: string };
    const res = await post(name, key, { table_name: `${schema}.t` });
    expect(res.status, res.text).toBe(500);
    expect(JSON.parse(res.text)).toEqual({
      error: {
        code: 'gateway_misconfigured',
        message: `Client "${name}" has a database_url with connection parameters the gateway refuses`,
        hint: 'A tenant URL may carry only sslmode and channel_binding after "?" (npm run gateway -- clients set <name> --database-url <url>).',
      },
    });
    expect(res.text).not.toMatch(/hidden|127\.0\.0\.1|postgres:\/\//);
  });
});
