/**
 * Connection targets: a database URL normalised to host, port, database and user, plus every
 * query parameter the driver reads that can change where or as what it connects (`host=`,
 * `options=`, `user=`…). Budgets and tenant catalogs (with their "this is the gateway's own
 * catalog" flag) are keyed by this, so two URLs share them only when they reach the same database
 * as the same role (docs/auth.md "Admission budget"). Tenant URLs carry no such parameter at all:
 * see `refusedUrlParams`.
 */
export type Target = {
  /** `user@host:port/database[?param=value…]`: the budget and catalog key; no password. */
  readonly key: string;
  /** `host:port/database`: safe to show operators and write to logs. */
  readonly label: string;
  /** Query parameters a tenant URL may not carry (`refusedUrlParams`), worked out with the parse. */
  readonly refusedParams: readonly string[];
};

/** Distinct URLs remembered per isolate: a handful in practice (catalog, auth, logging, tenants). */
const MAX_REMEMBERED = 256;
const remembered = new Map<string, Target>();

/**
 * The target of a URL, parsed once per isolate: every session asks (the tenant's twice per
 * request), and a URL parse was the largest cost of the lookup. Throws on an invalid URL.
 */
export function targetOf(databaseUrl: string): Target {
  const known = remembered.get(databaseUrl);
  if (known) return known;
  const target = parseTarget(databaseUrl);
  if (remembered.size >= MAX_REMEMBERED) remembered.clear(); // only URLs from config and the clients table
  remembered.set(databaseUrl, target);
  return target;
}

/** Query parameters that only say how the connection is secured, never where it goes or as whom. */
export const TENANT_URL_PARAMS: readonly string[] = ['sslmode', 'channel_binding'];

/** Parameters that never tell two targets apart: how the link is secured, and the password. */
const IDENTITY_FREE = new Set([...TENANT_URL_PARAMS, 'password']);

/**
 * The query parameters of a tenant URL the gateway refuses (sorted, distinct): all but `sslmode`
 * and `channel_binding`, because the driver reads every one (`host=` overrides the host, `options=`
 * sets server options, `user=`…), so a tenant could point one stored URL at another database.
 */
export function refusedUrlParams(databaseUrl: string): string[] {
  return URL.canParse(databaseUrl) ? refusedOf(new URL(databaseUrl).searchParams) : [];
}

function refusedOf(params: URLSearchParams): string[] {
  return [...new Set([...params.keys()].filter((k) => !TENANT_URL_PARAMS.includes(k)))].sort();
}

function parseTarget(databaseUrl: string): Target {
  const u = new URL(databaseUrl);
  const host = u.hostname
    .toLowerCase()
    .replace(/^localhost$/, '127.0.0.1')
    .replace(/^\[::1\]$/, '127.0.0.1');
  const port = u.port || '5432';
  const database = decodeURIComponent(u.pathname.replace(/^\//, '')) || decodeURIComponent(u.username) || 'postgres';
  const user = decodeURIComponent(u.username);
  const params = [...u.searchParams].filter(([k]) => !IDENTITY_FREE.has(k)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const query = params.length ? `?${new URLSearchParams(params).toString()}` : '';
  return { key: `${user}@${host}:${port}/${database}${query}`, label: `${host}:${port}/${database}`, refusedParams: refusedOf(u.searchParams) };
}
