/**
 * The SQL builder: validated plans → one statement with `$n` parameters. Identifiers come only
 * from the tenant catalog (plan.ts checked them) and are quoted anyway; every client value is a
 * bound parameter; casts come from a fixed table. Knows no HTTP and no driver.
 */
import type { Relation } from './catalog.js';
import type { Filter } from './filter.js';
import { EMPTY, join, param, quoteIdent, raw, render, sql, type Fragment, type Statement } from '../../drizzle/statement.js';
import { bindValue, orderClause, projection, qualified, returning, whereClause, type Order, type Projection } from './sql-render.js';
import { insertRows } from './sql-insert.js';

/** Postgres' limit on bind parameters in one statement. */
export const MAX_PARAMS = 65_535;

/**
 * A related table returned under `key`: `many` → JSON array (the embedded table holds the foreign
 * key), else one JSON object or null. `join` pairs its columns with the base table's.
 */
export type Embed = {
  key: string;
  relation: Relation;
  columns: Projection;
  many: boolean;
  join: readonly { inner: string; outer: string }[];
};

export type SelectPlan = {
  relation: Relation;
  /** An empty list with embeds: only the embeds are returned. */
  columns: Projection;
  where: readonly Filter[];
  order: readonly Order[];
  limit: number;
  offset: number;
  embeds?: readonly Embed[];
  /** Most rows one to-many embed returns per base row. */
  embedLimit?: number;
  /** Rows come from this instead of the relation (a function call). */
  source?: Source;
};

/** A FROM item with its own parameters (a function call). */
export type Source = Fragment;

/**
 * Bounds of an update/delete: only the rows of `SELECT key … ORDER BY … LIMIT … OFFSET …` change.
 * `key` is the primary key; `limit` null means no LIMIT (an offset alone).
 */
export type MutationBounds = { key: readonly string[]; order: readonly Order[]; limit: number | null; offset: number };

export type ConflictAction =
  | { kind: 'nothing' }
  /** `SET c = EXCLUDED.c` for each column. */
  | { kind: 'excluded'; columns: readonly string[] }
  /** `SET c = $n` from `update_body`. */
  | { kind: 'set'; values: Readonly<Record<string, unknown>> };

export type InsertPlan = {
  relation: Relation;
  rows: readonly Readonly<Record<string, unknown>>[];
  /** Union of the rows' keys, in first-seen order; empty → every row is all defaults. */
  columns: readonly string[];
  /** Missing keys in sparse multi-row inserts: NULL instead of DEFAULT. */
  defaultToNull: boolean;
  conflict?: { target: readonly string[]; action: ConflictAction };
  returning: Projection | null;
};

export type UpdatePlan = {
  relation: Relation;
  set: Readonly<Record<string, unknown>>;
  where: readonly Filter[];
  returning: Projection | null;
  bounds?: MutationBounds;
};
export type DeletePlan = { relation: Relation; where: readonly Filter[]; returning: Projection | null; bounds?: MutationBounds };

/**
 * A correlated subquery per embed. The embedded table is aliased, so `"schema"."table"."col"`
 * always means the outer (base) row, even when a table embeds itself.
 */
function embedColumn(e: Embed, base: Relation, limit: number): Fragment {
  const on = e.join.map((p) => `"_t".${quoteIdent(p.inner)} = ${qualified(base)}.${quoteIdent(p.outer)}`).join(' AND ');
  const inner = sql`${raw(`SELECT ${projection(e.columns)} FROM ${qualified(e.relation)} AS "_t" WHERE ${on} LIMIT `)}${e.many ? param(limit) : raw('1')}`;
  return e.many
    ? sql`COALESCE((SELECT json_agg(row_to_json("_e")) FROM (${inner}) AS "_e"), '[]'::json) AS ${raw(quoteIdent(e.key))}`
    : sql`(SELECT row_to_json("_e") FROM (${inner}) AS "_e") AS ${raw(quoteIdent(e.key))}`;
}

