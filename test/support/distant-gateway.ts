/**
 * A served worker a region away: it reaches the test Postgres through its own Neon-like proxy
 * (startup timeouts dropped, `proxy` options such as rttMs or coldStartMs added), with every DB_*
 * and AUTH_* timeout at its default, auth lookups as a sandboxed role, and a three-row tenant table.
 * Counters flush only when asked, so only requests reach the database. `vars` add to or override
 * the worker's vars.
 */
import { inject } from 'vitest';
import { startWsProxy, type WsProxy, type WsProxyOptions } from '../../dev/ws-proxy.js';
import { createNodeSandbox, type NodeSandbox } from './auth-sandbox.js';
import { TEST_KEY_SIGNING_SECRET } from './key-signing.js';
import { queryOnce } from './query-once.js';
import { startWorkerServer, type WorkerServer } from './worker-server.js';

export type DistantGateway = { box: NodeSandbox; proxy: WsProxy; server: WorkerServer; close(): Promise<void> };

/** Starts it with `table` (id serial, title: rows 1–3) in the tenant database; `alsoAllow` adds `host:port`s the proxy may reach. */
export async function startDistantGateway(
  table: string,
  proxyOpts: Omit<WsProxyOptions, 'port' | 'allow'> & { alsoAllow?: string[] },
  vars: Record<string, string> = {},
): Promise<DistantGateway> {
  const catalog = new URL(inject('databaseUrl'));
  const tenantUrl = inject('tenantDatabaseUrl');
  const box = await createNodeSandbox(inject('databaseUrl'), inject('adminDatabaseUrl'));
  await queryOnce(tenantUrl, `CREATE TABLE ${table} (id serial PRIMARY KEY, title text NOT NULL)`);
  await queryOnce(tenantUrl, `INSERT INTO ${table} (title) SELECT 'row ' || g FROM generate_series(1, 3) g`);
  const { alsoAllow = [], ...shaping } = proxyOpts;
  const proxy = await startWsProxy({ port: 0, allow: [`${catalog.hostname}:${catalog.port || '5432'}`, ...alsoAllow], ...shaping });
  const server = await startWorkerServer({
    DATABASE_URL: inject('databaseUrl'),
    AUTH_DATABASE_URL: box.url,
    TENANT_DATABASE_URL: tenantUrl,
    NEON_LOCAL_WS_PROXY: proxy.url,
    STATS_SINK: 'direct',
    FLUSHER_URL: '',
    KEY_SIGNING_SECRETS: TEST_KEY_SIGNING_SECRET,
    AUTH_DIRECTORY_RECHECK_MS: '0',
    REQUEST_LOG: 'off',
    STATS_FLUSH_INTERVAL_MS: '600000',
    ...vars,
  });
  return {
    box,
    proxy,
    server,
    async close() {
      await server.close();
      await proxy.close();
      await box.drop();
      await queryOnce(tenantUrl, `DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
    },
  };
}
