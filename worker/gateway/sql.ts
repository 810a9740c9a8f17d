/**
 * The SQL builder: validated plans → one statement with `$n` parameters. Identifiers come only
 * from the tenant catalog (plan.ts checked them) and are quoted anyway; every client value is a
 * bound parameter; casts come from a fixed table. Knows no HTTP and no driver.
 */
import type { Relation } from './catalog.js';
import type { Filter } from './filter.js';
import { bindValue, orderClause, Params, projection, qualified, quoteIdent, returning, whereClause, type Order, type Projection } from './sql-render.js';

/** Postgres' limit on bind parameters in one statement. */
export const MAX_PARAMS = 65_535;

import type { Statement } from '../../drizzle/statement.js';

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
  /** Rows come from this instead of the relation (a function call); its `$1..$n` are `params`. */
  source?: Source;
};

/** A FROM item with its own parameters, numbered from `$1`; they are bound before any filter value. */
export type Source = { text: string; params: readonly unknown[] };

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

export type UpdatePlan = { relation: Relation; set: Readonly<Record<string, unknown>>; where: readonly Filter[]; returning: Projection | null; bounds?: MutationBounds };
export type DeletePlan = { relation: Relation; where: readonly Filter[]; returning: Projection | null; bounds?: MutationBounds };

/**
 * A correlated subquery per embed. The embedded table is aliased, so `"schema"."table"."col"`
 * always means the outer (base) row, even when a table embeds itself.
 */
function embedColumn(e: Embed, base: Relation, limit: number, params: Params): string {
  const on = e.join.map((p) => `"_t".${quoteIdent(p.inner)} = ${qualified(base)}.${quoteIdent(p.outer)}`).join(' AND ');
  const inner = `SELECT ${projection(e.columns)} FROM ${qualified(e.relation)} AS "_t" WHERE ${on} LIMIT ${e.many ? params.add(limit) : '1'}`;
  return e.many
    ? `COALESCE((SELECT json_agg(row_to_json("_e")) FROM (${inner}) AS "_e"), '[]'::json) AS ${quoteIdent(e.key)}`
    : `(SELECT row_to_json("_e") FROM (${inner}) AS "_e") AS ${quoteIdent(e.key)}`;
}

/** The FROM item: the relation, or a source whose parameters take the first placeholders. */
function fromItem(relation: Relation, source: Source | undefined, params: Params): string {
  if (!source) return qualified(relation);
  for (const v of source.params) params.add(v);
  return source.text;
}

export function buildSelect(plan: SelectPlan): Statement {
  const params = new Params();
  const from = fromItem(plan.relation, plan.source, params);
  const embeds = (plan.embeds ?? []).map((e) => embedColumn(e, plan.relation, plan.embedLimit ?? plan.limit, params));
  const list = [plan.columns === '*' || plan.columns.length ? projection(plan.columns) : '', ...embeds].filter((x) => x !== '').join(', ');
  const where = whereClause(plan.where, plan.relation, params);
  const limit = params.add(plan.limit);
  const offset = params.add(plan.offset);
  return {
    text: `SELECT ${list} FROM ${from}${where}${orderClause(plan.order)} LIMIT ${limit} OFFSET ${offset}`,
    params: params.values,
  };
}

/** Total rows matching the filters (the `count` of a fetch). */
export function buildCount(relation: Relation, where: readonly Filter[], source?: Source): Statement {
  const params = new Params();
  const from = fromItem(relation, source, params);
  const clause = whereClause(where, relation, params);
  return { text: `SELECT count(*) AS count FROM ${from}${clause}`, params: params.values };
}

export function buildInsert(plan: InsertPlan): Statement {
  const params = new Params();
  const rel = plan.relation;
  const first = rel.columns[0];
  // No keys at all: name one column and insert DEFAULT, which works for any number of rows.
  const columns = plan.columns.length ? plan.columns : first ? [first.name] : [];
  const missing = plan.columns.length && plan.defaultToNull ? 'NULL' : 'DEFAULT';
  const values = plan.rows
    .map((row) => {
      const cells = columns.map((c) => (plan.columns.length && Object.hasOwn(row, c) ? params.add(bindValue(rel.byName.get(c), row[c])) : missing));
      return `(${cells.join(', ')})`;
    })
    .join(', ');
  let text = `INSERT INTO ${qualified(rel)} (${columns.map(quoteIdent).join(', ')}) VALUES ${values}`;
  if (plan.conflict) {
    const { target, action } = plan.conflict;
    text += ` ON CONFLICT (${target.map(quoteIdent).join(', ')})`;
    if (action.kind === 'nothing') text += ' DO NOTHING';
    else if (action.kind === 'excluded') text += ` DO UPDATE SET ${action.columns.map((c) => `${quoteIdent(c)} = EXCLUDED.${quoteIdent(c)}`).join(', ')}`;
    else text += ` DO UPDATE SET ${setList(action.values, rel, params)}`;
  }
  return { text: text + returning(plan.returning), params: params.values };
}

function setList(values: Readonly<Record<string, unknown>>, rel: Relation, params: Params): string {
  return Object.entries(values)
    .map(([c, v]) => `${quoteIdent(c)} = ${params.add(bindValue(rel.byName.get(c), v))}`)
    .join(', ');
}

/** Refuses to build an unfiltered UPDATE/DELETE even if a caller forgot the check (defence in depth). */
function assertFiltered(where: readonly Filter[], what: string): void {
  if (where.length === 0) throw new Error(`refusing to build an unfiltered ${what}`);
}

/**
 * The WHERE of an update/delete. Bounded: the key of the rows the bounds pick, locked
 * (FOR UPDATE) so concurrent bounded writes each take their own rows instead of the same ones.
 */
function mutationWhere(plan: { relation: Relation; where: readonly Filter[]; bounds?: MutationBounds }, params: Params): string {
  const where = whereClause(plan.where, plan.relation, params);
  const b = plan.bounds;
  if (!b) return where;
  const key = b.key.map(quoteIdent).join(', ');
  const limit = b.limit === null ? '' : ` LIMIT ${params.add(b.limit)}`;
  const offset = b.offset > 0 ? ` OFFSET ${params.add(b.offset)}` : '';
  return ` WHERE (${key}) IN (SELECT ${key} FROM ${qualified(plan.relation)}${where}${orderClause(b.order)}${limit}${offset} FOR UPDATE)`;
}

export function buildUpdate(plan: UpdatePlan): Statement {
  assertFiltered(plan.where, 'UPDATE');
  const params = new Params();
  const set = setList(plan.set, plan.relation, params);
  const where = mutationWhere(plan, params);
  return { text: `UPDATE ${qualified(plan.relation)} SET ${set}${where}${returning(plan.returning)}`, params: params.values };
}

export function buildDelete(plan: DeletePlan): Statement {
  assertFiltered(plan.where, 'DELETE');
  const params = new Params();
  const where = mutationWhere(plan, params);
  return { text: `DELETE FROM ${qualified(plan.relation)}${where}${returning(plan.returning)}`, params: params.values };
}
