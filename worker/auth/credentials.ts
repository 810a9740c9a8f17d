/**
 * Reads the API key a request presents. Pure: headers in, a value out; no Context, no throw — the
 * middleware decides what each outcome means (docs/protocol.md "Headers").
 */
import { KEY_SHAPE } from '../../drizzle/key-format.js';

/** Headers that may carry the key (`X-API-Key` is `x-api-key`: header names are case-insensitive). */
const KEY_HEADERS = ['x-athena-key', 'apikey', 'x-api-key'] as const;

export type Credentials =
  | { kind: 'key'; key: string }
  /** Several headers (or repeated values) carry different keys. */
  | { kind: 'conflict' }
  | { kind: 'none' };

/** The one key presented in `headers`, a conflict when they disagree, or none. */
export function readApiKey(headers: Headers): Credentials {
  const seen = new Set<string>();
  for (const name of KEY_HEADERS) addValues(seen, headers.get(name));
  const bearer = /^Bearer[ \t]+(.*)$/i.exec(headers.get('authorization')?.trim() ?? '')?.[1];
  if (bearer !== undefined) addValues(seen, bearer);
  if (seen.size > 1) return { kind: 'conflict' };
  const [key] = seen;
  return key === undefined ? { kind: 'none' } : { kind: 'key', key };
}

/** Repeated header lines arrive joined by ", "; keys never contain commas, so split them. */
function addValues(seen: Set<string>, raw: string | null): void {
  if (raw === null) return;
  for (const part of raw.split(',')) {
    const v = part.trim();
    if (v !== '') seen.add(v);
  }
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
