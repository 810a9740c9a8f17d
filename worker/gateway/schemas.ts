/**
 * Request bodies of the four data routes (docs/protocol.md), as zod schemas. They check shape only; identifiers are
 * checked against the tenant catalog later (plan.ts). Every object is strict: a field the gateway
 * does not know is a 400 naming it, so a caller never gets a result that ignored part of the
 * request. Fields the SDK knows but the gateway does not implement are listed and refused too.
 */
import { z } from 'zod';
import { RESERVED_NAME_MESSAGE, reservedKeyOf } from './reserved-names.js';
import { clipped } from './clip.js';

/** Longest identifier Postgres keeps (NAMEDATALEN - 1), and a sane cap on lists. */
const IDENT_MAX = 63;
const LIST_MAX = 1600;

const tableName = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(2 * IDENT_MAX + 1);
/** `"*"`, `"id,email"` (spaces and newlines allowed) or `["id","email"]`. */
export const columnsSchema = z.union([z.string().max(16_384), z.array(z.string().max(IDENT_MAX)).max(LIST_MAX)]);
const countOption = z.enum(['exact', 'planned', 'estimated']);
/**
 * An object whose keys become column names, aliases or argument names. A reserved key is refused
 * here, on the raw object: the record parse would drop `__proto__` without a word.
 */
export const keyedObject = z
  .unknown()
  .superRefine((v, ctx) => {
    const key = reservedKeyOf(v);
    if (key !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: RESERVED_NAME_MESSAGE });
  })
  .pipe(z.record(z.string(), z.unknown()));
const row = keyedObject;

export const OPERATORS = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'like', 'ilike', 'is', 'in', 'contains', 'containedBy', 'not', 'or'] as const;
export type Operator = (typeof OPERATORS)[number];

/** One entry of `conditions`; `eq_column`/`eq_value` are the legacy spelling of an `eq`. */
export const conditionSchema = z
  .object({
    operator: z.enum(OPERATORS, { error: `operator must be one of ${OPERATORS.join(', ')}` }),
    column: z.string().max(IDENT_MAX).optional(),
    value: z.unknown().optional(),
    eq_column: z.string().max(IDENT_MAX).optional(),
    eq_value: z.unknown().optional(),
    column_cast: z.string().max(32).optional(),
    value_cast: z.string().max(32).optional(),
    /** The SDK's legacy spelling of `column_cast`/`value_cast`, sent beside them on `eq`. */
    eq_column_cast: z.string().max(32).optional(),
    eq_value_cast: z.string().max(32).optional(),
  })
  .strict();
export type RawCondition = z.output<typeof conditionSchema>;

const conditions = z.array(conditionSchema).max(100, 'at most 100 conditions').optional();

const sortEntry = z
  .object({
    field: z.string().min(1).max(IDENT_MAX),
    direction: z.enum(['ascending', 'descending', 'asc', 'desc']).optional(),
  })
  .strict();
const sortBy = z.union([sortEntry, z.array(sortEntry).max(16)]);
export type SortEntry = z.output<typeof sortEntry>;

const nonNegative = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const positive = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

/** Fields the SDK types know but this gateway does not implement (answered 400, see docs/protocol.md). */
const UNSUPPORTED_FETCH_FIELDS = ['group_by', 'time_granularity', 'aggregation_column', 'aggregation_strategy', 'aggregation_dedup'] as const;

const jsonObject = keyedObject;

/** Paging and ordering of fetch, and the bounds of a bounded update/delete. `total_pages` is informational only. */
const pagingFields = {
  limit: nonNegative.optional(),
  offset: nonNegative.optional(),
  current_page: positive.optional(),
  page_size: positive.optional(),
  total_pages: nonNegative.nullable().optional(),
  sort_by: sortBy.optional(),
};

