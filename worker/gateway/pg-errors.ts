/**
 * Postgres errors → gateway errors (docs/protocol.md "Responses"). Messages are fixed or
 * taken from error classes whose text never contains SQL (22, 23); connection strings and
 * statement text never reach a client. Pure: takes the driver's error object.
 */
import { GatewayError } from '../errors.js';

type PgLike = { code?: unknown; message?: unknown; detail?: unknown; constraint?: unknown; column?: unknown };

const clip = (v: unknown, n = 200): string | undefined => (typeof v === 'string' && v ? (v.length > n ? `${v.slice(0, n)}…` : v) : undefined);

/** The SQLSTATE of a driver error, if it has one. */
export function sqlState(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as PgLike).code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** Maps a database error to the envelope; errors without SQLSTATE are connection failures (503). */
export function mapPgError(err: unknown): GatewayError {
  const e = (typeof err === 'object' && err !== null ? err : {}) as PgLike;
  const code = sqlState(err);
  const message = clip(e.message);
  const detail = clip(e.detail);
  const opts = detail ? { hint: detail } : {};
  if (!code) return new GatewayError('database_unavailable', 'Tenant database unavailable', { hint: 'The connection failed; retry shortly.' });
  switch (code) {
    case '23505':
    case '23503':
    case '23P01':
      return new GatewayError('conflict', message ?? 'Constraint violation', opts);
    case '40001':
    case '40P01':
      return new GatewayError('conflict', 'Concurrent update conflict', { hint: 'Retry the request.' });
    case '57014':
      return new GatewayError('statement_timeout', 'Statement timed out', { hint: 'Narrow the query (conditions, limit) or raise DB_STATEMENT_TIMEOUT_MS.' });
    case '42703':
      return new GatewayError('unknown_column', `Unknown column${typeof e.column === 'string' ? ` "${clip(e.column, 64)}"` : ''}`);
    case '42P01':
      return new GatewayError('unknown_table', 'Unknown table');
    case '42501':
      return new GatewayError('forbidden_table', 'The tenant database role may not do this on this table');
    case '42883':
    case '42804':
      return new GatewayError('invalid_request', "An operator or value does not fit the column's type", { hint: 'Check the condition operators and value types, or use column_cast/value_cast.' });
    case '42P10':
      return new GatewayError('invalid_request', 'on_conflict does not match a unique constraint or primary key');
    case '428C9':
      return new GatewayError('invalid_request', 'A generated column cannot be written', opts);
    case '54000':
    case '54001':
    case '54023':
      return new GatewayError('invalid_request', 'Request too complex for the database');
    case '25006':
      return new GatewayError('invalid_request', 'The request tried to write in a read-only transaction', { hint: 'Writes need POST /gateway/rpc or a transaction without read_only.' });
    case '53300':
      return new GatewayError('database_unavailable', 'Tenant database has too many connections', { hint: 'Retry shortly.' });
  }
  const cls = code.slice(0, 2);
  if (cls === '22' || cls === '23') return new GatewayError('invalid_request', message ?? 'Invalid value', opts);
  if (cls === '42') return new GatewayError('invalid_request', 'The database rejected the request');
  // RAISE in a tenant function: its own message, meant for its caller.
  if (cls === 'P0') return new GatewayError('invalid_request', message ?? 'The function raised an error', opts);
  if (cls === '08' || cls === '53' || cls === '57') return new GatewayError('database_unavailable', 'Tenant database unavailable', { hint: 'Retry shortly.' });
  return new GatewayError('internal_error', 'Database error', { hint: `SQLSTATE ${code}` });
}
