/**
 * The costliest SQL texts `POST /gateway/query` accepts, and two it refuses: each shape filled to
 * exactly the pre-scanner's caps (worker/gateway/sql-text.ts), so the parser gets as much of it as
 * it ever will. Scenario 13 times them in workerd; test/worker/hostile-query-text.test.ts checks
 * that they are still answered (and the over-cap ones refused). Every accepted shape stays inside
 * the filter-size caps too, so each is a query that really runs.
 */
import { checkSqlText, SQL_TEXT_LIMITS } from '../worker/gateway/sql-text.js';

/** The table and columns the texts name: an integer column and a text column. */
export type TextTarget = { table: string; int: string; text: string };

export type HostileText = { name: string; sql: string };

/** The largest `n` whose text passes the pre-scan (the text for `n = 1` must pass). */
function fill(make: (n: number) => string): string {
  let lo = 1;
  let hi = 2;
  while (checkSqlText(make(hi)).ok) {
    lo = hi;
    hi *= 2;
  }
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (checkSqlText(make(mid)).ok) lo = mid;
    else hi = mid;
  }
  return make(lo);
}

const repeat = (n: number, item: (i: number) => string, sep: string) => Array.from({ length: n }, (_, i) => item(i)).join(sep);

/** Every accepted worst shape: IN lists, OR/AND chains, nesting, long literals, many select items, casts, NOTs. */
export function textsAtCaps(t: TextTarget): HostileText[] {
  const from = `SELECT ${t.int} FROM ${t.table} WHERE `;
  const depth = SQL_TEXT_LIMITS.maxNesting;
  const literal = SQL_TEXT_LIMITS.maxChars - `${from}${t.text} = ''`.length;
  return [
    { name: 'in-list', sql: fill((n) => `${from}${t.int} IN (${repeat(n, () => '1', ',')})`) },
    { name: 'or-chain', sql: fill((n) => from + repeat(n, () => `${t.int} = 1`, ' OR ')) },
    { name: 'and-chain', sql: fill((n) => from + repeat(n, () => `${t.int} <> 1`, ' AND ')) },
    { name: 'or-of-ands', sql: fill((n) => from + repeat(n, () => `(${t.int} = 1 AND ${t.text} = 'x')`, ' OR ')) },
    { name: 'nested-parens', sql: fill((n) => `${from}${'('.repeat(depth)}${t.int} = 1${')'.repeat(depth)}${repeat(n, () => ` OR ${t.int} = 2`, '')}`) },
    // One NOT short of the cap: under the OR, a chain of all of them nests one level past what WHERE translates.
    { name: 'nots', sql: fill((n) => `${from}${'NOT '.repeat(SQL_TEXT_LIMITS.maxNots - 1)}${t.int} = 0${repeat(n, () => ` OR ${t.int} = 1`, '')}`) },
    { name: 'column-casts', sql: fill((n) => from + repeat(n, () => `${t.int}::text = '1'`, ' OR ')) },
    { name: 'select-items', sql: fill((n) => `SELECT ${repeat(n, (i) => `${t.int} AS c${i}`, ', ')} FROM ${t.table}`) },
    { name: 'long-literal', sql: `${from}${t.text} = '${'x'.repeat(literal)}'` },
  ];
}

/** Texts the pre-scan refuses: issue 24's 16 KB IN list (~8,000 items) and a 16 KB OR chain. */
export function textsBeyondCaps(t: TextTarget): HostileText[] {
  const from = `SELECT ${t.int} FROM ${t.table} WHERE `;
  const budget = SQL_TEXT_LIMITS.maxChars - from.length - 16;
  return [
    { name: 'in-list-16k', sql: `${from}${t.int} IN (${repeat(Math.floor(budget / 2), () => '1', ',')})` },
    { name: 'or-chain-16k', sql: from + repeat(Math.floor(budget / (t.int.length + 8)), () => `${t.int} = 1`, ' OR ') },
  ];
}
