/**
 * PostgREST-style filter strings, as the SDK sends them in `not` and `or` conditions:
 * `role.eq.banned`, `role.eq.warrior,role.eq.mage`, `and(level.gt.5,name.ilike.*o*)`,
 * `id.in.(1,2,"a,b")`, `tags.cs.{a,b}`, `name.not.is.null`. Values stay text and are bound as
 * parameters; column names are checked against the catalog afterwards. Pure: no I/O, no HTTP.
 */
import type { CompareOp, Filter } from './filter.js';
import { fail, ok, type Result } from './result.js';
import { clipped } from './clip.js';

/** Bounds so a hostile string cannot cost more than a few microseconds per character. */
export const LIMITS = { maxLength: 4096, maxDepth: 8, maxItems: 100 } as const;

const COMPARE: Record<string, CompareOp> = { eq: 'eq', neq: 'neq', gt: 'gt', gte: 'gte', lt: 'lt', lte: 'lte', like: 'like', ilike: 'ilike' };
const SUPPORTED = 'eq, neq, gt, gte, lt, lte, like, ilike, is, in, cs, cd (contains, containedBy), optionally prefixed by not.';

type State = { items: number };

/** Parses the value of an `or` condition: a comma list, OR-ed together. */
export function parseOrString(input: string): Result<Filter> {
  const checked = checkLength(input);
  if (!checked.ok) return checked;
  const list = parseList(input, 0, { items: 0 });
  if (!list.ok) return list;
  return ok({ kind: 'or', filters: list.value });
}

/**
 * Parses the value of a `not` condition: exactly one item (a leaf or `and(…)`/`or(…)`), negated.
 * A leaf's value is everything after `op.`, so `id.in.1,2` (how the SDK joins arrays) works.
 */
export function parseNotString(input: string): Result<Filter> {
  const checked = checkLength(input);
  if (!checked.ok) return checked;
  const item = parseItem(input.trim(), 0, { items: 0 });
  if (!item.ok) return item;
  return ok({ kind: 'not', filter: item.value });
}

function checkLength(input: string): Result<true> {
  if (input.trim().length === 0) return fail('invalid_condition', 'Filter string is empty');
  if (input.length > LIMITS.maxLength) return fail('invalid_condition', `Filter string longer than ${LIMITS.maxLength} characters`);
  return ok(true);
}

function parseList(input: string, depth: number, state: State): Result<Filter[]> {
  if (depth > LIMITS.maxDepth) return fail('invalid_condition', `Filter nested deeper than ${LIMITS.maxDepth} levels`);
  const parts = splitTopLevel(input);
  if (!parts.ok) return parts;
  const filters: Filter[] = [];
  for (const part of parts.value) {
    const item = parseItem(part.trim(), depth, state);
    if (!item.ok) return item;
    filters.push(item.value);
  }
  return ok(filters);
}

