/**
 * Postgres errors → gateway errors (docs/protocol.md "Responses", docs/auth.md "What an error tells
 * the caller"). Every message is the gateway's own: the driver's `detail`, `where` and server text
 * never reach a client, since they quote row values, statement text and tables outside the key's
 * scope. Integrity errors name columns only of a table the key may see. Pure: takes the driver's
 * error object and the scope predicate.
 */
import { GatewayError } from '../errors.js';
import { checkColumn, foreignKeySide, keyColumns, type PgFields } from './pg-error-detail.js';
import { clipped } from './clip.js';

/** Whether the caller may be told names (columns, constraints) of `schema.table`. */
export type MayName = (schema: string, table: string) => boolean;

const NAME_NOTHING: MayName = () => false;

const clip = (v: unknown, n = 200): string | undefined => (typeof v === 'string' && v ? clipped(v, n) : undefined);
const quoted = (names: readonly string[]): string => names.map((n) => `"${clip(n, 64) ?? ''}"`).join(', ');

/** The SQLSTATE of a driver error, if it has one. */
export function sqlState(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as PgFields).code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** Maps a database error to the envelope; errors without SQLSTATE are connection failures (503). */
export function mapPgError(err: unknown, mayName: MayName = NAME_NOTHING): GatewayError {
  const e = (typeof err === 'object' && err !== null ? err : {}) as PgFields;
  const code = sqlState(err);
  if (!code) return new GatewayError('database_unavailable', 'Tenant database unavailable', { hint: 'The connection failed; retry shortly.' });
  const cls = code.slice(0, 2);
  return (
    (cls === '23' ? integrityError(code, e, nameable(e, mayName)) : undefined) ??
    (cls === '22' ? dataError(code) : undefined) ??
    requestError(code, e) ??
    classError(code, cls, e)
  );
}

/** The erroring table's own names, when it is one the caller may see. */
function nameable(e: PgFields, mayName: MayName): boolean {
  return typeof e.schema === 'string' && typeof e.table === 'string' && mayName(e.schema, e.table);
}

/** Class 23: the constraint that failed, by its columns when the table is the caller's to see. */
function integrityError(code: string, e: PgFields, named: boolean): GatewayError {
  const cols = named ? keyColumns(e.detail) : undefined;
  switch (code) {
    case '23505':
      return new GatewayError('conflict', cols ? `A row with the same ${quoted(cols)} already exists` : 'A row with the same unique key already exists', {
        hint: 'Send a different value, or upsert with on_conflict (docs/protocol.md).',
      });
    case '23503':
      return foreignKeyError(e, cols);
    case '23P01':
      return new GatewayError(
        'conflict',
        cols ? `The row conflicts with an existing row on ${quoted(cols)}` : 'The row conflicts with an existing row (exclusion constraint)',
      );
    case '23502': {
      const column = named ? clip(e.column, 64) : undefined;
      return new GatewayError('invalid_request', column ? `Column "${column}" may not be null` : 'A required value is null', {
        hint: 'Send a value, or leave the column out to get its default.',
      });
    }
    case '23514': {
      const column = named ? checkColumn(e.constraint, e.table) : undefined;
      const constraint = named ? clip(e.constraint, 64) : undefined;
      const what = column ? `The value of column "${column}"` : constraint ? `A value (check constraint "${constraint}")` : 'A value';
      return new GatewayError('invalid_request', `${what} fails the table's check`);
    }
    default:
      return new GatewayError('invalid_request', 'The row violates a constraint of the table');
  }
}

/** 23503 names no table: on the referenced side the other table is the one holding the reference. */
function foreignKeyError(e: PgFields, cols: string[] | undefined): GatewayError {
  const side = foreignKeySide(e.detail);
  if (side === 'referenced') {
    return new GatewayError('conflict', 'The row is still referenced by other rows', { hint: 'Remove or change the referencing rows first.' });
  }
  if (side === 'missing') {
    return new GatewayError('conflict', cols ? `${quoted(cols)} refers to a row that does not exist` : 'A referenced row does not exist', {
      hint: 'Create the referenced row first.',
    });
  }
  return new GatewayError('conflict', 'A foreign key does not hold (a referenced row is missing, or the row is still referenced)');
}

/** Class 22: the database's text quotes the value, so each kind gets a fixed message. */
function dataError(code: string): GatewayError {
  const message =
    {
      '22001': 'A value is too long for its column',
      '22003': 'A number is out of range for its column',
      '22012': 'Division by zero',
      '22021': 'A value holds a character the database cannot store',
      '22P05': 'A value holds a character the database cannot store',
      '22P02': "A value does not fit its column's type",
      '22007': "A value does not fit its column's type",
      '22008': 'A date or time value is out of range',
      '2201W': 'limit must not be negative',
      '2201X': 'offset must not be negative',
    }[code] ?? (code.startsWith('2203') ? 'A JSON value is not valid here' : 'A value is not valid for its column');
  return new GatewayError('invalid_request', message, { hint: "Check the values against the columns' types (docs/protocol.md)." });
}

/** SQLSTATEs that say the request itself does not fit the database. */
function requestError(code: string, e: PgFields): GatewayError | undefined {
  switch (code) {
    case '40001':
    case '40P01':
      return new GatewayError('conflict', 'Concurrent update conflict', { hint: 'Retry the request.' });
    case '57014':
    case '55P03': // lock_timeout: as the statement timeout, which every statement also carries
      return new GatewayError('statement_timeout', 'Statement timed out', { hint: 'Narrow the query (conditions, limit) or raise DB_STATEMENT_TIMEOUT_MS.' });
    case '42703':
      return new GatewayError('unknown_column', `Unknown column${typeof e.column === 'string' ? ` "${clip(e.column, 64)}"` : ''}`);
    case '42P01':
      return new GatewayError('unknown_table', 'Unknown table');
    case '42501':
      return new GatewayError('forbidden_table', 'The tenant database role may not do this on this table');
    case '42883':
    case '42804':
      return new GatewayError('invalid_request', "An operator or value does not fit the column's type", {
        hint: 'Check the condition operators and value types, or use column_cast/value_cast.',
      });
    case '42P10':
      return new GatewayError('invalid_request', 'on_conflict does not match a unique constraint or primary key');
    case '428C9':
      return new GatewayError('invalid_request', 'A generated column cannot be written', { hint: 'Leave generated columns out of the body.' });
    case '54000':
    case '54001':
    case '54023':
      return new GatewayError('invalid_request', 'Request too complex for the database');
    case '25006':
      return new GatewayError('invalid_request', 'The request tried to write in a read-only transaction', {
        hint: 'Writes need POST /gateway/rpc or a transaction without read_only.',
      });
    case '53300':
      return new GatewayError('database_unavailable', 'Tenant database has too many connections', { hint: 'Retry shortly.' });
  }
  return undefined;
}

/** Everything else, by class. */
function classError(code: string, cls: string, e: PgFields): GatewayError {
  if (cls === '42') return new GatewayError('invalid_request', 'The database rejected the request');
  // RAISE in a tenant function: its own message, meant for its caller (never its DETAIL).
  if (cls === 'P0') return new GatewayError('invalid_request', clip(e.message) ?? 'The function raised an error');
  if (cls === '08' || cls === '53' || cls === '57') return new GatewayError('database_unavailable', 'Tenant database unavailable', { hint: 'Retry shortly.' });
  return new GatewayError('internal_error', 'Database error', { hint: `SQLSTATE ${code}` });
}
