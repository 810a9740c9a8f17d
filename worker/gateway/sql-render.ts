/**
 * SQL pieces for the builders in sql.ts: quoted identifiers, projections, and the WHERE / ORDER BY
 * clauses of a filter tree as fragments. Every client value is a bound parameter of its fragment,
 * numbered when the statement is rendered.
 */
import { EMPTY, join, param, quoteIdent, raw, sql, type Fragment } from '../../drizzle/statement.js';
import type { ColumnInfo, Relation } from './catalog.js';
import { CASTS, type CastName, type Filter } from './filter.js';

/** A checked column with the key it is returned under and an allowed cast. */
export type ProjectedColumn = { column: string; alias?: string; cast?: CastName };
/** A plain column name, `'*'` (every column) or a column with alias/cast. */
export type ProjectionItem = string | ProjectedColumn;
/** Checked columns or every column. */
export type Projection = readonly ProjectionItem[] | '*';
export type Order = { column: string; descending: boolean };

export const qualified = (rel: Relation) => `${quoteIdent(rel.schema)}.${quoteIdent(rel.name)}`;
function projectionItem(item: ProjectionItem): string {
  if (item === '*') return '*';
  if (typeof item === 'string') return quoteIdent(item);
  const col = item.cast ? `${quoteIdent(item.column)}::${CASTS[item.cast]}` : quoteIdent(item.column);
  return `${col} AS ${quoteIdent(item.alias ?? item.column)}`;
}
export const projection = (p: Projection) => (p === '*' ? '*' : p.map(projectionItem).join(', '));
export const returning = (p: Projection | null) => (p === null ? '' : ` RETURNING ${projection(p)}`);

/** A client value as a parameter, with an allowed cast. */
const bound = (value: unknown, cast?: CastName): Fragment => param(value, cast && CASTS[cast]);

/** JSON columns get JSON text (so arrays/objects/strings arrive as JSON); other values go as-is. */
export function bindValue(column: ColumnInfo | undefined, value: unknown, literal = false): unknown {
  if (value === null || value === undefined) return null;
  if (column?.json && !literal) return JSON.stringify(value);
  return value;
}

const COMPARE_SQL = { eq: '=', neq: '<>', gt: '>', gte: '>=', lt: '<', lte: '<=', like: 'LIKE', ilike: 'ILIKE' } as const;

function renderFilter(f: Filter, rel: Relation): Fragment {
  switch (f.kind) {
    case 'and':
    case 'or':
      if (f.filters.length === 0) return raw(f.kind === 'and' ? 'TRUE' : 'FALSE');
      return sql`(${join(
        f.filters.map((x) => renderFilter(x, rel)),
        f.kind === 'and' ? ' AND ' : ' OR ',
      )})`;
    case 'not':
      return sql`NOT (${renderFilter(f.filter, rel)})`;
    case 'is': {
      const what = f.value === null ? 'NULL' : f.value ? 'TRUE' : 'FALSE';
      return raw(`${quoteIdent(f.column)} IS ${f.negate ? 'NOT ' : ''}${what}`);
    }
    case 'compare': {
      const col = rel.byName.get(f.column);
      const lhs = f.columnCast ? `${quoteIdent(f.column)}::${CASTS[f.columnCast]}` : quoteIdent(f.column);
      const asJson = !f.columnCast && (!f.valueCast || f.valueCast === 'json' || f.valueCast === 'jsonb');
      return sql`${raw(`${lhs} ${COMPARE_SQL[f.op]} `)}${bound(bindValue(asJson ? col : undefined, f.value, f.literal), f.valueCast)}`;
    }
    case 'in': {
      if (f.values.length === 0) return raw('FALSE');
      const col = rel.byName.get(f.column);
      const lhs = f.columnCast ? `${quoteIdent(f.column)}::${CASTS[f.columnCast]}` : quoteIdent(f.column);
      const bindAsJson = f.columnCast ? undefined : col;
      return sql`${raw(`${lhs} IN (`)}${join(
        f.values.map((v) => bound(bindValue(bindAsJson, v, f.literal), f.valueCast)),
        ', ',
      )})`;
    }
    case 'contains':
    case 'containedBy': {
      const col = rel.byName.get(f.column);
      const op = f.kind === 'contains' ? '@>' : '<@';
      return sql`${raw(`${quoteIdent(f.column)} ${op} `)}${bound(bindValue(col, f.value, f.literal))}`;
    }
  }
}

export function whereClause(where: readonly Filter[], rel: Relation): Fragment {
  if (where.length === 0) return EMPTY;
  return sql` WHERE ${join(
    where.map((f) => sql`(${renderFilter(f, rel)})`),
    ' AND ',
  )}`;
}

export const orderClause = (order: readonly Order[]) =>
  order.length ? ` ORDER BY ${order.map((o) => `${quoteIdent(o.column)} ${o.descending ? 'DESC' : 'ASC'}`).join(', ')}` : '';
