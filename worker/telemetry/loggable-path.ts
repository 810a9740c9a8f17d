/**
 * A request's path and query string as they may be stored in the request log: a key pasted into a
 * URL must not be kept, exactly as key-shaped headers are not. Percent-encoding is decoded first
 * (so `ath%5F…` is caught too) and every part passes the log scrubber. Every parameter's name is
 * kept, but a value only when the parameter says how to read a table (table_name, columns, limit,
 * …): condition values, function arguments and credentials (`pw=…`) are withheld whatever they
 * hold (docs/operations.md "What the request log keeps"). Pure.
 */
import { scrub } from '../log.js';
import { clipped } from '../gateway/clip.js';

/** Parameters whose values shape a read and hold no data: the only values stored. */
const STRUCTURAL_PARAMS: ReadonlySet<string> = new Set([
  'table_name',
  'view_name',
  'columns',
  'select',
  'limit',
  'offset',
  'current_page',
  'page_size',
  'order',
  'sort_by',
  'count',
  'head',
  'strip_nulls',
  'schema',
]);
const REDACTED = '[redacted]';
const MAX_NAME_CHARS = 64;

function decoded(text: string): string {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '));
  } catch {
    return text; // malformed escapes: scrub the raw text
  }
}

/** `/path?name=value&…` of `url`, decoded and scrubbed; the query string only when present. */
export function loggablePath(url: string): string {
  const u = new URL(url);
  const path = scrub(decoded(u.pathname));
  if (u.search.length <= 1) return path;
  const params = u.search
    .slice(1)
    .split('&')
    .filter((part) => part !== '')
    .map((part) => {
      const eq = part.indexOf('=');
      const raw = decoded(eq >= 0 ? part.slice(0, eq) : part);
      const name = scrub(clipped(raw, MAX_NAME_CHARS));
      if (eq < 0) return name;
      return `${name}=${STRUCTURAL_PARAMS.has(raw) ? scrub(decoded(part.slice(eq + 1))) : REDACTED}`;
    });
  return `${path}?${params.join('&')}`;
}
