/**
 * The worker's local secrets file (`.dev.vars`, dotenv syntax, read with node:util parseEnv). The
 * stack owns the keys it writes and keeps any others a developer added (e.g. AUTH_CACHE_TTL_MS=0)
 * across restarts.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseEnv } from 'node:util';

/** KEY=VALUE pairs of a dotenv file ({} when there is none). */
export function readDevVars(file: string): Record<string, string> {
  if (!existsSync(file)) return {};
  return parseEnv(readFileSync(file, 'utf8')) as Record<string, string>;
}

/** Writes `managed` over the file, keeping keys it does not manage. Mode 0600: it holds secrets. */
export function writeDevVars(file: string, managed: Record<string, string>): void {
  const kept = Object.entries(readDevVars(file)).filter(([k]) => !(k in managed));
  const line = ([k, v]: [string, string]) => `${k}=${/^[A-Za-z0-9_.:/@%+=,-]*$/.test(v) ? v : JSON.stringify(v)}`;
  const text = [
    '# Written by `npm run dev` (gitignored). The stack rewrites the keys above the blank line on',
    '# every start; keys you add below it are kept.',
    ...Object.entries(managed).map(line),
    '',
    ...kept.map(line),
    '',
  ].join('\n');
  writeFileSync(file, text, { mode: 0o600 });
  chmodSync(file, 0o600);
}
