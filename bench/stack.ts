/**
 * The bench's own stack, started fresh for every run and stopped on exit: embedded Postgres (with
 * pg_stat_statements preloaded), a migrated catalog database, the WebSocket→TCP proxy the Neon
 * driver uses (Neon-like: it drops the startup parameters Neon drops; a second one also adds
 * `BENCH_RTT_MS` of round trip), and the flusher as a separate Node process. The worker itself is started per
 * scenario (bench/workerd.ts) because each scenario runs with its own vars.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres, type EmbeddedPg } from '../dev/postgres.js';
import { startWsProxy, type WsProxy } from '../dev/ws-proxy.js';
import type { SqlRequestStats } from '../dev/neon-http-endpoint.js';
import { freePort } from '../dev/ports.js';
import { migrateCatalog } from '../drizzle/migrate.js';
import { startChild, waitFor, type Child } from './processes.js';
import { ROOT } from './workerd.js';
import { postmasterPid } from './cpu.js';

export const CATALOG_DB = 'gateway_bench';
/** Round-trip time of the distant proxy: a database a region away, as on Neon. */
export const BENCH_RTT_MS = 40;

export type Stack = {
  adminUrl: string;
  catalogUrl: string;
  proxy: WsProxy;
  /** The same, `BENCH_RTT_MS` away (half each way, plus a connection's set-up). */
  distantProxy: WsProxy;
  /** Tells `fn` of every request the distant proxy's HTTP SQL endpoint ends, until the returned function is called. */
  watchDistantSql(fn: (stats: SqlRequestStats) => void): () => void;
  pgPort: number;
  /** The postmaster's pid, for the CPU profile. */
  postgresPid: number | undefined;
  stop(): Promise<void>;
};

/** Starts Postgres (a throwaway cluster), migrates the catalog and opens the WebSocket proxy. */
export async function startStack(log: (line: string) => void): Promise<Stack> {
  const pgPort = await freePort();
  const dataDir = join(tmpdir(), 'athena-gateway', `pg-bench-${process.pid}`);
  const server: EmbeddedPg = await startEmbeddedPostgres({ port: pgPort, dataDir, persistent: false });
  let proxy: WsProxy | undefined;
  let distant: WsProxy | undefined;
  const sqlWatchers = new Set<(stats: SqlRequestStats) => void>();
  try {
    const adminUrl = server.url('postgres');
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    try {
      await admin.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
      await admin.query(`DROP DATABASE IF EXISTS ${CATALOG_DB} WITH (FORCE)`);
      await admin.query(`CREATE DATABASE ${CATALOG_DB}`);
    } finally {
      await admin.end();
    }
    const catalogUrl = server.url(CATALOG_DB);
    await migrateCatalog(catalogUrl);
    proxy = await startWsProxy({ port: 0, allow: [`127.0.0.1:${pgPort}`] });
    distant = await startWsProxy({
      port: 0,
      allow: [`127.0.0.1:${pgPort}`],
      rttMs: BENCH_RTT_MS,
      onSqlRequestEnd: (st) => {
        for (const fn of sqlWatchers) fn(st);
      },
    });
    log(`postgres on 127.0.0.1:${pgPort}, ws proxy on ${proxy.url}, ${BENCH_RTT_MS} ms away on ${distant.url}`);
    const p = proxy;
    const d = distant;
    return {
      adminUrl,
      catalogUrl,
      proxy: p,
      distantProxy: d,
      watchDistantSql(fn) {
        sqlWatchers.add(fn);
        return () => sqlWatchers.delete(fn);
      },
      pgPort,
      postgresPid: postmasterPid(dataDir),
      async stop() {
        await p.close().catch(() => undefined);
        await d.close().catch(() => undefined);
        await server.stop().catch(() => undefined);
      },
    };
  } catch (err) {
    await proxy?.close().catch(() => undefined);
    await distant?.close().catch(() => undefined);
    await server.stop().catch(() => undefined);
    throw err;
  }
}

export type Flusher = { url: string; child: Child; stop(): Promise<void> };

/**
 * Runs `flusher/index.ts` as its own Node process (one process: `node --import tsx`, so `nodeArgs`
 * such as `--cpu-prof` apply to the flusher itself) against the catalog and waits for /healthz.
 */
export async function startFlusher(catalogUrl: string, secret: string, nodeArgs: string[] = []): Promise<Flusher> {
  const port = await freePort();
  const child = startChild('flusher', process.execPath, ['--import', 'tsx', ...nodeArgs, join(ROOT, 'flusher', 'index.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: catalogUrl,
      FLUSH_SIGNING_SECRET: secret,
      FLUSHER_PORT: String(port),
      FLUSHER_HOST: '127.0.0.1',
    },
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`flusher on ${url}`, async () => (await fetch(`${url}/healthz`)).ok, 30_000, child);
  return { url, child, stop: () => child.stop(10_000) };
}
