/**
 * The CLI's entry point kept honest: `cli/index.ts` in a child process (Node + tsx, as `npm run
 * gateway` starts it) writes its output to stdout, its errors to stderr, and exits 0, 1 or 2 as
 * `runCli` decides; `cli/migrate.ts` (`npm run db:migrate`, a script of its own) with no env migrates
 * the running dev stack's catalog, with DATABASE_URL that database, and with neither exits 2. Every command's rows, messages and codes are tested in-process:
 * test/integration/cli.test.ts, cli-rate-limit.test.ts and cli-deploy.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { runEntry } from '../support/run-entry.js';
import { TEST_KEY_SIGNING_SECRET } from '../support/key-signing.js';
import { queryOnce } from '../support/query-once.js';

const env = { ...process.env, DATABASE_URL: inject('databaseUrl'), KEY_SIGNING_SECRETS: TEST_KEY_SIGNING_SECRET };
const gateway = (...args: string[]) => runEntry('cli/index.ts', args, { env });
const cwd = mkdtempSync(join(tmpdir(), 'gateway-cli-entry-'));
const admin = inject('adminDatabaseUrl');
const scratch = `cli_entry_${process.pid}_${Date.now()}`;
const scratchUrl = Object.assign(new URL(admin), { pathname: `/${scratch}` }).toString();

afterAll(async () => {
  rmSync(cwd, { recursive: true, force: true });
  await queryOnce(admin, `DROP DATABASE IF EXISTS "${scratch}" WITH (FORCE)`);
});

describe('npm run gateway as a process', () => {
  it('stdout for results, stderr for errors; exit 0, 1 (failed) and 2 (usage); no catalog: exit 1', async () => {
    const client = `cli-entry-${randomUUID().slice(0, 8)}`;
    const added = await gateway('clients', 'add', client, '--json');
    expect(added).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(added.stdout)).toMatchObject({ name: client, active: true });

    const bare = { ...process.env };
    delete bare.DATABASE_URL;
    const [dup, usage, help, noCatalog] = await Promise.all([
      gateway('clients', 'add', client),
      gateway('keys', 'frobnicate'),
      gateway('keys', 'create', '--help'),
      runEntry('cli/index.ts', ['keys', 'list'], { env: bare, cwd }),
    ]);
    expect(dup).toMatchObject({ code: 1, stdout: '' });
    expect(dup.stderr).toMatch(new RegExp(`^error: client "${client}" already exists[^\n]*\n$`));
    expect(usage).toMatchObject({ code: 2, stdout: '' });
    expect(usage.stderr).toBe('error: unknown command "keys frobnicate" (one of: create, list, set, revoke)\nsee: npm run gateway -- --help\n');
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout).toContain('--expires-in');
    expect(noCatalog).toMatchObject({ code: 1, stdout: '' });
    expect(noCatalog.stderr).toContain('DATABASE_URL is not set');
  });

  it('npm run db:migrate with no env migrates the running dev stack’s catalog', async () => {
    await queryOnce(admin, `CREATE DATABASE "${scratch}"`);
    // A checkout whose dev stack runs on the scratch catalog, and a shell without DATABASE_URL.
    const dir = mkdtempSync(join(cwd, 'co-'));
    mkdirSync(join(dir, '.dev'));
    writeFileSync(join(dir, '.dev', 'stack.json'), JSON.stringify({ databaseUrl: scratchUrl }));
    const shell = { ...process.env };
    delete shell.DATABASE_URL;
    delete shell.KEY_SIGNING_SECRETS;
    const r = await runEntry('cli/migrate.ts', [], { cwd: dir, env: shell });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`migrations applied to postgres://127.0.0.1:${new URL(scratchUrl).port}/${scratch} (from .dev/stack.json (the running dev stack))\n`);
    expect(await queryOnce(scratchUrl, "SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name = 'api_keys'")).toEqual([{ n: 1 }]);
  });

  it('npm run db:migrate with DATABASE_URL: a no-op on that migrated catalog, no credentials printed; with neither: exit 2', async () => {
    const shell = { ...process.env };
    delete shell.DATABASE_URL;
    const [again, none] = await Promise.all([
      runEntry('cli/migrate.ts', [], { cwd, env: { ...shell, DATABASE_URL: scratchUrl } }),
      runEntry('cli/migrate.ts', [], { cwd, env: shell }),
    ]);
    expect(again).toMatchObject({ code: 0, stderr: '' });
    expect(again.stdout).toContain(`migrations applied to postgres://127.0.0.1:${new URL(scratchUrl).port}/${scratch}`);
    const u = new URL(scratchUrl);
    expect(again.stdout).not.toContain(`${u.username}:${u.password}@`);
    expect(none).toMatchObject({ code: 2, stdout: '' });
    expect(none.stderr).toContain('DATABASE_URL is not set');
  });
});
