/**
 * Runs the flusher: pg pool, metrics, group committer, the app on a port. Used by index.ts, the
 * dev stack and tests. `stop()` is the graceful shutdown: stop accepting, commit the open group,
 * answer its requests, close connections and the pool.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import pg from 'pg';
import { createApp } from './app.js';
import { startChangeFeed, type ChangeFeed } from './change-feed.js';
import { DEFAULT_MAX_CONCURRENT_COMMITS, type FlusherConfig } from './config.js';
import { createFleet } from './fleet.js';
import { registerFleetMetrics } from './fleet-metrics.js';
import { createGroupCommitter, type GroupCommitter } from './group-commit.js';
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
/** An isolate silent this long leaves the fleet view (a busy isolate flushes every second or so). */
const FLEET_EXPIRY_MS = 60_000;
/** Isolates the fleet view holds at most (about 2 kB each). */
const FLEET_MAX_ISOLATES = 10_000;
/** How often the change feed reads the catalog's change log (FLUSHER_CHANGES_INTERVAL_MS). */
const DEFAULT_CHANGES_INTERVAL_MS = 250;
/** pg connect and per-statement limits. */
const CONNECT_TIMEOUT_MS = 5_000;
const STATEMENT_TIMEOUT_MS = 30_000;
/** Requests still open this long after drain are cut, so shutdown always ends. */
const SHUTDOWN_GRACE_MS = 10_000;

export type StartOptions = Omit<FlusherConfig, 'ledgerRetentionMs' | 'maxConcurrentCommits' | 'changesIntervalMs'> & {
  maxConcurrentCommits?: number;
  changesIntervalMs?: number;
  ledgerRetentionMs?: number;
  pruneIntervalMs?: number;
  /** How long an isolate stays in the fleet view after its last snapshot (default 60 s). */
  fleetExpiryMs?: number;
  defaultMetrics?: boolean;
  onError?: (event: string, err: unknown) => void;
};

export async function startFlusher(cfg: StartOptions): Promise<RunningFlusher> {
  const pool = openPool(cfg);
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
  const fleet = createFleet({ expiryMs: cfg.fleetExpiryMs ?? FLEET_EXPIRY_MS, maxIsolates: FLEET_MAX_ISOLATES, now: Date.now });
  const fleetMetrics = registerFleetMetrics(metrics.registry, fleet);
  const changes = startFeed(pool, metrics, cfg);
  const app = createApp({
    committer,
    metrics,
    signingSecrets: cfg.signingSecrets,
    maxBodyBytes: cfg.maxBodyBytes,
    now: Date.now,
    fleet,
    fleetMetrics,
    changes,
  });
  const server = await listen(app, cfg).catch(async (err: unknown) => {
    await changes.stop();
    await pool.end();
    throw err;
  });
  const port = (server.address() as AddressInfo).port;
  let stopping: Promise<void> | undefined;
  return {
    url: `http://${cfg.host}:${port}`,
    port,
    metrics,
    stop() {
      stopping ??= shutdown(server, committer, changes, pool);
      return stopping;
    },
  };
}

/** The catalog pool, with bounded waits: a wedged database fails the group (503, workers retry) instead of hanging it. */
function openPool(cfg: StartOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: cfg.databaseUrl,
    max: cfg.poolMax,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    statement_timeout: STATEMENT_TIMEOUT_MS,
  });
  // An idle client losing its connection emits on the pool; without a listener it would crash.
  pool.on('error', (err) => cfg.onError?.('pg_pool_error', err));
  return pool;
}

/** Serves `app` on `cfg.host:cfg.port`; rejects when the port cannot be bound. */
function listen(app: Hono, cfg: StartOptions): Promise<Server> {
  return new Promise<Server>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: cfg.port, hostname: cfg.host }, () => resolve(s as Server));
    (s as Server).once('error', reject);
  });
}

/** Stops accepting, commits the open group and answers it, stops the feed, closes connections and the pool. */
async function shutdown(server: Server, committer: GroupCommitter, changes: ChangeFeed, pool: pg.Pool): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  await Promise.all([committer.drain(), changes.stop()]);
  // Keep-alive sockets go idle once their answer is written; close them as they do, and
  // cut whatever is still open after the grace period so shutdown always ends.
  const idle = setInterval(() => server.closeIdleConnections(), 25);
  const grace = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
  server.closeIdleConnections();
  await closed;
  clearInterval(idle);
  clearTimeout(grace);
  await pool.end();
}

/** The change feed on `pool`, its reads counted in `metrics`. */
function startFeed(pool: pg.Pool, metrics: FlusherMetrics, cfg: StartOptions): ChangeFeed {
  return startChangeFeed({
    pool,
    intervalMs: cfg.changesIntervalMs ?? DEFAULT_CHANGES_INTERVAL_MS,
    now: Date.now,
    onRead: (through) => {
      metrics.changesEpoch.set(through);
      metrics.changeReads.inc({ outcome: 'ok' });
    },
    onError: (event, err) => {
      metrics.changeReads.inc({ outcome: 'failed' });
      cfg.onError?.(event, err);
    },
  });
}
