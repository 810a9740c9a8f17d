/**
 * `conditions` (docs/protocol.md "Conditions") → filter trees. Implicit AND across entries; `not`/`or`
 * carry PostgREST strings (postgrest.ts); `eq_column`/`eq_value` are the legacy `eq` spelling.
 * Pure: no catalog, no SQL, no HTTP.
 */
import { isCastName, type Casts, type Filter } from './filter.js';
import { fail, ok, type Result } from './result.js';
import { parseInList, parseNotString, parseOrString } from './postgrest.js';
import type { RawCondition } from './schemas.js';

/** Parses every condition; the first problem is returned, naming its index. */
export function parseConditions(raw: readonly RawCondition[] | undefined): Result<Filter[]> {
  const out: Filter[] = [];
  for (const [i, c] of (raw ?? []).entries()) {
    const parsed = parseCondition(c);
    if (!parsed.ok) return fail(parsed.error.code, `conditions[${i}]: ${parsed.error.message}`, parsed.error.hint);
    out.push(parsed.value);
  }
  return ok(out);
}

const isScalar = (v: unknown): v is string | number | boolean => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

/** One condition → a filter (also how structured `where` leaves are parsed, structured.ts). */
export function parseCondition(c: RawCondition): Result<Filter> {
  const op = c.operator;
  if (op === 'not' || op === 'or') {
    if (typeof c.value !== 'string') {
      return fail('invalid_condition', `"${op}" takes a PostgREST filter string as value`, 'e.g. {"operator":"or","value":"role.eq.warrior,role.eq.mage"}');
    }
    // A column given alongside (`{operator:"not", column:"role", value:"eq.banned"}`) prefixes the string.
    const text = c.column ? `${c.column}.${c.value}` : c.value;
    return op === 'not' ? parseNotString(text) : parseOrString(text);
  }
  const column = c.column ?? (op === 'eq' ? c.eq_column : undefined);
  if (!column) return fail('invalid_condition', `"${op}" needs a column`);
  const value = c.value !== undefined ? c.value : op === 'eq' ? c.eq_value : undefined;
  const casts = parseCasts(c);
  if (!casts.ok) return casts;

  switch (op) {
    case 'eq':
    case 'neq':
      if (value === undefined) return fail('invalid_condition', `"${op}" needs a value`);
      if (value === null) return ok({ kind: 'is', column, value: null, negate: op === 'neq' });
      return ok({ kind: 'compare', column, op, value, ...casts.value });
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      if (value === undefined || value === null) return fail('invalid_condition', `"${op}" needs a non-null value`);
      if (!isScalar(value)) return fail('invalid_condition', `"${op}" takes a string, number or boolean`);
      return ok({ kind: 'compare', column, op, value, ...casts.value });
    case 'like':
    case 'ilike':
      if (typeof value !== 'string') return fail('invalid_condition', `"${op}" takes a string pattern`);
      return ok({ kind: 'compare', column, op, value, ...casts.value });
    case 'is':
      return parseIs(column, value);
    case 'in': {
      if (typeof value === 'string') {
        const list = parseInList(value);
        return list.ok ? ok({ kind: 'in', column, values: list.value, literal: true, ...casts.value }) : list;
      }
      if (!Array.isArray(value)) return fail('invalid_condition', '"in" takes an array of values');
      if (!value.every((v) => v === null || isScalar(v))) return fail('invalid_condition', '"in" takes strings, numbers, booleans or null');
      return ok({ kind: 'in', column, values: value, ...casts.value });
    }
    case 'contains':
    case 'containedBy':
      if (value === undefined || value === null || typeof value === 'number' || typeof value === 'boolean') {
        return fail('invalid_condition', `"${op}" takes an array, an object (jsonb) or a literal string`);
      }
      return ok(typeof value === 'string' ? { kind: op, column, value, literal: true } : { kind: op, column, value });
  }
}

function parseIs(column: string, value: unknown): Result<Filter> {
  const v = typeof value === 'string' ? value.toLowerCase() : value;
  if (v === null || v === 'null') return ok({ kind: 'is', column, value: null, negate: false });
  if (v === true || v === 'true') return ok({ kind: 'is', column, value: true, negate: false });
  if (v === false || v === 'false') return ok({ kind: 'is', column, value: false, negate: false });
  return fail('invalid_condition', '"is" takes null, true or false');
}

function parseCasts(c: RawCondition): Result<Casts> {
  const out: Casts = {};
  const pairs = [
    ['column_cast', 'eq_column_cast', 'columnCast'],
    ['value_cast', 'eq_value_cast', 'valueCast'],
  ] as const;
  for (const [field, legacy, key] of pairs) {
    if (c[field] !== undefined && c[legacy] !== undefined && c[field] !== c[legacy]) {
      return fail('invalid_condition', `${field} and ${legacy} disagree`, 'Send one of them, or the same cast in both.');
    }
    const cast = c[field] ?? c[legacy];
    if (cast === undefined || cast === '') continue;
    const name = cast.trim().toLowerCase();
    if (!isCastName(name)) {
      return fail(
        'invalid_condition',
        `${field} "${cast.slice(0, 32)}" is not an allowed cast`,
        'Allowed: text, varchar, integer, bigint, smallint, numeric, real, float8, boolean, uuid, date, time, timestamp, timestamptz, json, jsonb, text[].',
      );
    }
    out[key] = name;
  }
  return ok(out);
}
