/**
 * The pre-scan of `/gateway/query` text (worker/gateway/sql-text.ts): what it refuses before the
 * parser runs, that each cap is exact (the cap passes, one more is refused, naming the limit), and
 * that quoting is read the way the parser reads it.
 */
import { describe, expect, it } from 'vitest';
import { checkSqlText, SQL_TEXT_LIMITS } from '../../worker/gateway/sql-text.js';
import { textsAtCaps, textsBeyondCaps } from '../../bench/hostile-texts.js';

const { maxTokens, maxNesting, maxNots, maxChars } = SQL_TEXT_LIMITS;
const refusal = (text: string) => {
  const r = checkSqlText(text);
  return r.ok ? null : r.error;
};

describe('tokens', () => {
  it('counts words, literals, parameters, operators and punctuation, one each', () => {
    // SELECT a , "b c" FROM t WHERE x >= 'it''s' AND y :: int = $12 ; → 17 tokens
    const text = `SELECT a, "b c" FROM t WHERE x >= 'it''s' AND y::int = $12;`;
    expect(refusal(text)).toBeNull();
    const padded = (n: number) => `${text}${' ;'.repeat(n)}`;
    expect(refusal(padded(maxTokens - 17))).toBeNull();
    expect(refusal(padded(maxTokens - 16))).toMatchObject({
      code: 'invalid_request',
      message: `query: more than ${maxTokens} tokens (names, literals, operators and punctuation)`,
    });
  });

  it('an IN list at the cap passes and one more item is refused, with a hint', () => {
    const list = (n: number) => `SELECT id FROM t WHERE id IN (${Array(n).fill('1').join(',')})`;
    // SELECT id FROM t WHERE id IN ( ) = 9 tokens, plus n items and n - 1 commas
    const n = Math.floor((maxTokens - 8) / 2);
    expect(refusal(list(n))).toBeNull();
    const over = refusal(list(n + 1));
    expect(over?.message).toContain(`more than ${maxTokens} tokens`);
    expect(over?.hint).toMatch(/in" condition/);
  });

  it('numbers with exponents, decimals and operator runs are one token each', () => {
    const t = (expr: string, n: number) => `${'x '.repeat(maxTokens - n)}${expr}`;
    for (const [expr, n] of [
      ['1.5e-3', 1],
      ['.5', 1],
      ['>=', 1],
      ['a<>b', 3],
      ['a::text', 3],
      ['$1', 1],
    ] as const) {
      expect(refusal(t(expr, n)), expr).toBeNull();
      expect(refusal(`x ${t(expr, n)}`), expr).not.toBeNull();
    }
  });

  it('refuses a 16 KB text of tokens after reading only up to the cap', () => {
    for (const { name, sql } of textsBeyondCaps({ table: 't', int: 'id', text: 'title' })) {
      expect(sql.length, name).toBeGreaterThan(maxChars - 100);
      expect(refusal(sql)?.message, name).toContain(`more than ${maxTokens} tokens`);
    }
  });

  it('every worst shape of the bench is accepted (it is filled to the caps)', () => {
    const texts = textsAtCaps({ table: 't', int: 'id', text: 'title' });
    expect(texts.map((t) => t.name)).toContain('in-list');
    for (const { name, sql } of texts) expect(refusal(sql), name).toBeNull();
  });
});

describe('depth, NOTs and length', () => {
  it('parentheses: the nesting cap passes, one more is refused', () => {
    expect(refusal(`${'('.repeat(maxNesting)}${')'.repeat(maxNesting)}`)).toBeNull();
    expect(refusal(`${'('.repeat(maxNesting + 1)}${')'.repeat(maxNesting + 1)}`)?.message).toBe(`query: nested deeper than ${maxNesting} parentheses`);
    // Depth, not count: many shallow groups are fine.
    expect(refusal('(a) '.repeat(maxNesting + 4))).toBeNull();
  });

  it('NOT: the cap passes, one more is refused; NOT inside quotes or words does not count', () => {
    expect(refusal('NOT '.repeat(maxNots))).toBeNull();
    expect(refusal('not '.repeat(maxNots + 1))?.message).toBe(`query: more than ${maxNots} NOT operators`);
    expect(refusal(`SELECT 'NOT NOT' FROM nothing WHERE notes = 1 AND "not" = 2 ${'NOT '.repeat(maxNots)}`)).toBeNull();
  });

  it('a long literal is a single token; past maxChars the text is 413', () => {
    expect(refusal(`SELECT a FROM t WHERE b = '${'x'.repeat(maxChars - 40)}'`)).toBeNull();
    expect(refusal(`SELECT a FROM t WHERE b = '${'x'.repeat(maxChars)}'`)).toMatchObject({ code: 'payload_too_large' });
  });
});

describe('quoting and what is refused outright', () => {
  it("E'…' escape strings are refused (e or E right before the quote), other words ending in e are not", () => {
    for (const text of ["SELECT id FROM t WHERE a = E'x\\\\'", "SELECT id FROM t WHERE a = e'x'", "SELECT id FROM t WHERE a = E'\\''; DROP TABLE t; --'"]) {
      expect(refusal(text), text).toMatchObject({ code: 'invalid_request', message: "query: E'…' escape strings are not accepted" });
    }
    expect(refusal("SELECT id FROM t WHERE title = 'E' AND name = 'e'")).toBeNull();
    expect(refusal(`SELECT id FROM t WHERE "E"='x' AND type = 'x'`)).toBeNull();
  });

  it('comments, dollar quotes and NUL are refused; inside quotes they are plain text', () => {
    expect(refusal('SELECT 1 -- x')?.message).toBe('query: SQL comments are not accepted');
    expect(refusal('SELECT /* x */ 1')?.message).toBe('query: SQL comments are not accepted');
    expect(refusal('SELECT 1 <-- 2')?.message).toBe('query: SQL comments are not accepted');
    expect(refusal('SELECT $$x$$')?.message).toBe('query: dollar-quoted strings are not accepted');
    expect(refusal('SELECT $tag$x$tag$')?.message).toBe('query: dollar-quoted strings are not accepted');
    expect(refusal('SELECT \u0000')?.message).toBe('query: contains a NUL character');
    expect(refusal(`SELECT * FROM t WHERE a = '--not a comment /* $$ E''x' AND "x--""" = 1`)).toBeNull();
  });

  it('an unterminated quote runs to the end as one token (the parser then refuses it)', () => {
    expect(refusal(`SELECT '${' ;'.repeat(maxTokens)}`)).toBeNull();
  });
});
