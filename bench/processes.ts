/**
 * The bench's children, supervised by dev/process-group.ts (each in its own process group, so a
 * stop kills the whole tree: tsx → node, workerd). Every child is registered; `stopAll` runs on
 * exit, errors and SIGINT, so a failed or interrupted run never leaves a server or load generator
 * behind.
 */
import { signalGroup, sleep, startGroupChild, type GroupChild } from '../dev/process-group.js';

export type Child = GroupChild;

const live = new Set<Child>();

/** Spawns `cmd args` in a new process group and registers it for cleanup; `echo` copies its output to stderr. */
export function startChild(name: string, cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; echo?: boolean } = {}): Child {
  const child = startGroupChild(name, cmd, args, { ...opts, ...(opts.echo ? { onLine: (line: string) => process.stderr.write(`[${name}] ${line}\n`) } : {}) });
  live.add(child);
  void child.exited.then(() => live.delete(child));
  return child;
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
    for (const c of live) signalGroup(c.pid, 'SIGKILL');
  });
}

/** Polls `probe` until it resolves true or `timeoutMs` passes; fails early when `child` exits. */
export async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs: number, child?: Child): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const exit = child?.exit();
    if (exit) throw new Error(`${what}: ${child?.name} exited with ${exit.signal ?? exit.code}\n${child?.tail() ?? ''}`);
    if (await probe().catch(() => false)) return;
    await sleep(100);
  }
  throw new Error(`${what}: not ready after ${timeoutMs} ms\n${child?.tail() ?? ''}`);
}
