/**
 * The worker's local secrets file (`.dev.vars`, dotenv syntax). The stack owns the keys it writes
 * and keeps any others a developer added (e.g. AUTH_CACHE_TTL_MS=0) across restarts.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';

/** KEY=VALUE pairs of a dotenv file; comments and blank lines ignored, quotes stripped. */
export function readDevVars(file: string): Record<string, string> {
  if (!existsSync(file)) return {};
  const out: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!m?.[1] || m[2] === undefined) continue;
    const raw = m[2];
    const quoted = /^(["'])(.*)\1$/.exec(raw);
    out[m[1]] = quoted?.[2] ?? raw.replace(/\s+#.*$/, '');
  }
  return out;
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
