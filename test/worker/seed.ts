/**
 * Seeding for tests inside workerd (no `pg` here): clients and keys in the catalog DB through the
 * Neon driver and the WebSocket proxy, table locks held on a separate connection, and an "auth
 * sandbox" — a private role whose search_path points at its own copy of `clients` and `api_keys`,
 * so a test can lock those tables or count its statements in pg_stat_statements (by role) without
 * touching the files running in parallel against the shared catalog.
 */
import { inject } from 'vitest';
import { OPERATIONS, type KeyScopes } from '../../drizzle/schema.js';
import { openSession, type Session } from '../../worker/db/session.js';
import { generateApiKey, hashApiKey, mintApiKey } from '../../crypto/key-format.js';
import { signerFor } from '../../crypto/key-signing.js';
import { adminDatabaseUrl, baseEnv, databaseUrl } from './harness.js';

const wsProxy = inject('wsProxy');

/** Runs `fn` on a fresh connection to `url`, closed afterwards. */
export async function withConnection<T>(url: string, fn: (s: Session) => Promise<T>): Promise<T> {
  const session = await openSession(url, { statementTimeoutMs: 30_000, localWsProxy: wsProxy });
  try {
    return await fn(session);
  } finally {
    await session.close();
  }
}

/** A name unique to this run, valid as a client name or SQL identifier (lower case). */
export function uniqueName(prefix = 't'): string {
  return `${prefix}_${Date.now().toString(36)}${crypto.randomUUID().replaceAll('-', '').slice(0, 10)}`;
}

/** Every operation on every table. */
export const ALL_SCOPES: KeyScopes = { operations: [...OPERATIONS], tables: ['*'] };

export type ClientOptions = {
  enforcement?: 'required' | 'optional' | null;
  isActive?: boolean;
  isFrozen?: boolean;
  databaseUrl?: string | null;
  /** Default rate limit of the client's keys. */
  rateLimit?: { requests: number; periodS: number } | null;
};

export type KeyOptions = {
  name?: string;
  expiresAt?: Date | null;
  /** An untagged key of the legacy format (default: tagged with the test KEY_SIGNING_SECRETS, as the CLI mints). */
  legacy?: boolean;
  /** The key's own rate limit. */
  rateLimit?: { requests: number; periodS: number } | null;
};

export type SeededKey = { key: string; prefix: string; id: string };

export type TableLock = { release(): Promise<void> };

export type Catalog = {
  /** The connection URL tests pass as AUTH_DATABASE_URL to reach these tables. */
  url: string;
  schema: string;
  sql<R extends Record<string, unknown> = Record<string, unknown>>(text: string, params?: unknown[]): Promise<R[]>;
  createClient(name?: string, opts?: ClientOptions): Promise<string>;
  createKey(client: string, scopes?: KeyScopes, opts?: KeyOptions): Promise<SeededKey>;
  /** What `npm run gateway -- keys revoke` runs. */
  revokeKey(id: string): Promise<void>;
  /** Holds `LOCK TABLE … IN <mode> MODE` in an open transaction on its own connection. */
  lockTable(table: 'clients' | 'api_keys', mode?: string): Promise<TableLock>;
};

