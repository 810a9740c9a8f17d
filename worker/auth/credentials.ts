/**
 * Reads the API key a request presents. Pure: headers in, a value out; no Context, no throw — the
 * middleware decides what each outcome means (docs/protocol.md "Headers").
 */
import { KEY_SHAPE } from '../../crypto/key-format.js';

/** Headers that may carry the key (`X-API-Key` is `x-api-key`: header names are case-insensitive). */
const KEY_HEADERS = ['x-athena-key', 'apikey', 'x-api-key'] as const;

export type Credentials =
  | { kind: 'key'; key: string }
  /** Several headers (or repeated values) carry different keys. */
  | { kind: 'conflict' }
  | { kind: 'none' };

/** Several sources disagree (a marker, not a key: keys never contain spaces). */
const CONFLICT = ' conflict ';
const BEARER = /^Bearer[ \t]+(.*)$/i;

/** The one key presented in `headers`, a conflict when they disagree, or none. */
export function readApiKey(headers: Headers): Credentials {
  // One string carried through, no Set or arrays: this runs on every authenticated request.
  let seen: string | undefined;
  for (const name of KEY_HEADERS) seen = withValues(seen, headers.get(name));
  const authorization = headers.get('authorization');
  if (authorization !== null) seen = withValues(seen, BEARER.exec(authorization.trim())?.[1] ?? null);
  if (seen === CONFLICT) return { kind: 'conflict' };
  return seen === undefined ? { kind: 'none' } : { kind: 'key', key: seen };
}

/** Repeated header lines arrive joined by ", "; keys never contain commas, so split them. */
function withValues(seen: string | undefined, raw: string | null): string | undefined {
  if (raw === null || seen === CONFLICT) return seen;
  let from = 0;
  while (from <= raw.length) {
    const comma = raw.indexOf(',', from);
    const end = comma === -1 ? raw.length : comma;
    const v = raw.slice(from, end).trim();
    if (v !== '') {
      if (seen !== undefined && seen !== v) return CONFLICT;
      seen = v;
    }
    from = end + 1;
  }
  return seen;
}

/**
 * The `X-Athena-Client` value as it may be written to log tables: trimmed, clipped, and withheld
 * when it carries something key-shaped (a key pasted into the wrong header must not be stored).
 */
export function loggableClientName(raw: string | undefined): string | null {
  const value = raw?.trim();
  if (!value || KEY_SHAPE.test(value)) return null;
  return value.slice(0, 64);
}
