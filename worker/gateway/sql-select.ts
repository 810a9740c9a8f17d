/**
 * The read-only SELECT subset of `POST /gateway/query`: SQL text → the table, projection, filter
 * tree, order and paging the fetch planner takes. One table, plain or aliased columns or `*`, a
 * WHERE of column-vs-literal comparisons (optional `::casts`), AND/OR/NOT, IN, IS, LIKE/ILIKE,
 * ORDER BY columns, LIMIT/OFFSET. Every literal becomes a value in the filter tree, later a bound
 * parameter; the text itself is never executed. Anything else is refused, naming what. Pure.
 */
import { parse, type Expr, type SelectFromStatement, type Statement } from 'pgsql-ast-parser';
import type { Filter } from './filter.js';
import { fail, ok, type Result } from './result.js';
import type { SortEntry } from './schemas.js';
import { checkSqlText } from './sql-text.js';
import { columnOf, filterFromExpr, identName, qualifier, type ExprContext } from './sql-where.js';

/** A projected column and the key it is returned under. */
export type SelectItem = { column: string; key: string };

export type SqlSelect = {
  /** `table` or `schema.table`, as resolveRelation takes it. */
  table: string;
  columns: readonly SelectItem[] | '*';
  where: Filter[];
  sortBy: SortEntry[];
  limit?: number;
  offset?: number;
};

const HINT = 'Only SELECT columns FROM one table [WHERE column comparisons] [ORDER BY columns] [LIMIT n] [OFFSET n] is accepted.';
/** Keys of a parsed SELECT we translate; any other present key is a feature we refuse. */
const SELECT_KEYS = new Set(['type', 'columns', 'from', 'where', 'orderBy', 'limit', '_location']);
/** How the parser names clauses, in the words a user wrote. */
const CLAUSE_NAMES: Record<string, string> = {
  distinct: 'DISTINCT',
  groupBy: 'GROUP BY',
  having: 'HAVING',
  for: 'FOR UPDATE/SHARE',
  window: 'WINDOW',
  skip: 'FOR … SKIP LOCKED',
};

const unsupported = <T>(what: string): Result<T> => fail('invalid_request', `query: ${what} is not supported`, HINT);

/** Parses `text` (with `$n` values from `params`) into the accepted subset, or says what is not. */
export function translateSelect(text: string, params: readonly unknown[]): Result<SqlSelect> {
  const checked = checkSqlText(text);
  if (!checked.ok) return checked;
  let statements: Statement[];
  try {
    statements = parse(text, { locationTracking: true });
  } catch (err) {
    // Parser messages echo the text and list every expected token: keep the first line only.
    const first = err instanceof Error && !(err instanceof RangeError) ? (err.message.split('\n')[0] ?? '') : 'statement too complex';
    return fail('invalid_request', `query: could not parse the statement (${first.slice(0, 120)})`, HINT);
  }
  if (statements.length !== 1) return fail('invalid_request', `query: exactly one statement is accepted, got ${statements.length}`, HINT);
  const st = statements[0] as Statement;
  if (st.type !== 'select') return unsupported(`a ${st.type.toUpperCase()} statement`);
  return translateSelectStatement(st, text, params);
}

function translateSelectStatement(st: SelectFromStatement, text: string, params: readonly unknown[]): Result<SqlSelect> {
  for (const [key, value] of Object.entries(st)) {
    if (!SELECT_KEYS.has(key) && value !== undefined && value !== null) return unsupported(CLAUSE_NAMES[key] ?? `the "${key}" clause`);
  }
  const from = st.from ?? [];
  const source = from[0];
  if (from.length !== 1 || source === undefined) return unsupported(from.length === 0 ? 'a SELECT without FROM' : 'more than one table in FROM');
  if (source.type !== 'table') return unsupported(source.type === 'statement' ? 'a subquery in FROM' : 'a function call in FROM');
  if (source.join) return unsupported('JOIN');
  if (source.name.columnNames?.length) return unsupported('column aliases on the table');
  const table = source.name.schema ? `${identName(source.name.schema)}.${identName(source.name.name)}` : identName(source.name.name);
  const ctx: ExprContext = { text, params, tableNames: tableNames(source.name) };

  const columns = translateColumns(st, ctx);
  if (!columns.ok) return columns;
  const where: Filter[] = [];
  if (st.where) {
    const f = filterFromExpr(st.where, ctx, 0);
    if (!f.ok) return f;
    where.push(f.value);
  }
  const sortBy: SortEntry[] = [];
  for (const o of st.orderBy ?? []) {
    if (o.nulls) return unsupported('NULLS FIRST/LAST');
    const col = columnOf(o.by, ctx);
    if (!col.ok) return col;
    sortBy.push({ field: col.value, direction: o.order === 'DESC' ? 'descending' : 'ascending' });
  }
  const out: SqlSelect = { table, columns: columns.value, where, sortBy };
  for (const part of ['limit', 'offset'] as const) {
    const e = st.limit?.[part];
    if (!e) continue;
    const n = paging(e, ctx, part);
    if (!n.ok) return n;
    out[part] = n.value;
  }
  return ok(out);
}

/** Names a column reference may be qualified with: the table, `schema.table`, or its alias. */
function tableNames(name: { name: string; schema?: string; alias?: string }): ReadonlySet<string> {
  const names = new Set([identName(name.name)]);
  if (name.schema) names.add(`${identName(name.schema)}.${identName(name.name)}`);
  if (name.alias) {
    names.clear(); // Postgres hides the table name behind its alias
    names.add(identName(name.alias));
  }
  return names;
}

function translateColumns(st: SelectFromStatement, ctx: ExprContext): Result<readonly SelectItem[] | '*'> {
  const items: SelectItem[] = [];
  const keys = new Set<string>();
  for (const c of st.columns ?? []) {
    if (c.expr.type === 'ref' && c.expr.name === '*') {
      if (c.expr.table && !ctx.tableNames.has(identName(qualifier(c.expr.table))))
        return unsupported(`"${identName(qualifier(c.expr.table))}.*" of another table`);
      if ((st.columns?.length ?? 0) > 1) return unsupported('"*" together with other columns');
      return ok('*');
    }
    const col = columnOf(c.expr, ctx);
    if (!col.ok) return col;
    const key = c.alias ? identName(c.alias.name) : col.value;
    if (keys.has(key)) return fail('invalid_request', `query: two output columns are named "${key}"`, 'Give each column a distinct alias.');
    keys.add(key);
    items.push({ column: col.value, key });
  }
  return items.length ? ok(items) : unsupported('a SELECT without columns');
}

function paging(e: Expr, ctx: ExprContext, part: 'limit' | 'offset'): Result<number> {
  const value = e.type === 'parameter' ? ctx.params[Number(e.name.slice(1)) - 1] : e.type === 'integer' ? e.value : undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    return fail('invalid_request', `query: ${part.toUpperCase()} takes a non-negative integer`, HINT);
  }
  return ok(value);
}
