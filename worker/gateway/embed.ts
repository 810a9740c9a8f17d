/**
 * Embedding one level deep along a real foreign key: `owner:app.users(name)` on `widgets` →
 * the one foreign key between the two tables, in either direction. Base table holds the key →
 * to-one (object or null); the embedded table holds it → to-many (array). No key, or more than
 * one without a `!hint` → 400 saying which. Pure: catalog and keys are passed in.
 */
import { relationKey, resolveRelation, resolveRelationPair, type Catalog, type Relation } from './catalog.js';
import { fail, ok, type Result } from './filter.js';
import type { ForeignKey } from './foreign-keys.js';
import { planProjection } from './plan.js';
import type { EmbedSpec } from './select-list.js';
import type { Embed } from './sql.js';

const isFrom = (fk: ForeignKey, rel: Relation) => fk.fromSchema === rel.schema && fk.fromTable === rel.name;
const isTo = (fk: ForeignKey, rel: Relation) => fk.toSchema === rel.schema && fk.toTable === rel.name;

type Candidate = { fk: ForeignKey; many: boolean };

/** The embedded table: a foreign-key column of the base, else a table in the base's schema, else as written. */
function targetOf(base: Relation, spec: EmbedSpec, catalog: Catalog, fks: readonly ForeignKey[]): Result<{ target: Relation; viaColumn?: string }> {
  if (!spec.path.includes('.') && base.byName.has(spec.path)) {
    const fk = fks.find((k) => isFrom(k, base) && k.fromColumns.length === 1 && k.fromColumns[0] === spec.path);
    if (fk && catalog.relations.has(relationKey(fk.toSchema, fk.toTable))) {
      const allowed = resolveRelationPair(catalog, fk.toSchema, fk.toTable);
      return allowed.ok ? ok({ target: allowed.value, viaColumn: spec.path }) : allowed;
    }
  }
  if (!spec.path.includes('.') && base.schema !== 'public' && catalog.relations.has(relationKey(base.schema, spec.path))) {
    const r = resolveRelationPair(catalog, base.schema, spec.path);
    return r.ok ? ok({ target: r.value }) : r;
  }
  const r = resolveRelation(catalog, spec.path);
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

/** Resolves one embed of `base`; the caller checks the read scope on `embed.relation`. */
export function resolveEmbed(base: Relation, spec: EmbedSpec, catalog: Catalog, fks: readonly ForeignKey[]): Result<Embed> {
  const field = `select.${spec.key}`;
  const found = targetOf(base, spec, catalog, fks);
  if (!found.ok) return fail(found.error.code, `${field}: ${found.error.message}`, found.error.hint);
  const { target, viaColumn } = found.value;
  const candidates = candidatesOf(base, target, fks, viaColumn, spec.hint);
  const between = `${base.schema}.${base.name} and ${target.schema}.${target.name}`;
  const [only] = candidates;
  if (!only) {
    return fail('invalid_request', `${field}: no foreign key${spec.hint ? ` "${spec.hint}"` : ''} between ${between}`, 'Embedding follows a real foreign key between the two tables.');
  }
  if (candidates.length > 1) {
    const names = candidates.map((c) => c.fk.name).join(', ');
    return fail('invalid_request', `${field}: more than one foreign key between ${between} (${names})`, `Pick one with table!constraint(…), e.g. ${spec.path}!${only.fk.name}(…).`);
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
