/**
 * The CLI as most tests run it: `runCli` in this process, with its output captured, the test
 * catalog injected and the test key-signing secret in its environment — the same rows, messages
 * and exit codes as `npm run gateway -- …`, without a Node + tsx start per command. The entry point
 * itself (a child process, its streams and exit code) is test/e2e/cli-entry.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { openCatalog } from '../../catalog/open.js';
import { runCli, type CliIo } from '../../cli/run.js';
import { TEST_KEY_SIGNING_SECRET } from '../support/key-signing.js';
import { ROOT, type RunResult } from '../support/run-entry.js';

const databaseUrl = inject('databaseUrl');

/** The environment the CLI runs with: the test catalog and the test key-signing secret. */
export const cliEnv = { ...process.env, DATABASE_URL: databaseUrl, KEY_SIGNING_SECRETS: TEST_KEY_SIGNING_SECRET };

/** Options for one in-process run: its environment and working directory, and whether the catalog is injected. */
type InProcessOptions = { env?: NodeJS.ProcessEnv; cwd?: string; catalog?: 'injected' | 'from-env' };

/** Runs the CLI with `args` in this process; resolves with its exit code and what it wrote. */
export async function runGateway(args: string[], opts: InProcessOptions = {}): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env: opts.env ?? cliEnv,
    cwd: opts.cwd ?? ROOT,
    ...(opts.catalog === 'from-env' ? {} : { openCatalog: () => openCatalog(databaseUrl) }),
  };
  const code = await runCli(args, io);
  return { code, stdout, stderr };
}

/** `npm run gateway -- <args>` against the test catalog, in this process. */
export const gateway = (...args: string[]) => runGateway(args);

/** A name unique to this run (the catalog is shared with other test files). */
export const uniq = (label: string) => `${label}-${randomUUID().slice(0, 8)}`;
