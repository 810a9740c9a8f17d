/**
 * Connection targets: a database URL normalised to host, port, database and user. Budgets are keyed
 * by this, so two URLs that reach the same database as the same role share one budget (docs/auth.md "Admission budget").
 */
export type Target = {
  /** `user@host:port/database`: the budget key; no password. */
  readonly key: string;
  /** `host:port/database`: safe to show operators and write to logs. */
  readonly label: string;
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

function parseTarget(databaseUrl: string): Target {
  const u = new URL(databaseUrl);
  const host = u.hostname.toLowerCase().replace(/^localhost$/, '127.0.0.1').replace(/^\[::1\]$/, '127.0.0.1');
  const port = u.port || '5432';
  const database = decodeURIComponent(u.pathname.replace(/^\//, '')) || decodeURIComponent(u.username) || 'postgres';
  const user = decodeURIComponent(u.username);
  return { key: `${user}@${host}:${port}/${database}`, label: `${host}:${port}/${database}` };
}
