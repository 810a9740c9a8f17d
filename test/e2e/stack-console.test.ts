/**
 * The operator console against a running `npm run dev` stack (free ports, scratch state dir, a
 * one-permit pool and 250 ms waits so load makes waits, slow acquires and 503s): `status` once, as JSON and with
 * each kind of bad input; `status --watch` in a pseudo-terminal (`script`) for a few frames under
 * load, then Ctrl-C; and the stack riding out a flusher crash — restarted and printed, the console
 * showing the outage and the recovery — until the restarts run out and the stack stops. The
 * one-shot `status` runs in-process (`runCli`); both `--watch` consoles run as processes.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../dev/ports.js';
import { descendants, type Proc } from './process-tree.js';
import { killAll, stackEnv, startStack, survivors, waitForLine, waitForReady, type Running, type StackJson } from './dev-stack-harness.js';
import { ROOT } from '../support/run-entry.js';
import { runGateway } from '../integration/cli-support.js';

const stateDir = mkdtempSync(join(tmpdir(), 'gateway-console-'));
const pgDataDir = join(tmpdir(), 'athena-gateway', `pg-console-${process.pid}-${Date.now()}`);
let stack: Running;
let s: StackJson;
let env: NodeJS.ProcessEnv;
let tree: Proc[] = [];

/** `npm run gateway -- status …` in-process, with the stack's environment (the entry point as a process: cli-entry.test.ts; `--watch` below). */
const status = (...args: string[]) => runGateway(['status', ...args], { env, cwd: ROOT, catalog: 'from-env' });

/** `n` concurrent data requests with the demo key (and some with a wrong one); their statuses. */
async function load(n: number): Promise<number[]> {
  const call = (key: string) =>
    fetch(`${s.workerUrl}/gateway/fetch`, {
      method: 'POST',
      headers: { 'x-athena-client': 'demo', apikey: key, 'content-type': 'application/json' },
      body: JSON.stringify({ table_name: 'todos', limit: 5 }),
    }).then(async (r) => {
      await r.body?.cancel();
      return r.status;
    });
  return Promise.all(Array.from({ length: n }, (_, i) => call(i % 5 === 4 ? 'ath_0000000000_wrong' : s.demo.key)));
}

