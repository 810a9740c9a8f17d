/**
 * `npm run gateway -- …` as a user runs it: the CLI's commands run in-process (`runCli`, output
 * captured, the test catalog injected) against the test catalog, asserting on exit codes, output
 * and the rows it leaves. Client names are unique per run because the catalog is shared with other
 * test files. The entry point as a child process: test/e2e/cli-entry.test.ts.
 */
import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it, inject } from 'vitest';
import { cliEnv, gateway, runGateway, uniq } from './cli-support.js';
import { TEST_KEY_SIGNING_SECRET } from '../support/key-signing.js';

const databaseUrl = inject('databaseUrl');
const tenantUrl = inject('tenantDatabaseUrl');
const env = cliEnv;
const db = new pg.Pool({ connectionString: databaseUrl, max: 2 });

afterAll(async () => {
  await db.end();
});

type KeyJson = {
  key: string;
  id: string;
  prefix: string;
  client: string;
  name: string;
  scopes: { operations: string[]; tables: string[]; functions?: string[] };
  expiresAt: string | null;
  revokedAt: string | null;
};

async function keyRow(id: string): Promise<Record<string, unknown>> {
  const res = await db.query('SELECT * FROM api_keys WHERE id = $1', [id]);
  expect(res.rows).toHaveLength(1);
  return res.rows[0] as Record<string, unknown>;
}

describe('clients', () => {
  it('add, list, set: rows change as asked and URLs are shown without credentials', async () => {
    const name = uniq('cli-client');
    const added = await gateway('clients', 'add', name, '--database-url', tenantUrl, '--enforcement', 'optional', '--json');
    expect(added.code).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject({ name, active: true, frozen: false, apiKeyEnforcement: 'optional' });

    const listed = await gateway('clients', 'list');
    expect(listed.code).toBe(0);
    const u = new URL(tenantUrl);
    expect(listed.stdout).toContain(`${name}`);
    expect(listed.stdout).toContain(`postgres://${u.hostname}:${u.port}${u.pathname}`);
    expect(listed.stdout).not.toContain(`${u.username}:${u.password}@`);

    const set = await gateway('clients', 'set', name, '--frozen', 'true', '--active', 'false', '--enforcement', 'default', '--database-url', 'none');
    expect(set.code).toBe(0);
    const row = (await db.query('SELECT database_url, is_active, is_frozen, api_key_enforcement FROM clients WHERE client_name = $1', [name])).rows[0];
    expect(row).toEqual({ database_url: null, is_active: false, is_frozen: true, api_key_enforcement: null });
  });

  it('refuses a duplicate name, an invalid name, an unknown client and an empty change', async () => {
    const name = uniq('cli-dup');
    expect((await gateway('clients', 'add', name)).code).toBe(0);
    const [dup, invalid, unknown, nothing, badBool] = await Promise.all([
      gateway('clients', 'add', name),
      gateway('clients', 'add', 'no spaces allowed'),
      gateway('clients', 'set', uniq('ghost'), '--frozen', 'true'),
      gateway('clients', 'set', name),
      gateway('clients', 'set', name, '--frozen', 'maybe'),
    ]);
    expect(dup).toMatchObject({ code: 1, stdout: '' });
    expect(dup.stderr).toContain(`client "${name}" already exists`);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain('client names are');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/unknown client "ghost-/);
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toContain('nothing to change');
    expect(badBool.code).toBe(2);
    expect(badBool.stderr).toContain('--frozen: must be true or false');
    const row = (await db.query('SELECT is_frozen FROM clients WHERE client_name = $1', [name])).rows[0];
    expect(row).toEqual({ is_frozen: false });
  });
});

