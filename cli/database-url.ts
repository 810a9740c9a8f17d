/**
 * Which catalog the CLI talks to, and with which key-signing secrets — each with where it came from.
 * The catalog: DATABASE_URL, or else the running dev stack's (from `.dev/stack.json`, dev-state/files.ts), so
 * `npm run gateway -- keys list` works next to `npm run dev` without setup. The secrets:
 * KEY_SIGNING_SECRETS, or else the dev stack's `.dev.vars` — but only while the catalog is the dev
 * stack's own: a key for another database signed with the dev secret would be refused there as forged.
 */
import { relative } from 'node:path';
import { CliError } from './errors.js';
import { readDevVars } from '../dev-state/dev-vars.js';
import { devStateFiles, readStackFile } from '../dev-state/files.js';
import { redactUrl } from '../catalog/redact.js';
import { signingSecretsOf } from '../crypto/key-signing.js';

/** `path` as the user would type it from `cwd`. */
const shown = (cwd: string, path: string) => relative(cwd, path) || path;

/** Where a value came from, as the CLI says it. */
const SOURCES = {
  env: (name: string) => `${name} (environment)`,
  stackFile: (env: NodeJS.ProcessEnv, cwd: string) => `${shown(cwd, devStateFiles(env, cwd).stackFile)} (the running dev stack)`,
  devVars: (env: NodeJS.ProcessEnv, cwd: string) => `${shown(cwd, devStateFiles(env, cwd).devVarsFile)} (the dev stack)`,
} as const;

/** The catalog URL and where it came from (for messages). */
export function resolveDatabaseUrl(env: NodeJS.ProcessEnv, cwd: string): { url: string; source: string } {
  const fromEnv = env.DATABASE_URL?.trim();
  if (fromEnv) return { url: fromEnv, source: SOURCES.env('DATABASE_URL') };
  const stack = readStackFile(env, cwd)?.databaseUrl;
  if (stack) return { url: stack, source: SOURCES.stackFile(env, cwd) };
  throw new CliError('DATABASE_URL is not set: export the catalog database URL (or start `npm run dev`, whose catalog is used by default)');
}

/** Same server and database (credentials and parameters aside). */
function sameDatabase(a: string, b: string): boolean {
  if (!URL.canParse(a) || !URL.canParse(b)) return false;
  const key = (u: URL) => `${u.hostname.toLowerCase()}:${u.port || '5432'}${u.pathname}`;
  return key(new URL(a)) === key(new URL(b));
}

export type SigningSecrets = {
  secrets: string[];
  /** Where they came from; undefined when none were found. */
  source: string | undefined;
  /** Why the dev stack's secret was not used, when `.dev.vars` has one. */
  refused?: string;
};

/** KEY_SIGNING_SECRETS from the environment, else the dev stack's — only for the dev stack's catalog. */
export function resolveSigningSecrets(env: NodeJS.ProcessEnv, cwd: string): SigningSecrets {
  const fromEnv = signingSecretsOf(env.KEY_SIGNING_SECRETS);
  if (fromEnv.length > 0) return { secrets: fromEnv, source: SOURCES.env('KEY_SIGNING_SECRETS') };
  const devVarsFile = devStateFiles(env, cwd).devVarsFile;
  const fromDev = signingSecretsOf(readDevVars(devVarsFile).KEY_SIGNING_SECRETS);
  if (fromDev.length === 0) return { secrets: [], source: undefined };
  const catalog = env.DATABASE_URL?.trim();
  const stack = readStackFile(env, cwd)?.databaseUrl;
  if (!catalog || (stack !== undefined && sameDatabase(catalog, stack))) return { secrets: fromDev, source: SOURCES.devVars(env, cwd) };
  return {
    secrets: [],
    source: undefined,
    refused: `${shown(cwd, devVarsFile)} holds the dev stack's secret, and DATABASE_URL (${redactUrl(catalog)}) is not the dev stack's catalog`,
  };
}
