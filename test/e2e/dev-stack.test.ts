/**
 * `npm run dev` as a new user runs it, on free ports and a scratch data dir (DEV_STATE_DIR keeps it
 * away from the repo's .dev/ and .dev.vars). Proves: one `ready` line, a working worker (/health
 * through wrangler dev), `.dev/stack.json`, Postgres seeded with the demo client, key and todos;
 * the printed curl answers 200; SIGTERM to npm and Ctrl-C (SIGINT to the process group) leave no
 * process behind; a re-run reuses the data, keeps the secrets and a developer's own vars, and
 * re-issues the demo key; wrangler or Postgres dying stops the rest with exit 1; a taken port fails
 * fast. (A crashed flusher is restarted: stack-console.test.ts.)
 */
import { createHash, createHmac } from 'node:crypto';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDevVars } from '../../dev-state/dev-vars.js';
import { portInUse } from '../../dev/probes.js';
import { descendants, type Proc } from './process-tree.js';
import { killAll, runPrintedCurl, stackEnv, startStack as startFromHarness, survivors, waitForReady, type StackJson } from './dev-stack-harness.js';
import { ROOT } from '../support/run-entry.js';
import { queryOnce } from '../support/query-once.js';

const flusherExpected = existsSync(join(ROOT, 'flusher', 'index.ts'));
const stateDir = mkdtempSync(join(tmpdir(), 'gateway-dev-stack-'));
const pgDataDir = join(tmpdir(), 'athena-gateway', `pg-devtest-${process.pid}-${Date.now()}`);
let ports: { worker: number; flusher: number; pg: number };
let env: NodeJS.ProcessEnv;
let firstKey = '';

const startStack = (extraEnv: NodeJS.ProcessEnv = {}) => startFromHarness({ ...env, ...extraEnv });

/** Starts the stack, lets `kill` end one part of it, and expects exit 1 with `message` and no survivor. */
async function expectStopsWhenKilled(kill: (tree: Proc[]) => void, message: RegExp): Promise<void> {
  const stack = startStack();
  const pid = stack.child.pid ?? 0;
  let tree: Proc[] = [];
  try {
    await waitForReady(stack, 180_000);
    tree = descendants(pid);
    kill(tree);
    expect(await stack.exited).toEqual({ code: 1, signal: null });
    expect(stack.stderr.join('\n')).toMatch(message);
    expect(await survivors(tree, 30_000)).toEqual([]);
  } finally {
    killAll([...tree, ...descendants(pid)]);
  }
}

const readStack = () => JSON.parse(readFileSync(join(stateDir, 'stack.json'), 'utf8')) as StackJson;

beforeAll(async () => {
  ({ ports, env } = await stackEnv(stateDir, pgDataDir));
});

afterAll(() => {
  rmSync(stateDir, { recursive: true, force: true });
  rmSync(pgDataDir, { recursive: true, force: true });
});

