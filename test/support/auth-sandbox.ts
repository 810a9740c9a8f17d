/**
 * Node-side auth sandbox for tests against a served worker: a role whose search_path points at its
 * own copies of `clients` and `api_keys`, so the worker's auth statements (AUTH_DATABASE_URL =
 * `url`) are countable by role in pg_stat_statements and its tables lockable without touching
 * other test files. Keys are minted and hashed as the CLI does.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { hashApiKey, mintApiKey } from '../../crypto/key-format.js';
import { signerFor } from '../../crypto/key-signing.js';
import { TEST_KEY_SIGNING_SECRET } from './key-signing.js';
import { queryOnce } from './query-once.js';

export type NodeSandbox = {
  url: string;
  role: string;
  /** A new client (enforcement required) with `count` (default 1) all-scope keys; `key` is the first. */
  clientWithKey(count?: number): Promise<{ client: string; key: string; keys: string[] }>;
  /** Sum of pg_stat_statements calls by the role whose text matches `pattern` (ILIKE). */
  calls(pattern: string): Promise<number>;
  /** Holds `LOCK TABLE <table>` in an open transaction until `release()`. */
  lock(table: 'clients' | 'api_keys'): Promise<{ release(): Promise<void> }>;
  drop(): Promise<void>;
};

export async function createNodeSandbox(databaseUrl: string, adminUrl: string): Promise<NodeSandbox> {
  const role = `srv_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  const password = randomUUID().replaceAll('-', '');
  const schema = `"${role}"`;
  for (const stmt of [
    `CREATE ROLE ${schema} LOGIN PASSWORD '${password}'`,
    `CREATE SCHEMA ${schema}`,
    `CREATE TABLE ${schema}.clients (LIKE public.clients INCLUDING ALL)`,
    `CREATE TABLE ${schema}.api_keys (LIKE public.api_keys INCLUDING ALL)`,
    // The catalog's change log, read-only: the copies record no changes (they have no triggers).
    `CREATE VIEW ${schema}.catalog_epoch AS SELECT * FROM public.catalog_epoch`,
    `CREATE VIEW ${schema}.catalog_changes AS SELECT * FROM public.catalog_changes`,
    `GRANT USAGE ON SCHEMA ${schema} TO ${schema}`,
    `GRANT SELECT, UPDATE ON ALL TABLES IN SCHEMA ${schema} TO ${schema}`,
    `ALTER ROLE ${schema} SET search_path = ${schema}`,
  ]) {
    await queryOnce(databaseUrl, stmt);
  }
  const u = new URL(databaseUrl);
  u.username = role;
  u.password = password;
  const dbName = decodeURIComponent(new URL(databaseUrl).pathname.slice(1));
  const sign = await signerFor([TEST_KEY_SIGNING_SECRET]);
  return {
    url: u.toString(),
    role,
    async clientWithKey(count = 1) {
      const client = `burst-${randomUUID().slice(0, 12)}`;
      await queryOnce(databaseUrl, `INSERT INTO ${schema}.clients (client_name, api_key_enforcement) VALUES ($1, 'required')`, [client]);
      const keys: string[] = [];
      for (let i = 0; i < count; i++) {
        const { key, prefix } = await mintApiKey(sign);
        await queryOnce(databaseUrl, `INSERT INTO ${schema}.api_keys (client_name, name, prefix, key_hash, scopes) VALUES ($1, $2, $3, $4, $5::jsonb)`, [
          client,
          `k${i}`,
          prefix,
          await hashApiKey(key),
          JSON.stringify({ operations: ['read', 'insert', 'update', 'delete'], tables: ['*'] }),
        ]);
        keys.push(key);
      }
      return { client, key: keys[0] ?? '', keys };
    },
    async calls(pattern) {
      const rows = await queryOnce<{ n: number }>(
        adminUrl,
        `SELECT coalesce(sum(calls), 0)::int AS n FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid
           JOIN pg_database d ON d.oid = s.dbid WHERE r.rolname = $1 AND d.datname = $2 AND s.query ILIKE $3`,
        [role, dbName, pattern],
      );
      return rows[0]?.n ?? 0;
    },
    async lock(table) {
      const c = new pg.Client({ connectionString: databaseUrl });
      await c.connect();
      await c.query('BEGIN');
      await c.query(`LOCK TABLE ${schema}.${table} IN ACCESS EXCLUSIVE MODE`);
      return {
        async release() {
          await c.query('COMMIT').catch(() => undefined);
          await c.end();
        },
      };
    },
    async drop() {
      await queryOnce(databaseUrl, `DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
      await queryOnce(databaseUrl, `DROP OWNED BY ${schema}`).catch(() => undefined);
      await queryOnce(databaseUrl, `DROP ROLE IF EXISTS ${schema}`).catch(() => undefined);
    },
  };
}
