/**
 * A parsed WHERE expression → the filter tree of the fetch planner. Accepted: column (optionally
 * `::cast`) compared with a literal or `$n` (optionally `::cast`) by = <> != < <= > >= [NOT] LIKE
 * [NOT] ILIKE, [NOT] IN (literals), IS [NOT] NULL|TRUE|FALSE, a bare boolean column, TRUE/FALSE,
 * and AND/OR/NOT of those. Numeric literals keep their source text so no precision is lost. Pure.
 */
import type { DataTypeDef, Expr, ExprBinary } from 'pgsql-ast-parser';
import { isCastName, type CastName, type CompareOp, type Filter } from './filter.js';
import { fail, ok, type Result } from './result.js';

export type ExprContext = {
  /** The statement text (numeric literals are read back from it). */
  text: string;
  /** Values of `$1`, `$2`, … */
  params: readonly unknown[];
  /** Names a column may be qualified with. */
  tableNames: ReadonlySet<string>;
};

/** NOT/AND/OR nesting accepted (chains of one operator count once). */
const MAX_DEPTH = 32;
const HINT = 'WHERE accepts column <op> literal (=, <>, <, <=, >, >=, LIKE, ILIKE), IN (literals), IS [NOT] NULL/TRUE/FALSE, combined with AND, OR, NOT.';

const COMPARE: Record<string, { op: CompareOp; negate: boolean }> = {
  '=': { op: 'eq', negate: false },
  '<>': { op: 'neq', negate: false },
  '!=': { op: 'neq', negate: false },
  '<': { op: 'lt', negate: false },
  '<=': { op: 'lte', negate: false },
  '>': { op: 'gt', negate: false },
  '>=': { op: 'gte', negate: false },
  LIKE: { op: 'like', negate: false },
  ILIKE: { op: 'ilike', negate: false },
  'NOT LIKE': { op: 'like', negate: true },
  'NOT ILIKE': { op: 'ilike', negate: true },
};

const IS_OPS: Record<string, { value: null | boolean; negate: boolean }> = {
  'IS NULL': { value: null, negate: false },
  'IS NOT NULL': { value: null, negate: true },
  'IS TRUE': { value: true, negate: false },
  'IS NOT TRUE': { value: true, negate: true },
  'IS FALSE': { value: false, negate: false },
  'IS NOT FALSE': { value: false, negate: true },
};

/** Quoted identifiers come back with their `""` escapes intact. */
export const identName = (name: string): string => name.replaceAll('""', '"');

export const qualifier = (t: { name: string; schema?: string }) => (t.schema ? `${t.schema}.${t.name}` : t.name);

/** A plain column reference (optionally qualified by this table), else what it is instead. */
export function columnOf(e: Expr, ctx: Pick<ExprContext, 'tableNames'>): Result<string> {
  if (e.type !== 'ref') return refuseIn(describeExpr(e));
  if (e.name === '*') return refuseIn('"*" here');
  if (e.table && !ctx.tableNames.has(identName(qualifier(e.table)))) return refuseIn(`a column of another table ("${identName(qualifier(e.table))}")`);
  return ok(identName(e.name));
}

/** The user's word for an expression we do not accept. */
function describeExpr(e: Expr): string {
  switch (e.type) {
    case 'call':
      return `the function call ${identName(e.function.name)}()`;
    case 'select':
    case 'union':
    case 'union all':
    case 'with':
    case 'values':
      return 'a subquery';
    case 'cast':
      return 'a cast here';
    case 'binary':
      return `the operator ${e.op} here`;
    case 'unary':
      return `${e.op} here`;
    default:
      return `a ${e.type} expression here`;
  }
}

const refuseIn = <T>(what: string): Result<T> => fail('invalid_request', `query: ${what} is not supported`, 'Name plain columns of the one table in FROM.');
const refuse = <T>(what: string): Result<T> => fail('invalid_request', `query: ${what} is not supported in WHERE`, HINT);

export function filterFromExpr(e: Expr, ctx: ExprContext, depth: number): Result<Filter> {
  if (depth > MAX_DEPTH) return fail('invalid_request', `query: WHERE is nested deeper than ${MAX_DEPTH} levels`, HINT);
  switch (e.type) {
    case 'boolean':
      return ok({ kind: e.value ? 'and' : 'or', filters: [] });
    case 'ref': {
      // `WHERE flag` keeps SQL's meaning (NULL does not match) as `flag = true`.
      const col = columnOf(e, ctx);
      return col.ok ? ok({ kind: 'compare', column: col.value, op: 'eq', value: true, literal: true }) : col;
    }
    case 'unary':
      if (e.op === 'NOT') {
        const inner = filterFromExpr(e.operand, ctx, depth + 1);
        return inner.ok ? ok({ kind: 'not', filter: inner.value }) : inner;
      }
      if (e.op in IS_OPS) {
        const col = columnOf(e.operand, ctx);
        if (!col.ok) return col;
        const is = IS_OPS[e.op] as { value: null | boolean; negate: boolean };
        return ok({ kind: 'is', column: col.value, value: is.value, negate: is.negate });
      }
      return refuse(describeExpr(e));
    case 'binary':
      return binary(e, ctx, depth);
    default:
      return refuse(describeExpr(e));
  }
}