describe('keys', () => {
  it('create stores only the SHA-256 of the key, never the plaintext, and prints it once', async () => {
    const client = uniq('cli-keys');
    expect((await gateway('clients', 'add', client)).code).toBe(0);
    const created = await gateway(
      'keys',
      'create',
      '--client',
      client,
      '--name',
      'ci',
      '--scopes',
      'read,insert',
      '--tables',
      'todos,public.notes',
      '--expires-in',
      '30d',
      '--json',
    );
    expect(created.code).toBe(0);
    const out = JSON.parse(created.stdout) as KeyJson;
    expect(out.key).toMatch(/^ath_[a-z0-9]{10}_[A-Za-z0-9]{40}_[0-9a-f]{24}$/);
    expect(out.key.startsWith(`${out.prefix}_`)).toBe(true);
    // Tagged with the first key-signing secret, exactly as the worker checks it.
    const body = out.key.slice(0, out.key.lastIndexOf('_'));
    expect(out.key.slice(body.length + 1)).toBe(createHmac('sha256', TEST_KEY_SIGNING_SECRET).update(body).digest('hex').slice(0, 24));
    expect(out.scopes).toEqual({ operations: ['read', 'insert'], tables: ['todos', 'public.notes'] });
    const expires = Date.parse(out.expiresAt ?? '');
    expect(Math.abs(expires - (Date.now() + 30 * 86_400_000))).toBeLessThan(120_000);

    const row = await keyRow(out.id);
    expect(row.key_hash).toBe(createHash('sha256').update(out.key).digest('hex'));
    expect(row).toMatchObject({ client_name: client, name: 'ci', prefix: out.prefix, revoked_at: null });
    const secret = out.key.slice(out.prefix.length + 1);
    for (const value of Object.values(row)) {
      const text = value instanceof Date ? value.toISOString() : JSON.stringify(value);
      expect(text).not.toContain(secret);
    }

    // rpc keys list the functions they may call.
    const rpc = JSON.parse(
      (await gateway('keys', 'create', '--client', client, '--name', 'rpc', '--scopes', 'rpc', '--functions', 'add,app.*', '--json')).stdout,
    ) as KeyJson;
    expect(rpc.scopes).toEqual({ operations: ['rpc'], tables: ['*'], functions: ['add', 'app.*'] });
    expect((await keyRow(rpc.id)).scopes).toEqual({ operations: ['rpc'], tables: ['*'], functions: ['add', 'app.*'] });
    const badFn = await gateway('keys', 'create', '--client', client, '--name', 'bad', '--scopes', 'rpc', '--functions', 'pg_sleep()');
    expect(badFn.code).toBe(2);
    expect(badFn.stderr).toContain('--functions');

    // Listing shows the prefix, never the key or its hash.
    const listed = await gateway('keys', 'list', '--client', client, '--json');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(out.prefix);
    expect(listed.stdout).not.toContain(secret);
    expect(listed.stdout).not.toContain(String(row.key_hash));
    expect(listed.stdout).not.toMatch(/hash/i);

    // The text form also prints the key exactly once.
    const text = await gateway('keys', 'create', '--client', client, '--name', 'human');
    expect(text.code).toBe(0);
    expect(text.stdout.match(/ath_[a-z0-9]{10}_[A-Za-z0-9]{40}_[0-9a-f]{24}/g)).toHaveLength(1);
    expect(text.stdout).toContain('read on *');
  });

  it('create needs KEY_SIGNING_SECRETS; --legacy mints an untagged key without it', async () => {
    const client = uniq('cli-signing');
    expect((await gateway('clients', 'add', client)).code).toBe(0);
    const unsigned = { ...env, KEY_SIGNING_SECRETS: '' };
    const cwd = mkdtempSync(join(tmpdir(), 'cli-no-dev-vars-'));
    const refused = await runGateway(['keys', 'create', '--client', client, '--name', 'x'], { env: unsigned, cwd });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('KEY_SIGNING_SECRETS is not set');
    const legacy = await runGateway(['keys', 'create', '--client', client, '--name', 'old', '--legacy', '--json'], { env: unsigned, cwd });
    expect(legacy.code).toBe(0);
    expect((JSON.parse(legacy.stdout) as KeyJson).key).toMatch(/^ath_[a-z0-9]{10}_[A-Za-z0-9]{40}$/);
  });

  it('revoke by prefix sets revoked_at, hides the key from list, and is idempotent; by id and by key too', async () => {
    const client = uniq('cli-revoke');
    expect((await gateway('clients', 'add', client)).code).toBe(0);
    const make = async (name: string) =>
      JSON.parse((await gateway('keys', 'create', '--client', client, '--name', name, '--scopes', 'all', '--json')).stdout) as KeyJson;
    const [a, b, c] = await Promise.all([make('a'), make('b'), make('c')]);

    const revoked = await gateway('keys', 'revoke', a.prefix);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain(`revoked key ${a.prefix}`);
    expect((await keyRow(a.id)).revoked_at).toBeInstanceOf(Date);
    expect((await keyRow(b.id)).revoked_at).toBeNull();

    const again = await gateway('keys', 'revoke', a.prefix, '--json');
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ revoked: true, alreadyRevoked: true, prefix: a.prefix });

    const [byId, byKey] = await Promise.all([gateway('keys', 'revoke', b.id), gateway('keys', 'revoke', c.key)]);
    expect([byId.code, byKey.code]).toEqual([0, 0]);
    expect((await keyRow(b.id)).revoked_at).toBeInstanceOf(Date);
    expect((await keyRow(c.id)).revoked_at).toBeInstanceOf(Date);

    const live = JSON.parse((await gateway('keys', 'list', '--client', client, '--json')).stdout) as KeyJson[];
    expect(live).toEqual([]);
    const all = JSON.parse((await gateway('keys', 'list', '--client', client, '--all', '--json')).stdout) as KeyJson[];
    expect(all.map((k) => k.name).sort()).toEqual(['a', 'b', 'c']);
    // A revoked name may be reused.
    expect((await gateway('keys', 'create', '--client', client, '--name', 'a')).code).toBe(0);
  });

  it('bad input: usage errors exit 2, failed commands exit 1, nothing is stored', async () => {
    const client = uniq('cli-bad');
    expect((await gateway('clients', 'add', client)).code).toBe(0);
    const cases: Array<[string[], number, string]> = [
      [['keys', 'create', '--client', uniq('ghost'), '--name', 'x'], 1, 'unknown client'],
      [['keys', 'create', '--client', client, '--name', 'x', '--scopes', 'read,drop'], 2, 'unknown operation "drop"'],
      [['keys', 'create', '--client', client, '--name', 'x', '--tables', 'todos;drop'], 2, '--tables'],
      [['keys', 'create', '--client', client, '--name', 'x', '--expires-in', 'soon'], 2, '--expires-in'],
      [['keys', 'create', '--client', client, '--name', 'x', '--expires-at', '2001-01-01T00:00:00Z'], 2, 'must be in the future'],
      [['keys', 'create', '--client', client], 2, '--name: is required'],
      [['keys', 'create', '--client', client, '--name', 'x', '--bogus'], 2, "unknown option '--bogus'"],
      [['keys', 'revoke', 'ath_zzzzzzzzzz'], 1, 'no key matches'],
      [['keys', 'revoke'], 2, 'expects exactly one'],
      [['keys', 'frobnicate'], 2, 'unknown command "keys frobnicate"'],
    ];
    const results = await Promise.all(cases.map(([args]) => gateway(...args)));
    cases.forEach(([args, code, message], i) => {
      expect({ args, code: results[i]?.code, stderr: results[i]?.stderr.includes(message) }).toEqual({ args, code, stderr: true });
    });
    const stored = await db.query('SELECT count(*)::int AS n FROM api_keys WHERE client_name = $1', [client]);
    expect(stored.rows[0]).toEqual({ n: 0 });
    // A duplicate live name is refused.
    expect((await gateway('keys', 'create', '--client', client, '--name', 'x')).code).toBe(0);
    const dup = await gateway('keys', 'create', '--client', client, '--name', 'x');
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain('already has a live key named "x"');
  });

  it('without DATABASE_URL (and no dev stack) it says what to set and exits 1; --help exits 0', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'gateway-cli-'));
    try {
      const bare = { ...process.env };
      delete bare.DATABASE_URL;
      const res = await runGateway(['keys', 'list'], { env: bare, cwd, catalog: 'from-env' });
      expect(res.code).toBe(1);
      expect(res.stderr).toContain('DATABASE_URL is not set');
      const help = await runGateway(['keys', 'create', '--help'], { env: bare, cwd, catalog: 'from-env' });
      expect(help.code).toBe(0);
      expect(help.stdout).toContain('--expires-in');
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});
