/**
 * Where the running `npm run dev` stack keeps what other tools read, and how they read it: the
 * stack writes them (dev/stack.ts), the CLI reads them to work beside it without setup. By default
 * `.dev/stack.json` and `.dev.vars` under the checkout; with DEV_STATE_DIR (tests, a second stack)
 * `stack.json` and `dev.vars` in that directory, so nothing in the checkout is written.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';

export type DevStateFiles = {
  /** `.dev/` by default: stack.json and logs/. */
  stateDir: string;
  /** What the stack publishes for scripts: URLs, admin token, the demo key. */
  stackFile: string;
  /** The dotenv file wrangler reads secrets from: `.dev.vars`, or `<DEV_STATE_DIR>/dev.vars`. */
  devVarsFile: string;
};

/** The files of the dev stack run from `root` (a relative DEV_STATE_DIR is taken from `root`). */
export function devStateFiles(env: NodeJS.ProcessEnv, root: string): DevStateFiles {
  const dir = env.DEV_STATE_DIR?.trim();
  const stateDir = dir ? (isAbsolute(dir) ? dir : resolve(root, dir)) : join(root, '.dev');
  return { stateDir, stackFile: join(stateDir, 'stack.json'), devVarsFile: dir ? join(stateDir, 'dev.vars') : join(root, '.dev.vars') };
}

/** What stack.json holds. Every field optional for readers: each takes the ones it needs. */
const stackFileSchema = z.object({
  workerUrl: z.string().optional(),
  flusherUrl: z.string().nullable().optional(),
  databaseUrl: z.string().optional(),
  adminToken: z.string().optional(),
});

export type StackFile = z.output<typeof stackFileSchema>;

/** The running dev stack's stack.json, or undefined when there is none (or it cannot be read). */
export function readStackFile(env: NodeJS.ProcessEnv, root: string): StackFile | undefined {
  try {
    const parsed = stackFileSchema.safeParse(JSON.parse(readFileSync(devStateFiles(env, root).stackFile, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined; // no dev stack running
  }
}
