/** Human and machine output for CLI commands: aligned text tables and JSON on stdout. */
import type { ClientRow } from '../drizzle/schema.js';
import { redactUrl } from '../catalog/redact.js';
import type { KeyListing } from '../catalog/key-store.js';
import { formatRateLimit, rateLimitOf } from '../worker/ratelimit/limit.js';

/** A stored limit for operators: `100/10s`, `blocked`, or `none`. */
export function rateLimitView(requests: number | null, periodS: number | null): string {
  const limit = rateLimitOf(requests, periodS);
  return limit?.requests === 0 ? 'blocked' : formatRateLimit(limit);
}

/** Pads columns so they line up; the first row is the header. */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows)
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ')).join('\n');
}

export function json(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** A client as shown by the CLI: the database URL without credentials. */
export function clientView(c: ClientRow) {
  return {
    name: c.clientName,
    databaseUrl: c.databaseUrl ? redactUrl(c.databaseUrl) : null,
    active: c.isActive,
    frozen: c.isFrozen,
    apiKeyEnforcement: c.apiKeyEnforcement ?? 'default',
    rateLimit: rateLimitView(c.rateLimitRequests, c.rateLimitPeriodS),
    createdAt: iso(c.createdAt),
    updatedAt: iso(c.updatedAt),
  };
}

/** A key as shown by the CLI (never a hash). */
export function keyView(k: KeyListing) {
  return {
    id: k.id,
    client: k.client,
    name: k.name,
    prefix: k.prefix,
    scopes: k.scopes,
    rateLimit: rateLimitView(k.rateLimitRequests, k.rateLimitPeriodS),
    createdAt: iso(k.createdAt),
    expiresAt: iso(k.expiresAt),
    revokedAt: iso(k.revokedAt),
    lastUsedAt: iso(k.lastUsedAt),
  };
}

export function clientTable(rows: ClientRow[]): string {
  if (rows.length === 0) return 'no clients (add one: npm run gateway -- clients add <name>)';
  return table([
    ['NAME', 'ACTIVE', 'FROZEN', 'ENFORCEMENT', 'RATE LIMIT', 'DATABASE'],
    ...rows.map((r) => {
      const v = clientView(r);
      return [v.name, String(v.active), String(v.frozen), v.apiKeyEnforcement, v.rateLimit, v.databaseUrl ?? '(TENANT_DATABASE_URL)'];
    }),
  ]);
}

export function keyTable(rows: KeyListing[]): string {
  if (rows.length === 0) return 'no keys';
  return table([
    ['PREFIX', 'CLIENT', 'NAME', 'OPERATIONS', 'TABLES', 'RATE LIMIT', 'EXPIRES', 'STATUS', 'LAST USED'],
    ...rows.map((k) => [
      k.prefix,
      k.client,
      k.name,
      k.scopes.operations.join(','),
      k.scopes.functions ? `${k.scopes.tables.join(',')} fn:${k.scopes.functions.join(',')}` : k.scopes.tables.join(','),
      rateLimitView(k.rateLimitRequests, k.rateLimitPeriodS),
      k.expiresAt ? k.expiresAt.toISOString() : 'never',
      k.revokedAt ? 'revoked' : k.expiresAt && k.expiresAt.getTime() <= Date.now() ? 'expired' : 'active',
      k.lastUsedAt ? k.lastUsedAt.toISOString() : '-',
    ]),
  ]);
}
