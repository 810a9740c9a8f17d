/**
 * The CLI where a deploy can go wrong: where the catalog and the key-signing secret come from (the
 * dev stack's `.dev.vars` secret is never used for another database, and every key says where its
 * secret came from), `npm run db:migrate` against the running dev stack with no env, `--version`,
 * `keys revoke --json` twice, and a Neon-style URL with `channel_binding=require` on node-postgres.
 * Each test runs the CLI in-process (`runCli`) with a shell's environment and a temp directory that
 * stands in for a checkout as its working directory; the catalog comes from them, as in
 * `npm run gateway`. `npm run db:migrate` (a script of its own) runs as a process in
 * test/e2e/cli-entry.test.ts.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { runGateway, uniq } from './cli-support.js';
import { importSigningKey, tagMatches } from '../../crypto/key-signing.js';
import { parseApiKey } from '../../crypto/key-format.js';
import { ATHENA_RELEASE, VERSION } from '../../worker/version.js';
import { queryOnce } from '../support/query-once.js';

const catalogUrl = inject('databaseUrl');
const admin = inject('adminDatabaseUrl');
const DEV_SECRET = 'dev-stack-key-signing-secret-0123456789abcdef';
const PROD_SECRET = 'production-key-signing-secret-0123456789abcd';
const scratch = `cli_deploy_${process.pid}_${Date.now()}`;
const scratchUrl = Object.assign(new URL(admin), { pathname: `/${scratch}` }).toString();

let checkout: string;
/** A checkout whose dev stack runs on `stackCatalog`, with `.dev.vars` holding the dev secret. */
async function devCheckout(stackCatalog: string): Promise<string> {
  const dir = await mkdtemp(join(checkout, 'co-'));
  await mkdir(join(dir, '.dev'));
  await writeFile(join(dir, '.dev', 'stack.json'), JSON.stringify({ databaseUrl: stackCatalog }));
  await writeFile(join(dir, '.dev.vars'), `DATABASE_URL=${stackCatalog}\nKEY_SIGNING_SECRETS=${DEV_SECRET}\n`);
  return dir;
}

/** The environment a shell gives: no DATABASE_URL or KEY_SIGNING_SECRETS unless a test sets them. */
function shellEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  for (const name of ['DATABASE_URL', 'KEY_SIGNING_SECRETS'] as const) if (!(name in extra)) delete env[name];
  return env;
}
const cli = (cwd: string, env: NodeJS.ProcessEnv, ...args: string[]) => runGateway(args, { cwd, env, catalog: 'from-env' });

async function signedBy(key: string, secret: string): Promise<boolean> {
  const parts = parseApiKey(key);
  return parts?.tag ? tagMatches([await importSigningKey(secret)], parts.body, parts.tag) : false;
}

let client: string;
beforeAll(async () => {
  checkout = await mkdtemp(join(tmpdir(), 'cli-deploy-'));
  await queryOnce(admin, `CREATE DATABASE "${scratch}"`);
  client = uniq('deploy');
  const added = await cli(checkout, shellEnv({ DATABASE_URL: catalogUrl }), 'clients', 'add', client);
  expect(added.code).toBe(0);
});
afterAll(async () => {
  await rm(checkout, { recursive: true, force: true });
  await queryOnce(admin, `DROP DATABASE IF EXISTS "${scratch}" WITH (FORCE)`);
});

