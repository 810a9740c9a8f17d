/**
 * `npm run preflight` as a process: the example production environment passes (with a real
 * `wrangler deploy --dry-run` bundle), a broken var or secret fails with exit 1 and one clear line,
 * a secret's value never reaches the output, and each deploy mistake that parses fine (shared worker
 * name, placeholder host, direct Neon endpoint, no key-signing secrets) fails naming its cause.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runEntry } from '../support/run-entry.js';

let dir: string;
let brokenConfig: string;
let mistakenConfig: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'preflight-test-'));
  // The real wrangler.toml with one production var broken (and `main` made absolute for the temp dir).
  const toml = (await readFile(join(ROOT, 'wrangler.toml'), 'utf8')).replace(
    'main = "worker/index.ts"',
    `main = ${JSON.stringify(join(ROOT, 'worker/index.ts'))}`,
  );
  const [top, production] = toml.split('[env.production.vars]');
  expect(production).toBeDefined();
  brokenConfig = join(dir, 'wrangler.toml');
  await writeFile(
    brokenConfig,
    `${top}[env.production.vars]${(production ?? '').replace('DB_POOL_MAX = "8"', 'DB_POOL_MAX = "eight"').replace(/FLUSHER_URL = ".*"/, 'FLUSHER_URL = "http://flusher.acme-corp.net"')}`,
  );
  // The mistakes an operator copying the docs makes: the top-level name reused, the docs' flusher host kept.
  const sharedName = (top ?? '').replace('name = "athena-edge-gateway-production"', 'name = "athena-edge-gateway"');
  const flusher = (production ?? '')
    .replace('STATS_SINK = "direct"', 'STATS_SINK = "flusher"')
    .replace(/FLUSHER_URL = ".*"/, 'FLUSHER_URL = "https://flusher.example.com"');
  mistakenConfig = join(dir, 'mistaken.toml');
  await writeFile(mistakenConfig, `${sharedName}[env.production.vars]${flusher}`);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const preflight = (args: string[]) =>
  runEntry('cli/preflight.ts', args, { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', WRANGLER_SEND_METRICS: 'false' } });

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
    expect(lines).toContain('error  FLUSHER_URL: http://flusher.acme-corp.net is not HTTPS; counter batches would cross the network in clear text');
    expect(lines.at(-1)).toBe('preflight production: 2 error(s), 0 warning(s) — do not deploy');
  }, 120_000);

  it('secrets from --secrets-file are checked by name, their values never printed', async () => {
    const file = join(dir, 'production.env');
    await writeFile(
      file,
      'DATABASE_URL="postgres://gw:pw-9f8e7d@db.example.com/catalog"\nFLUSH_SIGNING_SECRET=sig-secret-long-enough-1234\nADMIN_TOKEN=short-admin-token-1a2b\n',
    );
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

  it('fails naming each deploy mistake: shared name, placeholder FLUSHER_URL, direct Neon endpoint, no KEY_SIGNING_SECRETS', async () => {
    const file = join(dir, 'mistaken.env');
    const direct = 'postgresql://gw:pw-4c5d6e@ep-cool-dawn-123456.eu-central-1.aws.neon.tech/catalog?sslmode=require&channel_binding=require';
    await writeFile(file, `DATABASE_URL=${direct}\nFLUSH_SIGNING_SECRET=${'f'.repeat(40)}\nADMIN_TOKEN=${'a'.repeat(40)}\n`);
    const r = await preflight(['--env', 'production', '--config', mistakenConfig, '--secrets-file', file, '--no-bundle']);
    expect(r.code).toBe(1);
    const errors = r.stdout.split('\n').filter((l) => l.startsWith('error'));
    expect(errors.map((l) => l.slice(0, l.indexOf(':')))).toEqual(['error  name', 'error  FLUSHER_URL', 'error  DATABASE_URL', 'error  KEY_SIGNING_SECRETS']);
    expect(errors[0]).toContain('a `wrangler deploy` without --env would overwrite this worker');
    expect(errors[1]).toContain('flusher.example.com is a placeholder');
    expect(errors[2]).toContain("secret is Neon's direct endpoint; the worker needs the pooled one");
    expect(errors[3]).toContain('secret is missing from the secrets file');
    expect(r.stdout.trim().split('\n').at(-1)).toMatch(/^preflight production: 4 error\(s\), \d+ warning\(s\) — do not deploy$/);
    expect(r.stdout + r.stderr).not.toContain('pw-4c5d6e');
  }, 120_000);

  it('an environment wrangler.toml does not have: one line, exit 2', async () => {
    const r = await preflight(['--env', 'staging', '--no-bundle']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('error: --env staging: no [env.staging] in wrangler.toml (environments there: production)\n');
  }, 120_000);
});
