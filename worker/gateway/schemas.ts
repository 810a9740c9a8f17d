/**
 * Request bodies of the four data routes (docs/protocol.md), as zod schemas. They check shape
 * only; identifiers are checked against the tenant catalog later (plan.ts). Unknown keys are
 * ignored, except fields we know the SDK can send but the gateway does not implement: those are
 * refused so a client never gets silently wrong results.
 */
import { z } from 'zod';

/** Longest identifier Postgres keeps (NAMEDATALEN - 1), and a sane cap on lists. */
const IDENT_MAX = 63;
const LIST_MAX = 1600;

const tableName = z.string().trim().min(1, 'must not be empty').max(2 * IDENT_MAX + 1);
/** `"*"`, `"id,email"` (spaces and newlines allowed) or `["id","email"]`. */
export const columnsSchema = z.union([z.string().max(16_384), z.array(z.string().max(IDENT_MAX)).max(LIST_MAX)]);
const countOption = z.enum(['exact', 'planned', 'estimated']);
const row = z.record(z.string(), z.unknown());

export const OPERATORS = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'like', 'ilike', 'is', 'in', 'contains', 'containedBy', 'not', 'or'] as const;
export type Operator = (typeof OPERATORS)[number];

/** One entry of `conditions`; `eq_column`/`eq_value` are the legacy spelling of an `eq`. */
export const conditionSchema = z.object({
  operator: z.enum(OPERATORS, { error: `operator must be one of ${OPERATORS.join(', ')}` }),
  column: z.string().max(IDENT_MAX).optional(),
  value: z.unknown().optional(),
  eq_column: z.string().max(IDENT_MAX).optional(),
  eq_value: z.unknown().optional(),
  column_cast: z.string().max(32).optional(),
  value_cast: z.string().max(32).optional(),
});
export type RawCondition = z.output<typeof conditionSchema>;

const conditions = z.array(conditionSchema).max(100, 'at most 100 conditions').optional();

const sortEntry = z.object({
  field: z.string().min(1).max(IDENT_MAX),
  direction: z.enum(['ascending', 'descending', 'asc', 'desc']).optional(),
});
export type SortEntry = z.output<typeof sortEntry>;

const nonNegative = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const positive = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

/** Fields the SDK types know but this gateway does not implement (answered 400, see docs/protocol.md). */
const UNSUPPORTED_FETCH_FIELDS = ['group_by', 'time_granularity', 'aggregation_column', 'aggregation_strategy', 'aggregation_dedup'] as const;

export const fetchBody = z
  .object({
    table_name: tableName.optional(),
    view_name: tableName.optional(),
    columns: columnsSchema.optional(),
    conditions,
    limit: nonNegative.optional(),
    offset: nonNegative.optional(),
    current_page: positive.optional(),
    page_size: positive.optional(),
    total_pages: z.unknown().optional(),
    sort_by: z.union([sortEntry, z.array(sortEntry).max(16)]).optional(),
    count: countOption.optional(),
    head: z.boolean().optional(),
    strip_nulls: z.boolean().optional(),
  })
  .catchall(z.unknown())
  .superRefine((b, ctx) => {
    if (!b.table_name && !b.view_name) ctx.addIssue({ code: 'custom', path: ['table_name'], message: 'is required' });
    for (const f of UNSUPPORTED_FETCH_FIELDS) {
      if (b[f] !== undefined && b[f] !== null) ctx.addIssue({ code: 'custom', path: [f], message: 'is not supported by this gateway' });
    }
    if ((b.current_page === undefined) !== (b.page_size === undefined) && b.limit === undefined) {
      ctx.addIssue({ code: 'custom', path: ['page_size'], message: 'current_page and page_size go together' });
    }
  });
export type FetchBody = z.output<typeof fetchBody>;

export const insertBody = z.object({
  table_name: tableName,
  insert_body: z.union([row, z.array(row).min(1, 'must contain at least one row').max(10_000)]),
  update_body: row.nullable().optional(),
  columns: columnsSchema.optional(),
  count: countOption.optional(),
  head: z.boolean().optional(),
  default_to_null: z.boolean().optional(),
  on_conflict: z.union([z.string().max(1024), z.array(z.string().max(IDENT_MAX)).max(32)]).optional(),
  strip_nulls: z.boolean().optional(),
});
export type InsertBody = z.output<typeof insertBody>;

export const updateBody = z.object({
  table_name: tableName,
  update_body: row.refine((r) => Object.keys(r).length > 0, 'must set at least one column'),
  conditions,
  columns: columnsSchema.optional(),
  strip_nulls: z.boolean().optional(),
});
export type UpdateBody = z.output<typeof updateBody>;

export const deleteBody = z.object({
  table_name: tableName,
  conditions,
  resource_id: z.union([z.string().max(1024), z.number()]).transform(String).optional(),
  columns: columnsSchema.optional(),
  strip_nulls: z.boolean().optional(),
});
export type DeleteBody = z.output<typeof deleteBody>;

/** First zod issue as one readable sentence: `conditions.0.operator: must be one of …`. */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'Invalid request body';
  const path = issue.path.map(String).join('.');
  return path ? `${path}: ${issue.message}` : issue.message;
}