export const fetchBody = z
  .object({
    table_name: tableName.optional(),
    view_name: tableName.optional(),
    columns: columnsSchema.optional(),
    conditions,
    ...pagingFields,
    count: countOption.optional(),
    head: z.boolean().optional(),
    strip_nulls: z.boolean().optional(),
    /** Structured fetch (structured.ts): never mixed with columns/conditions/sort_by. */
    select: z.union([z.string().max(16_384), jsonObject]).optional(),
    where: jsonObject.optional(),
    orderBy: z.union([jsonObject, z.array(jsonObject).max(16)]).optional(),
    // Known to the SDK, refused below with a message saying so (rather than "unknown field").
    group_by: z.unknown().optional(),
    time_granularity: z.unknown().optional(),
    aggregation_column: z.unknown().optional(),
    aggregation_strategy: z.unknown().optional(),
    aggregation_dedup: z.unknown().optional(),
  })
  .strict()
  .superRefine((b, ctx) => {
    if (!b.table_name && !b.view_name) ctx.addIssue({ code: 'custom', path: ['table_name'], message: 'is required' });
    if (b.table_name && b.view_name && b.table_name !== b.view_name)
      ctx.addIssue({
        code: 'custom',
        path: ['view_name'],
        message: 'names another relation than table_name; send one of them',
      });
    for (const f of UNSUPPORTED_FETCH_FIELDS) {
      if (b[f] !== undefined && b[f] !== null) ctx.addIssue({ code: 'custom', path: [f], message: 'is not supported by this gateway' });
    }
    for (const [structured, legacy] of [
      ['select', 'columns'],
      ['where', 'conditions'],
      ['orderBy', 'sort_by'],
    ] as const) {
      if (b[structured] !== undefined && b[legacy] !== undefined) {
        ctx.addIssue({ code: 'custom', path: [structured], message: `cannot be combined with ${legacy}; send one of them` });
      }
    }
    if ((b.current_page === undefined) !== (b.page_size === undefined) && b.limit === undefined) {
      ctx.addIssue({ code: 'custom', path: ['page_size'], message: 'current_page and page_size go together' });
    }
  });
export type FetchBody = z.output<typeof fetchBody>;

export const insertBody = z
  .object({
    table_name: tableName,
    insert_body: z.union([row, z.array(row).min(1, 'must contain at least one row').max(10_000)]),
    update_body: row.nullable().optional(),
    columns: columnsSchema.optional(),
    count: countOption.optional(),
    head: z.boolean().optional(),
    default_to_null: z.boolean().optional(),
    on_conflict: z.union([z.string().max(1024), z.array(z.string().max(IDENT_MAX)).max(32)]).optional(),
    strip_nulls: z.boolean().optional(),
  })
  .strict();
export type InsertBody = z.output<typeof insertBody>;

/** current_page needs page_size or limit to mean a page (fetch and bounded writes alike). */
function pageNeedsSize(b: { current_page?: number | undefined; page_size?: number | undefined; limit?: number | undefined }, ctx: z.RefinementCtx): void {
  if (b.current_page !== undefined && b.page_size === undefined && b.limit === undefined) {
    ctx.addIssue({ code: 'custom', path: ['current_page'], message: 'needs page_size (or limit)' });
  }
}

export const updateBody = z
  .object({
    table_name: tableName,
    update_body: row.refine((r) => Object.keys(r).length > 0, 'must set at least one column'),
    conditions,
    columns: columnsSchema.optional(),
    strip_nulls: z.boolean().optional(),
    ...pagingFields,
  })
  .strict()
  .superRefine(pageNeedsSize);
export type UpdateBody = z.output<typeof updateBody>;

export const deleteBody = z
  .object({
    table_name: tableName,
    conditions,
    resource_id: z
      .union([z.string().max(1024), z.number()])
      .transform(String)
      .optional(),
    columns: columnsSchema.optional(),
    strip_nulls: z.boolean().optional(),
    ...pagingFields,
  })
  .strict()
  .superRefine(pageNeedsSize);
export type DeleteBody = z.output<typeof deleteBody>;

/** First zod issue as one readable sentence: `conditions.0.operator: must be one of …`. */
export function describeIssue(error: z.ZodError): string {
  const first = error.issues[0];
  if (!first) return 'Invalid request body';
  const issue = refusalInUnion(first);
  const path = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    const names = issue.keys.map((k) => `"${clipped(k, 40)}"`).join(', ');
    return `${path ? `${path}: ` : ''}unknown field${issue.keys.length > 1 ? 's' : ''} ${names}`;
  }
  return path ? `${path}: ${issue.message}` : issue.message;
}

/** A union whose branches all failed: a refusal of our own (a reserved key) in one of them says more than "Invalid input". */
function refusalInUnion(issue: z.core.$ZodIssue): z.core.$ZodIssue {
  if (issue.code !== 'invalid_union') return issue;
  const custom = issue.errors.flat().find((i) => i.code === 'custom');
  return custom ? { ...custom, path: [...issue.path, ...custom.path] } : issue;
}
