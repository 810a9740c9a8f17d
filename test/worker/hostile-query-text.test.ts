/**
 * Hostile SQL text on `POST /gateway/query` (issue 24 findings 3, 9 and the `E'…'` part of 10):
 * a key that may read no table is refused before its body is read or parsed; texts past the
 * pre-scan's caps are 400 naming the cap; the costliest texts inside the caps still run (200);
 * `E'…'` strings are refused as docs/protocol-sql-rpc-transactions.md says; filter trees that
 * would make Postgres plan for seconds are 400 on this route and on fetch alike.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { newCaller, tableName, tenantSql, type Caller } from './gateway-support.js';
import { textsAtCaps, textsBeyondCaps } from '../../bench/hostile-texts.js';
import { SQL_TEXT_LIMITS } from '../../worker/gateway/sql-text.js';
import { FILTER_LIMITS } from '../../worker/gateway/filter-size.js';
import { expectNoTrace } from './traces.js';

const schema = tableName('hq');
const table = tableName('hq_rows');
const q = `"${schema}"."${table}"`;
let reader: Caller;
let rpcOnly: Caller;

beforeAll(async () => {
  await tenantSql(`CREATE SCHEMA ${schema}`);
  await tenantSql(`CREATE TABLE ${schema}.${table} (id int PRIMARY KEY, n int, label text, flag boolean)`);
  await tenantSql(`INSERT INTO ${schema}.${table} VALUES (1, 1, 'alpha', true), (2, 2, 'beta', false), (3, 3, 'gamma', NULL)`);
  reader = await newCaller('hostile-query-text', { scopes: { operations: ['read'], tables: [`${schema}.*`] } });
  rpcOnly = await newCaller('hostile-query-text', { scopes: { operations: ['rpc'], tables: [], functions: ['public.nothing_here'] } });
});

const target = { table: q, int: 'n', text: 'label' };

describe('a key that may read no table', () => {
  it("gets 403 for issue 24's 16 KB IN list and OR chain, not the 400 a reader gets for them", async () => {
    for (const { name, sql } of textsBeyondCaps(target)) {
      expect(sql.length, name).toBeGreaterThan(16_000);
      const denied = await rpcOnly.call('query', { query: sql });
      expect(denied.status, `${name}: ${denied.text}`).toBe(403);
      expect(denied.body.error?.code).toBe('scope_denied');
      expect(denied.body.error?.message).toBe('This API key may not read any table');
      expect((await reader.call('query', { query: sql })).status, name).toBe(400);
    }
  });

  it('is refused before the body is read or the text looked at: malformed JSON and comments are 403 too', async () => {
    expect((await rpcOnly.call('query', undefined, { raw: '{"query": ' })).status).toBe(403);
    expect((await rpcOnly.call('query', { query: `SELECT n FROM ${q} -- x` })).status).toBe(403);
    expect((await reader.call('query', { query: `SELECT n FROM ${q} -- x` })).status).toBe(400);
  });
});

describe('the pre-scan caps', () => {
  it('texts past them are 400 invalid_request naming the cap, with a hint', async () => {
    const { maxTokens, maxNesting, maxNots } = SQL_TEXT_LIMITS;
    const cases: [string, string][] = [
      [`SELECT n FROM ${q} WHERE n IN (${Array(maxTokens).fill('1').join(',')})`, `more than ${maxTokens} tokens`],
      [
        `SELECT n FROM ${q} WHERE ${Array(Math.ceil(maxTokens / 3))
          .fill('n = 1')
          .join(' OR ')}`,
        `more than ${maxTokens} tokens`,
      ],
      [
        `SELECT ${Array(Math.ceil(maxTokens / 2))
          .fill('n')
          .join(', ')} FROM ${q}`,
        `more than ${maxTokens} tokens`,
      ],
      [`SELECT n FROM ${q} WHERE ${'('.repeat(maxNesting + 1)}n = 1${')'.repeat(maxNesting + 1)}`, `nested deeper than ${maxNesting} parentheses`],
      [`SELECT n FROM ${q} WHERE ${'NOT '.repeat(maxNots + 1)}flag`, `more than ${maxNots} NOT operators`],
    ];
    for (const [sql, named] of cases) {
      const res = await reader.call('query', { query: sql });
      expect(res.status, sql.slice(0, 80)).toBe(400);
      expect(res.body.error?.code).toBe('invalid_request');
      expect(res.body.error?.message).toContain(named);
      expect(res.body.error?.hint ?? '').not.toBe('');
    }
  });

  it('the costliest texts inside them are answered with rows', async () => {
    const expected: Record<string, number[]> = {
      'in-list': [1],
      'or-chain': [1],
      'and-chain': [2, 3],
      'or-of-ands': [],
      'nested-parens': [1, 2],
      nots: [1, 2, 3],
      'column-casts': [1],
      'select-items': [1, 2, 3],
      'long-literal': [],
    };
    const texts = textsAtCaps(target);
    expect(texts.map((t) => t.name).sort()).toEqual(Object.keys(expected).sort());
    for (const { name, sql } of texts) {
      const res = await reader.call('query', { query: sql });
      expect(res.status, `${name}: ${res.text.slice(0, 300)}`).toBe(200);
      const rows = res.body.data.map((r) => (name === 'select-items' ? r.c0 : r.n)).sort();
      expect(rows, name).toEqual(expected[name]);
    }
  });
});

describe("E'…' strings", () => {
  it('are 400, as the docs say, whatever they hold', async () => {
    for (const sql of [`SELECT n FROM ${q} WHERE label = E'x\\\\'`, `SELECT n FROM ${q} WHERE label = e'alpha'`]) {
      const res = await reader.call('query', { query: sql });
      expect(res.status, sql).toBe(400);
      expect(res.body.error?.message).toBe("query: E'…' escape strings are not accepted");
    }
    // The same value as a standard string is fine (a backslash is a plain character there).
    expect((await reader.call('query', { query: `SELECT n FROM ${q} WHERE label = 'x\\' OR n = 1` })).body.data).toEqual([{ n: 1 }]);
  });
});

describe('plan size', () => {
  // Short groups: 9 of them stay under the token cap, so the group cap is what refuses.
  const groups = (k: number) => Array.from({ length: k }, () => '(flag OR n = 2)').join(' AND ');

  it(`nested (… OR …) groups: ${FILTER_LIMITS.maxOrGroups} run, one more is 400 naming the cap`, async () => {
    const atCap = await reader.call('query', { query: `SELECT n FROM ${q} WHERE ${groups(FILTER_LIMITS.maxOrGroups)} ORDER BY n` });
    expect(atCap.status, atCap.text).toBe(200);
    expect(atCap.body.data).toEqual([{ n: 1 }, { n: 2 }]);
    const over = await reader.call('query', { query: `SELECT n FROM ${q} WHERE ${groups(FILTER_LIMITS.maxOrGroups + 1)}` });
    expect(over.status, over.text).toBe(400);
    expect(over.body.error).toMatchObject({ code: 'invalid_condition', message: `The filter has more than ${FILTER_LIMITS.maxOrGroups} OR groups` });
  });

  it('the same caps hold on /gateway/fetch: OR strings in conditions, and predicates', async () => {
    const orConditions = (k: number) => Array.from({ length: k }, () => ({ operator: 'or', value: 'n.eq.1,n.eq.2' }));
    const fetch = (conditions: unknown[]) => reader.call('fetch', { table_name: `${schema}.${table}`, columns: 'n', conditions });
    const atCap = await fetch(orConditions(FILTER_LIMITS.maxOrGroups));
    expect(atCap.status, atCap.text).toBe(200);
    expect(atCap.body.data.map((r) => r.n).sort()).toEqual([1, 2]);
    const over = await fetch(orConditions(FILTER_LIMITS.maxOrGroups + 1));
    expect(over.status, over.text).toBe(400);
    expect(over.body.error?.message).toBe(`The filter has more than ${FILTER_LIMITS.maxOrGroups} OR groups`);
    const wide = `n.eq.1,${Array.from({ length: FILTER_LIMITS.maxPredicates }, (_, i) => `n.eq.${i + 10}`).join(',')}`;
    const many = await fetch([{ operator: 'or', value: wide }]);
    expect(many.status, many.text).toBe(400);
    expect(many.body.error?.message).toBe(`The filter has more than ${FILTER_LIMITS.maxPredicates} predicates`);
  });
});

describe('what a refused text leaves behind', () => {
  const SECRET = `qt-secret-${crypto.randomUUID()}`;
  const logged = { vars: { REQUEST_LOG: 'all' } };

  it('a literal in the text reaches no answer, header, worker log or log table, whatever refuses it', async () => {
    const { maxTokens } = SQL_TEXT_LIMITS;
    const cases: [Caller, string, number][] = [
      [rpcOnly, `SELECT n FROM ${q} WHERE label = '${SECRET}'`, 403],
      [reader, `SELECT n FROM ${q} WHERE label IN ('${SECRET}', ${Array(maxTokens).fill("'x'").join(',')})`, 400],
      [reader, `SELECT n FROM ${q} WHERE label = E'${SECRET}'`, 400],
      [reader, `SELECT password FROM public.users WHERE password = '${SECRET}'`, 403],
      [reader, `SELECT n FROM ${q} WHERE label = '${SECRET}'`, 200],
    ];
    for (const [caller, sql, status] of cases) {
      const res = await expectNoTrace(() => caller.call('query', { query: sql }, logged), [SECRET]);
      expect(res.status, `${sql.slice(0, 80)}: ${res.text.slice(0, 200)}`).toBe(status);
    }
  });
});