describe('npm run dev', () => {
  it('starts the whole stack, serves the printed curl, and SIGTERM to npm stops every child', { timeout: 240_000 }, async () => {
    const stack = startStack();
    const pid = stack.child.pid ?? 0;
    let tree: Proc[] = [];
    try {
      const ready = await waitForReady(stack, 180_000);
      const workerUrl = `http://127.0.0.1:${ports.worker}`;
      expect(ready).toContain(`worker ${workerUrl}`);
      expect(stack.lines.filter((l) => /ready/i.test(l))).toEqual([ready]);

      const s = readStack();
      expect(statSync(join(stateDir, 'stack.json')).mode & 0o777).toBe(0o600);
      expect(s.workerUrl).toBe(workerUrl);
      expect(s.flusherUrl).toBe(flusherExpected ? `http://127.0.0.1:${ports.flusher}` : null);
      expect(s.demo.client).toBe('demo');
      // Signed with the stack's KEY_SIGNING_SECRETS (kept in its dev vars), as the CLI signs keys.
      expect(s.demo.key).toMatch(/^ath_[a-z0-9]{10}_[A-Za-z0-9]{40}_[0-9a-f]{24}$/);
      const signing = readDevVars(join(stateDir, 'dev.vars')).KEY_SIGNING_SECRETS ?? '';
      const signed = s.demo.key.slice(0, s.demo.key.lastIndexOf('_'));
      expect(s.demo.key.slice(signed.length + 1)).toBe(createHmac('sha256', signing).update(signed).digest('hex').slice(0, 24));
      firstKey = s.demo.key;

      const health = await fetch(`${workerUrl}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: 'ok' });

      // Postgres is reachable; the demo client points at the tenant DB and holds the printed key.
      const keyHash = createHash('sha256').update(s.demo.key).digest('hex');
      const keys = await queryOnce(
        s.databaseUrl,
        'SELECT k.client_name, k.scopes, k.revoked_at, c.database_url FROM api_keys k JOIN clients c USING (client_name) WHERE k.key_hash = $1',
        [keyHash],
      );
      expect(keys).toEqual([
        {
          client_name: 'demo',
          scopes: { operations: ['read', 'insert', 'update', 'delete', 'rpc'], tables: ['*'], functions: ['*'] },
          revoked_at: null,
          database_url: s.tenantDatabaseUrl,
        },
      ]);
      const todos = await queryOnce<{ n: number }>(s.tenantDatabaseUrl, 'SELECT count(*)::int AS n FROM todos');
      expect(todos[0]?.n).toBeGreaterThanOrEqual(3);

      // The curl the stack printed, with the key it printed. Needs the /gateway/fetch route.
      const curl = stack.lines.find((l) => l.includes('curl -s '));
      expect(curl).toContain(`curl -s ${workerUrl}/gateway/fetch -H 'X-Athena-Client: demo' -H 'apikey: ${s.demo.key}'`);
      const res = await runPrintedCurl(curl ?? '');
      const body = (await res.json()) as { data?: Array<{ title?: string }> };
      expect(res.status, JSON.stringify(body)).toBe(200);
      expect(body.data?.length).toBe(Math.min(5, todos[0]?.n ?? 0));
      expect(body.data?.[0]?.title).toBeTypeOf('string');

      tree = descendants(pid);
      const cmds = tree.map((p) => p.cmd).join('\n');
      expect(cmds).toMatch(/workerd/);
      expect(cmds).toMatch(/wrangler/);
      expect(cmds).toMatch(/postgres/);
      if (flusherExpected) expect(cmds).toMatch(/flusher\/index\.ts/);

      // npm forwards SIGTERM and exits at once; the stack then stops its children on its own.
      process.kill(pid, 'SIGTERM');
      await stack.exited;
      expect(await survivors(tree, 30_000)).toEqual([]);
      for (const port of [ports.worker, ports.pg, ...(flusherExpected ? [ports.flusher] : [])]) expect(await portInUse(port)).toBe(false);
      expect(existsSync(join(stateDir, 'stack.json'))).toBe(false);
    } finally {
      killAll([...tree, ...descendants(pid)]);
    }
  });

  it('re-runs on the same data with a new demo key (the old one revoked); Ctrl-C stops everything', { timeout: 240_000 }, async () => {
    expect(firstKey).not.toBe('');
    // A developer's own override in the dotenv file survives the rewrite and reaches the worker.
    const devVars = join(stateDir, 'dev.vars');
    const adminToken = readDevVars(devVars).ADMIN_TOKEN;
    expect(adminToken).toMatch(/^[0-9a-f]{48}$/);
    appendFileSync(devVars, 'AUTH_CACHE_TTL_MS=1234\n');
    const stack = startStack();
    const pid = stack.child.pid ?? 0;
    let tree: Proc[] = [];
    try {
      await waitForReady(stack, 180_000);
      const s = readStack();
      expect(s.demo.key).not.toBe(firstKey);
      const oldHash = createHash('sha256').update(firstKey).digest('hex');
      const old = await queryOnce<{ revoked: boolean }>(s.databaseUrl, 'SELECT revoked_at IS NOT NULL AS revoked FROM api_keys WHERE key_hash = $1', [oldHash]);
      expect(old).toEqual([{ revoked: true }]);
      const live = await queryOnce<{ n: number }>(s.databaseUrl, "SELECT count(*)::int AS n FROM api_keys WHERE client_name = 'demo' AND revoked_at IS NULL");
      expect(live[0]?.n).toBe(1);
      const todos = await queryOnce<{ n: number }>(s.tenantDatabaseUrl, 'SELECT count(*)::int AS n FROM todos');
      expect(todos[0]?.n).toBe(5); // seeded once, not again

      expect(readDevVars(devVars)).toMatchObject({ ADMIN_TOKEN: adminToken, AUTH_CACHE_TTL_MS: '1234' });
      expect(statSync(devVars).mode & 0o777).toBe(0o600);
      const status = await fetch(`${s.workerUrl}/__gateway/status`, { headers: { authorization: `Bearer ${adminToken}` } });
      expect(status.status).toBe(200);
      expect(JSON.stringify(await status.json())).toContain('"AUTH_CACHE_TTL_MS":1234');

      tree = descendants(pid);
      process.kill(-pid, 'SIGINT'); // what Ctrl-C does: SIGINT to the foreground process group
      await stack.exited; // npm itself dies of the SIGINT, as it does in a terminal
      expect(await survivors(tree, 30_000)).toEqual([]);
      expect(stack.stderr.join('\n')).not.toMatch(/Error|ESRCH/);
    } finally {
      killAll([...tree, ...descendants(pid)]);
    }
  });

  it('when wrangler dies, stops everything else and exits 1 naming it', { timeout: 240_000 }, async () => {
    await expectStopsWhenKilled((tree) => {
      const wrangler = tree.find((p) => /wrangler\.js dev/.test(p.cmd));
      expect(wrangler).toBeDefined();
      process.kill(-(wrangler?.pid ?? 0), 'SIGKILL'); // its whole group: wrangler and workerd
    }, /wrangler dev exited unexpectedly \(SIGKILL\); its output is in .*worker\.log/);
  });

  it('when Postgres dies, stops everything else and exits 1 naming its log', { timeout: 240_000 }, async () => {
    await expectStopsWhenKilled((tree) => {
      const postmaster = Number(readFileSync(join(pgDataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      expect(tree.map((p) => p.pid)).toContain(postmaster);
      process.kill(postmaster, 'SIGKILL');
    }, /Postgres exited unexpectedly; its output is in .*postgres\.log/);
  });

  it('fails fast with a clear message, exit 1, when a port is taken', { timeout: 60_000 }, async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(ports.worker, '127.0.0.1', () => r()));
    try {
      const stack = startStack();
      expect(await stack.exited).toEqual({ code: 1, signal: null });
      expect(stack.stderr.join('\n')).toContain(`port ${ports.worker} is in use`);
      expect(stack.stderr.join('\n')).toContain('WORKER_PORT');
    } finally {
      await new Promise<void>((r) => blocker.close(() => r()));
    }
  });
});
