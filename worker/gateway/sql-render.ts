/**
 * SQL fragments for the builders in sql.ts: quoted identifiers, projections, bound parameters and
 * the WHERE / ORDER BY clauses of a filter tree. Every client value becomes a `$n` parameter.
 */
import type { ColumnInfo, Relation } from './catalog.js';
import { CASTS, type CastName, type Filter } from './filter.js';

/** A checked column with the key it is returned under and an allowed cast. */
export type ProjectedColumn = { column: string; alias?: string; cast?: CastName };
/** A plain column name, `'*'` (every column) or a column with alias/cast. */
export type ProjectionItem = string | ProjectedColumn;
/** Checked columns or every column. */
export type Projection = readonly ProjectionItem[] | '*';
export type Order = { column: string; descending: boolean };

/** `"a""b"`: double quotes doubled, so any catalog name is one identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export const qualified = (rel: Relation) => `${quoteIdent(rel.schema)}.${quoteIdent(rel.name)}`;
function projectionItem(item: ProjectionItem): string {
  if (item === '*') return '*';
  if (typeof item === 'string') return quoteIdent(item);
  const col = item.cast ? `${quoteIdent(item.column)}::${CASTS[item.cast]}` : quoteIdent(item.column);
  return `${col} AS ${quoteIdent(item.alias ?? item.column)}`;
}
export const projection = (p: Projection) => (p === '*' ? '*' : p.map(projectionItem).join(', '));
export const returning = (p: Projection | null) => (p === null ? '' : ` RETURNING ${projection(p)}`);

/** Collects parameters and hands out their placeholders. */
export class Params {
  readonly values: unknown[] = [];
  add(value: unknown, cast?: CastName): string {
    this.values.push(value);
    return cast ? `$${this.values.length}::${CASTS[cast]}` : `$${this.values.length}`;
  }
}

/** JSON columns get JSON text (so arrays/objects/strings arrive as JSON); other values go as-is. */
export function bindValue(column: ColumnInfo | undefined, value: unknown, literal = false): unknown {
  if (value === null || value === undefined) return null;
  if (column?.json && !literal) return JSON.stringify(value);
  return value;
}

const COMPARE_SQL = { eq: '=', neq: '<>', gt: '>', gte: '>=', lt: '<', lte: '<=', like: 'LIKE', ilike: 'ILIKE' } as const;

function renderFilter(f: Filter, rel: Relation, params: Params): string {
  switch (f.kind) {
    case 'and':
    case 'or':
      if (f.filters.length === 0) return f.kind === 'and' ? 'TRUE' : 'FALSE';
      return `(${f.filters.map((x) => renderFilter(x, rel, params)).join(f.kind === 'and' ? ' AND ' : ' OR ')})`;
    case 'not':
      return `NOT (${renderFilter(f.filter, rel, params)})`;
    case 'is': {
      const what = f.value === null ? 'NULL' : f.value ? 'TRUE' : 'FALSE';
      return `${quoteIdent(f.column)} IS ${f.negate ? 'NOT ' : ''}${what}`;
    }
    case 'compare': {
      const col = rel.byName.get(f.column);
      const lhs = f.columnCast ? `${quoteIdent(f.column)}::${CASTS[f.columnCast]}` : quoteIdent(f.column);
      const asJson = !f.columnCast && (!f.valueCast || f.valueCast === 'json' || f.valueCast === 'jsonb');
      const rhs = params.add(bindValue(asJson ? col : undefined, f.value, f.literal), f.valueCast);
      return `${lhs} ${COMPARE_SQL[f.op]} ${rhs}`;
    }
    case 'in': {
      if (f.values.length === 0) return 'FALSE';
      const col = rel.byName.get(f.column);
      const lhs = f.columnCast ? `${quoteIdent(f.column)}::${CASTS[f.columnCast]}` : quoteIdent(f.column);
      const bindAsJson = f.columnCast ? undefined : col;
      return `${lhs} IN (${f.values.map((v) => params.add(bindValue(bindAsJson, v, f.literal), f.valueCast)).join(', ')})`;
    }
    case 'contains':
    case 'containedBy': {
      const col = rel.byName.get(f.column);
      const op = f.kind === 'contains' ? '@>' : '<@';
      return `${quoteIdent(f.column)} ${op} ${params.add(bindValue(col, f.value, f.literal))}`;
    }
  }
}

export function whereClause(where: readonly Filter[], rel: Relation, params: Params): string {
  if (where.length === 0) return '';
  return ` WHERE ${where.map((f) => `(${renderFilter(f, rel, params)})`).join(' AND ')}`;
}

export const orderClause = (order: readonly Order[]) =>
  order.length ? ` ORDER BY ${order.map((o) => `${quoteIdent(o.column)} ${o.descending ? 'DESC' : 'ASC'}`).join(', ')}` : '';
