/**
 * Connection targets: a database URL normalised to host, port, database and user. Budgets are keyed
 * by this, so two URLs that reach the same database as the same role share one budget (docs/auth.md "Admission budget").
 */
export type Target = {
  /** `user@host:port/database`: the budget key; no password. */
  key: string;
  /** `host:port/database`: safe to show operators and write to logs. */
  label: string;
};

export function targetOf(databaseUrl: string): Target {
  const u = new URL(databaseUrl);
  const host = u.hostname.toLowerCase().replace(/^localhost$/, '127.0.0.1').replace(/^\[::1\]$/, '127.0.0.1');
  const port = u.port || '5432';
  const database = decodeURIComponent(u.pathname.replace(/^\//, '')) || decodeURIComponent(u.username) || 'postgres';
  const user = decodeURIComponent(u.username);
  return { key: `${user}@${host}:${port}/${database}`, label: `${host}:${port}/${database}` };
}
