/**
 * Runs one of the repo's TypeScript entry points (cli/index.ts, cli/migrate.ts…) the way npm scripts
 * do — a real Node child process through tsx — and collects its exit code and output.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** tsx's loader by absolute URL, so the child can run from any working directory. */
const TSX = import.meta.resolve('tsx');

export type RunResult = { code: number; stdout: string; stderr: string };

export type RunOptions = { env?: NodeJS.ProcessEnv; cwd?: string };

/** `node --import tsx <entry> ...args`, with `env` replacing DATABASE_URL & co. when given. */
export function runEntry(entry: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', TSX, fileURLToPath(new URL(entry, new URL('../../', import.meta.url))), ...args],
      // Killed at the timeout, a child reports exit 1 and no stderr: the bound stays far above what
      // a CLI run takes while many start at once on a busy 2-core machine.
      { cwd: opts.cwd ?? ROOT, env: opts.env ?? process.env, timeout: 150_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
