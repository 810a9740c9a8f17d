/**
 * The filter tree every condition form is parsed into (JSON conditions and PostgREST-style
 * `not`/`or` strings alike). Columns are still unchecked names here; plan.ts checks them against
 * the tenant catalog and sql.ts renders the tree with bound parameters.
 */

/** Binary comparisons rendered as `column <op> $n`. */
export type CompareOp = 'eq' | 'neq' | 'gt' | 'gte' | 'lt' | 'lte' | 'like' | 'ilike';

/** Casts a client may ask for (`column_cast`/`value_cast`); anything else is refused. */
export const CASTS = {
  text: 'text',
  varchar: 'varchar',
  integer: 'integer',
  int: 'integer',
  int4: 'integer',
  bigint: 'bigint',
  int8: 'bigint',
  smallint: 'smallint',
  numeric: 'numeric',
  real: 'real',
  float8: 'double precision',
  'double precision': 'double precision',
  boolean: 'boolean',
  bool: 'boolean',
  uuid: 'uuid',
  date: 'date',
  time: 'time',
  timestamp: 'timestamp',
  timestamptz: 'timestamptz',
  json: 'json',
  jsonb: 'jsonb',
  'text[]': 'text[]',
} as const satisfies Record<string, string>;
export type CastName = keyof typeof CASTS;

export function isCastName(s: string): s is CastName {
  return Object.hasOwn(CASTS, s);
}

export type Casts = { columnCast?: CastName; valueCast?: CastName };

/**
 * `literal`: the value came from a PostgREST string and is already Postgres text (e.g. `{a,b}` or
 * `{"k":1}`); JSON-body values are bound by their JSON type instead.
 */
export type Filter =
  | ({ kind: 'compare'; column: string; op: CompareOp; value: unknown; literal?: true } & Casts)
  /** `IS [NOT] NULL|TRUE|FALSE`; also what `eq null` / `neq null` become. */
  | { kind: 'is'; column: string; value: null | boolean; negate: boolean }
  | ({ kind: 'in'; column: string; values: unknown[]; literal?: true } & Casts)
  /** `@>` (contains) and `<@` (containedBy) on arrays, jsonb and ranges. */
  | { kind: 'contains' | 'containedBy'; column: string; value: unknown; literal?: true }
  | { kind: 'not'; filter: Filter }
  | { kind: 'and' | 'or'; filters: Filter[] };

/** Every column name a filter tree mentions (for the catalog check). */
export function filterColumns(filter: Filter, out: Set<string> = new Set()): Set<string> {
  switch (filter.kind) {
    case 'not':
      filterColumns(filter.filter, out);
      break;
    case 'and':
    case 'or':
      for (const f of filter.filters) filterColumns(f, out);
      break;
    default:
      out.add(filter.column);
  }
  return out;
}

// The SQL builder files (sql-where.ts, sql-text.ts, sql-select.ts) import these from here.