function binary(e: ExprBinary, ctx: ExprContext, depth: number): Result<Filter> {
  if (e.op === 'AND' || e.op === 'OR') {
    const filters: Filter[] = [];
    // Chains of one operator parse left-deep; walk them with a stack, not recursion.
    const stack: Expr[] = [e];
    while (stack.length) {
      const x = stack.pop() as Expr;
      if (x.type === 'binary' && x.op === e.op) stack.push(x.right, x.left);
      else {
        const f = filterFromExpr(x, ctx, depth + 1);
        if (!f.ok) return f;
        filters.push(f.value);
      }
    }
    return ok({ kind: e.op === 'AND' ? 'and' : 'or', filters });
  }
  if (e.op === 'IN' || e.op === 'NOT IN') return inList(e, ctx);
  const cmp = COMPARE[e.op];
  if (!cmp) return refuse(`the operator ${e.op}`);
  const lhs = castColumn(e.left, ctx);
  if (!lhs.ok) return lhs;
  const rhs = literal(e.right, ctx);
  if (!rhs.ok) return rhs;
  if (rhs.value.value === null) {
    return fail('invalid_request', `query: "${lhs.value.column}" ${e.op} NULL never matches a row`, 'Write IS NULL or IS NOT NULL.');
  }
  if ((cmp.op === 'like' || cmp.op === 'ilike') && typeof rhs.value.value !== 'string') return refuse(`${e.op} with a non-string pattern`);
  const f: Filter = { kind: 'compare', column: lhs.value.column, op: cmp.op, value: rhs.value.value, literal: true, ...casts(lhs.value.cast, rhs.value.cast) };
  return ok(cmp.negate ? { kind: 'not', filter: f } : f);
}

function inList(e: ExprBinary, ctx: ExprContext): Result<Filter> {
  const lhs = castColumn(e.left, ctx);
  if (!lhs.ok) return lhs;
  // `IN (2)` parses as a parenthesised literal rather than a one-item list.
  const items = e.right.type === 'list' ? e.right.expressions : [e.right];
  const values: unknown[] = [];
  let cast: CastName | undefined;
  for (const [i, x] of items.entries()) {
    const v = literal(x, ctx);
    if (!v.ok) return v;
    if (i > 0 && v.value.cast !== cast) return refuse('IN with differently cast values');
    cast = v.value.cast;
    values.push(v.value.value);
  }
  const f: Filter = { kind: 'in', column: lhs.value.column, values, literal: true, ...casts(lhs.value.cast, cast) };
  return ok(e.op === 'NOT IN' ? { kind: 'not', filter: f } : f);
}

const casts = (columnCast: CastName | undefined, valueCast: CastName | undefined) => ({
  ...(columnCast ? { columnCast } : {}),
  ...(valueCast ? { valueCast } : {}),
});

function castName(to: DataTypeDef): Result<CastName> {
  const name = to.kind === 'array' ? (to.arrayOf.kind === 'array' ? undefined : `${to.arrayOf.name}[]`) : to.schema || to.config?.length ? undefined : to.name;
  const lower = name?.toLowerCase();
  if (lower === undefined || !isCastName(lower)) return refuse(`the cast to ${name ?? 'that type'}`);
  return ok(lower);
}

function castColumn(e: Expr, ctx: ExprContext): Result<{ column: string; cast?: CastName }> {
  if (e.type !== 'cast') {
    const col = columnOf(e, ctx);
    return col.ok ? ok({ column: col.value }) : refuse(`${describeExpr(e)} on the left of a comparison (write the column first)`);
  }
  const col = columnOf(e.operand, ctx);
  if (!col.ok) return col;
  const cast = castName(e.to);
  return cast.ok ? ok({ column: col.value, cast: cast.value }) : cast;
}

type Literal = { value: unknown; cast?: CastName };

/** A literal, `-literal`, `$n` or one of those `::cast`; numbers keep their exact source text. */
function literal(e: Expr, ctx: ExprContext): Result<Literal> {
  switch (e.type) {
    case 'string':
    case 'boolean':
      return ok({ value: e.value });
    case 'null':
      return ok({ value: null });
    case 'integer':
    case 'numeric':
      return ok({ value: e._location ? ctx.text.slice(e._location.start, e._location.end).trim() : String(e.value) });
    case 'unary':
      if ((e.op === '-' || e.op === '+') && (e.operand.type === 'integer' || e.operand.type === 'numeric')) {
        const n = literal(e.operand, ctx);
        return n.ok && e.op === '-' ? ok({ value: `-${String(n.value.value)}` }) : n;
      }
      return refuse(describeExpr(e));
    case 'parameter': {
      const i = Number(e.name.slice(1));
      if (!Number.isInteger(i) || i < 1 || i > ctx.params.length)
        return fail('invalid_request', `query: ${e.name} has no value in params`, 'Send one params entry per $n placeholder.');
      const v = ctx.params[i - 1];
      if (v !== null && typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean')
        return fail('invalid_request', `params[${i - 1}]: must be a string, number, boolean or null`);
      return ok({ value: v });
    }
    case 'cast': {
      if (e.operand.type === 'cast') return refuse('a double cast');
      const inner = literal(e.operand, ctx);
      if (!inner.ok) return inner;
      const cast = castName(e.to);
      return cast.ok ? ok({ value: inner.value.value, cast: cast.value }) : cast;
    }
    case 'ref':
      return refuse(`comparing with the column "${identName(e.name)}"`);
    default:
      return refuse(describeExpr(e));
  }
}