function catalogIn(url: string, adminUrl: string, schema: string): Catalog {
  const t = (table: string) => `"${schema}"."${table}"`;
  const sql = async <R extends Record<string, unknown>>(text: string, params: unknown[] = []): Promise<R[]> =>
    withConnection(adminUrl, async (s) => (await s.query<R>(text, params)).rows);
  return {
    url,
    schema,
    sql,
    async createClient(name = uniqueName('c'), opts = {}) {
      await sql(
        `INSERT INTO ${t('clients')} (client_name, database_url, is_active, is_frozen, api_key_enforcement, rate_limit_requests, rate_limit_period_s) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [
          name,
          opts.databaseUrl ?? null,
          opts.isActive ?? true,
          opts.isFrozen ?? false,
          opts.enforcement ?? null,
          opts.rateLimit?.requests ?? null,
          opts.rateLimit?.periodS ?? null,
        ],
      );
      return name;
    },
    async createKey(client, scopes = ALL_SCOPES, opts = {}) {
      const { key, prefix } = opts.legacy ? generateApiKey() : await mintApiKey(await signerFor([baseEnv.KEY_SIGNING_SECRETS ?? '']));
      const rows = await sql<{ id: string }>(
        `INSERT INTO ${t('api_keys')} (client_name, name, prefix, key_hash, scopes, expires_at, rate_limit_requests, rate_limit_period_s) VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8) RETURNING id::text AS id`,
        [
          client,
          opts.name ?? 'test',
          prefix,
          await hashApiKey(key),
          JSON.stringify(scopes),
          opts.expiresAt ?? null,
          opts.rateLimit?.requests ?? null,
          opts.rateLimit?.periodS ?? null,
        ],
      );
      const id = rows[0]?.id;
      if (!id) throw new Error('key not stored');
      return { key, prefix, id };
    },
    async revokeKey(id) {
      await sql(`UPDATE ${t('api_keys')} SET revoked_at = now() WHERE id = $1`, [id]);
    },
    async lockTable(table, mode = 'ACCESS EXCLUSIVE') {
      const session = await openSession(adminUrl, { statementTimeoutMs: 30_000, localWsProxy: wsProxy });
      await session.query('BEGIN');
      await session.query(`LOCK TABLE ${t(table)} IN ${mode} MODE`);
      return {
        async release() {
          await session.query('COMMIT').catch(() => undefined);
          await session.close();
        },
      };
    },
  };
}

/** The shared catalog DB (schema public) as the superuser of the test cluster. */
const catalog = catalogIn(databaseUrl, databaseUrl, 'public');

/** Runs SQL on the catalog DB. */
export const sql = catalog.sql;
/** Registers a client (unique name by default); returns its name. */
export const createClient = catalog.createClient;
/** Creates a key for `client` exactly as the CLI does (same format and hash); returns the plaintext once. */
export const createKey = catalog.createKey;
export const revokeKey = catalog.revokeKey;

export type AuthSandbox = Catalog & {
  role: string;
  /** Sum of pg_stat_statements calls by this sandbox's role whose text matches `pattern` (ILIKE). */
  statementCalls(pattern: string): Promise<number>;
  /** Drops the schema and the role (best effort). */
  drop(): Promise<void>;
};

/**
 * A role + schema with private copies of `clients` and `api_keys` (and the catalog's change log,
 * read through views). Pass `sandbox.url` as
 * AUTH_DATABASE_URL: the gateway's unqualified queries then read the copies (the role's
 * search_path), its budget is its own target, and its statements are countable by role.
 */
export async function createAuthSandbox(): Promise<AuthSandbox> {
  const role = uniqueName('auth');
  const password = crypto.randomUUID().replaceAll('-', '');
  await withConnection(databaseUrl, async (s) => {
    await s.query(`CREATE ROLE "${role}" LOGIN PASSWORD '${password}'`);
    await s.query(`CREATE SCHEMA "${role}"`);
    await s.query(`CREATE TABLE "${role}".clients (LIKE public.clients INCLUDING ALL)`);
    await s.query(`CREATE TABLE "${role}".api_keys (LIKE public.api_keys INCLUDING ALL)`);
    // The catalog's change log, read-only: the copies above record no changes (they have no triggers).
    await s.query(`CREATE VIEW "${role}".catalog_epoch AS SELECT * FROM public.catalog_epoch`);
    await s.query(`CREATE VIEW "${role}".catalog_changes AS SELECT * FROM public.catalog_changes`);
    await s.query(`GRANT USAGE ON SCHEMA "${role}" TO "${role}"`);
    await s.query(`GRANT SELECT, UPDATE ON ALL TABLES IN SCHEMA "${role}" TO "${role}"`);
    await s.query(`ALTER ROLE "${role}" SET search_path = "${role}"`);
  });
  const u = new URL(databaseUrl);
  u.username = role;
  u.password = password;
  const catalogDb = decodeURIComponent(new URL(databaseUrl).pathname.slice(1));
  return {
    ...catalogIn(u.toString(), databaseUrl, role),
    role,
    async statementCalls(pattern) {
      const rows = await withConnection(
        adminDatabaseUrl,
        async (s) =>
          (
            await s.query<{ n: number }>(
              `SELECT coalesce(sum(calls), 0)::int AS n FROM pg_stat_statements s
               JOIN pg_roles r ON r.oid = s.userid JOIN pg_database d ON d.oid = s.dbid
              WHERE r.rolname = $1 AND d.datname = $2 AND s.query ILIKE $3`,
              [role, catalogDb, pattern],
            )
          ).rows,
      );
      return rows[0]?.n ?? 0;
    },
    async drop() {
      await withConnection(databaseUrl, async (s) => {
        await s.query(`DROP SCHEMA IF EXISTS "${role}" CASCADE`);
        await s.query(`DROP OWNED BY "${role}"`);
        await s.query(`DROP ROLE IF EXISTS "${role}"`);
      }).catch(() => undefined);
    },
  };
}
