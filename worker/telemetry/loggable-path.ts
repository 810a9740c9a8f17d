/**
 * A request's path and query string as they may be stored in the request log: a key pasted into a
 * URL must not be kept, exactly as key-shaped headers are not. Percent-encoding is decoded first
 * (so `ath%5F…` is caught too), every part passes the log scrubber, and the values of query
 * parameters whose names suggest a credential are withheld whatever they hold. Pure.
 */
import { scrub } from '../log.js';

/** Query parameter names whose values are never stored. */
const SECRET_PARAM = /key|token|secret|passw|auth|sig|credential|session/i;
const REDACTED = '[redacted]';

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
      const name = scrub(decoded(eq >= 0 ? part.slice(0, eq) : part));
      if (eq < 0) return name;
      return `${name}=${SECRET_PARAM.test(name) ? REDACTED : scrub(decoded(part.slice(eq + 1)))}`;
    });
  return `${path}?${params.join('&')}`;
}
