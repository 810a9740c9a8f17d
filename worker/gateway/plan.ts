/**
 * Validated bodies + parsed filters + the resolved relation → SQL plans. Every identifier a client
 * sent is checked against the relation's columns here (names and projections: plan-columns.ts), so
 * sql.ts only ever sees catalog names. Pure: no I/O, no HTTP.
 */
import type { Relation } from './catalog.js';
import { filterColumns, type Filter } from './filter.js';
import { fail, ok, type Result } from './result.js';
import { checkFilterSize } from './filter-size.js';
import type { DeleteBody, FetchBody, InsertBody, SortEntry, UpdateBody } from './schemas.js';
import { checkColumn, checkColumns, planProjection } from './plan-columns.js';
import { isAllowed } from '../auth/scope.js';
import type { TableRef } from '../auth/table-ref.js';
import type { AuthContext } from '../auth/context.js';
import type { ConflictAction, DeletePlan, InsertPlan, MutationBounds, SelectPlan, UpdatePlan } from './sql.js';
import type { Order, Projection } from './sql-render.js';

function checkFilters(rel: Relation, where: readonly Filter[]): Result<readonly Filter[]> {
  const sized = checkFilterSize(where);
  if (!sized.ok) return sized;
  const cols = new Set<string>();
  for (const f of where) filterColumns(f, cols);
  const checked = checkColumns(rel, cols, 'conditions');
  return checked.ok ? ok(where) : checked;
}

function planOrder(rel: Relation, sort: SortEntry | readonly SortEntry[] | undefined): Result<Order[]> {
  const entries = sort === undefined ? [] : Array.isArray(sort) ? sort : [sort as SortEntry];
  const out: Order[] = [];
  for (const s of entries) {
    const c = checkColumn(rel, s.field, 'sort_by.field');
    if (!c.ok) return c;
    out.push({ column: s.field, descending: s.direction === 'descending' || s.direction === 'desc' });
  }
  return ok(out);
}

export type FetchPlan = { select: SelectPlan; withCount: boolean; head: boolean };

/** limit/offset, else current_page/page_size; `limit` is capped at `maxLimit` (also the default). */
export function planFetch(body: FetchBody, rel: Relation, where: readonly Filter[], opts: { maxLimit: number }): Result<FetchPlan> {
  const columns = planProjection(rel, body.columns);
  if (!columns.ok) return columns;
  const filters = checkFilters(rel, where);
  if (!filters.ok) return filters;
  const order = planOrder(rel, body.sort_by);
  if (!order.ok) return order;
  const paged = body.limit === undefined && body.page_size !== undefined;
  const requested = body.limit ?? body.page_size ?? opts.maxLimit;
  const offset = body.offset ?? (paged ? ((body.current_page ?? 1) - 1) * (body.page_size ?? 0) : 0);
  if (!Number.isSafeInteger(offset)) return fail('invalid_request', 'offset is too large');
  return ok({
    select: { relation: rel, columns: columns.value, where: filters.value, order: order.value, limit: Math.min(requested, opts.maxLimit), offset },
    withCount: body.count !== undefined || body.head === true,
    head: body.head === true,
  });
}

function conflictTarget(rel: Relation, onConflict: string | readonly string[] | undefined): Result<string[]> {
  if (onConflict === undefined) {
    if (rel.primaryKey.length === 0) return fail('invalid_request', `on_conflict is required: ${rel.schema}.${rel.name} has no primary key`);
    return ok([...rel.primaryKey]);
  }
  const names = (typeof onConflict === 'string' ? onConflict.split(',') : onConflict).map((c) => c.trim()).filter((c) => c !== '');
  if (names.length === 0) return fail('invalid_request', 'on_conflict names no column');
  return checkColumns(rel, new Set(names), 'on_conflict');
}

/**
 * Upsert when `on_conflict` or `update_body` is given. `update_body` empty → DO NOTHING; absent →
 * every inserted non-conflict column from EXCLUDED (DO NOTHING when there is none).
 */
export function planInsert(body: InsertBody, rel: Relation): Result<InsertPlan> {
  const rows = Array.isArray(body.insert_body) ? body.insert_body : [body.insert_body];
  const seen = new Set<string>();
  for (const row of rows) for (const k of Object.keys(row)) seen.add(k);
  const columns = checkColumns(rel, seen, 'insert_body');
  if (!columns.ok) return columns;
  const ret = planProjection(rel, body.columns);
  if (!ret.ok) return ret;
  const plan: InsertPlan = { relation: rel, rows, columns: columns.value, defaultToNull: body.default_to_null === true, returning: ret.value };
  const updateBody = body.update_body ?? undefined;
  if (body.on_conflict === undefined && updateBody === undefined) return ok(plan);

  const target = conflictTarget(rel, body.on_conflict);
  if (!target.ok) return target;
  let action: ConflictAction;
  if (updateBody !== undefined) {
    const setCols = checkColumns(rel, Object.keys(updateBody), 'update_body');
    if (!setCols.ok) return setCols;
    action = setCols.value.length ? { kind: 'set', values: updateBody } : { kind: 'nothing' };
  } else {
    const fromExcluded = columns.value.filter((c) => !target.value.includes(c));
    action = fromExcluded.length ? { kind: 'excluded', columns: fromExcluded } : { kind: 'nothing' };
  }
  return ok({ ...plan, conflict: { target: target.value, action } });
}

