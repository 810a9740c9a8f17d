/**
 * Where the console reads from: flags first, then GATEWAY_URL / ADMIN_TOKEN / FLUSHER_URL, then
 * the running dev stack's `.dev/stack.json` (or `$DEV_STATE_DIR/stack.json`).
 */
import { z } from 'zod';
import { readStackFile } from '../../dev-state/files.js';
import { CliError, UsageError } from '../errors.js';

export type Endpoints = { workerUrl: string; token: string; flusherUrl: string | null };

export type EndpointFlags = { url?: string; token?: string; flusherUrl?: string };

const HELP = 'status --help';
const httpUrl = z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/+$/, ''));

function url(value: string, flag: string): string {
  const parsed = httpUrl.safeParse(value.trim());
  if (!parsed.success) throw new UsageError(`${flag}: must be an http(s) URL`, HELP);
  return parsed.data;
}

/** The worker, its admin token and the flusher (null: none to read). */
export function resolveEndpoints(flags: EndpointFlags, env: NodeJS.ProcessEnv, cwd: string): Endpoints {
  const stack = readStackFile(env, cwd);
  const workerUrl = flags.url ?? (env.GATEWAY_URL?.trim() || undefined) ?? stack?.workerUrl;
  const token = flags.token ?? (env.ADMIN_TOKEN?.trim() || undefined) ?? stack?.adminToken;
  if (!workerUrl) throw new CliError('no gateway to read: start `npm run dev`, or pass --url and --token (or set GATEWAY_URL and ADMIN_TOKEN)');
  if (!token) throw new CliError("no admin token: pass --token or set ADMIN_TOKEN (the worker's ADMIN_TOKEN secret)");
  // With an explicit worker, the dev stack's flusher is not assumed to belong to it.
  const explicit = flags.url !== undefined || Boolean(env.GATEWAY_URL?.trim());
  const flusherUrl = flags.flusherUrl ?? (env.FLUSHER_URL?.trim() || undefined) ?? (explicit ? undefined : (stack?.flusherUrl ?? undefined));
  return {
    workerUrl: url(workerUrl, flags.url !== undefined ? '--url' : 'GATEWAY_URL'),
    token,
    flusherUrl: flusherUrl ? url(flusherUrl, flags.flusherUrl !== undefined ? '--flusher-url' : 'FLUSHER_URL') : null,
  };
}
