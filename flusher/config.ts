/**
 * Flusher environment → typed config, validated with zod. Errors name the variable and never echo
 * a secret's value (DATABASE_URL, FLUSH_SIGNING_SECRET).
 */
import { z } from 'zod';
import { intVar, listVar, postgresUrlVar } from '../drizzle/env-vars.js';

/**
 * Two transactions in flight: while one waits on Postgres the other's merge and round trips go on.
 * On rows both touch the second queues on the first's locks (rows are written in one global order,
 * so it never deadlocks). In the bench two commit more than one at 200 and at 20 clients.
 */
export const DEFAULT_MAX_CONCURRENT_COMMITS = 2;

const schema = z.object({
  DATABASE_URL: postgresUrlVar(z.string({ error: 'is required' })),
  // A comma-separated list during a rotation: a batch signed with any of them is accepted.
  FLUSH_SIGNING_SECRET: listVar(z.string().min(16), 'at least 16 characters (each entry of a comma-separated list)').refine(
    (v) => v !== undefined,
    'is required',
  ),
  FLUSHER_HOST: z
    .string()
    .trim()
    .optional()
    .transform((v) => v || '127.0.0.1'),
  FLUSHER_PORT: intVar(8788, 0, 65_535),
  FLUSHER_GROUP_COMMIT_MS: intVar(0, 0, 10_000),
  FLUSHER_GROUP_MAX_ROWS: intVar(20_000, 1, 1_000_000),
  FLUSHER_MAX_CONCURRENT_COMMITS: intVar(DEFAULT_MAX_CONCURRENT_COMMITS, 1, 64),
  FLUSHER_PG_POOL_MAX: intVar(10, 1, 1000),
  FLUSHER_MAX_BODY_BYTES: intVar(8 * 1024 * 1024, 1024, 256 * 1024 * 1024),
  FLUSHER_LEDGER_RETENTION_HOURS: intVar(24, 1, 24 * 365),
  FLUSHER_CHANGES_INTERVAL_MS: intVar(250, 10, 60_000),
});

export type FlusherConfig = {
  databaseUrl: string;
  /** FLUSH_SIGNING_SECRET entries: every one verifies (old and new while workers rotate). */
  signingSecrets: string[];
  host: string;
  port: number;
  groupCommitMs: number;
  maxGroupRows: number;
  maxConcurrentCommits: number;
  poolMax: number;
  maxBodyBytes: number;
  ledgerRetentionMs: number;
  /** FLUSHER_CHANGES_INTERVAL_MS: how often the catalog's change log is read for the acks. */
  changesIntervalMs: number;
};

export type FlusherConfigResult = { ok: true; config: FlusherConfig } | { ok: false; errors: string[] };

/** Parses the flusher's env; every problem is reported, one line per variable. */
export function parseFlusherEnv(env: Record<string, string | undefined>): FlusherConfigResult {
  const input: Record<string, string | undefined> = {};
  for (const key of Object.keys(schema.shape)) input[key] = env[key];
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    return { ok: false, errors: parsed.error.issues.map((i) => `${String(i.path[0] ?? 'env')} ${i.message}`) };
  }
  const p = parsed.data;
  return {
    ok: true,
    config: {
      databaseUrl: p.DATABASE_URL,
      signingSecrets: p.FLUSH_SIGNING_SECRET ?? [],
      host: p.FLUSHER_HOST,
      port: p.FLUSHER_PORT,
      groupCommitMs: p.FLUSHER_GROUP_COMMIT_MS,
      maxGroupRows: p.FLUSHER_GROUP_MAX_ROWS,
      maxConcurrentCommits: p.FLUSHER_MAX_CONCURRENT_COMMITS,
      poolMax: p.FLUSHER_PG_POOL_MAX,
      maxBodyBytes: p.FLUSHER_MAX_BODY_BYTES,
      ledgerRetentionMs: p.FLUSHER_LEDGER_RETENTION_HOURS * 3_600_000,
      changesIntervalMs: p.FLUSHER_CHANGES_INTERVAL_MS,
    },
  };
}
