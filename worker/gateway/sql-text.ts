/**
 * Lexical checks on SQL text before it reaches the parser, in one linear pass: a length cap, a
 * token cap, a parenthesis-depth cap, a NOT cap, and no comments, NUL, `E'…'` or dollar-quoted
 * strings. The parser (pgsql-ast-parser) is an Earley parser whose time grows faster than linearly
 * with the number of tokens and whose stack grows with nesting, so what it may cost is bounded
 * here, by counting, before it runs (docs/protocol-sql-rpc-transactions.md "Text limits"). Pure.
 */
import { fail, ok, type Result } from './result.js';

/**
 * The caps. `maxTokens` is what bounds the parse: at 128 the costliest accepted shape took 6 ms of
 * workerd CPU on the loaded 2-core dev machine, at 256 up to 17 ms (docs/performance.md "SQL
 * text"); four such requests queued ahead of a `/health` must stay inside 50 ms p99, which 128
 * missed on a quiet machine (58.6 ms) and 96 meets (43–46 ms). Long
 * string literals cost little, so `maxChars` only bounds the body.
 */
export const SQL_TEXT_LIMITS = { maxChars: 16_384, maxTokens: 96, maxNesting: 16, maxNots: 32 } as const;

const TOKENS_HINT = 'Shorten the statement, or send a long IN list as a /gateway/fetch "in" condition (one condition, any number of values).';
const OPERATOR_CHARS = new Set('+-*/<>=~!@#%^&|`?');
const isDigit = (ch: string | undefined) => ch !== undefined && ch >= '0' && ch <= '9';
/** Letters, `_`, and any non-ASCII character (Postgres allows those in identifiers). */
const isIdentStart = (ch: string | undefined) => ch !== undefined && ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch === '_' || ch > '\u007f');
const isIdentPart = (ch: string | undefined) => isIdentStart(ch) || isDigit(ch) || ch === '$';

/** Where the token starting at `i` ends (exclusive), or a refusal. */
type Step = { end: number; word?: string } | { refuse: Result<never> };

/**
 * Counts tokens the way the parser's lexer splits them (a quoted string, a quoted identifier, a
 * word, a number, a `$n`, a run of operator characters, one punctuation mark): refuses at the first
 * token past a cap, so a hostile text costs one pass over at most `maxTokens` tokens.
 */
export function checkSqlText(text: string): Result<string> {
  if (text.includes('\u0000')) return fail('invalid_request', 'query: contains a NUL character');
  let tokens = 0;
  let depth = 0;
  let nots = 0;
  let i = 0;
  while (i < text.length) {
    const ch = text[i] as string;
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === '\f') {
      i++;
      continue;
    }
    const step = token(text, i);
    if ('refuse' in step) return step.refuse;
    if (++tokens > SQL_TEXT_LIMITS.maxTokens) {
      return fail('invalid_request', `query: more than ${SQL_TEXT_LIMITS.maxTokens} tokens (names, literals, operators and punctuation)`, TOKENS_HINT);
    }
    if (ch === '(' && ++depth > SQL_TEXT_LIMITS.maxNesting) {
      return fail('invalid_request', `query: nested deeper than ${SQL_TEXT_LIMITS.maxNesting} parentheses`, 'Flatten the WHERE clause.');
    }
    if (ch === ')') depth--;
    if (step.word !== undefined && step.word.toLowerCase() === 'not' && ++nots > SQL_TEXT_LIMITS.maxNots) {
      return fail('invalid_request', `query: more than ${SQL_TEXT_LIMITS.maxNots} NOT operators`, 'Simplify the WHERE clause.');
    }
    i = step.end;
  }
  if (text.length > SQL_TEXT_LIMITS.maxChars)
    return fail('payload_too_large', `query: longer than ${SQL_TEXT_LIMITS.maxChars} characters`, 'Send a shorter statement.');
  return ok(text);
}

function token(text: string, i: number): Step {
  const ch = text[i] as string;
  const next = text[i + 1];
  if (ch === "'" || ch === '"') return { end: quoted(text, i, ch) };
  if (isIdentStart(ch)) {
    let end = i + 1;
    while (isIdentPart(text[end])) end++;
    const word = text.slice(i, end);
    // `E'…'` reads backslash escapes, so its end is not where a plain string's would be: refused
    // rather than scanned two ways (the parser's and ours) that could disagree.
    if (text[end] === "'" && (word === 'e' || word === 'E')) {
      return {
        refuse: fail(
          'invalid_request',
          "query: E'…' escape strings are not accepted",
          "Write a standard string: '…', doubling a quote inside (''); backslashes are plain characters there.",
        ),
      };
    }
    return { end, word };
  }
  if (isDigit(ch) || (ch === '.' && isDigit(next))) {
    let end = i + 1;
    while (
      isDigit(text[end]) ||
      text[end] === '.' ||
      ((text[end] === 'e' || text[end] === 'E') && (isDigit(text[end + 1]) || ((text[end + 1] === '+' || text[end + 1] === '-') && isDigit(text[end + 2]))))
    ) {
      end += text[end] === 'e' || text[end] === 'E' ? 2 : 1;
    }
    return { end };
  }
  if (ch === '$') {
    if (!isDigit(next))
      return {
        refuse: fail('invalid_request', 'query: dollar-quoted strings are not accepted', "Write a standard string: '…', doubling a quote inside ('')."),
      };
    let end = i + 1;
    while (isDigit(text[end])) end++;
    return { end };
  }
  if ((ch === '-' && next === '-') || (ch === '/' && next === '*')) {
    return { refuse: fail('invalid_request', 'query: SQL comments are not accepted', 'Remove the comment; only a plain SELECT statement is accepted.') };
  }
  if (OPERATOR_CHARS.has(ch)) {
    let end = i + 1;
    while (OPERATOR_CHARS.has(text[end] ?? '') && !(text[end] === '-' && text[end + 1] === '-') && !(text[end] === '/' && text[end + 1] === '*')) end++;
    return { end };
  }
  return { end: ch === ':' && next === ':' ? i + 2 : i + 1 };
}

/** End of a `'…'` or `"…"` token (a doubled quote stays inside); an unterminated one runs to the end. */
function quoted(text: string, i: number, q: string): number {
  let j = i + 1;
  for (;;) {
    const k = text.indexOf(q, j);
    if (k < 0) return text.length;
    if (text[k + 1] !== q) return k + 1;
    j = k + 2;
  }
}
