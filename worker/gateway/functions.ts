/**
 * Callable functions of a tenant database: their signatures as the catalog reports them, which
 * overload a set of named arguments selects, the call with every argument bound and cast to its
 * declared type, and the relation-like shape of the result (so the fetch planner can select,
 * filter and order it). Pure: function-source.ts loads the rows.
 */
import { GATEWAY_SCHEMAS, isSystemSchema, type ColumnInfo, type Relation } from './catalog.js';
import { fail, ok, type Result } from './result.js';
import type { Source } from './sql.js';
import { join, param, quoteIdent, raw, sql, type Fragment } from '../../drizzle/statement.js';
import { clipped } from './clip.js';

/** One row of the function query (function-source.ts). */
export type FunctionRow = {
  schema_name: string;
  name: string;
  /** `f` function, `p` procedure, `a` aggregate, `w` window. */
  kind: string;
  returns_set: boolean;
  /** `i` immutable, `s` stable, `v` volatile. */
  volatility: string;
  return_type: string;
  /** `c` composite, `p` pseudo (record, void), others scalar. */
  return_typtype: string;
  nargdefaults: number;
  from_extension: boolean;
  /** Aligned with `arg_types` (all arguments when modes are given, else the inputs). */
  arg_names: string[];
  /** `i` in, `o` out, `b` inout, `v` variadic, `t` table column; empty = all in. */
  arg_modes: string[];
  arg_types: string[];
  composite_columns: string[];
  composite_types: string[];
};

export type Param = { name: string; type: string; hasDefault: boolean };
export type FunctionInfo = {
  schema: string;
  name: string;
  inputs: Param[];
  returnType: string;
  /** Result columns; null when the catalog cannot say (`RETURNS record` without OUT parameters). */
  result: ColumnInfo[] | null;
  /** VOLATILE: may write, and must not be evaluated twice for one call. */
  volatile: boolean;
};

const shown = (s: string) => clipped(s, 64);
const column = (name: string, type: string): ColumnInfo => ({ name, type, json: type === 'json' || type === 'jsonb' });

/** Refused before any catalog lookup: Postgres' own schemas and the gateway's. */
export function checkFunctionSchema(schema: string): Result<string> {
  if (isSystemSchema(schema) || GATEWAY_SCHEMAS.has(schema)) {
    return fail('forbidden_function', `Functions in schema "${shown(schema)}" are never callable`, 'Call functions of the tenant schemas.');
  }
  return ok(schema);
}

export function describeFunction(row: FunctionRow): FunctionInfo {
  const modes = row.arg_modes.length ? row.arg_modes : row.arg_types.map(() => 'i');
  const inputIdx = modes.flatMap((m, i) => (m === 'i' || m === 'b' || m === 'v' ? [i] : []));
  const firstDefault = inputIdx.length - row.nargdefaults;
  const inputs = inputIdx.map((i, k) => ({ name: row.arg_names[i] ?? '', type: row.arg_types[i] ?? 'unknown', hasDefault: k >= firstDefault }));
  const outs = modes.flatMap((m, i) => (m === 'o' || m === 'b' || m === 't' ? [column(row.arg_names[i] ?? '', row.arg_types[i] ?? 'unknown')] : []));
  let result: ColumnInfo[] | null;
  if (outs.length) result = outs.some((c) => c.name === '') ? null : outs;
  else if (row.return_typtype === 'c') result = row.composite_columns.map((n, i) => column(n, row.composite_types[i] ?? 'unknown'));
  else if (row.return_type === 'record') result = null;
  else result = [column(row.name, row.return_type)];
  return { schema: row.schema_name, name: row.name, inputs, returnType: row.return_type, result, volatile: row.volatility === 'v' };
}

/** The one plain function whose parameters the given argument names fit, or why none does. */
export function pickOverload(rows: readonly FunctionRow[], qualified: string, argNames: readonly string[]): Result<FunctionInfo> {
  const plain = rows.filter((r) => r.kind === 'f' && !r.from_extension);
  if (plain.length === 0) {
    return fail(
      'unknown_function',
      `Unknown function "${shown(qualified)}"`,
      'Name a function of the tenant database ("fn" for public, or "schema" + "function").',
    );
  }
  const fits = plain.map(describeFunction).filter((f) => {
    const names = new Set(f.inputs.map((p) => p.name));
    return argNames.every((a) => names.has(a)) && f.inputs.every((p) => p.hasDefault || argNames.includes(p.name));
  });
  if (fits.length === 1 && fits[0]) return ok(fits[0]);
  if (fits.length > 1) {
    return fail(
      'invalid_request',
      `Function "${shown(qualified)}" has several overloads these arguments fit`,
      'Pass arguments that select exactly one overload.',
    );
  }
  const sig = plain.map(describeFunction).map((f) => `(${f.inputs.map((p) => `${p.name || '?'} ${p.type}${p.hasDefault ? ' = default' : ''}`).join(', ')})`);
  return fail(
    'invalid_request',
    `Arguments {${argNames.map(shown).join(', ')}} do not match ${shown(qualified)}${sig.slice(0, 3).join(' or ')}`,
    'Pass every parameter without a default, by name, and no other.',
  );
}

/** `"s"."fn"("a" => $1::type, …)` with each value checked against and bound as its parameter's type. */
export function callSource(fn: FunctionInfo, args: Readonly<Record<string, unknown>>): Result<Source> {
  const parts: Fragment[] = [];
  for (const p of fn.inputs) {
    if (!Object.hasOwn(args, p.name)) continue;
    const bound = bindArg(p, args[p.name]);
    if (!bound.ok) return bound;
    parts.push(sql`${raw(`${quoteIdent(p.name)} => `)}${param(bound.value, p.type)}`);
  }
  return ok(sql`${raw(`${quoteIdent(fn.schema)}.${quoteIdent(fn.name)}(`)}${join(parts, ', ')})`);
}

function bindArg(p: Param, value: unknown): Result<unknown> {
  if (value === null || value === undefined) return ok(null);
  if (p.type === 'json' || p.type === 'jsonb') return ok(JSON.stringify(value));
  const isArrayType = p.type.endsWith('[]');
  if (Array.isArray(value)) {
    return isArrayType ? ok(value) : fail('invalid_request', `args.${shown(p.name)}: an array was given for a ${p.type} parameter`);
  }
  if (typeof value === 'object') {
    return fail(
      'invalid_request',
      `args.${shown(p.name)}: an object was given for a ${p.type} parameter`,
      'Objects are accepted for json and jsonb parameters.',
    );
  }
  return ok(value);
}

/** The result as a relation the planner can check columns against; null columns → only `*`. */
export function resultRelation(fn: FunctionInfo): Relation {
  const columns = fn.result ?? [];
  return { schema: fn.schema, name: fn.name, columns, byName: new Map(columns.map((c) => [c.name, c])), primaryKey: [] };
}
