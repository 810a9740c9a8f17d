/**
 * Which catalog the CLI talks to: DATABASE_URL, or else the running dev stack's (from
 * `.dev/stack.json`), so `npm run gateway -- keys list` works next to `npm run dev` without setup.
 * Likewise the key-signing secrets: KEY_SIGNING_SECRETS, or else the dev stack's `.dev.vars`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CliError } from './errors.js';
import { readDevVars } from '../dev/dev-vars.js';
import { signingSecretsOf } from '../drizzle/key-signing.js';

/** KEY_SIGNING_SECRETS from the environment, else from `.dev.vars` (written by `npm run dev`); may be empty. */
export function resolveSigningSecrets(env: NodeJS.ProcessEnv, cwd: string): string[] {
  const fromEnv = signingSecretsOf(env.KEY_SIGNING_SECRETS);
  return fromEnv.length > 0 ? fromEnv : signingSecretsOf(readDevVars(join(cwd, '.dev.vars')).KEY_SIGNING_SECRETS);
}

/** The catalog URL and where it came from (for error messages). */
export function resolveDatabaseUrl(env: NodeJS.ProcessEnv, cwd: string): { url: string; source: string } {
  const fromEnv = env.DATABASE_URL?.trim();
  if (fromEnv) return { url: fromEnv, source: 'DATABASE_URL' };
  const stackFile = join(cwd, '.dev', 'stack.json');
  try {
    const stack: unknown = JSON.parse(readFileSync(stackFile, 'utf8'));
    if (stack && typeof stack === 'object' && 'databaseUrl' in stack && typeof stack.databaseUrl === 'string') {
      return { url: stack.databaseUrl, source: '.dev/stack.json' };
    }
  } catch {
    // no dev stack: fall through to the error below
  }
  throw new CliError('DATABASE_URL is not set: export the catalog database URL (or start `npm run dev`, whose catalog is used by default)');
}
