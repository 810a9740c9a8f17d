/**
 * Runs the flusher: pg pool, metrics, group committer, the app on a port. Used by index.ts, the
 * dev stack and tests. `stop()` is the graceful shutdown: stop accepting, commit the open group,
 * answer its requests, close connections and the pool.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import pg from 'pg';
import { createApp } from './app.js';
import { DEFAULT_MAX_CONCURRENT_COMMITS, type FlusherConfig } from './config.js';
import { createGroupCommitter } from './group-commit.js';
import { createMetrics, type FlusherMetrics } from './metrics.js';

export type RunningFlusher = {
  /** `http://host:port` */
  url: string;
  port: number;
  metrics: FlusherMetrics;
  stop(): Promise<void>;
};

/** Ledger pruning runs at most this often. */
const PRUNE_INTERVAL_MS = 10 * 60 * 1000;
/** pg connect and per-statement limits. */
const CONNECT_TIMEOUT_MS = 5_000;
const STATEMENT_TIMEOUT_MS = 30_000;
/** Requests still open this long after drain are cut, so shutdown always ends. */
const SHUTDOWN_GRACE_MS = 10_000;

export type StartOptions = Omit<FlusherConfig, 'ledgerRetentionMs' | 'maxConcurrentCommits'> & {
  maxConcurrentCommits?: number;
  ledgerRetentionMs?: number;
  pruneIntervalMs?: number;
  defaultMetrics?: boolean;
  onError?: (event: string, err: unknown) => void;
};

export async function startFlusher(cfg: StartOptions): Promise<RunningFlusher> {
  // Bounded waits: a wedged database fails the group (503, workers retry) instead of hanging it.
  const pool = new pg.Pool({ connectionString: cfg.databaseUrl, max: cfg.poolMax, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, statement_timeout: STATEMENT_TIMEOUT_MS });
  // An idle client losing its connection emits on the pool; without a listener it would crash.
  pool.on('error', (err) => cfg.onError?.('pg_pool_error', err));
  const metrics = createMetrics({ defaultMetrics: cfg.defaultMetrics ?? false });
  const committer = createGroupCommitter({
    pool,
    metrics,
    groupCommitMs: cfg.groupCommitMs,
    maxGroupRows: cfg.maxGroupRows,
    maxConcurrentCommits: cfg.maxConcurrentCommits ?? DEFAULT_MAX_CONCURRENT_COMMITS,
    ledgerRetentionMs: cfg.ledgerRetentionMs ?? 24 * 3_600_000,
    pruneIntervalMs: cfg.pruneIntervalMs ?? PRUNE_INTERVAL_MS,
    now: Date.now,
    ...(cfg.onError ? { onError: cfg.onError } : {}),
  });
  const app = createApp({ committer, metrics, signingSecrets: cfg.signingSecrets, maxBodyBytes: cfg.maxBodyBytes, now: Date.now });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: cfg.port, hostname: cfg.host }, () => resolve(s as Server));
    (s as Server).once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  let stopping: Promise<void> | undefined;
  return {
    url: `http://${cfg.host}:${port}`,
    port,
    metrics,
    stop() {
      stopping ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        await committer.drain();
        // Keep-alive sockets go idle once their answer is written; close them as they do, and
        // cut whatever is still open after the grace period so shutdown always ends.
        const idle = setInterval(() => server.closeIdleConnections(), 25);
        const grace = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
        server.closeIdleConnections();
        await closed;
        clearInterval(idle);
        clearTimeout(grace);
        await pool.end();
      })();
      return stopping;
    },
  };
}
