import { describe, expect, it } from 'vitest';
import { parseConditions } from '../../worker/gateway/conditions.js';
import { parseNotString, parseOrString, LIMITS } from '../../worker/gateway/postgrest.js';
import type { RawCondition } from '../../worker/gateway/schemas.js';

const one = (c: RawCondition) => {
  const r = parseConditions([c]);
  if (!r.ok) throw new Error(r.error.message);
  return r.value[0];
};
const error = (c: RawCondition) => {
  const r = parseConditions([c]);
  if (r.ok) throw new Error('expected a parse error');
  return r.error;
};

describe('JSON conditions', () => {
  it('eq/neq null become IS [NOT] NULL; other comparisons keep their value', () => {
    expect(one({ operator: 'eq', column: 'a', value: null })).toEqual({ kind: 'is', column: 'a', value: null, negate: false });
    expect(one({ operator: 'neq', column: 'a', value: null })).toEqual({ kind: 'is', column: 'a', value: null, negate: true });
    expect(one({ operator: 'gte', column: 'lvl', value: 5 })).toEqual({ kind: 'compare', column: 'lvl', op: 'gte', value: 5 });
  });

  it('uses eq_column/eq_value when column/value are missing', () => {
    expect(one({ operator: 'eq', eq_column: 'id', eq_value: 'u1' })).toEqual({ kind: 'compare', column: 'id', op: 'eq', value: 'u1' });
  });

  it('is takes null/true/false only', () => {
    expect(one({ operator: 'is', column: 'a', value: true })).toEqual({ kind: 'is', column: 'a', value: true, negate: false });
    expect(one({ operator: 'is', column: 'a', value: 'FALSE' })).toEqual({ kind: 'is', column: 'a', value: false, negate: false });
    expect(error({ operator: 'is', column: 'a', value: 3 }).code).toBe('invalid_condition');
  });

  it('in takes arrays of scalars or a PostgREST list string', () => {
    expect(one({ operator: 'in', column: 'a', value: [] })).toEqual({ kind: 'in', column: 'a', values: [] });
    expect(one({ operator: 'in', column: 'a', value: '(1,"x,y")' })).toEqual({ kind: 'in', column: 'a', values: ['1', 'x,y'], literal: true });
    expect(error({ operator: 'in', column: 'a', value: [{ x: 1 }] }).code).toBe('invalid_condition');
    expect(error({ operator: 'in', column: 'a', value: 5 }).code).toBe('invalid_condition');
  });

  it('refuses missing columns, missing values, non-string like patterns and unknown casts', () => {
    expect(error({ operator: 'gt', value: 1 }).message).toContain('needs a column');
    expect(error({ operator: 'eq', column: 'a' }).message).toContain('needs a value');
    expect(error({ operator: 'lt', column: 'a', value: null }).code).toBe('invalid_condition');
    expect(error({ operator: 'like', column: 'a', value: 5 }).code).toBe('invalid_condition');
    expect(error({ operator: 'eq', column: 'a', value: 1, value_cast: 'text); DROP TABLE x; --' }).message).toContain('not an allowed cast');
  });

  it('keeps allowed casts and names the failing index', () => {
    expect(one({ operator: 'eq', column: 'a', value: 1, column_cast: 'TEXT' })).toMatchObject({ columnCast: 'text' });
    const r = parseConditions([
      { operator: 'eq', column: 'a', value: 1 },
      { operator: 'gt', column: 'b' },
    ]);
    expect(r.ok ? '' : r.error.message).toMatch(/^conditions\[1\]/);
  });

  it('not/or need a string value; a column alongside prefixes it', () => {
    expect(error({ operator: 'or', value: ['a.eq.1'] }).code).toBe('invalid_condition');
    expect(one({ operator: 'not', column: 'role', value: 'eq.banned' })).toEqual({
      kind: 'not',
      filter: { kind: 'compare', column: 'role', op: 'eq', value: 'banned', literal: true },
    });
  });
});