/** One request at a time until one answers 200: the key and policy caches are warm after it. */
async function warmUp(): Promise<void> {
  for (let i = 0; i < 10; i++) {
    if ((await load(1))[0] === 200) return;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error('the demo key never answered 200');
}

beforeAll(async () => {
  mkdirSync(stateDir, { recursive: true });
  // A developer's overrides, kept by the stack: one permit, short waits, every wait "slow".
  writeFileSync(join(stateDir, 'dev.vars'), 'DB_POOL_MAX=1\nDB_ACQUIRE_TIMEOUT_MS=250\nDB_ACQUIRE_SLOW_MS=1\n');
  env = { ...(await stackEnv(stateDir, pgDataDir)).env, DEV_FLUSHER_RESTARTS: '1' };
  delete env.ADMIN_TOKEN;
  delete env.GATEWAY_URL;
  delete env.FLUSHER_URL;
  stack = startStack(env);
  await waitForReady(stack, 180_000);
  s = JSON.parse(readFileSync(join(stateDir, 'stack.json'), 'utf8')) as StackJson;
  tree = descendants(stack.child.pid ?? 0);
}, 200_000);

afterAll(async () => {
  const pid = stack?.child.pid ?? 0;
  const all = [...tree, ...descendants(pid)];
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {
    // already gone
  }
  await Promise.race([stack?.exited, new Promise((r) => setTimeout(r, 30_000))]);
  killAll(all);
  rmSync(stateDir, { recursive: true, force: true });
  rmSync(pgDataDir, { recursive: true, force: true });
}, 60_000);

describe('npm run gateway -- status', () => {
  it('prints the worker and the flusher as one table from .dev/stack.json, and the raw documents with --json', async () => {
    await warmUp();
    await load(10);
    const once = await status();
    expect(once.stderr).toBe('');
    expect(once.code).toBe(0);
    const tenant = new URL(s.tenantDatabaseUrl);
    expect(once.stdout).toMatch(new RegExp(`^gateway ${s.workerUrl}  v\\d+\\.\\d+\\.\\d+  isolate up`));
    expect(once.stdout).toMatch(/TARGET\s+IN USE\s+WAITING\s+TIMEOUTS\s+LONGEST WAIT\s+SLOW >1ms/);
    expect(once.stdout).toMatch(new RegExp(`127\\.0\\.0\\.1:${tenant.port}/athena_demo\\s+[01]/1\\s+\\d+\\s+\\d+`));
    expect(once.stdout).toMatch(/refusals {3}\d+: .*invalid_api_key \d+/);
    expect(once.stdout).toMatch(/batcher {4}flusher sink: \d+ pending rows/);
    expect(once.stdout).toMatch(/flusher {4}\d+ groups \(\d+ batches\), commit p99 \S+, rejected \d+/);
    expect(once.stdout).not.toContain(s.adminToken);

    const asJson = await status('--json');
    expect(asJson.code).toBe(0);
    const doc = JSON.parse(asJson.stdout) as {
      worker: string;
      status: { budgets: Array<{ target: string; slowAcquires: number }> };
      flusher: { samples: Array<{ name: string }> };
    };
    expect(doc.worker).toBe(s.workerUrl);
    expect(doc.status.budgets.map((b) => b.target)).toContain(`127.0.0.1:${tenant.port}/athena_demo`);
    expect(doc.flusher.samples.map((x) => x.name)).toContain('flusher_commit_duration_seconds_bucket');
  });

  it('says in one line what is wrong — wrong token, unreachable worker, flusher down — and exits 1', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const [wrongToken, noWorker, noFlusher, badFlag] = await Promise.all([
      status('--token', 'not-the-token'),
      status('--url', dead, '--token', 'x'),
      status('--flusher-url', dead),
      status('--url', 'gopher://x'),
    ]);
    const oneLine = (r: { stderr: string }) => r.stderr.trimEnd().split('\n');
    expect(wrongToken.code).toBe(1);
    expect(oneLine(wrongToken)).toEqual([`error: worker ${s.workerUrl}/ refused the admin token (401): check --token / ADMIN_TOKEN`]);
    expect(noWorker.code).toBe(1);
    expect(oneLine(noWorker)).toEqual([expect.stringMatching(new RegExp(`^error: worker ${dead}/ is unreachable \\(ECONNREFUSED\\): is it running\\?`))]);
    expect(noFlusher.code).toBe(1);
    expect(oneLine(noFlusher)).toEqual([expect.stringMatching(new RegExp(`^error: flusher ${dead}/ is unreachable \\(ECONNREFUSED\\)`))]);
    expect(noFlusher.stdout).toContain('flusher    DOWN: flusher');
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toContain('error: --url: must be an http(s) URL');
    for (const r of [wrongToken, noWorker, noFlusher, badFlag]) expect(r.stderr).not.toMatch(/\n\s+at |Error:/);
  });

  it('--watch redraws in place every second in a terminal, sparklines move under load, Ctrl-C restores the screen', { timeout: 90_000 }, async () => {
    const tsx = fileURLToPath(import.meta.resolve('tsx'));
    const cmd = `stty cols 120 rows 40; exec "${process.execPath}" --import "${tsx}" cli/index.ts status --watch`;
    const term = spawn('script', ['-q', '-e', '-c', cmd, '/dev/null'], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let screen = '';
    term.stdout.on('data', (d: Buffer) => (screen += d.toString('utf8')));
    const exited = new Promise<number | null>((r) => term.once('exit', (code) => r(code)));
    const frameCount = () => screen.split('\x1b[H').length - 1;
    const waitFrames = async (n: number) => {
      const deadline = Date.now() + 30_000;
      while (frameCount() < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    };
    try {
      await waitFrames(2);
      await warmUp();
      const statuses: number[] = [];
      for (let round = 0; round < 4; round++) statuses.push(...(await load(40)));
      expect(statuses).toContain(503); // one permit, 250 ms waits: some requests are refused
      const seen = frameCount();
      await waitFrames(seen + 2);
      term.stdin.write('\x03'); // Ctrl-C
      expect(await exited).toBe(0);
    } finally {
      term.kill('SIGKILL');
    }
    expect(screen.startsWith('\x1b[?1049h\x1b[?25l')).toBe(true); // alternate screen, cursor hidden
    expect(screen.endsWith('\x1b[?25h\x1b[?1049l')).toBe(true); // both restored
    const frames = screen
      .split('\x1b[H')
      .slice(1)
      .map((f) =>
        f
          .replace(/\x1b\[\?25h\x1b\[\?1049l$/, '')
          .replace(/\^C$/, '')
          .replace(/\x1b\[J$/, '')
          .split(/\r*\n/)
          .map((l) => l.replace(/\x1b\[K\r*$/, '')),
      );
    expect(frames.length).toBeGreaterThanOrEqual(4);
    for (const f of frames) {
      expect(f[0]).toMatch(new RegExp(`^gateway ${s.workerUrl}  v`));
      for (const line of f) expect([...line].length).toBeLessThanOrEqual(120);
      expect(f.join('\n')).not.toMatch(/undefined|NaN|\x1b/);
    }
    const last = frames.at(-1)?.join('\n') ?? '';
    expect(last).toMatch(/MEAN WAIT \/s/);
    const rateLines = frames.map((f) => f.find((l) => l.startsWith('503/s')) ?? '');
    expect(rateLines.some((l) => /[▂▃▄▅▆▇█] \d+\.\d$/.test(l) && !/ 0\.0$/.test(l))).toBe(true);
    // The demo target's budget moved under the load: more timeouts and slow acquires than at the start.
    const tenant = new URL(s.tenantDatabaseUrl);
    const moved = (f: string[]) => {
      const cells = f.find((l) => l.startsWith(`127.0.0.1:${tenant.port}/athena_demo`))?.split(/\s+/) ?? [];
      return Number(cells[3] ?? 0) + Number(cells[5] ?? 0); // TIMEOUTS + SLOW
    };
    expect(moved(frames.at(-1) ?? [])).toBeGreaterThan(moved(frames[0] ?? []));
    expect(last).toMatch(
      /refusals {3}\d+: .*(database_busy|database_unavailable|api_key_validation_(?:busy|unavailable)|api_key_policy_(?:busy|unavailable)) \d+/,
    );
  });
});

describe('the dev stack under a flusher crash', () => {
  const flusherOf = () => descendants(stack.child.pid ?? 0).find((p) => /flusher\/index\.ts/.test(p.cmd));

  it('restarts the flusher once, printing it; the watching console shows the outage and the recovery; the worker keeps answering', {
    timeout: 120_000,
  }, async () => {
    // The console as an operator would leave it running: one JSON line per second.
    const tsx = fileURLToPath(import.meta.resolve('tsx'));
    const watcher = spawn(process.execPath, ['--import', tsx, 'cli/index.ts', 'status', '--watch', '--json'], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const readings: Array<{ flusher: { samples?: unknown[]; error?: string } }> = [];
    createInterface({ input: watcher.stdout }).on('line', (l) => readings.push(JSON.parse(l) as (typeof readings)[number]));
    const watcherExit = new Promise<number | null>((r) => watcher.once('exit', (code) => r(code)));
    try {
      const deadline = Date.now() + 30_000;
      while (readings.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const first = flusherOf();
      expect(first).toBeDefined();
      process.kill(-(first?.pid ?? 0), 'SIGKILL');
      await waitForLine(
        stack,
        /^\[dev\] flusher exited unexpectedly \(SIGKILL\); restarting it in 1\.0s \(restart 1 of 1\); its output is in .*flusher\.log$/,
        30_000,
      );
      expect((await fetch(`${s.workerUrl}/health`)).status).toBe(200); // the worker rides it out
      await waitForLine(stack, /^\[dev\] flusher is back \(restart 1 of 1\)$/, 60_000);
      const seen = readings.length;
      while (readings.length < seen + 2 && Date.now() < deadline + 60_000) await new Promise((r) => setTimeout(r, 100));
      watcher.kill('SIGINT');
      expect(await watcherExit).toBe(0);
      expect(flusherOf()?.pid).not.toBe(first?.pid);
    } finally {
      watcher.kill('SIGKILL');
    }
    // Flusher up, then down (one clear reason), then up again.
    const states = readings.map((r) => (r.flusher.error ? 'down' : 'up')).filter((x, i, all) => i === 0 || all[i - 1] !== x);
    expect(states).toEqual(['up', 'down', 'up']);
    expect(readings.find((r) => r.flusher.error)?.flusher.error).toMatch(/^flusher http:\/\/127\.0\.0\.1:\d+\/ is unreachable/);
    const after = await status();
    expect(after.code).toBe(0);
    expect(after.stdout).toMatch(/flusher {4}\d+ groups/);
    tree = [...tree, ...descendants(stack.child.pid ?? 0)];
  });

  it('gives up after DEV_FLUSHER_RESTARTS and stops everything with exit 1', { timeout: 120_000 }, async () => {
    const again = flusherOf();
    expect(again).toBeDefined();
    process.kill(-(again?.pid ?? 0), 'SIGKILL');
    expect(await stack.exited).toEqual({ code: 1, signal: null });
    expect(stack.stderr.join('\n')).toMatch(/flusher exited unexpectedly \(SIGKILL\) after 1 restart; its output is in .*flusher\.log/);
    expect(await survivors(tree, 30_000)).toEqual([]);
  });
});
