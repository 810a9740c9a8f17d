/**
 * The two spellings of an rpc call — the `POST /gateway/rpc` body and the `GET /rpc/<fn>` query
 * string — as one request: function, arguments by name, and the fetch-style select, filters,
 * order and paging applied to its result. On GET, which keys are arguments is known only from the
 * function's signature, so the split happens once it is loaded. Pure.
 */
import { z } from 'zod';
import type { Filter } from './filter.js';
import { fail, ok, type Result } from './result.js';
import { parseConditions } from './conditions.js';
import { parseNotString } from './postgrest.js';
import { columnsSchema, keyedObject, type FetchBody } from './schemas.js';
import type { FunctionInfo } from './functions.js';

const IDENT = z.string().trim().min(1, 'must not be empty').max(63);
const FILTER_OPS = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'like', 'ilike', 'is', 'in'] as const;
const nonNegative = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const rpcBody = z
  .strictObject({
    function: IDENT.optional(),
    function_name: IDENT.optional(),
    args: keyedObject.pipe(z.record(z.string().max(63), z.unknown())).optional(),
    schema: IDENT.optional(),
    select: columnsSchema.optional(),
    filters: z
      .array(z.strictObject({ column: IDENT, operator: z.enum(FILTER_OPS), value: z.unknown() }))
      .max(100)
      .optional(),
    order: z.strictObject({ column: IDENT, ascending: z.boolean().optional() }).optional(),
    limit: nonNegative.optional(),
    offset: nonNegative.optional(),
    count: z.enum(['exact', 'planned', 'estimated']).optional(),
    head: z.boolean().optional(),
    strip_nulls: z.boolean().optional(),
  })
  .refine((b) => (b.function === undefined) !== (b.function_name === undefined), {
    message: 'give exactly one of function or function_name',
    path: ['function'],
  });
export type RpcBody = z.output<typeof rpcBody>;

export type RpcRequest = {
  schema: string;
  name: string;
  /** Arguments and filters; a function of the signature on GET. */
  split: (fn: FunctionInfo) => Result<{ args: Record<string, unknown>; where: Filter[] }>;
  argNames: (paramNames: ReadonlySet<string>) => string[];
  fetch: FetchBody;
  stripNulls: boolean | undefined;
};

/** `fn` or `schema.fn` (when `schema` is not given separately). */
function splitName(fn: string, schema: string | undefined): { schema: string; name: string } {
  const dot = fn.indexOf('.');
  if (schema !== undefined || dot < 0) return { schema: schema ?? 'public', name: fn };
  return { schema: fn.slice(0, dot), name: fn.slice(dot + 1) };
}

export function fromBody(b: RpcBody): RpcRequest {
  const args = b.args ?? {};
  const where = parseConditions(b.filters);
  const fetch: FetchBody = {
    ...(b.select === undefined ? {} : { columns: b.select }),
    ...(b.order ? { sort_by: { field: b.order.column, direction: b.order.ascending === false ? 'descending' : 'ascending' } } : {}),
    ...(b.limit === undefined ? {} : { limit: b.limit }),
    ...(b.offset === undefined ? {} : { offset: b.offset }),
    ...(b.count === undefined ? {} : { count: b.count }),
    ...(b.head === undefined ? {} : { head: b.head }),
  };
  return {
    ...splitName(b.function ?? b.function_name ?? '', b.schema),
    split: () => (where.ok ? ok({ args, where: where.value }) : where),
    argNames: () => Object.keys(args),
    fetch,
    stripNulls: b.strip_nulls,
  };
}

const RESERVED = new Set(['schema', 'select', 'count', 'head', 'limit', 'offset', 'order', 'strip_nulls']);

/** `GET /rpc/<fn>?schema=&select=&order=c.desc&limit=&offset=&count=&head=true&<arg>=<v>&<col>=<op>.<v>`. */
export function fromQuery(fnName: string, q: URLSearchParams): Result<RpcRequest> {
  const fetch: FetchBody = {};
  const int = (k: string): Result<number | undefined> => {
    const v = q.get(k);
    if (v === null) return ok(undefined);
    return /^\d{1,15}$/.test(v) ? ok(Number(v)) : fail('invalid_request', `${k}: must be a non-negative integer`);
  };
  for (const k of ['limit', 'offset'] as const) {
    const n = int(k);
    if (!n.ok) return n;
    if (n.value !== undefined) fetch[k] = n.value;
  }
  const select = q.get('select');
  if (select) fetch.columns = select;
  const order = q.get('order');
  if (order) {
    const m = /^([^.]+)(?:\.(asc|desc))?$/.exec(order);
    if (!m?.[1]) return fail('invalid_request', 'order: use column or column.desc');
    fetch.sort_by = { field: m[1], direction: m[2] === 'desc' ? 'descending' : 'ascending' };
  }
  const count = q.get('count');
  if (count !== null) {
    if (count !== 'exact' && count !== 'planned' && count !== 'estimated') return fail('invalid_request', 'count: must be exact, planned or estimated');
    fetch.count = count;
  }
  if (q.get('head') === 'true') fetch.head = true;
  const rest = [...q.entries()].filter(([k]) => !RESERVED.has(k));
  const schema = q.get('schema') ?? undefined;
  return ok({
    ...splitName(fnName, schema),
    split: (fn) => splitQueryArgs(fn, rest),
    argNames: (paramNames) => rest.map(([k]) => k).filter((k) => paramNames.has(k)),
    fetch,
    stripNulls: undefined,
  });
}

/** Keys naming a parameter are arguments (text, `{a,b}` arrays, JSON for json types, `null`); the rest `op.value` filters. */
function splitQueryArgs(fn: FunctionInfo, rest: readonly [string, string][]): Result<{ args: Record<string, unknown>; where: Filter[] }> {
  const types = new Map(fn.inputs.map((p) => [p.name, p.type]));
  const args: Record<string, unknown> = {};
  const where: Filter[] = [];
  for (const [k, v] of rest) {
    const type = types.get(k);
    if (type === undefined) {
      // `in.{1,2}` is how the SDK writes lists on GET; the filter grammar takes `in.(1,2)`.
      const text = v.replace(/^((?:not\.)?in)\.\{(.*)\}$/s, '$1.($2)');
      const parsed = parseNotString(`${k}.${text}`);
      if (!parsed.ok) return fail(parsed.error.code, `${k}: ${parsed.error.message}`, parsed.error.hint);
      if (parsed.value.kind === 'not') where.push(parsed.value.filter);
      continue;
    }
    const arg = queryArg(k, v, type);
    if (!arg.ok) return arg;
    args[k] = arg.value;
  }
  return ok({ args, where });
}

function queryArg(name: string, v: string, type: string): Result<unknown> {
  if (v === 'null') return ok(null);
  if (type === 'json' || type === 'jsonb') {
    try {
      return ok(JSON.parse(v));
    } catch {
      return fail('invalid_request', `${name}: not valid JSON for a ${type} parameter`);
    }
  }
  // Arrays go as Postgres array text (`{a,b}`), which the typed cast parses.
  return ok(v);
}
