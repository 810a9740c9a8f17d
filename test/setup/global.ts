/**
 * Vitest global setup (both tiers): one real Postgres (embedded on a free port, or
 * TEST_DATABASE_URL's server), a catalog DB (migrated) and a tenant DB, the WebSocket→TCP proxy the
 * Neon driver uses inside workerd — Neon-like: it drops the startup parameters Neon drops, unless
 * DEV_DB_STARTUP_PARAMS=keep (and adds DEV_DB_RTT_MS / DEV_DB_COLD_START_MS when set) — and, when
 * the integration project runs, one served worker for the tests that need HTTP and no vars of their
 * own, and the worker's deploy bundle every served worker runs. Values reach tests through `inject()`.
 */
import type { TestProject } from 'vitest/node';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres, type EmbeddedPg } from '../../dev/postgres.js';
import { startWsProxy, type WsProxy } from '../../dev/ws-proxy.js';
import { neonLikeOrThrow } from '../../dev/neon-like.js';
import { freePort } from '../../dev/ports.js';
import { migrateCatalog } from '../../drizzle/migrate.js';
import { nodeVersionProblem } from '../../dev/node-version.js';
import { startFlusherControl, TEST_FLUSH_SECRET, type FlusherControl } from './flusher-control.js';
import { startTestGateway } from '../support/served-client.js';
import { bundleWorker, type Bundle } from '../../bench/workerd.js';
import type { WorkerServer } from '../support/worker-server.js';

let embedded: EmbeddedPg | undefined;
let proxy: WsProxy | undefined;
let flusherControl: FlusherControl | undefined;
let gateway: WorkerServer | undefined;
let bundleDir: string | undefined;

export async function setup(project: TestProject): Promise<void> {
  const nodeProblem = nodeVersionProblem(process.version, 'npm test');
  if (nodeProblem) throw new Error(nodeProblem);
  // Declared once on the root config (see vitest.config.ts): exactly one Postgres per run, and
  // none when only pure unit tests run (`--project unit`).
  if (project.vitest.projects.every((p) => p.name === 'unit')) return;
  // Bundled while Postgres starts: every served worker of the run is this bundle in `workerd serve`.
  // Only the integration and e2e tiers serve workers; a run of the worker projects alone skips it.
  const serves = project.vitest.projects.some((p) => p.name === 'integration' || p.name === 'e2e');
  bundleDir = serves ? mkdtempSync(join(tmpdir(), 'test-bundle-')) : undefined;
  const bundling = bundleDir ? bundleWorker(bundleDir) : undefined;
  bundling?.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
  let admin: string;
  const external = process.env.TEST_DATABASE_URL;
  if (external) {
    const u = new URL(external);
    u.pathname = '/postgres';
    admin = u.toString();
  } else {
    const port = await freePort();
    embedded = await startEmbeddedPostgres({ port, name: `test-${process.pid}-${port}`, persistent: false });
    admin = embedded.url('postgres');
  }
  const withDb = (db: string) => {
    const u = new URL(admin);
    u.pathname = `/${db}`;
    return u.toString();
  };
  const suffix = `${process.pid}`;
  const catalogDb = `gateway_test_${suffix}`;
  const tenantDb = `tenant_test_${suffix}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements').catch(() => undefined);
    for (const db of [catalogDb, tenantDb]) {
      await client.query(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
      await client.query(`CREATE DATABASE "${db}"`);
    }
  } finally {
    await client.end();
  }
  const pgUrl = new URL(admin);
  proxy = await startWsProxy({ port: 0, allow: [`${pgUrl.hostname}:${pgUrl.port || '5432'}`], ...neonLikeOrThrow(process.env) });
  const urls = { databaseUrl: withDb(catalogDb), tenantDatabaseUrl: withDb(tenantDb), wsProxy: proxy.url };
  // The served worker reads the catalog only when a request comes: it starts while the catalog migrates.
  const needsGateway = project.vitest.projects.some((p) => p.name === 'integration');
  const bundle: Bundle | undefined = await bundling;
  [gateway] = await Promise.all([needsGateway && bundle ? startTestGateway(urls, bundle) : undefined, migrateCatalog(urls.databaseUrl)]);

  project.provide('adminDatabaseUrl', admin);
  project.provide('databaseUrl', withDb(catalogDb));
  project.provide('tenantDatabaseUrl', withDb(tenantDb));
  project.provide('wsProxy', proxy.url);
  // Real flushers (Node) for the stats tests inside workerd, started per test through this server.
  flusherControl = await startFlusherControl(withDb(catalogDb));
  project.provide('flusherControlUrl', flusherControl.url);
  project.provide('flushSigningSecret', TEST_FLUSH_SECRET);
  if (gateway) project.provide('gatewayUrl', gateway.url);
  if (bundle) project.provide('workerBundle', bundle);
}

export async function teardown(): Promise<void> {
  await gateway?.close();
  await flusherControl?.close();
  await proxy?.close();
  await embedded?.stop();
  if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
}
