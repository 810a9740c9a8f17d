import { describe, expect, it } from 'vitest';
import { translateSelect } from '../../worker/gateway/sql-select.js';

const ok = (text: string, params: unknown[] = []) => {
  const r = translateSelect(text, params);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
};
const refused = (text: string) => {
  const r = translateSelect(text, []);
  return r.ok ? 'accepted' : r.error.message;
};

describe('translateSelect', () => {
  it('the SDK grammar: quoted names, aliases, casts both sides, IN, IS, order and paging', () => {
    expect(
      ok(
        `SELECT "n", "a""b" AS "x" FROM "app"."w" WHERE "id"::text = 'it''s' AND "q" > -5 AND "o" IN ('1'::uuid, '2'::uuid) AND "d" IS NULL ORDER BY "n" DESC LIMIT 2 OFFSET 3;`,
      ),
    ).toEqual({
      table: 'app.w',
      columns: [
        { column: 'n', key: 'n' },
        { column: 'a"b', key: 'x' },
      ],
      where: [
        {
          kind: 'and',
          filters: [
            { kind: 'compare', column: 'id', op: 'eq', value: "it's", literal: true, columnCast: 'text' },
            { kind: 'compare', column: 'q', op: 'gt', value: '-5', literal: true },
            { kind: 'in', column: 'o', values: ['1', '2'], literal: true, valueCast: 'uuid' },
            { kind: 'is', column: 'd', value: null, negate: false },
          ],
        },
      ],
      sortBy: [{ field: 'n', direction: 'descending' }],
      limit: 2,
      offset: 3,
    });
  });

  it('numbers keep their exact text; $n takes params; FALSE is an empty OR; NOT LIKE negates', () => {
    expect(ok('SELECT * FROM t WHERE n = 12345678901234567890.000001').where).toEqual([
      { kind: 'compare', column: 'n', op: 'eq', value: '12345678901234567890.000001', literal: true },
    ]);
    expect(ok('SELECT * FROM t WHERE a = $2 AND b = $1', ['x', 7]).where[0]).toMatchObject({ filters: [{ value: 7 }, { value: 'x' }] });
    expect(ok('SELECT * FROM t WHERE FALSE').where).toEqual([{ kind: 'or', filters: [] }]);
    expect(ok(`SELECT * FROM t WHERE s NOT LIKE 'a%'`).where).toEqual([
      { kind: 'not', filter: { kind: 'compare', column: 's', op: 'like', value: 'a%', literal: true } },
    ]);
    expect(ok('SELECT * FROM t WHERE flag').where).toEqual([{ kind: 'compare', column: 'flag', op: 'eq', value: true, literal: true }]);
  });

  it('qualified columns must name this table (or its alias)', () => {
    expect(ok('SELECT w.n FROM app.w WHERE app.w.n = 1').columns).toEqual([{ column: 'n', key: 'n' }]);
    expect(refused('SELECT t.n FROM w AS x')).toContain('another table');
    expect(refused('SELECT x.n FROM w')).toContain('another table');
  });

  it('refuses, naming what', () => {
    const cases: [string, string][] = [
      ['SELECT count(*) FROM t', 'function call count()'],
      ['SELECT * FROM t WHERE a = (SELECT 1)', 'subquery'],
      ['SELECT * FROM t, u', 'more than one table'],
      ['SELECT DISTINCT a FROM t', 'DISTINCT'],
      ['SELECT * FROM t ORDER BY a NULLS FIRST', 'NULLS'],
      ['SELECT * FROM t WHERE a = NULL', 'never matches'],
      ['SELECT * FROM t WHERE a = b', 'column "b"'],
      ["SELECT * FROM t WHERE a::regclass = 'x'", 'cast to regclass'],
      ['SELECT a AS x, b AS x FROM t', 'two output columns'],
      ['SELECT * FROM t; SELECT 1', 'exactly one statement'],
      ['UPDATE t SET a = 1', 'UPDATE'],
      ['SELECT * FROM t WHERE a = $1', '$1 has no value'],
      ['SELECT * FROM t LIMIT -1', 'LIMIT'],
    ];
    for (const [text, named] of cases) expect(refused(text), text).toContain(named);
  });
});
