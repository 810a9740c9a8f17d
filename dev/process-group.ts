/**
 * The one way this repository supervises a child process (the dev stack, the bench, the tests that
 * run `npm run dev`): each child leads its own process group (`detached`), so a stop signal reaches
 * everything it started (wrangler → workerd, tsx → node, esbuild) and nothing is orphaned. Output
 * is read line by line: to an optional log file (rewritten each start, or appended on a restart),
 * to an optional callback, and into a short tail for error messages.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';

export type Exit = { code: number | null; signal: NodeJS.Signals | null };

export type GroupChild = {
  name: string;
  pid: number;
  proc: ChildProcess;
  /** Resolves when the leader exits (whether or not we asked it to). */
  exited: Promise<Exit>;
  /** The exit, once it happened. */
  exit(): Exit | undefined;
  /** The last lines of its stdout and stderr, for error messages. */
  tail(): string;
  /** SIGTERM to the whole group, SIGKILL after `graceMs`; resolves when no member is left. Safe to call twice. */
  stop(graceMs: number): Promise<void>;
};

export type StartOptions = {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  logFile?: string;
  /** Append to the log file (a restart) instead of starting it afresh. */
  append?: boolean;
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
};

const TAIL_LINES = 40;

/** Spawns `command args` as a new process group. Throws when it cannot be spawned at all. */
export function startGroupChild(name: string, command: string, args: string[], opts: StartOptions = {}): GroupChild {
  // One run per file, so a crash report shows only this run; a restart keeps the crash before it.
  const log = opts.logFile ? createWriteStream(opts.logFile, { flags: opts.append ? 'a' : 'w' }) : undefined;
  log?.write(`\n--- ${new Date().toISOString()} ${name} starting\n`);
  const proc = spawn(command, args, { cwd: opts.cwd, env: opts.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = proc.pid;
  if (pid === undefined) throw new Error(`could not start ${name} (${command})`);
  const lines: string[] = [];
  for (const [stream, input] of [
    ['stdout', proc.stdout],
    ['stderr', proc.stderr],
  ] as const) {
    createInterface({ input }).on('line', (line) => {
      log?.write(`${line}\n`);
      lines.push(line);
      if (lines.length > TAIL_LINES) lines.shift();
      opts.onLine?.(line, stream);
    });
  }
  let exit: Exit | undefined;
  const exited = new Promise<Exit>((resolve) => {
    proc.once('exit', (code, signal) => {
      exit = { code, signal };
      log?.write(`--- ${name} exited (${signal ?? `code ${code}`})\n`);
      resolve(exit);
    });
  });
  let stopping: Promise<void> | undefined;
  return { name, pid, proc, exited, exit: () => exit, tail: () => lines.join('\n'), stop: (graceMs) => (stopping ??= stopGroup(pid, graceMs, exited, log)) };
}

async function stopGroup(pid: number, graceMs: number, exited: Promise<Exit>, log: WriteStream | undefined): Promise<void> {
  signalGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (groupAlive(pid) && Date.now() < deadline) await sleep(100);
  if (groupAlive(pid)) signalGroup(pid, 'SIGKILL');
  while (groupAlive(pid)) await sleep(50);
  await exited;
  log?.end();
}

/** Sends `signal` to every process in the group led by `pid`; a gone group is not an error. */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: nothing left in the group
  }
}

/** True while any process of the group (even after its leader exited) is alive. */
function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
