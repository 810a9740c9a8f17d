/**
 * `npm run preflight` as a process: the example production environment passes (with a real
 * `wrangler deploy --dry-run` bundle), a broken var or secret fails with exit 1 and one clear line,
 * and a secret's value never reaches the output.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runEntry } from './run-entry.js';

let dir: string;
let brokenConfig: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'preflight-test-'));
  // The real wrangler.toml with one production var broken (and `main` made absolute for the temp dir).
  const toml = (await readFile(join(ROOT, 'wrangler.toml'), 'utf8')).replace('main = "worker/index.ts"', `main = ${JSON.stringify(join(ROOT, 'worker/index.ts'))}`);
  const [top, production] = toml.split('[env.production.vars]');
  expect(production).toBeDefined();
  brokenConfig = join(dir, 'wrangler.toml');
  await writeFile(brokenConfig, `${top}[env.production.vars]${(production ?? '').replace('DB_POOL_MAX = "8"', 'DB_POOL_MAX = "eight"').replace(/FLUSHER_URL = ".*"/, 'FLUSHER_URL = "http://flusher.example.com"')}`);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const preflight = (args: string[]) => runEntry('cli/preflight.ts', args, { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', WRANGLER_SEND_METRICS: 'false' } });

describe('npm run preflight', () => {
  it('passes the example production environment: vars parse, bundle measured against the limits', async () => {
    const r = await preflight(['--env', 'production']);
    expect(r.stderr).not.toMatch(/ERROR/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^info {3}bundle: \d+\.\d\d MiB raw, \d+\.\d\d MiB gzipped: within 3\.00 MiB gzipped \(Free\)/m);
    expect(r.stdout).toMatch(/^info {3}startup: \d+ ms CPU to load and evaluate the bundle/m);
    expect(r.stdout).toMatch(/preflight production: 0 error\(s\), \d+ warning\(s\) — ok to deploy\n$/);
  }, 180_000);

  it('a broken var: exit 1, one line naming it and the problem', async () => {
    const r = await preflight(['--env', 'production', '--config', brokenConfig, '--no-bundle']);
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toContain('error  DB_POOL_MAX: must be an integer between 1 and 1000');
    expect(lines).toContain('error  FLUSHER_URL: http://flusher.example.com is not HTTPS; counter batches would cross the network in clear text');
    expect(lines.at(-1)).toBe('preflight production: 2 error(s), 0 warning(s) — do not deploy');
  }, 120_000);

  it('secrets from --secrets-file are checked by name, their values never printed', async () => {
    const file = join(dir, 'production.env');
    await writeFile(file, 'DATABASE_URL="postgres://gw:pw-9f8e7d@db.example.com/catalog"\nFLUSH_SIGNING_SECRET=sig-secret-long-enough-1234\nADMIN_TOKEN=short-admin-token-1a2b\n');
    const r = await preflight(['--env', 'production', '--secrets-file', file, '--no-bundle']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('error  ADMIN_TOKEN: secret must be at least 32 characters');
    for (const value of ['pw-9f8e7d', 'sig-secret-long-enough-1234', 'short-admin-token-1a2b']) expect(r.stdout + r.stderr).not.toContain(value);
  }, 120_000);

  it('an unknown flag is a usage error (exit 2)', async () => {
    const r = await preflight(['--env', 'production', '--bogus']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('usage: npm run preflight');
  }, 120_000);
});