/** The FROM item: the relation, or a source (a function call with its own parameters). */
const fromItem = (relation: Relation, source: Source | undefined): Fragment => source ?? raw(qualified(relation));

export function buildSelect(plan: SelectPlan): Statement {
  const embeds = (plan.embeds ?? []).map((e) => embedColumn(e, plan.relation, plan.embedLimit ?? plan.limit));
  const columns = plan.columns === '*' || plan.columns.length ? [raw(projection(plan.columns))] : [];
  const list = join([...columns, ...embeds], ', ');
  const from = fromItem(plan.relation, plan.source);
  return render(
    sql`SELECT ${list} FROM ${from}${whereClause(plan.where, plan.relation)}${raw(orderClause(plan.order))} LIMIT ${plan.limit} OFFSET ${plan.offset}`,
  );
}

/** Total rows matching the filters (the `count` of a fetch). */
export function buildCount(relation: Relation, where: readonly Filter[], source?: Source): Statement {
  return render(sql`SELECT count(*) AS count FROM ${fromItem(relation, source)}${whereClause(where, relation)}`);
}

export function buildInsert(plan: InsertPlan): Statement {
  const rel = plan.relation;
  let conflict = EMPTY;
  if (plan.conflict) {
    const { target, action } = plan.conflict;
    const on = raw(` ON CONFLICT (${target.map(quoteIdent).join(', ')})`);
    if (action.kind === 'nothing') conflict = sql`${on} DO NOTHING`;
    else if (action.kind === 'excluded')
      conflict = sql`${on}${raw(` DO UPDATE SET ${action.columns.map((c) => `${quoteIdent(c)} = EXCLUDED.${quoteIdent(c)}`).join(', ')}`)}`;
    else conflict = sql`${on} DO UPDATE SET ${setList(action.values, rel)}`;
  }
  return render(
    sql`INSERT INTO ${raw(qualified(rel))} ${insertRows(rel, plan.rows, plan.columns, plan.defaultToNull)}${conflict}${raw(returning(plan.returning))}`,
  );
}

function setList(values: Readonly<Record<string, unknown>>, rel: Relation): Fragment {
  return join(
    Object.entries(values).map(([c, v]) => sql`${raw(quoteIdent(c))} = ${param(bindValue(rel.byName.get(c), v))}`),
    ', ',
  );
}

/** Refuses to build an unfiltered UPDATE/DELETE even if a caller forgot the check (defence in depth). */
function assertFiltered(where: readonly Filter[], what: string): void {
  if (where.length === 0) throw new Error(`refusing to build an unfiltered ${what}`);
}

/**
 * The WHERE of an update/delete. Bounded: the key of the rows the bounds pick, locked
 * (FOR UPDATE) so concurrent bounded writes each take their own rows instead of the same ones.
 */
function mutationWhere(plan: { relation: Relation; where: readonly Filter[]; bounds?: MutationBounds }): Fragment {
  const where = whereClause(plan.where, plan.relation);
  const b = plan.bounds;
  if (!b) return where;
  const key = b.key.map(quoteIdent).join(', ');
  const limit = b.limit === null ? EMPTY : sql` LIMIT ${b.limit}`;
  const offset = b.offset > 0 ? sql` OFFSET ${b.offset}` : EMPTY;
  return sql`${raw(` WHERE (${key}) IN (SELECT ${key} FROM ${qualified(plan.relation)}`)}${where}${raw(orderClause(b.order))}${limit}${offset} FOR UPDATE)`;
}

export function buildUpdate(plan: UpdatePlan): Statement {
  assertFiltered(plan.where, 'UPDATE');
  return render(sql`UPDATE ${raw(qualified(plan.relation))} SET ${setList(plan.set, plan.relation)}${mutationWhere(plan)}${raw(returning(plan.returning))}`);
}

export function buildDelete(plan: DeletePlan): Statement {
  assertFiltered(plan.where, 'DELETE');
  return render(sql`DELETE FROM ${raw(qualified(plan.relation))}${mutationWhere(plan)}${raw(returning(plan.returning))}`);
}
