/**
 * Structured fetch → the planner's shape. The SDK's newer builders send `select` (string or
 * object), `where` (operator objects with `or`/`not`) and `orderBy` instead of
 * `columns`/`conditions`/`sort_by`; both spellings end as the same column tokens, filter tree and
 * sort entries, so plan.ts and sql.ts check and render them one way. Pure: no catalog, no SQL.
 */
import { parseConditions, parseCondition } from './conditions.js';
import type { Filter } from './filter.js';
import { fail, ok, type Result } from './result.js';
import type { FetchBody, Operator, SortEntry } from './schemas.js';
import { parseSelectObject, parseSelectTokens, type EmbedSpec, type SelectList } from './select-list.js';
import { clipped } from './clip.js';

export type PlannerShape = {
  /** Column tokens for planProjection; undefined = every column; [] with embeds = only the embeds (as PostgREST). */
  columns: string[] | undefined;
  embeds: EmbedSpec[];
  where: Filter[];
  sort: SortEntry[] | undefined;
};

/** Bounds on a `where` tree, as for PostgREST strings and condition lists. */
const WHERE_LIMITS = { maxDepth: 8, maxLeaves: 100 } as const;
const LEAF_OPERATORS = new Set<string>(['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'like', 'ilike', 'is', 'in', 'contains', 'containedBy']);
const RELATION_PREDICATES = new Set(['some', 'none', 'every', 'exists', 'isNot']);
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const shown = (s: string) => clipped(s, 40);

/** The planner's shape of a fetch body, from either spelling (schemas.ts refuses mixing them). */
export function plannerShapeOf(body: FetchBody): Result<PlannerShape> {
  const list = selectListOf(body);
  if (!list.ok) return list;
  const where = body.where !== undefined ? parseWhere(body.where) : parseConditions(body.conditions);
  if (!where.ok) return where;
  const sort = body.orderBy !== undefined ? parseOrderBy(body.orderBy) : ok(legacySort(body.sort_by));
  if (!sort.ok) return sort;
  return ok({ columns: list.value?.columns, embeds: list.value?.embeds ?? [], where: where.value, sort: sort.value });
}

/** `select` or `columns`, parsed; undefined when neither is sent (every column). */
function selectListOf(body: FetchBody): Result<SelectList | undefined> {
  if (body.select !== undefined) return typeof body.select === 'string' ? parseSelectTokens(body.select, 'select') : parseSelectObject(body.select);
  return body.columns === undefined ? ok(undefined) : parseSelectTokens(body.columns, 'columns');
}

const legacySort = (sort: FetchBody['sort_by']): SortEntry[] | undefined => (sort === undefined ? undefined : Array.isArray(sort) ? sort : [sort as SortEntry]);

type WalkState = { leaves: number };

/** `where` → AND-ed filters: `{col: v}`, `{col: {op: v, …}}`, `or: [clause…]`, `and: [clause…]`, `not: clause`. */
export function parseWhere(where: Record<string, unknown>): Result<Filter[]> {
  return parseClause(where, 'where', 0, { leaves: 0 });
}

function parseClause(clause: Record<string, unknown>, path: string, depth: number, state: WalkState): Result<Filter[]> {
  if (depth > WHERE_LIMITS.maxDepth) return fail('invalid_condition', `${path}: nested deeper than ${WHERE_LIMITS.maxDepth} levels`);
  const out: Filter[] = [];
  for (const [key, value] of Object.entries(clause)) {
    const at = `${path}.${shown(key)}`;
    const parsed =
      key === 'or' || key === 'and'
        ? parseList(key, value, at, depth, state)
        : key === 'not'
          ? parseNot(value, at, depth, state)
          : parseColumn(key, value, at, state);
    if (!parsed.ok) return parsed;
    out.push(...parsed.value);
  }
  return ok(out);
}

function parseList(kind: 'or' | 'and', value: unknown, at: string, depth: number, state: WalkState): Result<Filter[]> {
  if (!Array.isArray(value) || value.length === 0) return fail('invalid_condition', `${at}: must be a non-empty array of clauses`);
  const filters: Filter[] = [];
  for (const [i, clause] of value.entries()) {
    if (!isRecord(clause)) return fail('invalid_condition', `${at}[${i}]: must be an object`);
    const inner = parseClause(clause, `${at}[${i}]`, depth + 1, state);
    if (!inner.ok) return inner;
    filters.push(inner.value.length === 1 && inner.value[0] ? inner.value[0] : { kind: 'and', filters: inner.value });
  }
  return ok([{ kind, filters }]);
}

function parseNot(value: unknown, at: string, depth: number, state: WalkState): Result<Filter[]> {
  if (!isRecord(value)) return fail('invalid_condition', `${at}: must be an object`);
  const inner = parseClause(value, at, depth + 1, state);
  if (!inner.ok) return inner;
  if (inner.value.length === 0) return fail('invalid_condition', `${at}: negates nothing`);
  return ok([{ kind: 'not', filter: inner.value.length === 1 && inner.value[0] ? inner.value[0] : { kind: 'and', filters: inner.value } }]);
}

function parseColumn(column: string, value: unknown, at: string, state: WalkState): Result<Filter[]> {
  const ops: [string, unknown][] = isRecord(value) ? Object.entries(value) : [['eq', value]];
  if (ops.length === 0) return fail('invalid_condition', `${at}: needs at least one operator`);
  const out: Filter[] = [];
  for (const [op, operand] of ops) {
    if (++state.leaves > WHERE_LIMITS.maxLeaves) return fail('invalid_condition', `where: more than ${WHERE_LIMITS.maxLeaves} predicates`);
    if (RELATION_PREDICATES.has(op) || (op === 'is' && isRecord(operand))) {
      return fail('invalid_condition', `${at}.${op}: relation predicates are not supported`, "Filter on the base table's own columns.");
    }
    if (!LEAF_OPERATORS.has(op)) {
      return fail('invalid_condition', `${at}: unknown operator "${shown(op)}"`, `Operators: ${[...LEAF_OPERATORS].join(', ')}.`);
    }
    // The SDK treats a single `in` operand as a one-element list.
    const v = op === 'in' && !Array.isArray(operand) ? [operand] : operand;
    const parsed = parseCondition({ operator: op as Operator, column, value: v });
    if (!parsed.ok) return fail(parsed.error.code, `${at}: ${parsed.error.message}`, parsed.error.hint);
    out.push(parsed.value);
  }
  return ok(out);
}

const DIRECTIONS: Record<string, 'ascending' | 'descending'> = { asc: 'ascending', ascending: 'ascending', desc: 'descending', descending: 'descending' };

/** `{c: "asc"|"desc"}`, `{column, ascending}`, `{field, direction}`, or an array of those. */
export function parseOrderBy(orderBy: Record<string, unknown> | readonly Record<string, unknown>[]): Result<SortEntry[]> {
  const out: SortEntry[] = [];
  for (const [i, entry] of (Array.isArray(orderBy) ? orderBy : [orderBy]).entries()) {
    const parsed = orderEntry(entry as Record<string, unknown>, Array.isArray(orderBy) ? `orderBy[${i}]` : 'orderBy');
    if (!parsed.ok) return parsed;
    out.push(...parsed.value);
  }
  return ok(out);
}

function orderEntry(entry: Record<string, unknown>, at: string): Result<SortEntry[]> {
  const keys = Object.keys(entry);
  if (typeof entry.column === 'string' && keys.every((k) => k === 'column' || k === 'ascending')) {
    if (entry.ascending !== undefined && typeof entry.ascending !== 'boolean') return fail('invalid_request', `${at}.ascending: must be a boolean`);
    return ok([{ field: entry.column, direction: entry.ascending === false ? 'descending' : 'ascending' }]);
  }
  if (typeof entry.field === 'string' && keys.every((k) => k === 'field' || k === 'direction')) {
    const named = String(entry.direction);
    const direction = entry.direction === undefined ? 'ascending' : Object.hasOwn(DIRECTIONS, named) ? DIRECTIONS[named] : undefined;
    return direction ? ok([{ field: entry.field, direction }]) : fail('invalid_request', `${at}.direction: must be asc or desc`);
  }
  const out: SortEntry[] = [];
  for (const [column, dir] of Object.entries(entry)) {
    const direction = directionOf(dir);
    if (!direction) return fail('invalid_request', `${at}.${shown(column)}: direction must be "asc" or "desc"`);
    out.push({ field: column, direction });
  }
  if (out.length === 0) return fail('invalid_request', `${at}: names no column`);
  return ok(out);
}

/** A `{ column: direction }` entry's direction: `"asc"`/`"desc"` (any case), `true`/`false`, or `{ ascending }`. */
function directionOf(dir: unknown): 'ascending' | 'descending' | undefined {
  if (typeof dir === 'string') return Object.hasOwn(DIRECTIONS, dir.toLowerCase()) ? DIRECTIONS[dir.toLowerCase()] : undefined;
  if (typeof dir === 'boolean') return dir ? 'ascending' : 'descending';
  if (isRecord(dir) && typeof dir.ascending === 'boolean' && Object.keys(dir).length === 1) return dir.ascending ? 'ascending' : 'descending';
  return undefined;
}
