/**
 * `npm run dev` as a new user runs it, on free ports and a scratch data dir (DEV_STATE_DIR keeps it
 * away from the repo's .dev/ and .dev.vars). Proves: one `ready` line, a working worker (/health
 * through wrangler dev), `.dev/stack.json`, Postgres seeded with the demo client, key and todos;
 * the printed curl answers 200; SIGTERM to npm and Ctrl-C (SIGINT to the process group) leave no
 * process behind; a re-run reuses the data and re-issues the demo key; a taken port fails fast.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../dev/ports.js';
import { portInUse } from '../../dev/probes.js';
import { descendants, stillAlive, type Proc } from './process-tree.js';
import { ROOT } from './run-entry.js';

type StackJson = {
  workerUrl: string;
  flusherUrl: string | null;
  databaseUrl: string;
  tenantDatabaseUrl: string;
  demo: { client: string; key: string };
};

type Running = { child: ChildProcess; lines: string[]; stderr: string[]; exited: Promise<number | null> };

const flusherExpected = existsSync(join(ROOT, 'flusher', 'index.ts'));
const stateDir = mkdtempSync(join(tmpdir(), 'gateway-dev-stack-'));
const pgDataDir = join(tmpdir(), 'athena-gateway', `pg-devtest-${process.pid}-${Date.now()}`);
let ports: { worker: number; flusher: number; pg: number };
let env: NodeJS.ProcessEnv;
let firstKey = '';

/** `npm run dev`, in its own process group the way a terminal runs a foreground job. */
function startStack(extraEnv: NodeJS.ProcessEnv = {}): Running {
  const npmCli = process.env.npm_execpath;
  const [cmd, args] = npmCli?.endsWith('.js') ? [process.execPath, [npmCli, 'run', 'dev']] : ['npm', ['run', 'dev']];
  const child = spawn(cmd, args, { cwd: ROOT, env: { ...env, ...extraEnv }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const stderr: string[] = [];
  if (child.stdout) createInterface({ input: child.stdout }).on('line', (l) => lines.push(l));
  if (child.stderr) createInterface({ input: child.stderr }).on('line', (l) => stderr.push(l));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, lines, stderr, exited };
}

async function waitForReady(stack: Running, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  void stack.exited.then((c) => (exitCode = c));
  while (Date.now() < deadline && exitCode === undefined) {
    const ready = stack.lines.find((l) => /^ready: /.test(l));
    if (ready) return ready;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no ready line (exit ${String(exitCode)}):\n${stack.lines.join('\n')}\n${stack.stderr.join('\n')}`);
}

/** The request the printed curl makes: URL, -H headers and -d body taken from the line itself. */
async function runPrintedCurl(line: string): Promise<Response> {
  const url = /curl -s (\S+)/.exec(line)?.[1] ?? '';
  const headers = [...line.matchAll(/-H '([^:']+): ([^']*)'/g)].map((m) => [m[1] ?? '', m[2] ?? ''] as [string, string]);
  const body = /-d '([^']*)'/.exec(line)?.[1];
  return fetch(url, { method: 'POST', headers, body });
}

async function query<R extends pg.QueryResultRow>(url: string, text: string, params: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(text, params)).rows;
  } finally {
    await client.end();
  }
}

/** Waits until none of `procs` is alive (bounded), then returns the survivors. */
async function survivors(procs: Proc[], timeoutMs: number): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && procs.some(stillAlive)) await new Promise((r) => setTimeout(r, 200));
  return procs.filter(stillAlive).map((p) => `${p.pid} ${p.cmd.slice(0, 120)}`);
}

const readStack = () => JSON.parse(readFileSync(join(stateDir, 'stack.json'), 'utf8')) as StackJson;

beforeAll(async () => {
  ports = { worker: await freePort(), flusher: await freePort(), pg: await freePort() };
  env = {
    ...process.env,
    WORKER_PORT: String(ports.worker),
    FLUSHER_PORT: String(ports.flusher),
    PG_PORT: String(ports.pg),
    DEV_STATE_DIR: stateDir,
    PG_DATA_DIR: pgDataDir,
  };
  delete env.DATABASE_URL;
});

afterAll(() => {
  rmSync(stateDir, { recursive: true, force: true });
  rmSync(pgDataDir, { recursive: true, force: true });
});

describe('npm run dev', () => {
  it('starts the whole stack, serves the printed curl, and SIGTERM to npm stops every child', { timeout: 240_000 }, async () => {
    const stack = startStack();
    const pid = stack.child.pid ?? 0;
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
      expect(s.demo.key).toMatch(/^ath_[a-z0-9]{10}_[A-Za-z0-9]{40}$/);
      firstKey = s.demo.key;

      const health = await fetch(`${workerUrl}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: 'ok' });

      // Postgres is reachable; the demo client points at the tenant DB and holds the printed key.
      const keyHash = createHash('sha256').update(s.demo.key).digest('hex');
      const keys = await query(s.databaseUrl, 'SELECT k.client_name, k.scopes, k.revoked_at, c.database_url FROM api_keys k JOIN clients c USING (client_name) WHERE k.key_hash = $1', [keyHash]);
      expect(keys).toEqual([{ client_name: 'demo', scopes: { operations: ['read', 'insert', 'update', 'delete'], tables: ['*'] }, revoked_at: null, database_url: s.tenantDatabaseUrl }]);
      const todos = await query<{ n: number }>(s.tenantDatabaseUrl, 'SELECT count(*)::int AS n FROM todos');
      expect(todos[0]?.n).toBeGreaterThanOrEqual(3);

      // The curl the stack printed, with the key it printed. Needs the /gateway/fetch route.
      const curl = stack.lines.find((l) => l.includes('curl -s '));
      expect(curl).toContain(`curl -s ${workerUrl}/gateway/fetch -H 'X-Athena-Client: demo' -H 'apikey: ${s.demo.key}'`);
      const res = await runPrintedCurl(curl ?? '');
      const body = (await res.json()) as { data?: Array<{ title?: string }> };
      expect(res.status, JSON.stringify(body)).toBe(200);
      expect(body.data?.length).toBe(Math.min(5, todos[0]?.n ?? 0));
      expect(body.data?.[0]?.title).toBeTypeOf('string');

      const tree = descendants(pid);
      const cmds = tree.map((p) => p.cmd).join('\n');
      expect(cmds).toMatch(/workerd/);
      expect(cmds).toMatch(/wrangler/);
      expect(cmds).toMatch(/postgres/);
      if (flusherExpected) expect(cmds).toMatch(/flusher\/index\.ts/);

      process.kill(pid, 'SIGTERM');
      expect(await stack.exited).not.toBeNull();
      expect(await survivors(tree, 20_000)).toEqual([]);
      for (const port of [ports.worker, ports.pg, ...(flusherExpected ? [ports.flusher] : [])]) expect(await portInUse(port)).toBe(false);
      expect(existsSync(join(stateDir, 'stack.json'))).toBe(false);
    } finally {
      if (pid) for (const p of descendants(pid)) if (stillAlive(p)) process.kill(p.pid, 'SIGKILL');
    }
  });

  it('re-runs on the same data with a new demo key (the old one revoked); Ctrl-C stops everything', { timeout: 240_000 }, async () => {
    expect(firstKey).not.toBe('');
    const stack = startStack();
    const pid = stack.child.pid ?? 0;
    try {
      await waitForReady(stack, 180_000);
      const s = readStack();
      expect(s.demo.key).not.toBe(firstKey);
      const oldHash = createHash('sha256').update(firstKey).digest('hex');
      const old = await query<{ revoked: boolean }>(s.databaseUrl, 'SELECT revoked_at IS NOT NULL AS revoked FROM api_keys WHERE key_hash = $1', [oldHash]);
      expect(old).toEqual([{ revoked: true }]);
      const live = await query<{ n: number }>(s.databaseUrl, "SELECT count(*)::int AS n FROM api_keys WHERE client_name = 'demo' AND revoked_at IS NULL");
      expect(live[0]?.n).toBe(1);
      const todos = await query<{ n: number }>(s.tenantDatabaseUrl, 'SELECT count(*)::int AS n FROM todos');
      expect(todos[0]?.n).toBe(5); // seeded once, not again

      const tree = descendants(pid);
      process.kill(-pid, 'SIGINT'); // what Ctrl-C does: SIGINT to the foreground process group
      expect(await stack.exited).not.toBeNull();
      expect(await survivors(tree, 20_000)).toEqual([]);
      expect(stack.stderr.join('\n')).not.toMatch(/Error|ESRCH/);
    } finally {
      if (pid) for (const p of descendants(pid)) if (stillAlive(p)) process.kill(p.pid, 'SIGKILL');
    }
  });

  it('fails fast with a clear message, exit 1, when a port is taken', { timeout: 60_000 }, async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(ports.worker, '127.0.0.1', () => r()));
    try {
      const stack = startStack();
      const code = await stack.exited;
      expect(code).toBe(1);
      expect(stack.stderr.join('\n')).toContain(`port ${ports.worker} is in use`);
      expect(stack.stderr.join('\n')).toContain('WORKER_PORT');
    } finally {
      await new Promise<void>((r) => blocker.close(() => r()));
    }
  });
});
