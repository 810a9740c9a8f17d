/**
 * Lexical checks on SQL text before it reaches the parser: a length cap, no comments, no NUL and a
 * bounded parenthesis depth. The parser is a recursive-descent/Earley parser whose cost and stack
 * grow with nesting, so hostile nesting is refused here in linear time. Pure.
 */
import { fail, ok, type Result } from './filter.js';

/** Longest SQL text accepted (characters); an `IN` list of ~350 UUIDs fits. Parse
 * time grows with length (about 0.1 ms per 10 characters), so this also bounds CPU per request. */
export const MAX_SQL_CHARS = 16_384;
/** Deepest parenthesis nesting accepted; the statements the SDK generates use at most 2. */
const MAX_SQL_NESTING = 16;
/** NOT operators accepted: each nests the parse one level without a parenthesis. */
const MAX_SQL_NOTS = 32;

/**
 * Scans outside string literals (`'…'`) and quoted identifiers (`"…"`): comments are refused (the
 * SDK never sends them, and they are the usual way to hide the tail of an injected statement).
 */
export function checkSqlText(text: string): Result<string> {
  let depth = 0;
  let nots = 0;
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\u0000') return fail('invalid_request', 'query: contains a NUL character');
    if (quote !== null) {
      if (ch === quote) quote = text[i + 1] === quote ? (i++, quote) : null;
      continue;
    }
    if (ch === "'" || ch === '"') quote = ch;
    else if ((ch === '-' && text[i + 1] === '-') || (ch === '/' && text[i + 1] === '*')) {
      return fail('invalid_request', 'query: SQL comments are not accepted', 'Remove the comment; only a plain SELECT statement is accepted.');
    } else if (ch === '(') {
      depth++;
      if (depth > MAX_SQL_NESTING) return fail('invalid_request', `query: nested deeper than ${MAX_SQL_NESTING} parentheses`, 'Flatten the WHERE clause.');
    } else if (ch === ')') depth--;
    else if ((ch === 'n' || ch === 'N') && /^not\b/i.test(text.slice(i, i + 4)) && !/\w/.test(text[i - 1] ?? ' ') && ++nots > MAX_SQL_NOTS) {
      return fail('invalid_request', `query: more than ${MAX_SQL_NOTS} NOT operators`, 'Simplify the WHERE clause.');
    }
  }
  // After the scan, so hostile nesting is named as such whatever its length.
  if (text.length > MAX_SQL_CHARS) return fail('payload_too_large', `query: longer than ${MAX_SQL_CHARS} characters`, 'Send a shorter statement.');
  return ok(text);
}
