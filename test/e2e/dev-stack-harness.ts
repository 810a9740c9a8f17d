/**
 * `npm run dev` under test: started the way a terminal runs a foreground job, its output collected
 * line by line, and the checks that a stopped stack left no process behind.
 */
import type { ChildProcess } from 'node:child_process';
import { freePort } from '../../dev/ports.js';
import { startGroupChild, type Exit } from '../../dev/process-group.js';
import { stillAlive, type Proc } from './process-tree.js';
import { ROOT } from '../support/run-entry.js';

export type StackJson = {
  workerUrl: string;
  flusherUrl: string | null;
  databaseUrl: string;
  tenantDatabaseUrl: string;
  adminToken: string;
  demo: { client: string; key: string };
};

export type Running = { child: ChildProcess; lines: string[]; stderr: string[]; exited: Promise<Exit> };

/**
 * The environment of a stack on free ports with its own state and Postgres data directories (so
 * the repo's .dev/ and .dev.vars stay untouched), without a DATABASE_URL from the caller.
 */
export async function stackEnv(
  stateDir: string,
  pgDataDir: string,
): Promise<{ env: NodeJS.ProcessEnv; ports: { worker: number; flusher: number; pg: number } }> {
  const ports = { worker: await freePort(), flusher: await freePort(), pg: await freePort() };
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    WORKER_PORT: String(ports.worker),
    FLUSHER_PORT: String(ports.flusher),
    PG_PORT: String(ports.pg),
    DEV_STATE_DIR: stateDir,
    PG_DATA_DIR: pgDataDir,
  };
  delete env.DATABASE_URL;
  return { env, ports };
}

/** `npm run dev` with `env`, in its own process group. */
export function startStack(env: NodeJS.ProcessEnv): Running {
  const npmCli = process.env.npm_execpath;
  const [cmd, args] = npmCli?.endsWith('.js') ? [process.execPath, [npmCli, 'run', 'dev']] : ['npm', ['run', 'dev']];
  const lines: string[] = [];
  const stderr: string[] = [];
  const child = startGroupChild('npm run dev', cmd, args, { cwd: ROOT, env, onLine: (l, stream) => (stream === 'stdout' ? lines : stderr).push(l) });
  return { child: child.proc, lines, stderr, exited: child.exited };
}

/** Resolves with the first output line matching `pattern`; rejects if the stack exits first or on timeout. */
export async function waitForLine(stack: Running, pattern: RegExp, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let exit: Exit | undefined;
  void stack.exited.then((e) => (exit = e));
  while (Date.now() < deadline && exit === undefined) {
    const line = stack.lines.find((l) => pattern.test(l));
    if (line) return line;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no line matching ${pattern} (exit ${JSON.stringify(exit)}):\n${stack.lines.join('\n')}\n${stack.stderr.join('\n')}`);
}

export const waitForReady = (stack: Running, timeoutMs: number) => waitForLine(stack, /^ready: /, timeoutMs);

/** The request the printed curl makes: URL, -H headers and -d body taken from the line itself. */
export async function runPrintedCurl(line: string): Promise<Response> {
  const url = /curl -s (\S+)/.exec(line)?.[1] ?? '';
  const headers = [...line.matchAll(/-H '([^:']+): ([^']*)'/g)].map((m) => [m[1] ?? '', m[2] ?? ''] as [string, string]);
  const body = /-d '([^']*)'/.exec(line)?.[1];
  return fetch(url, { method: 'POST', headers, body });
}

/** Waits until none of `procs` is alive (bounded), then returns the survivors. */
export async function survivors(procs: Proc[], timeoutMs: number): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && procs.some(stillAlive)) await new Promise((r) => setTimeout(r, 200));
  return procs.filter(stillAlive).map((p) => `${p.pid} ${p.cmd.slice(0, 120)}`);
}

/** Cleanup after a failed assertion: nothing of a test's stack may outlive the test file. */
export function killAll(procs: Proc[]): void {
  for (const p of procs) if (stillAlive(p)) process.kill(p.pid, 'SIGKILL');
}
