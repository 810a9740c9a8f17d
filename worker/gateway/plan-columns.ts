/**
 * Client-sent column names → catalog names: each is checked against the relation's columns, and a
 * projection (plain names, aliases, casts) is planned from them. Pure: no I/O, no HTTP.
 */
import type { Relation } from './catalog.js';
import { clipped } from './clip.js';
import { fail, ok, type Result } from './result.js';
import { parseColumnToken, parseSelectTokens } from './select-list.js';
import type { ProjectedColumn, Projection, ProjectionItem } from './sql-render.js';

const shown = (s: string) => clipped(s, 64);

export function checkColumn(rel: Relation, name: string, field: string): Result<string> {
  if (rel.byName.has(name)) return ok(name);
  return fail('unknown_column', `${field}: unknown column "${shown(name)}" on ${rel.schema}.${rel.name}`);
}

export function checkColumns(rel: Relation, names: Iterable<string>, field: string): Result<string[]> {
  const out: string[] = [];
  for (const n of names) {
    const c = checkColumn(rel, n, field);
    if (!c.ok) return c;
    out.push(n);
  }
  return ok(out);
}

/**
 * `"*"`, `"id, email"`, `["id","email"]`, aliases (`num:n`, `n as num`) and casts (`n::text`) →
 * checked projection. Plain lists stay plain names (or `'*'`); embeds are refused here (fetch
 * resolves them first, embed.ts).
 */
export function planProjection(rel: Relation, columns: string | readonly string[] | undefined, field = 'columns'): Result<Projection> {
  if (columns === undefined) return ok('*');
  const list = parseSelectTokens(columns, field);
  if (!list.ok) return list;
  if (list.value.embeds.length > 0) {
    return fail('invalid_request', `${field}: embedded relations are only served by fetch`, 'List columns, alias:column or column::cast, or "*".');
  }
  const items: ProjectionItem[] = [];
  for (const raw of list.value.columns) {
    if (raw === '*') {
      items.push('*');
      continue;
    }
    const item = planColumnToken(rel, raw, field);
    if (!item.ok) return item;
    items.push(item.value);
  }
  if (items.length === 0 || items.every((i) => typeof i === 'string')) {
    const names = items as string[];
    if (names.length === 0 || names.includes('*')) return ok('*');
    return ok([...new Set(names)]);
  }
  return ok(items);
}

/** One token → a catalog column, with its alias and cast when given. */
function planColumnToken(rel: Relation, raw: string, field: string): Result<ProjectionItem> {
  // A real column whose name contains ":" or "." wins over the token grammar.
  if (rel.byName.has(raw.trim())) return ok(raw.trim());
  const token = parseColumnToken(raw, field);
  if (!token.ok) return token;
  const { column, alias, cast, prefix } = token.value;
  let name = column;
  if (prefix !== undefined && prefix !== rel.name && prefix !== `${rel.schema}.${rel.name}`) name = `${prefix}.${column}`;
  const checked = checkColumn(rel, name, field);
  if (!checked.ok) return checked;
  if (alias === undefined && cast === undefined) return ok(name);
  const item: ProjectedColumn = { column: name };
  if (alias !== undefined) item.alias = alias;
  if (cast !== undefined) item.cast = cast;
  return ok(item);
}
