/**
 * `POST /gateway/transaction` before any SQL: the body (operations with ids, options,
 * idempotency key), the transaction its options ask for, and each operation checked and
 * planned exactly as its own route would — same body schema (unknown fields refused), same scope
 * check, same planner. Pure: no I/O.
 */
import { z } from 'zod';
import type { Operation } from '../../drizzle/schema.js';
import { isAllowed } from '../auth/scope.js';
import { tableRef } from '../auth/table-ref.js';
import type { AuthContext } from '../auth/context.js';
import { resolveRelation, type Catalog } from './catalog.js';
import { parseConditions } from './conditions.js';
import { fail, ok, type Result } from './result.js';
import { planDelete, planFetch, planInsert, planUpdate, returningIfReadable } from './plan.js';
import { deleteBody, describeIssue, fetchBody, insertBody, updateBody } from './schemas.js';
import { resolveStripNulls } from './shape.js';
import { plannerShapeOf } from './structured.js';
import { buildCount, buildDelete, buildInsert, buildSelect, buildUpdate } from './sql.js';
import type { Statement } from '../../drizzle/statement.js';
import type { TransactionMode } from '../db/batch.js';

const KINDS = ['fetch', 'insert', 'update', 'delete'] as const;
type Kind = (typeof KINDS)[number];

export const transactionBody = z.strictObject({
  operations: z
    .array(z.strictObject({ id: z.string().min(1).max(128), kind: z.enum(KINDS), payload: z.record(z.string(), z.unknown()) }))
    .min(1, 'needs at least one operation'),
  options: z
    .strictObject({
      isolation_level: z.enum(['read_committed', 'repeatable_read', 'serializable']).nullable().optional(),
      read_only: z.boolean().optional(),
      deferrable: z.boolean().optional(),
    })
    .optional(),
  idempotency_key: z.string().min(1).max(255).nullable().optional(),
});
export type TransactionBody = z.output<typeof transactionBody>;
export type TransactionOptions = NonNullable<TransactionBody['options']>;

/** The transaction the options ask for; DEFERRABLE only means something for SERIALIZABLE READ ONLY, so it needs both. */
export function transactionMode(o: TransactionOptions = {}): Result<TransactionMode> {
  if (o.deferrable && !(o.read_only && o.isolation_level === 'serializable')) {
    return fail('invalid_request', 'options.deferrable needs read_only: true and isolation_level: "serializable"');
  }
  return ok({ isolationLevel: o.isolation_level ?? undefined, readOnly: o.read_only === true, deferrable: o.deferrable === true });
}

/** One operation ready to run: its statements in order, and how its result is reported. */
export type PlannedOp = {
  id: string;
  kind: Kind;
  /** `count` first when asked; the last statement's rows are the data. */
  count: Statement | null;
  main: Statement | null;
  status: 200 | 201;
  strip: boolean;
  /** `head`: report the count, not the rows. */
  hideRows: boolean;
};

export type PlanContext = {
  catalog: Catalog;
  auth: AuthContext;
  maxLimit: number;
  stripHeader: string | undefined;
  readOnly: boolean;
};

const SCHEMAS = { fetch: fetchBody, insert: insertBody, update: updateBody, delete: deleteBody } as const;
const OPERATION: Record<Kind, Operation> = { fetch: 'read', insert: 'insert', update: 'update', delete: 'delete' };

/** Plans operation `index`; a failure names it (`operations[1] (txop_2)`) and keeps its code. */
export function planOperation(op: TransactionBody['operations'][number], index: number, ctx: PlanContext): Result<PlannedOp> {
  const planned = planOne(op, ctx);
  if (planned.ok) return planned;
  const { code, message, hint } = planned.error;
  return fail(code, `operations[${index}] (${op.id}): ${message}`, hint);
}

function planOne(op: TransactionBody['operations'][number], ctx: PlanContext): Result<PlannedOp> {
  if (ctx.readOnly && op.kind !== 'fetch') return fail('invalid_request', `${op.kind} in a read_only transaction`, 'Drop read_only or the write.');
  const parsed = SCHEMAS[op.kind].strict().safeParse(op.payload);
  if (!parsed.success) return fail('invalid_request', `payload.${describeIssue(parsed.error)}`);
  const body = parsed.data;
  const table = ('table_name' in body ? body.table_name : undefined) ?? ('view_name' in body ? body.view_name : undefined) ?? '';
  if (!isAllowed(ctx.auth, OPERATION[op.kind], tableRef(table))) return fail('scope_denied', `this API key may not ${OPERATION[op.kind]} ${table}`);
  const relation = resolveRelation(ctx.catalog, table);
  if (!relation.ok) return relation;
  const rel = relation.value;
  const where = parseConditions('conditions' in body ? body.conditions : undefined);
  if (!where.ok) return where;
  const strip = resolveStripNulls(body.strip_nulls, ctx.stripHeader);
  const base = { id: op.id, kind: op.kind, strip, hideRows: false };
  switch (op.kind) {
    case 'fetch': {
      // The same translation as the fetch route: `select`/`where`/`orderBy` are honoured, never dropped.
      const b = body as z.output<typeof fetchBody>;
      const shape = plannerShapeOf(b);
      if (!shape.ok) return shape;
      const { columns, embeds, sort } = shape.value;
      if (embeds.length > 0) {
        return fail('invalid_request', 'embedded selects are not supported inside a transaction', 'Select the related rows in their own fetch operation.');
      }
      const plan = planFetch({ ...b, columns: columns?.length ? columns : undefined, sort_by: sort }, rel, shape.value.where, { maxLimit: ctx.maxLimit });
      if (!plan.ok) return plan;
      const { select, withCount, head } = plan.value;
      return ok({ ...base, count: withCount ? buildCount(rel, select.where) : null, main: head ? null : buildSelect(select), status: 200 });
    }
    case 'insert': {
      const b = body as z.output<typeof insertBody>;
      const plan = planInsert(b, rel);
      if (!plan.ok) return plan;
      if (plan.value.conflict && plan.value.conflict.action.kind !== 'nothing' && !isAllowed(ctx.auth, 'update', rel)) {
        return fail('scope_denied', `this API key may not update ${table} (the upsert may overwrite rows)`);
      }
      return ok({ ...base, count: null, main: buildInsert(returningIfReadable(ctx.auth, rel, plan.value)), status: 201, hideRows: b.head === true });
    }
    case 'update': {
      const plan = planUpdate(body as z.output<typeof updateBody>, rel, where.value);
      return plan.ok ? ok({ ...base, count: null, main: buildUpdate(returningIfReadable(ctx.auth, rel, plan.value)), status: 200 }) : plan;
    }
    case 'delete': {
      const plan = planDelete(body as z.output<typeof deleteBody>, rel, where.value);
      return plan.ok ? ok({ ...base, count: null, main: buildDelete(returningIfReadable(ctx.auth, rel, plan.value)), status: 200 }) : plan;
    }
  }
}
