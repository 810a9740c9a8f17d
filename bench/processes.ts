/**
 * Child processes of the bench, each in its own process group so a stop kills the whole tree
 * (tsx → node, workerd). Every child is registered; `stopAll` runs on exit, errors and SIGINT,
 * so a failed or interrupted run never leaves a server or load generator behind.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

export type Child = {
  name: string;
  proc: ChildProcess;
  /** Resolves with the exit code (or null when killed by a signal). */
  exited: Promise<number | null>;
  /** The last lines of stderr+stdout, for error messages. */
  tail(): string;
  /** SIGTERM the group, SIGKILL after `graceMs`. Safe to call twice. */
  stop(graceMs?: number): Promise<void>;
};

const live = new Set<Child>();
const TAIL_LINES = 40;

/** Spawns `cmd args` detached in a new process group and registers it for cleanup. */
export function startChild(name: string, cmd: string, args: string[], opts: SpawnOptions & { echo?: boolean } = {}): Child {
  const proc = spawn(cmd, args, { ...opts, detached: true, stdio: opts.stdio ?? ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) {
      if (!line) continue;
      lines.push(line);
      if (opts.echo) process.stderr.write(`[${name}] ${line}\n`);
    }
    if (lines.length > TAIL_LINES) lines.splice(0, lines.length - TAIL_LINES);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => {
    proc.once('exit', (code) => resolve(code));
    proc.once('error', (err) => {
      lines.push(`spawn error: ${err.message}`);
      resolve(-1);
    });
  });
  let stopping: Promise<void> | undefined;
  const child: Child = {
    name,
    proc,
    exited,
    tail: () => lines.join('\n'),
    stop(graceMs = 3000) {
      stopping ??= (async () => {
        signalGroup(proc, 'SIGTERM');
        const timer = setTimeout(() => signalGroup(proc, 'SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
        // Grandchildren that ignored SIGTERM (e.g. workerd under a wrapper) go too.
        signalGroup(proc, 'SIGKILL');
        live.delete(child);
      })();
      return stopping;
    },
  };
  live.add(child);
  void exited.then(() => live.delete(child));
  return child;
}

function signalGroup(proc: ChildProcess, signal: NodeJS.Signals): void {
  if (proc.pid === undefined) return;
  try {
    process.kill(-proc.pid, signal);
  } catch {
    // Group already gone.
  }
}

/** Stops every registered child. */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((c) => c.stop(2000)));
}

/** Installs exit/SIGINT/SIGTERM handlers that stop children before the process ends. */
export function installCleanup(extra: () => Promise<void>): void {
  let done = false;
  const cleanup = async (code: number) => {
    if (done) return;
    done = true;
    await stopAll().catch(() => undefined);
    await extra().catch(() => undefined);
    process.exit(code);
  };
  process.once('SIGINT', () => void cleanup(130));
  process.once('SIGTERM', () => void cleanup(143));
  // Last resort when something calls process.exit directly: synchronous group kills only.
  process.once('exit', () => {
    for (const c of live) signalGroup(c.proc, 'SIGKILL');
  });
}

/** Polls `probe` until it resolves true or `timeoutMs` passes. */
export async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs: number, child?: Child): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  void child?.exited.then((c) => (exitCode = c));
  while (Date.now() < deadline) {
    if (exitCode !== undefined) throw new Error(`${what}: ${child?.name} exited with ${exitCode}\n${child?.tail() ?? ''}`);
    if (await probe().catch(() => false)) return;
    await sleep(100);
  }
  throw new Error(`${what}: not ready after ${timeoutMs} ms\n${child?.tail() ?? ''}`);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
