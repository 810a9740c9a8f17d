/**
 * Embedding one level deep along a real foreign key: `owner:app.users(name)` on `widgets` →
 * the one foreign key between the two tables, in either direction. Base table holds the key →
 * to-one (object or null); the embedded table holds it → to-many (array). No key, or more than
 * one without a `!hint` → 400 saying which. Scope comes first: a table the key may not read is 403
 * before anything about it is looked up. Pure: catalog, keys and the scope check are passed in.
 */
import { scopeDenial } from '../auth/scope.js';
import type { TableRef } from '../auth/table-ref.js';
import { relationKey, resolveRelationPair, type Catalog, type Relation } from './catalog.js';
import { fail, ok, type Result } from './result.js';
import type { ForeignKey } from './foreign-keys.js';
import { planProjection } from './plan-columns.js';
import type { EmbedSpec } from './select-list.js';
import type { Embed } from './sql.js';

const isFrom = (fk: ForeignKey, rel: Relation) => fk.fromSchema === rel.schema && fk.fromTable === rel.name;
const isTo = (fk: ForeignKey, rel: Relation) => fk.toSchema === rel.schema && fk.toTable === rel.name;

type Candidate = { fk: ForeignKey; many: boolean };

/** Whether the key may read a (schema, table) pair: the caller's scope check, passed in. */
export type MayRead = (table: TableRef) => boolean;

/** The 403 every embed outside the key's scope gets, naming only the path as written. */
const denied = (spec: EmbedSpec): Result<never> => {
  const { message, hint } = scopeDenial('read', spec.path);
  return fail('scope_denied', message, hint);
};

/** A bare name that is a column of the base: a foreign-key column, whose target the catalog decides. */
const isColumnPath = (base: Relation, spec: EmbedSpec) => spec.target.schema === undefined && base.byName.has(spec.target.name);

/**
 * The (schema, table) pairs the embed may name as written, in the order they are tried: the
 * qualified pair itself; a bare name in the base's schema, then in `public`.
 */
function writtenTargets(base: Relation, { schema, name }: EmbedSpec['target']): TableRef[] {
  if (schema !== undefined) return [{ schema, name }];
  return base.schema === 'public'
    ? [{ schema: 'public', name }]
    : [
        { schema: base.schema, name },
        { schema: 'public', name },
      ];
}

/**
 * Scope before any catalog or foreign-key work: a path that names no table the key may read is
 * 403 whether that table, or the columns asked of it, exist or not. A foreign-key column of the
 * base passes here; its target is checked once the foreign key names it (resolveEmbed).
 */
export function checkEmbedScope(base: Relation, spec: EmbedSpec, mayRead: MayRead): Result<void> {
  return isColumnPath(base, spec) || writtenTargets(base, spec.target).some(mayRead) ? ok(undefined) : denied(spec);
}

/**
 * The embedded table: along the foreign key of a base column, else the first readable pair the
 * path names that exists (the last one tried answers unknown_table as written). Pairs outside the
 * key's scope are never looked up, so nothing about them is told.
 */
function targetOf(
  base: Relation,
  spec: EmbedSpec,
  catalog: Catalog,
  fks: readonly ForeignKey[],
  mayRead: MayRead,
): Result<{ target: Relation; viaColumn?: string }> {
  if (isColumnPath(base, spec)) {
    const column = spec.target.name;
    const fk = fks.find((k) => isFrom(k, base) && k.fromColumns.length === 1 && k.fromColumns[0] === column);
    if (fk && catalog.relations.has(relationKey(fk.toSchema, fk.toTable))) {
      const target = { schema: fk.toSchema, name: fk.toTable };
      if (!mayRead(target)) return denied(spec);
      const allowed = resolveRelationPair(catalog, target.schema, target.name, spec.path);
      return allowed.ok ? ok({ target: allowed.value, viaColumn: column }) : allowed;
    }
  }
  const readable = writtenTargets(base, spec.target).filter(mayRead);
  const last = readable[readable.length - 1];
  if (last === undefined) return denied(spec);
  const first = readable.find((t) => t !== last && catalog.relations.has(relationKey(t.schema, t.name))) ?? last;
  const r = resolveRelationPair(catalog, first.schema, first.name, spec.path);
  return r.ok ? ok({ target: r.value }) : r;
}

function candidatesOf(base: Relation, target: Relation, fks: readonly ForeignKey[], viaColumn: string | undefined, hint: string | undefined): Candidate[] {
  const out: Candidate[] = [];
  for (const fk of fks) {
    const matchesHint = hint === undefined || fk.name === hint || (fk.fromColumns.length === 1 && fk.fromColumns[0] === hint);
    if (!matchesHint) continue;
    if (isFrom(fk, base) && isTo(fk, target) && (viaColumn === undefined || fk.fromColumns.join() === viaColumn)) out.push({ fk, many: false });
    else if (viaColumn === undefined && isFrom(fk, target) && isTo(fk, base)) out.push({ fk, many: true });
  }
  return out;
}

/** Resolves one embed of `base`, reading only tables `mayRead` allows (403 as written otherwise). */
export function resolveEmbed(base: Relation, spec: EmbedSpec, catalog: Catalog, fks: readonly ForeignKey[], mayRead: MayRead): Result<Embed> {
  const field = `select.${spec.key}`;
  const found = targetOf(base, spec, catalog, fks, mayRead);
  if (!found.ok) return found.error.code === 'scope_denied' ? found : fail(found.error.code, `${field}: ${found.error.message}`, found.error.hint);
  const { target, viaColumn } = found.value;
  const candidates = candidatesOf(base, target, fks, viaColumn, spec.hint);
  const between = `${base.schema}.${base.name} and ${target.schema}.${target.name}`;
  const [only] = candidates;
  if (!only) {
    return fail(
      'invalid_request',
      `${field}: no foreign key${spec.hint ? ` "${spec.hint}"` : ''} between ${between}`,
      'Embedding follows a real foreign key between the two tables.',
    );
  }
  if (candidates.length > 1) {
    const names = candidates.map((c) => c.fk.name).join(', ');
    return fail(
      'invalid_request',
      `${field}: more than one foreign key between ${between} (${names})`,
      `Pick one with table!constraint(…), e.g. ${spec.path}!${only.fk.name}(…).`,
    );
  }
  const columns = planProjection(target, spec.columns, field);
  if (!columns.ok) return columns;
  const { fk, many } = only;
  // Pairs of (column of the embedded table, column of the base table) the join compares.
  const join = fk.fromColumns.map((from, i) => {
    const to = fk.toColumns[i] ?? '';
    return many ? { inner: from, outer: to } : { inner: to, outer: from };
  });
  return ok({ key: spec.key, relation: target, columns: columns.value, many, join });
}