describe('where the signing secret comes from', () => {
  it('never signs with the dev stack’s .dev.vars secret when DATABASE_URL is another database', async () => {
    const dir = await devCheckout(scratchUrl); // the dev stack runs elsewhere; DATABASE_URL is "production"
    const name = uniq('refused');
    const r = await cli(dir, shellEnv({ DATABASE_URL: catalogUrl }), 'keys', 'create', '--client', client, '--name', name);
    expect(r.code).toBe(2);
    const u = new URL(catalogUrl);
    expect(r.stderr).toContain(
      `error: KEY_SIGNING_SECRETS is not set, and .dev.vars holds the dev stack's secret, and DATABASE_URL (postgres://${u.hostname}:${u.port}${u.pathname}) is not the dev stack's catalog: export the key-signing secret of the worker that serves this catalog`,
    );
    expect(r.stderr + r.stdout).not.toContain(DEV_SECRET);
    expect(await queryOnce(catalogUrl, 'SELECT 1 FROM api_keys WHERE client_name = $1 AND name = $2', [client, name])).toEqual([]);
  });

  it('signs with KEY_SIGNING_SECRETS from the environment and says so, for both the catalog and the secret', async () => {
    const dir = await devCheckout(scratchUrl);
    const create = (...extra: string[]) =>
      cli(dir, shellEnv({ DATABASE_URL: catalogUrl, KEY_SIGNING_SECRETS: PROD_SECRET }), 'keys', 'create', '--client', client, '--name', uniq('env'), ...extra);
    const r = await create('--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { key: string; sources: unknown };
    expect(out.sources).toEqual({ catalog: 'DATABASE_URL (environment)', keySigningSecrets: 'KEY_SIGNING_SECRETS (environment)' });
    expect(await signedBy(out.key, PROD_SECRET)).toBe(true);
    const human = await create();
    expect(human.stdout).toMatch(
      /^Catalog postgres:\/\/\S+ from DATABASE_URL \(environment\); tagged with the first key-signing secret from KEY_SIGNING_SECRETS \(environment\)\.$/m,
    );
  });

  it('uses the dev stack’s secret for the dev stack’s own catalog (no env, or DATABASE_URL naming it)', async () => {
    const dir = await devCheckout(catalogUrl);
    for (const env of [shellEnv(), shellEnv({ DATABASE_URL: catalogUrl })]) {
      const r = await cli(dir, env, 'keys', 'create', '--client', client, '--name', uniq('dev'), '--json');
      expect(r.code).toBe(0);
      const out = JSON.parse(r.stdout) as { key: string; sources: { catalog: string; keySigningSecrets: string } };
      expect(out.sources.keySigningSecrets).toBe('.dev.vars (the dev stack)');
      expect(out.sources.catalog).toBe(env.DATABASE_URL ? 'DATABASE_URL (environment)' : '.dev/stack.json (the running dev stack)');
      expect(await signedBy(out.key, DEV_SECRET)).toBe(true);
    }
  });
});

describe('the rest of the CLI a deploy leans on', () => {
  it('--version prints the gateway version and the protocol release /health reports', async () => {
    const r = await cli(checkout, shellEnv(), '--version');
    expect(r).toEqual({ code: 0, stdout: `athena-edge-gateway ${VERSION} (Athena protocol ${ATHENA_RELEASE.version})\n`, stderr: '' });
  });

  it('keys revoke --json: "revoked": true both times, "alreadyRevoked" tells the second call apart', async () => {
    const env = shellEnv({ DATABASE_URL: catalogUrl, KEY_SIGNING_SECRETS: PROD_SECRET });
    const created = JSON.parse((await cli(checkout, env, 'keys', 'create', '--client', client, '--name', uniq('rev'), '--json')).stdout) as { prefix: string };
    const first = await cli(checkout, env, 'keys', 'revoke', created.prefix, '--json');
    const second = await cli(checkout, env, 'keys', 'revoke', created.prefix, '--json');
    expect(JSON.parse(first.stdout)).toMatchObject({ revoked: true, alreadyRevoked: false, prefix: created.prefix });
    expect(JSON.parse(second.stdout)).toMatchObject({ revoked: true, alreadyRevoked: true, prefix: created.prefix });
  });

  it('a Neon-style URL with channel_binding=require works on node-postgres (the CLI, the flusher, migrations)', async () => {
    const url = new URL(catalogUrl);
    url.searchParams.set('channel_binding', 'require');
    const r = await cli(checkout, shellEnv({ DATABASE_URL: url.toString() }), 'clients', 'list', '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { name: string }[]).map((c) => c.name)).toContain(client);
  });
});