type BoundsInput = Pick<UpdateBody, 'sort_by' | 'limit' | 'offset' | 'current_page' | 'page_size'>;

/**
 * `limit`/`offset`/`page_size`/`current_page` → the bounds of an update/delete (null: none sent).
 * `sort_by` alone would order nothing, so it is refused rather than ignored; the rows are picked
 * by primary key, so a table without one cannot take bounded writes (never an assumed `id`).
 */
export function planBounds(rel: Relation, body: BoundsInput, what: 'update' | 'delete'): Result<MutationBounds | null> {
  const bounded = body.limit !== undefined || body.offset !== undefined || body.page_size !== undefined || body.current_page !== undefined;
  if (!bounded) {
    if (body.sort_by !== undefined)
      return fail(
        'invalid_request',
        `sort_by on ${what === 'update' ? 'an update' : 'a delete'} needs limit, offset or page_size`,
        'Ordering only matters when the bounds pick some of the matching rows.',
      );
    return ok(null);
  }
  if (body.current_page !== undefined && body.page_size === undefined && body.limit === undefined) {
    return fail('invalid_request', 'current_page needs page_size (or limit)');
  }
  if (rel.primaryKey.length === 0) {
    return fail(
      'invalid_request',
      `A bounded ${what} needs a primary key: ${rel.schema}.${rel.name} has none`,
      'Drop limit/offset/page_size, or add a primary key to the table.',
    );
  }
  const order = planOrder(rel, body.sort_by);
  if (!order.ok) return order;
  const limit = body.limit ?? body.page_size ?? null;
  const size = body.page_size ?? body.limit ?? 0;
  const offset = body.offset ?? (body.current_page !== undefined ? (body.current_page - 1) * size : 0);
  if (!Number.isSafeInteger(offset)) return fail('invalid_request', 'offset is too large');
  return ok({ key: rel.primaryKey, order: order.value, limit, offset });
}

/** An update must have at least one condition (400 `unfiltered_update`). RETURNING only when asked. */
export function planUpdate(body: UpdateBody, rel: Relation, where: readonly Filter[]): Result<UpdatePlan> {
  if (where.length === 0) {
    return fail('unfiltered_update', 'Refusing to update without conditions', 'Add at least one condition that selects the rows to change.');
  }
  const setCols = checkColumns(rel, Object.keys(body.update_body), 'update_body');
  if (!setCols.ok) return setCols;
  const filters = checkFilters(rel, where);
  if (!filters.ok) return filters;
  const ret = body.columns === undefined ? ok(null) : planProjection(rel, body.columns);
  if (!ret.ok) return ret;
  const bounds = planBounds(rel, body, 'update');
  if (!bounds.ok) return bounds;
  const plan: UpdatePlan = { relation: rel, set: body.update_body, where: filters.value, returning: ret.value };
  return ok(bounds.value ? { ...plan, bounds: bounds.value } : plan);
}

/** A top-level `eq` on `column` (how the SDK writes `.eq("id", x)`). */
const eqOn = (f: Filter, column: string): f is Extract<Filter, { kind: 'compare' }> => f.kind === 'compare' && f.op === 'eq' && f.column === column;

/**
 * `resource_id` means `id = resource_id` unless an `eq` on `id` (or on a `resource_id` column)
 * already says the same; one that says something else is refused, never silently preferred. The
 * SDK also sends `.eq("resource_id", x)` as a condition: on a table without such a column, that is `id`.
 */
export function planDelete(body: DeleteBody, rel: Relation, parsed: readonly Filter[]): Result<DeletePlan> {
  const where: Filter[] = parsed.map((f) => (eqOn(f, 'resource_id') && !rel.byName.has('resource_id') ? { ...f, column: 'id' } : f));
  if (body.resource_id !== undefined) {
    const named = where.filter((f) => eqOn(f, 'id') || eqOn(f, 'resource_id'));
    if (named.some((f) => f.kind === 'compare' && String(f.value) !== body.resource_id)) {
      return fail('invalid_request', 'resource_id disagrees with the condition on id', 'Send one of them, or the same value in both.');
    }
    if (named.length === 0) {
      if (!rel.byName.has('id')) return fail('unknown_column', `resource_id: ${rel.schema}.${rel.name} has no "id" column`, 'Use conditions instead.');
      where.push({ kind: 'compare', column: 'id', op: 'eq', value: body.resource_id });
    }
  }
  if (where.length === 0) return fail('unfiltered_delete', 'Refusing to delete without conditions or resource_id', 'Add a condition or a resource_id.');
  const filters = checkFilters(rel, where);
  if (!filters.ok) return filters;
  const ret = body.columns === undefined ? ok(null) : planProjection(rel, body.columns);
  if (!ret.ok) return ret;
  const bounds = planBounds(rel, body, 'delete');
  if (!bounds.ok) return bounds;
  const plan: DeletePlan = { relation: rel, where: filters.value, returning: ret.value };
  return ok(bounds.value ? { ...plan, bounds: bounds.value } : plan);
}

/** Rows back (RETURNING) read the table: only with `read` on it; otherwise the mutation answers its count alone. */
export function returningIfReadable<P extends { returning: Projection | null }>(auth: AuthContext, table: TableRef, plan: P): P {
  return isAllowed(auth, 'read', table) ? plan : { ...plan, returning: null };
}