describe('PostgREST filter strings', () => {
  const or = (s: string) => {
    const r = parseOrString(s);
    if (!r.ok) throw new Error(r.error.message);
    return r.value;
  };
  const not = (s: string) => {
    const r = parseNotString(s);
    if (!r.ok) throw new Error(r.error.message);
    return r.value;
  };

  it('or lists become OR of leaves', () => {
    expect(or('role.eq.warrior, role.eq.mage')).toEqual({
      kind: 'or',
      filters: [
        { kind: 'compare', column: 'role', op: 'eq', value: 'warrior', literal: true },
        { kind: 'compare', column: 'role', op: 'eq', value: 'mage', literal: true },
      ],
    });
  });

  it('nests and()/or()/not.and(), quoted values, in lists, cs/cd and not. prefixes', () => {
    expect(or('and(level.gt.5,name.ilike.*o*),not.or(a.is.null,b.eq."x,y"),id.in.(1,"2,3"),tags.cs.{a,b},c.not.is.true')).toEqual({
      kind: 'or',
      filters: [
        {
          kind: 'and',
          filters: [
            { kind: 'compare', column: 'level', op: 'gt', value: '5', literal: true },
            { kind: 'compare', column: 'name', op: 'ilike', value: '%o%', literal: true },
          ],
        },
        {
          kind: 'not',
          filter: {
            kind: 'or',
            filters: [
              { kind: 'is', column: 'a', value: null, negate: false },
              { kind: 'compare', column: 'b', op: 'eq', value: 'x,y', literal: true },
            ],
          },
        },
        { kind: 'in', column: 'id', values: ['1', '2,3'], literal: true },
        { kind: 'contains', column: 'tags', value: '{a,b}', literal: true },
        { kind: 'not', filter: { kind: 'is', column: 'c', value: true, negate: false } },
      ],
    });
  });

  it('not takes one item whose value runs to the end (the SDK joins arrays with commas)', () => {
    expect(not('role.eq.banned')).toEqual({ kind: 'not', filter: { kind: 'compare', column: 'role', op: 'eq', value: 'banned', literal: true } });
    expect(not('id.in.1,2')).toEqual({ kind: 'not', filter: { kind: 'in', column: 'id', values: ['1', '2'], literal: true } });
    expect(not('email.eq.a,b@example.com')).toMatchObject({ filter: { value: 'a,b@example.com' } });
    expect(not('deleted_at.eq.null')).toEqual({ kind: 'not', filter: { kind: 'is', column: 'deleted_at', value: null, negate: false } });
  });

  it('rejects malformed strings with invalid_condition', () => {
    for (const bad of [
      '',
      'role',
      'role.eq',
      'a.eq.1,',
      'and(a.eq.1',
      'a.eq.1)',
      'a.eq."open',
      'a.fts.x',
      'a.is.maybe',
      ',',
      'a.constructor.x',
      'a.hasOwnProperty.1',
      'a.__proto__.1',
    ]) {
      const r = parseOrString(bad);
      expect(r.ok, bad).toBe(false);
      if (!r.ok) expect(r.error.code).toBe('invalid_condition');
    }
  });

  it('bounds length, depth and item count', () => {
    expect(parseOrString(`a.eq.${'x'.repeat(LIMITS.maxLength)}`).ok).toBe(false);
    const deep = `${'and('.repeat(LIMITS.maxDepth + 2)}a.eq.1${')'.repeat(LIMITS.maxDepth + 2)}`;
    expect(parseOrString(deep).ok).toBe(false);
    expect(parseOrString(Array.from({ length: LIMITS.maxItems + 1 }, (_, i) => `a.eq.${i}`).join(',')).ok).toBe(false);
  });

  it('keeps hostile text as a value, never as syntax', () => {
    const hostile = `x'); DROP TABLE users; --`;
    expect(or(`name.eq."${hostile}"`)).toEqual({ kind: 'or', filters: [{ kind: 'compare', column: 'name', op: 'eq', value: hostile, literal: true }] });
    expect(not(`name.eq.${hostile}`)).toEqual({ kind: 'not', filter: { kind: 'compare', column: 'name', op: 'eq', value: hostile, literal: true } });
    // Unquoted, the stray parenthesis makes the or-list malformed: refused, not guessed at.
    expect(parseOrString(`name.eq.${hostile}`).ok).toBe(false);
  });
});
