/**
 * `npm run dev` settings from the environment, validated once. Ports default to fixed values so the
 * printed URLs stay the same between runs; PG_PORT defaults off 5432 to avoid a system Postgres.
 */
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { devStateFiles, type DevStateFiles } from '../dev-state/files.js';
import { intVar } from '../drizzle/env-vars.js';
import { readNeonLike, type NeonLike } from './neon-like.js';

const port = (def: number, allowZero = false) => intVar(def, allowZero ? 0 : 1, 65_535, `a port number (${allowZero ? 0 : 1}-65535)`);

const schema = z.object({
  WORKER_PORT: port(8787),
  FLUSHER_PORT: port(8788),
  PG_PORT: port(54329),
  /** 0 = any free port; only the worker talks to it, through `.dev.vars`. */
  WS_PROXY_PORT: port(0, true),
  DEV_STATE_DIR: z.string().trim().optional(),
  PG_DATA_DIR: z.string().trim().optional(),
  DEV_READY_TIMEOUT_MS: intVar(120_000, 1000, 600_000),
  /** Restarts of a crashed flusher in a row before the stack gives up and stops. */
  DEV_FLUSHER_RESTARTS: intVar(3, 0, 20),
});

export type StackConfig = {
  root: string;
  workerPort: number;
  flusherPort: number;
  pgPort: number;
  wsProxyPort: number;
  /** stack.json, logs/ and the dotenv file wrangler reads secrets from (dev-state/files.ts). */
  state: DevStateFiles;
  /** Persistent Postgres data directory, reused between runs. */
  pgDataDir: string;
  readyTimeoutMs: number;
  flusherRestarts: number;
  catalogDb: string;
  tenantDb: string;
  /** What the database proxy does: startup parameters dropped, round trip, resume after idle. */
  neonLike: NeonLike;
};

export type ConfigResult = { ok: true; config: StackConfig } | { ok: false; message: string };

/**
 * Reads the stack's settings. With DEV_STATE_DIR set (tests, a second stack) nothing in the repo
 * is written: stack.json, logs and the dotenv file all live in that directory.
 */
export function readStackConfig(env: NodeJS.ProcessEnv, root: string): ConfigResult {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, message: `${String(issue?.path[0] ?? 'environment')} ${issue?.message ?? 'is invalid'}` };
  }
  const neonLike = readNeonLike(env);
  if (!neonLike.ok) return { ok: false, message: neonLike.message };
  const e = parsed.data;
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(root, p));
  return {
    ok: true,
    config: {
      root,
      workerPort: e.WORKER_PORT,
      flusherPort: e.FLUSHER_PORT,
      pgPort: e.PG_PORT,
      wsProxyPort: e.WS_PROXY_PORT,
      state: devStateFiles(env, root),
      pgDataDir: e.PG_DATA_DIR ? abs(e.PG_DATA_DIR) : join(tmpdir(), 'athena-gateway', `pg-dev-${e.PG_PORT}`),
      readyTimeoutMs: e.DEV_READY_TIMEOUT_MS,
      flusherRestarts: e.DEV_FLUSHER_RESTARTS,
      catalogDb: 'athena_gateway',
      tenantDb: 'athena_demo',
      neonLike: neonLike.value,
    },
  };
}
