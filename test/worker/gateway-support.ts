/**
 * Support for the data-route tests inside workerd: a seeded client and key, calls through the
 * app with this file's own isolate state, and SQL on the tenant database to set up tables and
 * to assert on rows. Each test file passes its own `isolate` tag so catalog caches never mix.
 */
import { fetchWith, tenantDatabaseUrl } from './harness.js';
import { ALL_SCOPES, createClient, createKey, withConnection } from './seed.js';
import type { KeyScopes } from '../../drizzle/schema.js';

export type GatewayResponse<T = Record<string, unknown>> = {
  status: number;
  headers: Headers;
  body: { data: T[]; count: number | null; error?: { code: string; message: string; hint: string | null } };
  text: string;
};

export type CallOptions = {
  method?: string;
  headers?: Record<string, string>;
  /** Sent as-is when a string (malformed bodies); JSON-encoded otherwise. */
  raw?: string;
  /** Extra vars for this call (a separate isolate state when they differ). */
  vars?: Record<string, string>;
};

const DEFAULT_METHOD: Record<string, string> = { fetch: 'POST', insert: 'PUT', update: 'POST', delete: 'DELETE' };

export type Caller = {
  clientName: string;
  key: string;
  /** Calls `/gateway/<op>` (or any path starting with `/`) as this client with its key. */
  call<T = Record<string, unknown>>(path: string, body?: unknown, opts?: CallOptions): Promise<GatewayResponse<T>>;
};

/** A client (tenant = TENANT_DATABASE_URL unless `databaseUrl`) with one key of `scopes`. */
export async function newCaller(isolate: string, opts: { scopes?: KeyScopes; databaseUrl?: string; vars?: Record<string, string> } = {}): Promise<Caller> {
  const clientName = await createClient(undefined, { databaseUrl: opts.databaseUrl ?? null });
  const { key } = await createKey(clientName, opts.scopes ?? ALL_SCOPES);
  const baseVars = { TEST_ISOLATE: isolate, ...opts.vars };
  return {
    clientName,
    key,
    async call(path, body, callOpts = {}) {
      const op = path.startsWith('/') ? (path.split('/').pop() ?? '') : path;
      const url = path.startsWith('/') ? path : `/gateway/${path}`;
      const init: RequestInit = {
        method: callOpts.method ?? DEFAULT_METHOD[op] ?? 'POST',
        headers: { 'content-type': 'application/json', 'x-athena-client': clientName, 'x-athena-key': key, ...callOpts.headers },
      };
      if (callOpts.raw !== undefined) init.body = callOpts.raw;
      else if (body !== undefined) init.body = JSON.stringify(body);
      const res = await fetchWith({ ...baseVars, ...callOpts.vars }, `http://gateway${url}`, init);
      const text = await res.text();
      let parsed: GatewayResponse['body'];
      try {
        parsed = JSON.parse(text) as GatewayResponse['body'];
      } catch {
        parsed = { data: [], count: null };
      }
      return { status: res.status, headers: res.headers, body: parsed as GatewayResponse<never>['body'], text };
    },
  };
}

/** Runs SQL on the tenant database. */
export async function tenantSql<R extends Record<string, unknown> = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<R[]> {
  return withConnection(tenantDatabaseUrl, async (s) => (await s.query<R>(text, params)).rows);
}

/** A table name unique to this run and file. */
export function tableName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${crypto.randomUUID().slice(0, 6)}`;
}

/** Values of one field across the returned rows, sorted (order-insensitive comparisons). */
export function field<T>(res: GatewayResponse, name: string): T[] {
  return res.body.data.map((r) => r[name] as T).sort();
}