function parseItem(item: string, depth: number, state: State): Result<Filter> {
  state.items += 1;
  if (state.items > LIMITS.maxItems) return fail('invalid_condition', `Filter string has more than ${LIMITS.maxItems} items`);
  if (item === '') return fail('invalid_condition', 'Empty item in filter string', 'Check for a doubled or trailing comma.');
  const logic = /^(not\.)?(and|or)\(/.exec(item);
  if (logic) {
    if (!item.endsWith(')')) return fail('invalid_condition', `Unbalanced parentheses in "${clip(item)}"`);
    const inner = parseList(item.slice(logic[0].length, -1), depth + 1, state);
    if (!inner.ok) return inner;
    const node: Filter = { kind: logic[2] === 'and' ? 'and' : 'or', filters: inner.value };
    return ok(logic[1] ? { kind: 'not', filter: node } : node);
  }
  const firstDot = item.indexOf('.');
  if (firstDot <= 0) return fail('invalid_condition', `Expected column.operator.value, got "${clip(item)}"`, `Supported operators: ${SUPPORTED}`);
  const column = item.slice(0, firstDot).trim();
  let rest = item.slice(firstDot + 1);
  let negate = false;
  if (rest.startsWith('not.')) {
    negate = true;
    rest = rest.slice(4);
  }
  const opDot = rest.indexOf('.');
  if (opDot <= 0) return fail('invalid_condition', `Expected column.operator.value, got "${clip(item)}"`, `Supported operators: ${SUPPORTED}`);
  const leaf = parseLeaf(column, rest.slice(0, opDot), rest.slice(opDot + 1));
  if (!leaf.ok) return leaf;
  return ok(negate ? { kind: 'not', filter: leaf.value } : leaf.value);
}

function parseLeaf(column: string, op: string, raw: string): Result<Filter> {
  // Own keys only: `a.constructor.x` must not find Object.prototype's members.
  const compare = Object.hasOwn(COMPARE, op) ? COMPARE[op] : undefined;
  if (compare) {
    const value = unquote(raw);
    // Protocol rule carried over from JSON conditions: eq null → IS NULL, neq null → IS NOT NULL.
    if ((compare === 'eq' || compare === 'neq') && raw === 'null') return ok({ kind: 'is', column, value: null, negate: compare === 'neq' });
    const pattern = compare === 'like' || compare === 'ilike' ? value.replaceAll('*', '%') : value;
    return ok({ kind: 'compare', column, op: compare, value: pattern, literal: true });
  }
  switch (op) {
    case 'is': {
      const v = raw.toLowerCase();
      if (v === 'null' || v === 'unknown') return ok({ kind: 'is', column, value: null, negate: false });
      if (v === 'true' || v === 'false') return ok({ kind: 'is', column, value: v === 'true', negate: false });
      return fail('invalid_condition', `"is" takes null, true or false, got "${clip(raw)}"`);
    }
    case 'in': {
      const list = parseInList(raw);
      if (!list.ok) return list;
      return ok({ kind: 'in', column, values: list.value, literal: true });
    }
    case 'cs':
    case 'contains':
      return ok({ kind: 'contains', column, value: unquote(raw), literal: true });
    case 'cd':
    case 'containedBy':
      return ok({ kind: 'containedBy', column, value: unquote(raw), literal: true });
    default:
      return fail('invalid_condition', `Unsupported operator "${clip(op)}" in filter string`, `Supported operators: ${SUPPORTED}`);
  }
}

/** `(a,b,"c,d")` or `a,b` (the SDK joins arrays without parentheses) → `['a','b','c,d']`. */
export function parseInList(raw: string): Result<string[]> {
  const trimmed = raw.trim();
  const inner = trimmed.startsWith('(') && trimmed.endsWith(')') ? trimmed.slice(1, -1) : trimmed;
  if (inner.trim() === '') return ok([]);
  const parts = splitTopLevel(inner);
  if (!parts.ok) return parts;
  return ok(parts.value.map((p) => unquote(p.trim())));
}

/** Splits on commas outside quotes, parentheses, braces and brackets (also used for select lists). */
export function splitTopLevel(input: string): Result<string[]> {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < input.length; i++) {
    const ch = input[i];
    if (quoted) {
      if (ch === '\\') i++;
      else if (ch === '"') quoted = false;
      continue;
    }
    if (ch === '"') quoted = true;
    else if (ch === '(' || ch === '{' || ch === '[') depth++;
    else if (ch === ')' || ch === '}' || ch === ']') {
      depth--;
      if (depth < 0) return fail('invalid_condition', 'Unbalanced parentheses in filter string');
    } else if (ch === ',' && depth === 0) {
      parts.push(input.slice(start, i));
      start = i + 1;
    }
  }
  if (quoted) return fail('invalid_condition', 'Unterminated double quote in filter string');
  if (depth !== 0) return fail('invalid_condition', 'Unbalanced parentheses in filter string');
  parts.push(input.slice(start));
  return ok(parts);
}

/** `"a,b"` → `a,b` with `\"` and `\\` unescaped; anything else unchanged. */
function unquote(value: string): string {
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) return value.slice(1, -1).replace(/\\(.)/g, '$1');
  return value;
}

/** Echo at most a short piece of client input in messages. */
const clip = (s: string): string => clipped(s, 40);
