/**
 * The plan-size caps (worker/gateway/filter-size.ts) on filter trees from every spelling: SQL text,
 * `conditions` with PostgREST `or` strings and structured `where` all end as the same tree, and the
 * trees that make Postgres plan for seconds (many OR groups under AND) are refused.
 */
import { describe, expect, it } from 'vitest';
import { checkFilterSize, FILTER_LIMITS } from '../../worker/gateway/filter-size.js';
import { parseConditions } from '../../worker/gateway/conditions.js';
import { parseWhere } from '../../worker/gateway/structured.js';
import { translateSelect } from '../../worker/gateway/sql-select.js';
import type { Filter } from '../../worker/gateway/filter.js';

const { maxPredicates, maxOrGroups } = FILTER_LIMITS;
const eq = (v: number): Filter => ({ kind: 'compare', column: 'id', op: 'eq', value: v });
const orGroup = (): Filter => ({ kind: 'or', filters: [eq(1), eq(2)] });
const sized = (where: Filter[]) => {
  const r = checkFilterSize(where);
  return r.ok ? 'ok' : r.error.message;
};

describe('checkFilterSize', () => {
  it('predicates: the cap passes, one more is refused; an IN list is one predicate', () => {
    expect(sized(Array.from({ length: maxPredicates }, (_, i) => eq(i)))).toBe('ok');
    expect(sized(Array.from({ length: maxPredicates + 1 }, (_, i) => eq(i)))).toBe(`The filter has more than ${maxPredicates} predicates`);
    expect(sized([{ kind: 'in', column: 'id', values: Array.from({ length: 5000 }, (_, i) => i) }])).toBe('ok');
  });

  it('OR groups under AND: the cap passes, one more is refused; one long OR is one group', () => {
    expect(sized(Array.from({ length: maxOrGroups }, orGroup))).toBe('ok');
    expect(sized(Array.from({ length: maxOrGroups + 1 }, orGroup))).toBe(`The filter has more than ${maxOrGroups} OR groups`);
    expect(sized([{ kind: 'or', filters: Array.from({ length: maxPredicates }, (_, i) => eq(i)) }])).toBe('ok');
    // A one-armed OR is no choice at all.
    expect(sized(Array.from({ length: maxOrGroups + 4 }, () => ({ kind: 'or' as const, filters: [eq(1)] })))).toBe('ok');
  });

  it('NOT over AND counts as an OR (Postgres rewrites it so); NOT over OR does not', () => {
    const notAnd: Filter = { kind: 'not', filter: { kind: 'and', filters: [eq(1), eq(2)] } };
    const notOr: Filter = { kind: 'not', filter: orGroup() };
    expect(sized(Array.from({ length: maxOrGroups + 1 }, () => notAnd))).toMatch(/OR groups/);
    expect(sized(Array.from({ length: maxOrGroups + 1 }, () => notOr))).toBe('ok');
    const doubleNot: Filter = { kind: 'not', filter: { kind: 'not', filter: orGroup() } };
    expect(sized(Array.from({ length: maxOrGroups + 1 }, () => doubleNot))).toMatch(/OR groups/);
  });
});

describe('the same caps reach every spelling', () => {
  it('conditions with PostgREST or strings: 100 conditions of 100 items parse, and are too big to plan', () => {
    const orString = Array.from({ length: 100 }, (_, i) => `id.eq.${i}`).join(',');
    const parsed = parseConditions(Array.from({ length: 100 }, () => ({ operator: 'or' as const, value: orString })));
    expect(parsed.ok).toBe(true);
    if (parsed.ok) expect(sized(parsed.value)).toMatch(/more than/);
  });

  it('structured where: nine OR groups under AND are refused', () => {
    const parsed = parseWhere({ and: Array.from({ length: maxOrGroups + 1 }, (_, i) => ({ or: [{ id: i }, { id: i + 1 }] })) });
    expect(parsed.ok).toBe(true);
    if (parsed.ok) expect(sized(parsed.value)).toBe(`The filter has more than ${maxOrGroups} OR groups`);
  });

  it('SQL text: (… OR …) groups under AND are refused; a flat OR chain of the same size is one group', () => {
    // Short groups: one more than the cap still fits the text's token cap, so the group cap refuses.
    const group = '(done OR id = 2)';
    const nested = translateSelect(
      `SELECT id FROM t WHERE ${Array(maxOrGroups + 1)
        .fill(group)
        .join(' AND ')}`,
      [],
    );
    expect(nested.ok).toBe(true);
    if (nested.ok) expect(sized(nested.value.where)).toBe(`The filter has more than ${maxOrGroups} OR groups`);
    const flat = translateSelect(
      `SELECT id FROM t WHERE ${Array(2 * (maxOrGroups + 1))
        .fill('id = 1')
        .join(' OR ')}`,
      [],
    );
    if (flat.ok) expect(sized(flat.value.where)).toBe('ok');
    expect(flat.ok).toBe(true);
  });
});
