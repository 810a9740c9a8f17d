/**
 * Structured logs: one JSON object per line on the console (Workers Logs / `wrangler tail`), shaped
 * `{ts, level, event, requestId?, …fields}`. Callers pass fields, never secrets: keys appear only as
 * their visible prefix and URLs as `targetOf(url).label`. As a second line of defence every string
 * field is scrubbed of connection-URL credentials, whole API keys and SHA-256 hex digests.
 */
import { KEY_SHAPE } from '../crypto/key-format.js';
import { clipped } from './gateway/clip.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type LogFields = Record<string, string | number | boolean | null | undefined>;

const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@]+@/gi;
const WHOLE_KEY = new RegExp(KEY_SHAPE.source, 'g');
const SHA256_HEX = /\b[0-9a-f]{64}\b/gi;
const MAX_FIELD_CHARS = 1000;

/** Removes what must never reach a log line from one string. */
export function scrub(text: string): string {
  const clean = text.replace(URL_CREDENTIALS, '$1[redacted]@').replace(WHOLE_KEY, '$1_[redacted]').replace(SHA256_HEX, '[redacted-hash]');
  return clipped(clean, MAX_FIELD_CHARS);
}

/** The JSON line `log` writes; exported for tests. Reserved keys cannot be overwritten by fields. */
export function formatLogLine(level: LogLevel, event: string, fields: LogFields, at: Date = new Date()): string {
  const out: Record<string, string | number | boolean | null> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined || k === 'ts' || k === 'level' || k === 'event') continue;
    out[k] = typeof v === 'string' ? scrub(v) : v;
  }
  return JSON.stringify({ ts: at.toISOString(), level, event, ...out });
}

/** Writes one structured line; `warn` and `error` go to the matching console streams. */
export function log(level: LogLevel, event: string, fields: LogFields = {}): void {
  const line = formatLogLine(level, event, fields);
  if (level === 'error') console.error(line);
  else if (level === 'warn') console.warn(line);
  else console.log(line);
}
