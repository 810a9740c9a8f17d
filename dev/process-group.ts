/**
 * Child processes of the dev stack, each the leader of its own process group (`detached`), so a
 * stop signal reaches everything it started (wrangler → workerd, esbuild) and nothing is orphaned.
 * Output goes line by line to a log file (rewritten each start) and to an optional callback.
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';

export type Exit = { code: number | null; signal: NodeJS.Signals | null };

export type GroupChild = {
  name: string;
  pid: number;
  /** Resolves when the leader exits (whether or not we asked it to). */
  exited: Promise<Exit>;
  /** The exit, once it happened. */
  exit(): Exit | undefined;
  /** SIGTERM to the whole group, SIGKILL after `graceMs`; resolves when no member is left. */
  stop(graceMs: number): Promise<void>;
};

export type StartOptions = {
  cwd: string;
  env: NodeJS.ProcessEnv;
  logFile: string;
  onLine?: (line: string) => void;
  /** Append to the log file (a restart) instead of starting it afresh. */
  append?: boolean;
};

/** Spawns `command args` as a new process group. Throws when it cannot be spawned at all. */
export function startGroupChild(name: string, command: string, args: string[], opts: StartOptions): GroupChild {
  // One run per file, so a crash report shows only this run; a restart keeps the crash before it.
  const log = createWriteStream(opts.logFile, { flags: opts.append ? 'a' : 'w' });
  log.write(`\n--- ${new Date().toISOString()} ${name} starting\n`);
  const child = spawn(command, args, { cwd: opts.cwd, env: opts.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${name} (${command})`);
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      log.write(`${line}\n`);
      opts.onLine?.(line);
    });
  }
  let exit: Exit | undefined;
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      log.write(`--- ${name} exited (${signal ?? `code ${code}`})\n`);
      resolve(exit);
    });
  });
  return {
    name,
    pid,
    exited,
    exit: () => exit,
    async stop(graceMs) {
      signalGroup(pid, 'SIGTERM');
      const deadline = Date.now() + graceMs;
      while (groupAlive(pid) && Date.now() < deadline) await sleep(100);
      if (groupAlive(pid)) signalGroup(pid, 'SIGKILL');
      while (groupAlive(pid)) await sleep(50);
      await exited;
      log.end();
    },
  };
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
