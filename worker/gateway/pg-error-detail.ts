/**
 * What of a Postgres error's fields may be repeated, and to whom. The driver's `detail` quotes row
 * values (`Key (email)=(a@x) already exists.`, `Failing row contains (…)`) and names tables the
 * caller may not see; nothing here ever returns a value. Callers get column lists; the operator's
 * log gets the detail's shape with every value cut (docs/auth.md "What an error tells the caller"). Pure.
 */

/** The fields of a driver error this module reads (all optional: anything may throw). */
export type PgFields = {
  code?: unknown;
  message?: unknown;
  detail?: unknown;
  constraint?: unknown;
  schema?: unknown;
  table?: unknown;
  column?: unknown;
};

const text = (v: unknown, max = 200): string | undefined => (typeof v === 'string' && v !== '' ? v.slice(0, max) : undefined);

/** A plain or quoted identifier, as Postgres prints a key's columns. */
const COLUMN = /^(?:[A-Za-z_][A-Za-z0-9_$]*|"(?:[^"]|"")+")$/;
/**
 * `Key (a, b)=(…`: the column list before the first `)=(`. Parentheses are excluded, so an
 * expression index (`Key (lower(email))=…`) yields nothing rather than a guess, and the match can
 * never reach into the values that follow.
 */
const KEY_COLUMNS = /^Key \(([^()]{1,512})\)=\(/;

/** The columns a unique, foreign or exclusion key's detail names; undefined when it has no plain list. */
export function keyColumns(detail: unknown): string[] | undefined {
  const m = typeof detail === 'string' ? KEY_COLUMNS.exec(detail) : null;
  if (!m?.[1]) return undefined;
  const listed = m[1].split(', ');
  if (!listed.every((c) => COLUMN.test(c))) return undefined;
  return listed.map((c) => (c.startsWith('"') ? c.slice(1, -1).replaceAll('""', '"') : c));
}

/**
 * The end of a foreign key's detail. The table name may hold neither quotes nor parentheses, so
 * the match is the real suffix, never text inside the values before it.
 */
const FK_TAIL = / is (still referenced from|not present in) table "[^"()]{1,128}"\.$/;

/** Which side of a foreign key a 23503 is on, read from its detail; undefined when not recognisable. */
export function foreignKeySide(detail: unknown): 'referenced' | 'missing' | undefined {
  const m = typeof detail === 'string' ? FK_TAIL.exec(detail) : null;
  if (!m) return undefined;
  return m[1] === 'still referenced from' ? 'referenced' : 'missing';
}

/**
 * The column a check constraint guards when Postgres named the constraint itself
 * (`<table>_<column>_check`); undefined for any other name.
 */
export function checkColumn(constraint: unknown, table: unknown): string | undefined {
  if (typeof constraint !== 'string' || typeof table !== 'string') return undefined;
  const prefix = `${table}_`;
  if (!constraint.startsWith(prefix) || !constraint.endsWith('_check')) return undefined;
  const column = constraint.slice(prefix.length, -'_check'.length);
  return /^[A-Za-z_][A-Za-z0-9_$]*$/.test(column) ? column : undefined;
}

/**
 * SQLSTATE classes whose server messages name objects only (constraint, relation, column), never a
 * value: `duplicate key value violates unique constraint "c"`. Class 22 messages quote the value
 * (`invalid input syntax for type integer: "…"`), 42 can quote statement text, P0 is the
 * function's own text: those are never logged.
 */
const VALUE_FREE_MESSAGE = new Set(['08', '23', '25', '40', '53', '54', '57']);

/** The detail with every value cut: `Key (email)=(…) already exists.`; undefined when unrecognised. */
export function detailShape(detail: unknown): string | undefined {
  if (typeof detail !== 'string') return undefined;
  if (detail.startsWith('Failing row contains (')) return 'Failing row contains (…).';
  if (!detail.startsWith('Key (')) return undefined;
  const cols = keyColumns(detail);
  const head = `Key (${cols ? cols.join(', ') : '…'})=(…)`;
  const tail = FK_TAIL.exec(detail)?.[0];
  if (tail) return `${head}${tail}`;
  if (detail.endsWith(' already exists.')) return `${head} already exists.`;
  if (detail.includes(' conflicts with existing key (')) return `${head} conflicts with an existing key.`;
  return `${head} …`;
}

/** Fields for the operator's log line of a database error: names and shapes, never values. */
export function operatorFields(err: PgFields, sqlstate: string): Record<string, string | undefined> {
  return {
    sqlstate,
    message: VALUE_FREE_MESSAGE.has(sqlstate.slice(0, 2)) ? text(err.message, 300) : undefined,
    detail: detailShape(err.detail),
    constraint: text(err.constraint, 128),
    schema: text(err.schema, 128),
    table: text(err.table, 128),
    column: text(err.column, 128),
  };
}
