/**
 * The README's SDK snippet, as printed: the block after the `sdk-snippet` marker in README.md is
 * saved as `try.mjs` in a directory that looks like a checkout next to `npm run dev` (the SDK from
 * this repo's node_modules, i.e. 0.2.1 as `npm install` gives it; a `.dev/stack.json` naming the
 * served worker and a demo client with a `todos` table), and run with `node try.mjs`. Its output
 * and the rows it leaves are asserted, so the README cannot drift from what the SDK and gateway do.
 * The run's shared served worker answers it; the demo client's tenant is a database of its own.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ROOT } from '../support/run-entry.js';
import { clientWithKey } from '../support/served-client.js';
import { queryOnce } from '../support/query-once.js';

const admin = inject('adminDatabaseUrl');
const tenantDb = `readme_snippet_${process.pid}_${Date.now()}`;
const tenantUrl = Object.assign(new URL(admin), { pathname: `/${tenantDb}` }).toString();
const clientName = `readme-${process.pid}-${Date.now().toString(36)}`;

/** The code block the README marks as the SDK snippet. */
async function readmeSnippet(): Promise<string> {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  const block = /<!-- sdk-snippet:[^>]*-->\s*```js\n([\s\S]*?)```/.exec(readme)?.[1];
  if (!block) throw new Error('README.md has no block after <!-- sdk-snippet: … -->');
  return block;
}

let checkout: string;
beforeAll(async () => {
  await queryOnce(admin, `CREATE DATABASE "${tenantDb}"`);
  // The demo tenant as `npm run dev` seeds it: todos(id, title, done, created_at), five rows.
  await queryOnce(
    tenantUrl,
    'CREATE TABLE todos (id serial PRIMARY KEY, title text NOT NULL, done boolean NOT NULL DEFAULT false, created_at timestamptz NOT NULL DEFAULT now())',
  );
  await queryOnce(
    tenantUrl,
    "INSERT INTO todos (title, done) VALUES ('Read the README', true), ('Run npm run dev', false), ('Try the SDK', false), ('Create a key', false), ('Deploy', false)",
  );
  const databaseUrl = inject('databaseUrl');
  const key = await clientWithKey(databaseUrl, clientName, { operations: ['read', 'insert', 'update', 'delete'], tables: ['*'] }, tenantUrl);
  checkout = await mkdtemp(join(tmpdir(), 'readme-snippet-'));
  await symlink(join(ROOT, 'node_modules'), join(checkout, 'node_modules'), 'dir');
  await mkdir(join(checkout, '.dev'));
  await writeFile(join(checkout, '.dev', 'stack.json'), JSON.stringify({ workerUrl: inject('gatewayUrl'), demo: { client: clientName, key } }));
  await writeFile(join(checkout, 'try.mjs'), await readmeSnippet());
});
afterAll(async () => {
  await rm(checkout, { recursive: true, force: true });
  await queryOnce(admin, `DROP DATABASE IF EXISTS "${tenantDb}" WITH (FORCE)`);
});

describe('README SDK snippet', () => {
  it('runs as pasted with the SDK npm install gives (0.2.1) and prints what the README says', async () => {
    const installed = JSON.parse(await readFile(join(ROOT, 'node_modules/@xylex-group/athena/package.json'), 'utf8')) as { version: string };
    expect(installed.version).toBe('0.2.1');
    // `node try.mjs`, plain Node (no TypeScript loader), from the checkout.
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((done) =>
      execFile(process.execPath, ['try.mjs'], { cwd: checkout, timeout: 120_000 }, (err, stdout, stderr) => done({ code: err ? 1 : 0, stdout, stderr })),
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^200 \[/);
    expect(r.stdout).toContain("title: 'Run npm run dev'");
    expect(r.stdout).not.toContain("title: 'Read the README'"); // done: filtered out
    expect(r.stdout).toMatch(/^201 \[ \{ id: 6, title: 'Ship it' \} \]$/m);
    expect(r.stdout).toMatch(/^200 \[ \{ id: 6, done: true \} \]$/m);
    expect(lines.at(-2)).toBe('409 conflict');
    expect(lines.at(-1)).toBe('200');
    // It deleted what it added and left the seeded rows as they were.
    expect(await queryOnce(tenantUrl, 'SELECT id, done FROM todos ORDER BY id')).toEqual([
      { id: 1, done: true },
      { id: 2, done: false },
      { id: 3, done: false },
      { id: 4, done: false },
      { id: 5, done: false },
    ]);
  });
});
