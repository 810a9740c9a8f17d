/**
 * Writes test/setup/file-durations.json from vitest's own record of the last `npm test` (its
 * results cache under node_modules/.vite/vitest): each file's duration, rounded to 100 ms. The
 * sequencer orders a fresh clone's first run by it. Refresh after a full quiet run:
 * `npx tsx test/setup/write-file-durations.ts`.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cacheDir = join(root, 'node_modules', '.vite', 'vitest');
type Cached = { results: Array<[string, { duration?: number }]> };

// The newest cache that holds integration files (e2e runs keep a cache of their own).
const newest = readdirSync(cacheDir)
  .map((d) => join(cacheDir, d, 'results.json'))
  .filter((f) => statSync(f, { throwIfNoEntry: false }) && readFileSync(f, 'utf8').includes('"integration:'))
  .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
if (!newest) throw new Error(`no npm test results under ${cacheDir}: run npm test first`);
const { results } = JSON.parse(readFileSync(newest, 'utf8')) as Cached;
const durations = Object.fromEntries(
  results
    // vitest keeps entries of files since removed or renamed: only files that exist now.
    .filter(([key, r]) => typeof r.duration === 'number' && existsSync(join(root, key.slice(key.indexOf(':') + 1))))
    .map(([key, r]) => [key, Math.round((r.duration ?? 0) / 100) * 100] as const)
    .sort(([a], [b]) => a.localeCompare(b)),
);
writeFileSync(join(root, 'test', 'setup', 'file-durations.json'), `${JSON.stringify(durations, null, 2)}\n`);
console.log(`${Object.keys(durations).length} files from ${newest}`);
