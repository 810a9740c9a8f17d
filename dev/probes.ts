/** Start-up probes for the dev stack: is a port taken (are all of its own free), and wait for an HTTP endpoint to answer. */
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { sleep } from './process-group.js';
import type { StackConfig } from './stack-config.js';

/** True when nothing can bind 127.0.0.1:`port` right now. */
export function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(true));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(false)));
  });
}

export type WaitOptions = {
  timeoutMs: number;
  /** Checked between attempts: a reason to give up early (e.g. the process died). */
  abort?: () => string | undefined;
};

/** Polls `url` until it answers 2xx. Rejects with the reason on abort or timeout. */
export async function waitForHttp(url: string, opts: WaitOptions): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    const aborted = opts.abort?.();
    if (aborted) throw new Error(aborted);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.body?.cancel();
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await sleep(250);
  }
  throw new Error(`${url} did not answer within ${Math.round(opts.timeoutMs / 1000)}s (last: ${last})`);
}

/**
 * Resolves once the Postgres of `dataDir` is gone — shut down (postmaster.pid removed) or killed
 * (its pid file left behind, naming no live process) — or after `timeoutMs`.
 */
export async function postmasterGone(dataDir: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (postmasterAlive(dataDir) && Date.now() < deadline) await sleep(100);
}

function postmasterAlive(dataDir: string): boolean {
  if (!existsSync(join(dataDir, 'postmaster.pid'))) return false;
  const pid = postmasterPid(dataDir);
  return !(Number.isInteger(pid) && pid > 0) || processAlive(pid);
}

/** The pid on the first line of `dataDir`'s postmaster.pid. */
function postmasterPid(dataDir: string): number {
  return Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Calls `onGone` once the postmaster of `dataDir` (pid from its postmaster.pid) is no longer alive,
 * checking every `intervalMs`. Returns a function that stops watching.
 */
export function watchPostmaster(dataDir: string, onGone: () => void, intervalMs = 500): () => void {
  const pid = postmasterPid(dataDir);
  const timer = setInterval(() => {
    if (processAlive(pid)) return;
    clearInterval(timer);
    onGone();
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** Fails the start, naming the variable to change, when a port the stack binds is taken. */
export async function assertPortsFree(cfg: StackConfig): Promise<void> {
  const wanted: Array<[string, number]> = [
    ['PG_PORT', cfg.pgPort],
    ['WORKER_PORT', cfg.workerPort],
    ['FLUSHER_PORT', cfg.flusherPort],
  ];
  if (cfg.wsProxyPort) wanted.push(['WS_PROXY_PORT', cfg.wsProxyPort]);
  for (const [name, port] of wanted) {
    if (await portInUse(port)) {
      const hint = name === 'PG_PORT' ? ` (a Postgres left over from an earlier run? its pid is in ${join(cfg.pgDataDir, 'postmaster.pid')})` : '';
      throw new Error(`port ${port} is in use${hint}; stop what holds it or set ${name}=<another port>`);
    }
  }
}
